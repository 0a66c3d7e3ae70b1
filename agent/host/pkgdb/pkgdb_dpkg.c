/* The dpkg backend: <root>/var/lib/dpkg/status and info/<pkg>[:<arch>].{list,md5sums} are
 * read directly; files are compared with the md5sums through the digest cache; dpkg's
 * path-exclude / path-include settings explain files missing on purpose. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/pkgdb/pkgdb_internal.h"
#include "common/buf.h"
#include "common/dir.h"
#include "common/fileio.h"
#include "common/hex.h"

#define DPKG_STATUS "/var/lib/dpkg/status"
#define DPKG_INFO "/var/lib/dpkg/info"
#define DPKG_CFG "/etc/dpkg/dpkg.cfg"
#define DPKG_CFG_D "/etc/dpkg/dpkg.cfg.d"
#define DPKG_STATUS_MAX (256u * 1024 * 1024)
#define DPKG_LIST_MAX (64u * 1024 * 1024)
#define DPKG_CFG_MAX (1024 * 1024)

/* A piece of the (read-only, not NUL-terminated) dpkg status mapping. */
struct span {
	const char *p;
	size_t n;
};

/* One paragraph of the dpkg status file. */
struct dpkg_ent {
	struct span name, arch, version;
	struct span conffiles; /* the continuation lines after "Conffiles:" */
	bool present;
};

/* db->priv */
struct dpkg {
	bool status_done;
	int status_err;
	void *status; /* read-only mapping of the status file */
	size_t status_len;
	struct dpkg_ent *ents; /* sorted by name */
	size_t n_ents, cap_ents;
	bool filters_done;
	struct strv filters; /* "+glob" path-include, "-glob" path-exclude, in dpkg's order */
};

static bool dpkg_probe(const struct sysroot *sr)
{
	struct stat st;

	return sysroot_stat(sr, DPKG_STATUS, &st) == 0 && S_ISREG(st.st_mode);
}

static int dpkg_open(struct pkgdb *db)
{
	db->priv = calloc(1, sizeof(struct dpkg));
	return db->priv ? 0 : -ENOMEM;
}

static void dpkg_close(void *priv)
{
	struct dpkg *d = priv;

	if (!d)
		return;
	if (d->status)
		munmap(d->status, d->status_len);
	free(d->ents);
	strv_clear(&d->filters);
	free(d);
}

/* ---- status ---- */

static bool span_eq(struct span a, const char *s)
{
	return a.n == strlen(s) && memcmp(a.p, s, a.n) == 0;
}

static int span_cmp(struct span a, struct span b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);

	return c ? c : (a.n > b.n) - (a.n < b.n);
}

static bool dpkg_state_present(struct span status)
{
	static const char *const present[] = { "installed",        "unpacked",
					       "half-configured",  "half-installed",
					       "triggers-awaited", "triggers-pending" };
	struct span w = status;

	while (w.n && (w.p[w.n - 1] == ' ' || w.p[w.n - 1] == '\t' || w.p[w.n - 1] == '\r'))
		w.n--;
	for (size_t i = w.n; i > 0; i--)
		if (w.p[i - 1] == ' ') {
			w.p += i;
			w.n -= i;
			break;
		}
	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++)
		if (span_eq(w, present[i]))
			return true;
	return false;
}

static int cmp_ent(const void *a, const void *b)
{
	return span_cmp(((const struct dpkg_ent *)a)->name, ((const struct dpkg_ent *)b)->name);
}

static int dpkg_push(struct dpkg *d, struct dpkg_ent *cur)
{
	if (!cur->name.n)
		return 0;
	if (d->n_ents == d->cap_ents) {
		size_t nc = d->cap_ents ? d->cap_ents * 2 : 1024;
		struct dpkg_ent *nv = realloc(d->ents, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		d->ents = nv;
		d->cap_ents = nc;
	}
	d->ents[d->n_ents++] = *cur;
	return 0;
}

/* The status file is mapped read-only, not copied: it is a few MB on a desktop and read on
 * every run. dpkg replaces it by rename(), so the mapping stays a consistent snapshot. */
static int dpkg_map_status(struct pkgdb *db, struct dpkg *d)
{
	char path[PATH_MAX];
	struct stat st;
	void *m;
	int fd, r;

	r = sysroot_path(db->sr, DPKG_STATUS, path, sizeof(path));
	if (r < 0)
		return r;
	fd = fileio_open_regular(path, &st);
	if (fd < 0)
		return fd == -EINVAL ? -EBADMSG : fd;
	if ((size_t)st.st_size > DPKG_STATUS_MAX) {
		r = -EBADMSG;
		goto out;
	}
	r = 0;
	if (st.st_size == 0)
		goto out;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	d->status = m;
	d->status_len = (size_t)st.st_size;
out:
	close(fd);
	return r;
}

/* One "Key: value" line of a paragraph. */
static void dpkg_field(struct dpkg_ent *cur, struct span k, struct span v, bool *in_conffiles)
{
	while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
		v.p++;
		v.n--;
	}
	*in_conffiles = false;
	if (span_eq(k, "Package"))
		cur->name = v;
	else if (span_eq(k, "Architecture"))
		cur->arch = v;
	else if (span_eq(k, "Version"))
		cur->version = v;
	else if (span_eq(k, "Status"))
		cur->present = dpkg_state_present(v);
	else if (span_eq(k, "Conffiles"))
		*in_conffiles = true;
}

