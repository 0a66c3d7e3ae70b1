#include "agent/checks/client/check_client.h"

#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/host/passwd.h"

#define SCAN_DEPTH_DEFAULT 4
#define SCAN_ENTRIES_DEFAULT 20000

int check_client_procs_read(const struct sysroot *sr, const struct policy *p,
			    struct check_client_procs *ret)
{
	struct check_client_procs ps = { 0 };
	pid_t *pids = NULL;
	size_t n = 0;
	int r;

	r = proc_list_pids(sr, &pids, &n);
	if (r < 0)
		return r;
	ps.v = calloc(n ? n : 1, sizeof(*ps.v));
	if (!ps.v) {
		free(pids);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct check_client_proc *cp = &ps.v[ps.n];

		r = proc_read(sr, pids[i], PROC_WANT_ARGV, &cp->pi);
		if (r == -ENOENT || r == -EACCES || r == -EBADMSG)
			continue; /* gone, or not a process we can read: nothing to match */
		if (r < 0)
			goto fail;
		policy_match_process(p, cp->pi.comm, cp->pi.exe, cp->pi.argv.v, cp->pi.argv.n,
				     &cp->m);
		ps.n++;
	}
	free(pids);
	*ret = ps;
	return 0;
fail:
	free(pids);
	check_client_procs_clear(&ps);
	return r;
}

