/* The package database facade: the public API of pkgdb.h over a backend ops table
 * (pkgdb_dpkg.c, pkgdb_rpm.c), the caches of pkgdb_cache.c and the shared helpers of
 * pkgdb_util.c. The parts never call back into this file. */
#include "agent/host/pkgdb/pkgdb.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/host/pkgdb/pkgdb_internal.h"

#define OWNER_STAMP_MAX 256

static const struct pkgdb_backend_ops *const backends[] = { &pkgdb_dpkg_ops, &pkgdb_rpm_ops };

static const char *const file_state_names[] = {
	[PKGDB_FILE_OK] = "ok",
	[PKGDB_FILE_CHANGED] = "changed",
	[PKGDB_FILE_MISSING] = "missing",
	[PKGDB_FILE_UNREADABLE] = "unreadable",
	[PKGDB_FILE_NOT_OWNED] = "not-owned",
	[PKGDB_FILE_NO_DIGEST] = "no-digest",
};

const char *pkgdb_file_state_to_string(enum pkgdb_file_state s)
{
	return (unsigned)s < sizeof(file_state_names) / sizeof(file_state_names[0])
		       ? file_state_names[s]
		       : "?";
}

const char *pkgdb_backend_to_string(enum pkgdb_backend b)
{
	switch (b) {
	case PKGDB_DPKG: return "dpkg";
	case PKGDB_RPM: return "rpm";
	default: return "none";
	}
}

int pkgdb_new(const struct sysroot *sr, struct pkgdb **ret)
{
	struct pkgdb *db;
	int r;

	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->sr = sr;
	db->cache.now = time(NULL);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]) && !db->ops; i++)
		if (backends[i]->probe(sr))
			db->ops = backends[i];
	if (db->ops && db->ops->open) {
		r = db->ops->open(db);
		if (r < 0) {
			free(db);
			return r;
		}
	}
	*ret = db;
	return 0;
}

void pkgdb_free(struct pkgdb *db)
{
	if (!db)
		return;
	if (db->ops && db->ops->close)
		db->ops->close(db->priv);
	for (size_t i = 0; i < db->n_pkgs; i++)
		pkgdb_pkg_free(db->pkgs[i]);
	free(db->pkgs);
	pkgdb_cache_clear(&db->cache);
	free(db);
}

enum pkgdb_backend pkgdb_backend(const struct pkgdb *db)
{
	return db->ops ? db->ops->id : PKGDB_NONE;
}

void pkgdb_verify_result_clear(struct pkgdb_verify_result *r)
{
	if (!r)
		return;
	pkgdb_issues_free(r);
	memset(r, 0, sizeof(*r));
}

void pkgdb_set_cache_dir(struct pkgdb *db, const char *dir, time_t now)
{
	pkgdb_cache_set_dir(&db->cache, dir, now);
}

int pkgdb_digest(struct pkgdb *db, const char *path, char md5[HASH_MD5_HEX],
		 char sha256[HASH_SHA256_HEX])
{
	return pkgdb_cache_digest(&db->cache, db->sr, path, md5, sha256);
}

int pkgdb_flush(struct pkgdb *db)
{
	char stamp[OWNER_STAMP_MAX];
	int r, k = 0;

	r = pkgdb_cache_flush_digests(&db->cache);
	if (db->ops && pkgdb_cache_owners_dirty(&db->cache)) {
		db->ops->stamp(db, stamp, sizeof(stamp));
		k = pkgdb_cache_flush_owners(&db->cache, stamp);
	}
	return r < 0 ? r : k;
}

/* The merged-/usr twin of a path: /bin/x <-> /usr/bin/x. false when there is none. */
static bool usr_alias(const char *path, char *buf, size_t size)
{
	static const char *const dirs[] = { "/bin/",   "/sbin/",  "/lib/",
					    "/lib32/", "/lib64/", "/libx32/" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (str_startswith(path, dirs[i]))
			return snprintf(buf, size, "/usr%s", path) < (int)size;
		if (str_startswith(path, "/usr") && str_startswith(path + 4, dirs[i]))
			return snprintf(buf, size, "%s", path + 4) < (int)size;
	}
	return false;
}

/* ---- installed, version, files ---- */

int pkgdb_is_installed(struct pkgdb *db, const char *pkg)
{
	if (!pkgdb_name_ok(pkg))
		return -EINVAL;
	if (!db->ops)
		return -EOPNOTSUPP;
	return db->ops->is_installed(db, pkg);
}

/* The record of an installed package: -ENOENT when it is not installed. */
static int installed_pkg(struct pkgdb *db, const char *pkg, struct pkgdb_pkg **ret)
{
	int r;

	r = pkgdb_is_installed(db, pkg);
	if (r <= 0)
		return r == 0 ? -ENOENT : r;
	*ret = pkgdb_pkg_get(db, pkg);
	return *ret ? 0 : -ENOMEM;
}

int pkgdb_version(struct pkgdb *db, const char *pkg, const char **ret)
{
	struct pkgdb_pkg *p;
	int r;

	r = installed_pkg(db, pkg, &p);
	if (r < 0)
		return r;
	if (!p->version && db->ops->version) {
		r = db->ops->version(db, p);
		if (r < 0)
			return r;
	}
	*ret = p->version;
	return 0;
}

