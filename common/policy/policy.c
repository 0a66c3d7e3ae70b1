/* The policy loader: files and directories, defaults, rules over the merged policy, the
 * digest. Parsing itself is in common/policy/policy_parse.c. */
#include "common/policy/policy.h"

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/policy/policy_internal.h"
#include "common/dir.h"
#include "common/fileio.h"

static void client_clear(struct policy_client *c)
{
	free(c->id);
	free(c->display_name);
	strv_clear(&c->comm);
	strv_clear(&c->exe);
	strv_clear(&c->argv);
	free(c->package);
	free(c->sha256);
	strv_clear(&c->lib_dirs);
	free(c->wine_prefix);
	free(c->wine_manifest);
}

static void deny_clear(struct policy_deny *d)
{
	free(d->id);
	free(d->display_name);
	strv_clear(&d->comm);
	strv_clear(&d->exe);
	strv_clear(&d->argv);
	strv_clear(&d->packages);
	strv_clear(&d->files);
}

void policy_clear(struct policy *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->version);
	for (size_t i = 0; i < p->n_clients; i++)
		client_clear(&p->clients[i]);
	free(p->clients);
	for (size_t i = 0; i < p->n_denies; i++)
		deny_clear(&p->denies[i]);
	free(p->denies);
	free(p->patches.min_kernel);
	strv_clear(&p->antivirus.products);
	strv_clear(&p->antivirus.process_names);
	strv_clear(&p->scan.home_dirs);
	strv_clear(&p->sources);
	memset(p, 0, sizeof(*p));
}

void policy_free(struct policy *p)
{
	policy_clear(p);
	free(p);
}

void policy_diags_clear(struct policy_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].file);
		free(d->v[i].section);
		free(d->v[i].key);
		free(d->v[i].message);
	}
	free(d->v);
	d->v = NULL;
	d->n = 0;
}

