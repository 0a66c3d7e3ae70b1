/* The rpm backend: rpm is asked through sysroot_run(), so a fixture root answers from
 * <root>/.fixture/cmd/<key>.out (keys in pkgdb.h). rpm -V answers are kept in the query
 * cache for an hour, under a stamp of the rpmdb's mtimes. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/host/pkgdb/pkgdb_internal.h"
#include "agent/host/query_cache.h"

#define RPM_TIMEOUT_MS 30000u
#define RPM_VERIFY_TIMEOUT_MS 120000u
#define RPM_VERIFY_TTL 3600u /* rpm -V hashes the whole package: reuse for an hour */

static const char *const rpm_db_dirs[] = { "/var/lib/rpm", "/usr/lib/sysimage/rpm" };

static bool rpm_probe(const struct sysroot *sr)
{
	for (size_t i = 0; i < sizeof(rpm_db_dirs) / sizeof(rpm_db_dirs[0]); i++) {
		struct stat st;

		if (sysroot_stat(sr, rpm_db_dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
			return true;
	}
	return false;
}

static int rpm_run(struct pkgdb *db, const char *key, const char *const argv[], unsigned timeout_ms,
		   char **out, int *status)
{
	return sysroot_run(db->sr, key, argv, NULL, (uid_t)-1, timeout_ms, out, status);
}

/* rpm <opt> <pkg>, fixture key "rpm<opt>-<pkg>" ("rpm-q-bash"). */
static int rpm_ask(struct pkgdb *db, const char *opt, const char *pkg, unsigned timeout_ms,
		   char **out, int *status)
{
	const char *argv[] = { "rpm", opt, pkg, NULL };
	char key[256];

	snprintf(key, sizeof(key), "rpm%s-%s", opt, pkg);
	return rpm_run(db, key, argv, timeout_ms, out, status);
}

static int rpm_query(struct pkgdb *db, struct pkgdb_pkg *p)
{
	char *out = NULL;
	int st, r;

	if (p->rpm_q_done)
		return p->rpm_installed;
	r = rpm_ask(db, "-q", p->name, RPM_TIMEOUT_MS, &out, &st);
	if (r < 0)
		goto out;
	if (st == 0) {
		out[strcspn(out, "\n")] = 0;
		p->version = strdup(out);
		r = p->version ? 1 : -ENOMEM;
	} else if (st == 1) {
		r = 0;
	} else {
		r = -EIO;
	}
out:
	free(out);
	p->rpm_q_done = true;
	p->rpm_installed = r;
	return r;
}

static int rpm_is_installed(struct pkgdb *db, const char *name)
{
	struct pkgdb_pkg *p = pkgdb_pkg_get(db, name);

	return p ? rpm_query(db, p) : -ENOMEM;
}

static int rpm_list_files(struct pkgdb *db, struct pkgdb_pkg *p)
{
	char *out = NULL;
	int st, r;

	r = rpm_ask(db, "-ql", p->name, RPM_TIMEOUT_MS, &out, &st);
	if (r < 0)
		goto out;
	if (st != 0) {
		r = strstr(out, "is not installed") ? -ENOENT : -EIO;
		goto out;
	}
	r = pkgdb_lines_add(&p->files, out);
out:
	free(out);
	return r;
}

/* ---- rpm -V ---- */

static bool rpm_attr_ok(const char *t, size_t len)
{
	if (len < 8 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr(".SM5DLUGTP?", t[i]))
			return false;
	return true;
}

/* One rpm -V line (ll bytes, tl the first word): a changed, missing or unreadable file is
 * pushed, a config file only counted. */
static int rpm_parse_line(const char *l, size_t ll, size_t tl, struct pkgdb_verify_result *res)
{
	const char *path = memchr(l, '/', ll);
	enum pkgdb_file_state st;

	if (!path)
		return 0;
	if (tl == 7 && strncmp(l, "missing", 7) == 0)
		st = PKGDB_FILE_MISSING;
	else if (rpm_attr_ok(l, tl) && l[2] == '5')
		st = PKGDB_FILE_CHANGED;
	else if (rpm_attr_ok(l, tl) && l[2] == '?')
		st = PKGDB_FILE_UNREADABLE;
	else
		return 0;
	if (memchr(l + tl, 'c', (size_t)(path - (l + tl)))) {
		res->n_excluded++;
		return 0;
	}
	return pkgdb_issue_push(res, path, ll - (size_t)(path - l), st,
				st == PKGDB_FILE_UNREADABLE ? -EACCES : 0);
}

/* rpm -V lines: "S.5....T.  c /etc/x", "missing   c /etc/y", "..5......    /usr/bin/z".
 * Column 3 '5': digest differs; '?': could not be read. Config files ('c') are excluded. */
static int rpm_parse_verify(const char *out, struct pkgdb_verify_result *res)
{
	for (const char *l = out; *l;) {
		size_t ll = strcspn(l, "\n"), tl = strcspn(l, " \t\n");
		int r;

		r = rpm_parse_line(l, ll, tl, res);
		if (r < 0)
			return r;
		l += ll;
		if (*l == '\n')
			l++;
	}
	return 0;
}

static void rpm_db_stamp(struct pkgdb *db, const char *version, char *buf, size_t size)
{
	static const char *const files[] = { "/var/lib/rpm", "/usr/lib/sysimage/rpm",
					     "/var/lib/rpm/rpmdb.sqlite",
					     "/usr/lib/sysimage/rpm/rpmdb.sqlite",
					     "/var/lib/rpm/Packages" };
	size_t off;

	off = (size_t)snprintf(buf, size, "%s", version ? version : "-");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && off < size; i++) {
		struct stat st;

		if (sysroot_stat(db->sr, files[i], &st) == 0)
			off += (size_t)snprintf(buf + off, size - off, " %lld.%09ld",
						(long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
}

static void rpm_stamp(struct pkgdb *db, char *buf, size_t size)
{
	rpm_db_stamp(db, "rpm", buf, size);
}

/* The query cache's name for prefix + pkg: [A-Za-z0-9.-], others '_'. */
static void cache_name(const char *prefix, const char *pkg, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "%s", prefix);

	for (; *pkg && o + 1 < size && o < CACHE_NAME_MAX; pkg++)
		buf[o++] = isalnum((unsigned char)*pkg) || *pkg == '.' || *pkg == '-' ? *pkg : '_';
	buf[o < size ? o : size - 1] = 0;
}

/* rpm -V <pkg> (or its cached answer) into p->rpm_v. */
static int rpm_verify(struct pkgdb *db, struct pkgdb_pkg *p)
{
	char name[CACHE_NAME_MAX + 1], stamp[512], *out = NULL;
	const struct pkgdb_cache *c = &db->cache;
	int st = 0, r;

	if (p->rpm_v_done)
		return p->rpm_v_err;
	r = rpm_query(db, p);
	if (r <= 0) {
		r = r == 0 ? -ENOENT : r;
		goto out;
	}
	cache_name("rpm-V-", p->name, name, sizeof(name));
	rpm_db_stamp(db, p->version, stamp, sizeof(stamp));
	if (query_cache_get(c->dir, name, stamp, RPM_VERIFY_TTL, c->now, &out, NULL) < 0) {
		r = rpm_ask(db, "-V", p->name, RPM_VERIFY_TIMEOUT_MS, &out, &st);
		if (r < 0)
			goto out;
		if (st > 1) {
			r = -EIO;
			goto out;
		}
		if (strstr(out, "is not installed")) {
			r = -ENOENT;
			goto out;
		}
		(void)query_cache_put(c->dir, name, stamp, c->now, out, strlen(out));
	}
	r = rpm_parse_verify(out, &p->rpm_v);
out:
	free(out);
	p->rpm_v_done = true;
	p->rpm_v_err = r;
	return r;
}

static int rpm_verify_pkg(struct pkgdb *db, struct pkgdb_pkg *p, struct pkgdb_verify_result *res)
{
	int r;

	r = rpm_verify(db, p);
	if (r < 0)
		return r;
	res->n_excluded = p->rpm_v.n_excluded;
	for (size_t i = 0; i < p->rpm_v.n_issues; i++) {
		const struct pkgdb_file_issue *is = &p->rpm_v.issues[i];

		r = pkgdb_issue_push(res, is->path, strlen(is->path), is->state, is->err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* A file rpm -V did not complain about is as installed. */
static int rpm_check_file(struct pkgdb *db, struct pkgdb_pkg *p, const char *path,
			  const char *alias, enum pkgdb_file_state *ret)
{
	enum pkgdb_file_state st = PKGDB_FILE_OK;
	int r;

	r = rpm_verify(db, p);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->rpm_v.n_issues; i++)
		if (strcmp(p->rpm_v.issues[i].path, path) == 0 ||
		    (alias && strcmp(p->rpm_v.issues[i].path, alias) == 0))
			st = p->rpm_v.issues[i].state;
	*ret = st;
	return 0;
}

/* ---- owner ---- */

/* rpm -qf --qf '%{NAME}\n' PATH, key "rpm-qf-" + PATH without its leading '/', '/' -> '_'. */
static int rpm_owner_one(struct pkgdb *db, const char *path, char **ret)
{
	const char *argv[] = { "rpm", "-qf", "--qf", "%{NAME}\\n", path, NULL };
	char key[PATH_MAX], *out = NULL;
	size_t o;
	int st, r;

	o = (size_t)snprintf(key, sizeof(key), "rpm-qf-");
	for (const char *s = path + (*path == '/'); *s && o + 1 < sizeof(key); s++)
		key[o++] = *s == '/' ? '_' : *s;
	key[o] = 0;
	r = rpm_run(db, key, argv, RPM_TIMEOUT_MS, &out, &st);
	if (r < 0)
		return r;
	out[strcspn(out, "\n")] = 0;
	if (st == 1 || strstr(out, "not owned") || strstr(out, "No such file"))
		r = -ENOENT;
	else if (st != 0 || !pkgdb_name_ok(out))
		r = -EIO;
	else
		r = 0;
	if (r == 0)
		*ret = out;
	else
		free(out);
	return r;
}

static int rpm_owner(struct pkgdb *db, const char *path, const char *alias, char **ret)
{
	int r;

	r = rpm_owner_one(db, path, ret);
	if (r == -ENOENT && alias)
		r = rpm_owner_one(db, alias, ret);
	return r;
}

const struct pkgdb_backend_ops pkgdb_rpm_ops = {
	.id = PKGDB_RPM,
	.probe = rpm_probe,
	.is_installed = rpm_is_installed,
	.list_files = rpm_list_files,
	.owner = rpm_owner,
	.stamp = rpm_stamp,
	.check_file = rpm_check_file,
	.verify = rpm_verify_pkg,
};