static int load_files(struct pkgdb *db, struct pkgdb_pkg *p)
{
	int r;

	if (p->files_done)
		return p->files_err;
	p->files_done = true;
	r = db->ops ? db->ops->list_files(db, p) : -EOPNOTSUPP;
	if (r < 0)
		goto out;
	pkgdb_strv_sort_uniq(&p->files);
	r = 0;
out:
	p->files_err = r;
	return r;
}

int pkgdb_files(struct pkgdb *db, const char *pkg, const struct strv **ret)
{
	struct pkgdb_pkg *p;
	int r;

	if (!pkgdb_name_ok(pkg))
		return -EINVAL;
	p = pkgdb_pkg_get(db, pkg);
	if (!p)
		return -ENOMEM;
	r = load_files(db, p);
	if (r < 0)
		return r;
	*ret = &p->files;
	return 0;
}

int pkgdb_owns(struct pkgdb *db, const char *pkg, const char *path)
{
	const struct strv *files;
	char alias[PATH_MAX];
	int r;

	r = pkgdb_files(db, pkg, &files);
	if (r < 0)
		return r;
	if (pkgdb_strv_bsearch(files, path))
		return 1;
	return usr_alias(path, alias, sizeof(alias)) && pkgdb_strv_bsearch(files, alias) ? 1 : 0;
}

/* ---- owner ---- */

static void owners_load(struct pkgdb *db)
{
	char stamp[OWNER_STAMP_MAX];

	if (db->cache.owners_loaded || !db->cache.dir)
		return;
	db->ops->stamp(db, stamp, sizeof(stamp));
	pkgdb_cache_load_owners(&db->cache, stamp);
}

static int strdup_to(const char *s, char **ret)
{
	*ret = strdup(s);
	return *ret ? 0 : -ENOMEM;
}

int pkgdb_owner_of(struct pkgdb *db, const char *path, const char *hint, char **ret_pkg)
{
	char alias[PATH_MAX], *owner = NULL;
	const char *known;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (!db->ops)
		return -EOPNOTSUPP;
	if (hint && pkgdb_owns(db, hint, path) > 0)
		return strdup_to(hint, ret_pkg);
	owners_load(db);
	if (pkgdb_cache_owner(&db->cache, path, &known) > 0)
		return known ? strdup_to(known, ret_pkg) : -ENOENT;
	r = db->ops->owner(db, path, usr_alias(path, alias, sizeof(alias)) ? alias : NULL, &owner);
	if (r < 0 && r != -ENOENT)
		return r;
	(void)pkgdb_cache_remember_owner(&db->cache, path, owner);
	if (r < 0)
		return r;
	*ret_pkg = owner;
	return 0;
}

/* ---- md5 of a file, file check, verify ---- */

int pkgdb_file_md5(struct pkgdb *db, const char *path, const char *hint, char hex[HASH_MD5_HEX],
		   char **ret_pkg)
{
	char *owner = NULL, alias[PATH_MAX];
	struct pkgdb_pkg *p;
	int r;

	if (!db->ops || !db->ops->recorded_md5)
		return -EOPNOTSUPP;
	r = pkgdb_owner_of(db, path, hint, &owner);
	if (r < 0)
		return r;
	p = pkgdb_pkg_get(db, owner);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	r = db->ops->recorded_md5(db, p, path, usr_alias(path, alias, sizeof(alias)) ? alias : NULL,
				  hex);
	if (r < 0)
		goto out;
	if (ret_pkg) {
		*ret_pkg = owner;
		owner = NULL;
	}
out:
	free(owner);
	return r;
}

int pkgdb_check_file(struct pkgdb *db, const char *path, const char *hint,
		     enum pkgdb_file_state *ret_state, char **ret_pkg)
{
	enum pkgdb_file_state st = PKGDB_FILE_NOT_OWNED;
	char *owner = NULL, alias[PATH_MAX];
	struct pkgdb_pkg *p;
	int r;

	if (!db->ops)
		return -EOPNOTSUPP;
	r = pkgdb_owner_of(db, path, hint, &owner);
	if (r < 0 && r != -ENOENT)
		return r;
	if (owner) {
		p = pkgdb_pkg_get(db, owner);
		if (!p) {
			r = -ENOMEM;
			goto fail;
		}
		r = db->ops->check_file(db, p, path,
					usr_alias(path, alias, sizeof(alias)) ? alias : NULL, &st);
		if (r < 0)
			goto fail;
	}
	if (st == PKGDB_FILE_NOT_OWNED) {
		free(owner); /* listed by a package that is not installed */
		owner = NULL;
	}
	*ret_state = st;
	if (ret_pkg)
		*ret_pkg = owner;
	else
		free(owner);
	return 0;
fail:
	free(owner);
	return r;
}

int pkgdb_verify(struct pkgdb *db, const char *pkg, struct pkgdb_verify_result *ret)
{
	struct pkgdb_verify_result res = { 0 };
	struct pkgdb_pkg *p;
	int r;

	r = installed_pkg(db, pkg, &p);
	if (r < 0)
		return r;
	r = db->ops->verify(db, p, &res);
	if (r < 0) {
		pkgdb_verify_result_clear(&res);
		return r;
	}
	*ret = res;
	return 0;
}