void check_client_procs_clear(struct check_client_procs *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		proc_info_clear(&ps->v[i].pi);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

const struct check_client_proc *check_client_procs_find(const struct check_client_procs *ps,
							pid_t pid)
{
	size_t lo = 0, hi = ps->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ps->v[mid].pi.pid == pid)
			return &ps->v[mid];
		if (ps->v[mid].pi.pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

bool check_client_is_client(const struct check_client_proc *cp, const struct policy_client *c)
{
	if (cp->m.kind != POLICY_MATCH_APPROVED || cp->m.client != c)
		return false;
	if (!c->wine_prefix)
		return true;
	if (strv_contains(&c->comm, cp->pi.comm))
		return true;
	for (size_t i = 0; i < cp->pi.argv.n; i++)
		if (strv_fnmatch_any(&c->argv, cp->pi.argv.v[i], FNM_NOESCAPE | FNM_CASEFOLD) >= 0)
			return true;
	return false;
}

const char *check_client_user_label(const struct sysroot *sr, uid_t uid, char *buf, size_t size)
{
	char *name = NULL;

	if (passwd_lookup_uid(sr, uid, &name, NULL) == 0) {
		snprintf(buf, size, "%s", name);
		free(name);
	} else {
		snprintf(buf, size, "uid %u", (unsigned)uid);
	}
	return buf;
}

unsigned check_client_scan_depth(const struct policy_scan *scan)
{
	return scan->max_depth ? scan->max_depth : SCAN_DEPTH_DEFAULT;
}

unsigned check_client_scan_entries(const struct policy_scan *scan)
{
	return scan->max_entries ? scan->max_entries : SCAN_ENTRIES_DEFAULT;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add the directories that the absolute glob pat matches under the root (once each). */
static int homes_add(const struct sysroot *sr, const char *pat, struct strv *out)
{
	size_t plen = strlen(sr->path);
	char full[PATH_MAX];
	glob_t g = { 0 };
	int r = 0;

	if (pat[0] != '/' || sysroot_path(sr, pat, full, sizeof(full)) < 0)
		return 0;
	if (glob(full, GLOB_ONLYDIR | GLOB_NOSORT, NULL, &g) != 0)
		goto out;
	for (size_t k = 0; k < g.gl_pathc; k++) {
		const char *abs = g.gl_pathv[k] + plen;
		struct stat st;

		if (strlen(g.gl_pathv[k]) < plen || abs[0] != '/' ||
		    sysroot_lstat(sr, abs, &st) < 0 || !S_ISDIR(st.st_mode) ||
		    strv_contains(out, abs))
			continue;
		r = strv_push(out, abs);
		if (r < 0)
			goto out;
	}
out:
	globfree(&g);
	return r;
}

int check_client_homes(const struct sysroot *sr, const struct policy_scan *scan, struct strv *ret)
{
	static const char *const defaults[] = { "/home/*", "/root" };
	struct strv out = { 0 };
	size_t n = scan->home_dirs.n ? scan->home_dirs.n : 2;
	int r;

	for (size_t i = 0; i < n; i++) {
		r = homes_add(sr, scan->home_dirs.n ? scan->home_dirs.v[i] : defaults[i], &out);
		if (r < 0) {
			strv_clear(&out);
			return r;
		}
	}
	if (out.n > 1)
		qsort(out.v, out.n, sizeof(char *), cmp_str);
	*ret = out;
	return 0;
}

bool check_client_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

const char *check_client_wine_prefix(const struct policy_client *c)
{
	const char *p = c->wine_prefix;

	if (!p)
		return NULL;
	if (p[0] == '~' && p[1] == '/')
		p += 2;
	while (*p == '/')
		p++;
	return p;
}

int check_client_main_binary(const struct sysroot *sr, struct pkgdb *db,
			     const struct policy_client *c, char **ret)
{
	const struct strv *files;
	const char *first = NULL;
	int r;

	for (size_t i = 0; i < c->exe.n; i++)
		if (!check_client_has_glob(c->exe.v[i])) {
			*ret = strdup(c->exe.v[i]);
			return *ret ? 0 : -ENOMEM;
		}
	if (!c->package || !c->exe.n)
		return -ENOENT;
	r = pkgdb_files(db, c->package, &files);
	if (r < 0)
		return r;
	for (size_t i = 0; i < files->n; i++) {
		const char *f = files->v[i], *base = strrchr(f, '/') + 1;
		struct stat st;

		if (strv_fnmatch_any(&c->exe, f, FNM_NOESCAPE) < 0)
			continue;
		if (sysroot_stat(sr, f, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (strv_contains(&c->comm, base)) {
			first = f;
			break;
		}
		if (!first)
			first = f;
	}
	if (!first)
		return -ENOENT;
	*ret = strdup(first);
	return *ret ? 0 : -ENOMEM;
}

int check_client_pkgdb(const struct check_ctx *ctx, struct pkgdb **ret)
{
	int r = pkgdb_new(ctx->root, ret);

	if (r == 0)
		pkgdb_set_cache_dir(*ret, ctx->cache_dir, ctx->now);
	return r;
}

/* ---- findings ---- */

void check_client_findings_init(struct check_client_findings *f, struct check_result *r)
{
	memset(f, 0, sizeof(*f));
	f->r = r;
	f->status = CHECK_PASS;
}

void check_client_finding(struct check_client_findings *f, enum check_status st, const char *key,
			  const char *fmt, ...)
{
	char *text = NULL;
	size_t k;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		text = NULL;
	va_end(ap);
	if (!text)
		return;
	if (st != CHECK_PASS) {
		f->status = check_status_worst(f->status, st);
		if ((unsigned)st <= CHECK_ERROR) {
			f->n[st]++;
			if (!f->first[st])
				f->first[st] = strdup(text);
		}
	}
	for (k = 0; k < f->n_keys; k++)
		if (strcmp(f->keys[k].key, key) == 0)
			break;
	if (k == f->n_keys && k < sizeof(f->keys) / sizeof(f->keys[0])) {
		f->keys[k].key = strdup(key);
		if (f->keys[k].key)
			f->n_keys++;
	}
	if (k < f->n_keys && f->keys[k].n++ >= CLIENTCHECK_EVIDENCE_MAX) {
		free(text);
		return;
	}
	check_result_add(f->r, key, "%s", text);
	free(text);
}

void check_client_findings_finish(struct check_client_findings *f, const char *pass_en,
				  const char *pass_zh, const char *what_en, const char *what_zh)
{
	enum check_status st = f->status;
	char *en = NULL, *zh = NULL;
	unsigned total;

	for (size_t k = 0; k < f->n_keys; k++)
		if (f->keys[k].n > CLIENTCHECK_EVIDENCE_MAX) {
			char key[160];

			snprintf(key, sizeof(key), "%s.more", f->keys[k].key);
			check_result_add(f->r, key, "%u more not listed",
					 f->keys[k].n - CLIENTCHECK_EVIDENCE_MAX);
		}
	if (st == CHECK_PASS) {
		en = strdup(pass_en);
		zh = strdup(pass_zh);
	} else {
		/* Name the worst kind of finding; the first of that kind tells what it is. */
		size_t si = (unsigned)st <= CHECK_ERROR ? (size_t)st : CHECK_ERROR;
		const char *ten = st == CHECK_FAIL   ? what_en
				  : st == CHECK_WARN ? "needs attention"
						     : "could not verify everything";
		const char *tzh = st == CHECK_FAIL   ? what_zh
				  : st == CHECK_WARN ? "需要注意"
						     : "无法完成全部验证";
		const char *first = f->first[si] ? f->first[si] : "";

		total = f->n[si];
		if (asprintf(&en, "%s (%u finding%s): %s", ten, total, total == 1 ? "" : "s",
			     first) < 0)
			en = NULL;
		if (asprintf(&zh, "%s（%u 项）：%s", tzh, total, first) < 0)
			zh = NULL;
	}
	check_result_set(f->r, st, "%s%.0s", "%.0s%s", en ? en : "", zh ? zh : "");
	free(en);
	free(zh);
}

void check_client_findings_clear(struct check_client_findings *f)
{
	if (!f)
		return;
	for (size_t i = 0; i <= CHECK_ERROR; i++)
		free(f->first[i]);
	for (size_t k = 0; k < f->n_keys; k++)
		free(f->keys[k].key);
	memset(f, 0, sizeof(*f));
}