void policy_diag_format(const struct policy_diag *d, char *buf, size_t size)
{
	size_t n = 0;

	if (!buf || size == 0)
		return;
	n += (size_t)snprintf(buf, size, "%s", d->file && *d->file ? d->file : "<policy>");
	if (d->line && n < size)
		n += (size_t)snprintf(buf + n, size - n, ":%u", d->line);
	if (n < size)
		n += (size_t)snprintf(buf + n, size - n, ": ");
	if (d->section && n < size)
		n += (size_t)snprintf(buf + n, size - n, "[%s] ", d->section);
	if (d->key && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%s: ", d->key);
	if (n < size)
		snprintf(buf + n, size - n, "%s", d->message ? d->message : "");
}

/* The documented defaults (docs/policy.md). */
static struct policy *policy_alloc(void)
{
	struct policy *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->mode = POLICY_MODE_AUDIT;
	p->report_interval = 300;
	p->screen_lock = (struct policy_screen_lock){ .required = true,
						      .max_idle_seconds = 600,
						      .max_lock_delay_seconds = 5,
						      .remediate = false };
	p->patches = (struct policy_patches){ .required = true,
					      .max_pending_security = 0,
					      .max_list_age_days = 7,
					      .reboot_required = POLICY_REBOOT_WARN,
					      .cache_ttl_seconds = 3600 };
	p->antivirus.required = true;
	p->antivirus.max_signature_age_days = 7;
	p->device = (struct policy_device){ .disk_encryption = POLICY_DISK_WARN,
					    .min_ptrace_scope = 1 };
	p->scan.max_depth = 4;
	p->scan.max_entries = 20000;
	p->watch = (struct policy_watch){ .notify = true, .attachment_exec = true };
	if (strv_push(&p->antivirus.products, "clamav") < 0 ||
	    strv_split(&p->scan.home_dirs, "/home/*,/root", ",") < 0) {
		policy_free(p);
		return NULL;
	}
	return p;
}

/* ---- loading ---- */

static int parse_init(struct policy_parse *ps, const char *top, struct policy_diags *diags)
{
	*ps = (struct policy_parse){ .diags = diags, .top = top, .file = -1 };
	for (size_t i = 0; i < POLICY_SEC_MAX; i++)
		policy_origin_init(&ps->single[i]);
	ps->p = policy_alloc();
	ps->md = EVP_MD_CTX_new();
	if (!ps->p || !ps->md || !EVP_DigestInit_ex(ps->md, EVP_sha256(), NULL))
		return -ENOMEM;
	return 0;
}

static void parse_done(struct policy_parse *ps)
{
	policy_free(ps->p);
	EVP_MD_CTX_free(ps->md);
	free(ps->sec_name);
	free(ps->client_o);
	free(ps->deny_o);
}

static bool comm_in_denies(const struct policy *p, const char *comm, const char **deny_id)
{
	for (size_t j = 0; j < p->n_denies; j++)
		if (strv_contains(&p->denies[j].comm, comm)) {
			*deny_id = p->denies[j].id;
			return true;
		}
	return false;
}

static bool key_bad(const struct policy_origin *o, enum policy_sec sec, const char *key)
{
	int k = policy_key_find(sec, key);

	return k >= 0 && o->key_bad[k];
}

/* Where key was last set, or else where the section was. */
static void key_at(const struct policy_parse *ps, const struct policy_origin *o,
		   enum policy_sec sec, const char *key, const char **file, unsigned *line)
{
	int k = policy_key_find(sec, key);

	if (k >= 0 && o->key_file[k] >= 0) {
		*file = ps->p->sources.v[o->key_file[k]];
		*line = o->key_line[k];
	} else if (o->file >= 0) {
		*file = ps->p->sources.v[o->file];
		*line = o->line;
	} else {
		*file = ps->top;
		*line = 0;
	}
}

static bool any_key_bad(const struct policy_origin *o, enum policy_sec sec)
{
	for (size_t k = 0; k < policy_n_keys; k++)
		if (policy_keys[k].sec == sec && o->key_bad[k])
			return true;
	return false;
}

/* Rules that concern the merged policy rather than one line. A rule whose input already
 * had a refused value is not checked again: one problem, one diagnostic. */
static void finalize(struct policy_parse *ps)
{
	struct policy *p = ps->p;
	const struct policy_origin *o;
	char sec[POLICY_ID_MAX + 16];
	const char *f, *deny_id;
	unsigned line;

	o = &ps->single[POLICY_SEC_POLICY];
	if (!p->name && o->key_file[policy_key_find(POLICY_SEC_POLICY, "name")] < 0)
		policy_parse_diag(ps, ps->top, 0, "policy", "name",
				  "missing: every policy needs a "
				  "name ([policy] name = ...), reports show it");
	for (size_t i = 0; i < p->n_clients; i++) {
		struct policy_client *c = &p->clients[i];

		o = &ps->client_o[i];
		snprintf(sec, sizeof(sec), "client.%s", c->id);
		if (c->comm.n + c->exe.n + c->argv.n == 0 &&
		    !key_bad(o, POLICY_SEC_CLIENT, "comm") &&
		    !key_bad(o, POLICY_SEC_CLIENT, "exe") && !key_bad(o, POLICY_SEC_CLIENT, "argv"))
			policy_parse_diag(ps, p->sources.v[o->file], o->line, sec, NULL,
					  "no comm, exe or "
					  "argv pattern: the client could never be recognized");
		if (c->wine_manifest && !c->wine_prefix) {
			key_at(ps, o, POLICY_SEC_CLIENT, "wine_manifest", &f, &line);
			policy_parse_diag(ps, f, line, sec, "wine_manifest",
					  "set, but wine_prefix is not");
		}
		key_at(ps, o, POLICY_SEC_CLIENT, "comm", &f, &line);
		for (size_t j = 0; j < c->comm.n; j++)
			if (comm_in_denies(p, c->comm.v[j], &deny_id))
				policy_parse_diag(
					ps, f, line, sec, "comm",
					"'%s' is also denied by [deny.%s]; "
					"denied patterns win, so this client could never run",
					c->comm.v[j], deny_id);
		key_at(ps, o, POLICY_SEC_CLIENT, "exe", &f, &line);
		for (size_t j = 0; j < c->exe.n; j++)
			for (size_t d = 0; d < p->n_denies && !policy_value_has_glob(c->exe.v[j]);
			     d++)
				if (strv_fnmatch_any(&p->denies[d].exe, c->exe.v[j],
						     FNM_NOESCAPE) >= 0)
					policy_parse_diag(ps, f, line, sec, "exe",
							  "'%s' is also denied by "
							  "[deny.%s]; denied patterns win",
							  c->exe.v[j], p->denies[d].id);
		if (!c->display_name && !(c->display_name = strdup(c->id)))
			ps->oom = true;
	}
	for (size_t i = 0; i < p->n_denies; i++) {
		struct policy_deny *d = &p->denies[i];

		o = &ps->deny_o[i];
		snprintf(sec, sizeof(sec), "deny.%s", d->id);
		if (d->comm.n + d->exe.n + d->argv.n + d->packages.n + d->files.n == 0 &&
		    !any_key_bad(o, POLICY_SEC_DENY))
			policy_parse_diag(ps, p->sources.v[o->file], o->line, sec, NULL,
					  "matches nothing: "
					  "set comm, exe, argv, packages or files");
		if (!d->display_name && !(d->display_name = strdup(d->id)))
			ps->oom = true;
	}
	o = &ps->single[POLICY_SEC_ANTIVIRUS];
	if (key_bad(o, POLICY_SEC_ANTIVIRUS, "products") ||
	    key_bad(o, POLICY_SEC_ANTIVIRUS, "process_names"))
		return;
	key_at(ps, o, POLICY_SEC_ANTIVIRUS, "products", &f, &line);
	if (p->antivirus.required && p->antivirus.products.n == 0)
		policy_parse_diag(ps, f, line, "antivirus", "products",
				  "empty, but required = yes: "
				  "list the accepted products");
	for (size_t j = 0; j < p->antivirus.products.n; j++) {
		const char *prod = p->antivirus.products.v[j];

		if (strcmp(prod, "clamav") != 0 &&
		    !strv_contains(&p->antivirus.process_names, prod))
			policy_parse_diag(ps, f, line, "antivirus", "products",
					  "unknown product '%s': use "
					  "clamav, or list its process name in process_names too",
					  prod);
	}
}

static int parse_finish(struct policy_parse *ps, struct policy **ret)
{
	unsigned char raw[EVP_MAX_MD_SIZE];
	unsigned int rlen = 0;

	finalize(ps);
	if (ps->oom)
		return -ENOMEM;
	if (ps->n_diags)
		return -EBADMSG;
	if (!EVP_DigestFinal_ex(ps->md, raw, &rlen) || rlen != 32)
		return -EIO;
	hash_to_hex(raw, 32, ps->p->sha256);
	*ret = ps->p;
	ps->p = NULL;
	return 0;
}

int policy_load_buffer(const char *name, const char *data, size_t len, struct policy **ret,
		       struct policy_diags *diags)
{
	struct policy_parse ps;
	int r;

	if (!name)
		name = "<buffer>";
	r = parse_init(&ps, name, diags);
	if (r < 0)
		goto out;
	r = policy_parse_source(&ps, name, data ? data : "", data ? len : 0);
	if (r < 0)
		goto out;
	r = parse_finish(&ps, ret);
out:
	parse_done(&ps);
	return r;
}

/* A visible regular *.ini file of the directory (userdata) being listed. */
static bool is_ini_file(const struct dirent *de, void *userdata)
{
	const char *dir = userdata;
	char path[PATH_MAX];
	struct stat st;

	if (de->d_name[0] == '.' || !str_endswith(de->d_name, ".ini"))
		return false;
	if (snprintf(path, sizeof(path), "%s%s%s", dir, str_endswith(dir, "/") ? "" : "/",
		     de->d_name) >= (int)sizeof(path))
		return false;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Every regular *.ini (not hidden) in dir, sorted by name, as dir/name. */
static int list_dir(const char *dir, struct strv *ret)
{
	struct strv names = { 0 }, paths = { 0 };
	int r;

	r = dir_list(dir, is_ini_file, (void *)dir, &names);
	if (r < 0)
		return r;
	for (size_t i = 0; i < names.n; i++) {
		char *p;

		if (asprintf(&p, "%s%s%s", dir, str_endswith(dir, "/") ? "" : "/", names.v[i]) <
		    0) {
			r = -ENOMEM;
			goto out;
		}
		r = strv_push_take(&paths, p);
		if (r < 0)
			goto out;
	}
	*ret = paths;
	paths = (struct strv){ 0 };
out:
	strv_clear(&names);
	strv_clear(&paths);
	return r;
}

int policy_load(const char *path, struct policy **ret, struct policy_diags *diags)
{
	struct strv files = { 0 };
	struct policy_parse ps;
	struct stat st;
	int r;

	r = parse_init(&ps, path, diags);
	if (r < 0)
		goto out;
	if (stat(path, &st) < 0) {
		r = -errno;
		policy_parse_diag(&ps, path, 0, NULL, NULL, "cannot read: %s", strerror(-r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = list_dir(path, &files);
		if (r < 0) {
			policy_parse_diag(&ps, path, 0, NULL, NULL, "cannot list the directory: %s",
					  strerror(-r));
			goto out;
		}
		if (files.n == 0) {
			policy_parse_diag(&ps, path, 0, NULL, NULL,
					  "no *.ini files in this directory");
			r = -ENOENT;
			goto out;
		}
	} else if (strv_push(&files, path) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < files.n; i++) {
		char *data = NULL;
		size_t len = 0;

		r = read_full_file(files.v[i], POLICY_FILE_MAX, &data, &len);
		if (r < 0) {
			if (r == -EFBIG)
				policy_parse_diag(&ps, files.v[i], 0, NULL, NULL,
						  "larger than %u bytes", POLICY_FILE_MAX);
			else
				policy_parse_diag(&ps, files.v[i], 0, NULL, NULL, "cannot read: %s",
						  strerror(-r));
			goto out;
		}
		r = policy_parse_source(&ps, files.v[i], data, len);
		free(data);
		if (r < 0)
			goto out;
	}
	r = parse_finish(&ps, ret);
out:
	strv_clear(&files);
	parse_done(&ps);
	return r;
}