static int dpkg_parse_status(struct dpkg *d)
{
	struct dpkg_ent cur = { 0 };
	bool in_conffiles = false;
	const char *p = d->status, *end = p ? p + d->status_len : p;
	int r;

	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			r = dpkg_push(d, &cur);
			if (r < 0)
				return r;
			memset(&cur, 0, sizeof(cur));
			in_conffiles = false;
		} else if (p[0] == ' ' || p[0] == '\t') {
			if (in_conffiles) {
				if (!cur.conffiles.p)
					cur.conffiles.p = p;
				cur.conffiles.n = (size_t)(p + len - cur.conffiles.p);
			}
		} else if ((colon = memchr(p, ':', len))) {
			struct span k = { p, (size_t)(colon - p) };
			struct span v = { colon + 1, len - (size_t)(colon - p) - 1 };

			dpkg_field(&cur, k, v, &in_conffiles);
		}
		p = nl ? nl + 1 : end;
	}
	r = dpkg_push(d, &cur);
	if (r < 0)
		return r;
	if (d->n_ents)
		qsort(d->ents, d->n_ents, sizeof(*d->ents), cmp_ent);
	return 0;
}

static int dpkg_load_status(struct pkgdb *db)
{
	struct dpkg *d = db->priv;
	int r;

	if (d->status_done)
		return d->status_err;
	d->status_done = true;
	r = dpkg_map_status(db, d);
	if (r < 0)
		goto out;
	r = dpkg_parse_status(d);
out:
	d->status_err = r;
	return r;
}

/* The paragraphs of name (one per architecture): *first and count. */
static size_t dpkg_find(struct dpkg *d, const char *name, struct dpkg_ent **first)
{
	struct span key = { name, strlen(name) };
	size_t lo = 0, hi = d->n_ents, n = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (span_cmp(d->ents[mid].name, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = d->ents + lo;
	while (lo + n < d->n_ents && span_cmp(d->ents[lo + n].name, key) == 0)
		n++;
	return n;
}

static struct dpkg_ent *dpkg_present(struct pkgdb *db, const char *name)
{
	struct dpkg_ent *e;
	size_t n = dpkg_find(db->priv, name, &e);

	for (size_t i = 0; i < n; i++)
		if (e[i].present)
			return &e[i];
	return NULL;
}

/* Conffiles lines: " /etc/foo.conf <md5>[ obsolete|remove-on-upgrade]". */
static bool dpkg_is_conffile(struct pkgdb *db, const char *name, const char *path)
{
	struct dpkg_ent *e;
	size_t n = dpkg_find(db->priv, name, &e), pl = strlen(path);

	for (size_t i = 0; i < n; i++) {
		const char *l = e[i].conffiles.p, *end = l ? l + e[i].conffiles.n : NULL;

		while (l && l < end) {
			const char *nl = memchr(l, '\n', (size_t)(end - l)), *s = l;
			const char *le = nl ? nl : end;

			while (s < le && (*s == ' ' || *s == '\t'))
				s++;
			if ((size_t)(le - s) > pl && memcmp(s, path, pl) == 0 &&
			    (s[pl] == ' ' || s[pl] == '\t'))
				return true;
			l = nl ? nl + 1 : end;
		}
	}
	return false;
}

static int dpkg_is_installed(struct pkgdb *db, const char *name)
{
	int r;

	r = dpkg_load_status(db);
	if (r < 0)
		return r;
	return dpkg_present(db, name) ? 1 : 0;
}

static int dpkg_version(struct pkgdb *db, struct pkgdb_pkg *p)
{
	struct dpkg_ent *e = dpkg_present(db, p->name);

	if (!e)
		return -ENOENT;
	p->version = strndup(e->version.p ? e->version.p : "", e->version.n);
	return p->version ? 0 : -ENOMEM;
}

/* ---- info/<pkg>.{list,md5sums} ---- */

typedef int (*dpkg_info_fn)(struct pkgdb_pkg *p, const char *buf);

/* Read <info>/<name>[:<arch>].<ext> for every installed architecture of the package and
 * <info>/<name>.<ext>; calls fn on each file's contents. -ENOENT when the package is not
 * installed, -ENODATA when it has no such file. */
static int dpkg_read_info(struct pkgdb *db, struct pkgdb_pkg *p, const char *ext, dpkg_info_fn fn)
{
	struct dpkg_ent *e;
	char path[PATH_MAX], *buf;
	size_t n;
	int r, found = 0;

	r = dpkg_load_status(db);
	if (r < 0)
		return r;
	if (!dpkg_present(db, p->name))
		return -ENOENT;
	n = dpkg_find(db->priv, p->name, &e);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && (!e[i].present || !e[i].arch.n || e[i].arch.n > 64))
			continue;
		if (i < n)
			snprintf(path, sizeof(path), DPKG_INFO "/%s:%.*s.%s", p->name,
				 (int)e[i].arch.n, e[i].arch.p, ext);
		else
			snprintf(path, sizeof(path), DPKG_INFO "/%s.%s", p->name, ext);
		r = sysroot_read_file(db->sr, path, DPKG_LIST_MAX, &buf, NULL);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = fn(p, buf);
		free(buf);
		if (r < 0)
			return r;
		found++;
	}
	return found ? found : -ENODATA;
}

static int list_cb(struct pkgdb_pkg *p, const char *buf)
{
	return pkgdb_lines_add(&p->files, buf);
}

static int dpkg_list_files(struct pkgdb *db, struct pkgdb_pkg *p)
{
	int r;

	r = dpkg_read_info(db, p, "list", list_cb);
	return r < 0 ? r : 0;
}

static int cmp_md5(const void *a, const void *b)
{
	return strcmp(((const struct pkgdb_md5_ent *)a)->path,
		      ((const struct pkgdb_md5_ent *)b)->path);
}

/* md5sums lines: "<32 hex digits>  <path without its leading '/'>". */
static int md5_cb(struct pkgdb_pkg *p, const char *buf)
{
	for (const char *l = buf; *l;) {
		size_t ll = strcspn(l, "\n");
		struct pkgdb_md5_ent *nv;
		const char *path;

		if (hex_span(l, 32) == 32 && ll > 34 && (l[32] == ' ' || l[32] == '\t')) {
			path = l + 32;
			while (*path == ' ' || *path == '\t' || *path == '*')
				path++;
			if (*path == '/')
				path++;
			nv = realloc(p->md5, (p->n_md5 + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			p->md5 = nv;
			if (asprintf(&nv[p->n_md5].path, "/%.*s", (int)(ll - (size_t)(path - l)),
				     path) < 0)
				return -ENOMEM;
			for (size_t i = 0; i < 32; i++)
				nv[p->n_md5].md5[i] = (char)tolower((unsigned char)l[i]);
			nv[p->n_md5].md5[32] = 0;
			p->n_md5++;
		}
		l += ll;
		if (*l)
			l++;
	}
	return 0;
}

static int dpkg_load_md5(struct pkgdb *db, struct pkgdb_pkg *p)
{
	int r;

	if (p->md5_done)
		return p->md5_err;
	p->md5_done = true;
	r = dpkg_read_info(db, p, "md5sums", md5_cb);
	if (r > 0 && p->n_md5)
		qsort(p->md5, p->n_md5, sizeof(*p->md5), cmp_md5);
	p->md5_err = r < 0 ? r : 0;
	return p->md5_err;
}

static const struct pkgdb_md5_ent *md5_find(const struct pkgdb_pkg *p, const char *path)
{
	struct pkgdb_md5_ent key = { .path = (char *)path };

	if (!p->n_md5)
		return NULL;
	return bsearch(&key, p->md5, p->n_md5, sizeof(*p->md5), cmp_md5);
}

static int dpkg_recorded_md5(struct pkgdb *db, struct pkgdb_pkg *p, const char *path,
			     const char *alias, char hex[HASH_MD5_HEX])
{
	const struct pkgdb_md5_ent *m;
	int r;

	r = dpkg_load_md5(db, p);
	if (r < 0)
		return r;
	m = md5_find(p, path);
	if (!m && alias)
		m = md5_find(p, alias);
	if (!m)
		return -ENODATA;
	memcpy(hex, m->md5, HASH_MD5_HEX);
	return 0;
}

/* ---- owner ---- */

static bool list_has(const char *buf, size_t len, const char *path)
{
	size_t pl = strlen(path);

	for (const char *s = buf; (s = memmem(s, len - (size_t)(s - buf), path, pl)); s++) {
		if ((s == buf || s[-1] == '\n') && (s + pl == buf + len || s[pl] == '\n'))
			return true;
		if ((size_t)(s - buf) + pl >= len)
			break;
	}
	return false;
}

static bool filter_list(const struct dirent *de, void *userdata)
{
	(void)userdata;
	return str_endswith(de->d_name, ".list") && strlen(de->d_name) > 5;
}

/* Read info/<name> into b (reused: a thousand packages are ~10 MB). 0, or -errno for a file
 * to skip, -ENOMEM to stop. */
static int dpkg_read_list(struct pkgdb *db, const char *name, struct buf *b)
{
	char p[PATH_MAX], real[PATH_MAX];
	struct stat st;
	int fd, r;

	if (snprintf(p, sizeof(p), DPKG_INFO "/%s", name) >= (int)sizeof(p))
		return -ENAMETOOLONG;
	r = sysroot_path(db->sr, p, real, sizeof(real));
	if (r < 0)
		return r;
	fd = fileio_open_regular(real, &st);
	if (fd < 0)
		return fd;
	b->len = 0;
	if ((size_t)st.st_size > DPKG_LIST_MAX) {
		r = -EFBIG;
		goto out;
	}
	r = buf_reserve(b, (size_t)st.st_size);
	if (r < 0)
		goto out;
	while (b->len + 1 < b->cap) {
		ssize_t n = read(fd, b->data + b->len, b->cap - 1 - b->len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		b->len += (size_t)n;
	}
out:
	close(fd);
	return r;
}

/* Every info/ *.list, in name order: the first that lists path or alias owns it. */
static int dpkg_owner(struct pkgdb *db, const char *path, const char *alias, char **ret)
{
	struct strv names = { 0 };
	struct buf b = { 0 };
	int r;

	errno = 0;
	r = dir_list_names(sysroot_opendir(db->sr, DPKG_INFO), filter_list, NULL, &names);
	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < names.n && r == -ENOENT; i++) {
		const char *name = names.v[i];
		size_t nl = strlen(name) - 5, n = strcspn(name, ":");
		int k;

		k = dpkg_read_list(db, name, &b);
		if (k == -ENOMEM) {
			r = k;
			break;
		}
		if (k < 0 || !b.len)
			continue;
		if (list_has(b.data, b.len, path) || (alias && list_has(b.data, b.len, alias))) {
			*ret = strndup(name, n < nl ? n : nl);
			r = *ret ? 0 : -ENOMEM;
		}
	}
	buf_clear(&b);
	strv_clear(&names);
	return r;
}

static void dpkg_stamp(struct pkgdb *db, char *buf, size_t size)
{
	struct stat a = { 0 }, b = { 0 };

	(void)sysroot_stat(db->sr, DPKG_STATUS, &a);
	(void)sysroot_stat(db->sr, DPKG_INFO, &b);
	snprintf(buf, size, "dpkg %lld.%09ld %lld.%09ld", (long long)a.st_mtim.tv_sec,
		 a.st_mtim.tv_nsec, (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
}

/* ---- path filters (path-exclude / path-include) ---- */

static void filters_parse(struct dpkg *d, const char *text)
{
	for (const char *l = text; *l;) {
		size_t ll = strcspn(l, "\n");
		char line[PATH_MAX], *s, *v, *rule;
		bool inc;

		snprintf(line, sizeof(line), "%.*s", (int)ll, l);
		l += ll;
		if (*l)
			l++;
		s = str_strip(line);
		if (str_startswith(s, "--"))
			s += 2;
		if (str_startswith(s, "path-exclude"))
			inc = false;
		else if (str_startswith(s, "path-include"))
			inc = true;
		else
			continue;
		v = s + 12;
		if (*v != '=' && *v != ' ' && *v != '\t')
			continue;
		v++;
		while (*v == ' ' || *v == '\t' || *v == '=')
			v++;
		if (*v == '/' && asprintf(&rule, "%c%s", inc ? '+' : '-', v) >= 0)
			(void)strv_push_take(&d->filters, rule);
	}
}

static bool filter_cfg(const struct dirent *de, void *userdata)
{
	const char *n = de->d_name;

	(void)userdata;
	if (n[0] == '.' || str_endswith(n, "~"))
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_' && *n != '-')
			return false;
	return true;
}

static void filters_load_file(struct pkgdb *db, const char *path)
{
	char *text;

	if (sysroot_read_file(db->sr, path, DPKG_CFG_MAX, &text, NULL) < 0)
		return;
	filters_parse(db->priv, text);
	free(text);
}

/* dpkg.cfg.d/ in name order, then dpkg.cfg. */
static void filters_load(struct pkgdb *db)
{
	struct dpkg *d = db->priv;
	struct strv names = { 0 };

	if (d->filters_done)
		return;
	d->filters_done = true;
	errno = 0;
	(void)dir_list_names(sysroot_opendir(db->sr, DPKG_CFG_D), filter_cfg, NULL, &names);
	for (size_t i = 0; i < names.n; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), DPKG_CFG_D "/%s", names.v[i]);
		filters_load_file(db, p);
	}
	strv_clear(&names);
	filters_load_file(db, DPKG_CFG);
}

/* dpkg applies the filters in order; the last one that matches decides. */
static bool dpkg_filtered_out(struct pkgdb *db, const char *path)
{
	struct dpkg *d = db->priv;
	bool out = false;

	filters_load(db);
	for (size_t i = 0; i < d->filters.n; i++)
		if (fnmatch(d->filters.v[i] + 1, path, 0) == 0)
			out = d->filters.v[i][0] == '-';
	return out;
}

/* ---- file check, verify ---- */

static enum pkgdb_file_state compare_md5(struct pkgdb *db, const char *path, const char *want,
					 int *err)
{
	char got[HASH_MD5_HEX];
	struct stat st;
	int r;

	*err = 0;
	r = sysroot_lstat(db->sr, path, &st);
	if (r == -ENOENT || r == -ENOTDIR)
		return PKGDB_FILE_MISSING;
	if (r < 0) {
		*err = r;
		return PKGDB_FILE_UNREADABLE;
	}
	if (!S_ISREG(st.st_mode))
		return PKGDB_FILE_CHANGED; /* replaced by a symlink, a directory, a FIFO... */
	r = pkgdb_cache_digest(&db->cache, db->sr, path, got, NULL);
	if (r < 0) {
		*err = r;
		return r == -ENOENT ? PKGDB_FILE_MISSING : PKGDB_FILE_UNREADABLE;
	}
	return strcmp(got, want) == 0 ? PKGDB_FILE_OK : PKGDB_FILE_CHANGED;
}

static int dpkg_check_file(struct pkgdb *db, struct pkgdb_pkg *p, const char *path,
			   const char *alias, enum pkgdb_file_state *ret)
{
	char md5[HASH_MD5_HEX];
	int r, err;

	r = dpkg_recorded_md5(db, p, path, alias, md5);
	if (r == -ENOENT)
		*ret = PKGDB_FILE_NOT_OWNED;
	else if (r == -ENODATA)
		*ret = PKGDB_FILE_NO_DIGEST;
	else if (r < 0)
		return r;
	else
		*ret = compare_md5(db, path, md5, &err);
	return 0;
}

static int dpkg_verify(struct pkgdb *db, struct pkgdb_pkg *p, struct pkgdb_verify_result *res)
{
	int r, err;

	r = dpkg_load_md5(db, p);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_md5; i++) {
		const char *path = p->md5[i].path;
		enum pkgdb_file_state st;

		if (dpkg_is_conffile(db, p->name, path)) {
			res->n_excluded++;
			continue;
		}
		st = compare_md5(db, path, p->md5[i].md5, &err);
		if (st == PKGDB_FILE_MISSING && dpkg_filtered_out(db, path)) {
			res->n_excluded++;
			continue;
		}
		res->n_checked++;
		if (st == PKGDB_FILE_OK)
			continue;
		r = pkgdb_issue_push(res, path, strlen(path), st, err);
		if (r < 0)
			return r;
	}
	return 0;
}

const struct pkgdb_backend_ops pkgdb_dpkg_ops = {
	.id = PKGDB_DPKG,
	.probe = dpkg_probe,
	.open = dpkg_open,
	.close = dpkg_close,
	.is_installed = dpkg_is_installed,
	.version = dpkg_version,
	.list_files = dpkg_list_files,
	.owner = dpkg_owner,
	.stamp = dpkg_stamp,
	.recorded_md5 = dpkg_recorded_md5,
	.check_file = dpkg_check_file,
	.verify = dpkg_verify,
};
