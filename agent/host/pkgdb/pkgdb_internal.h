/* What the pkgdb facade (pkgdb.c) shares with its parts: the per-package record and the
 * shared helpers (pkgdb_util.c), the digest and owner caches (pkgdb_cache.c), and the backend
 * ops table that pkgdb_dpkg.c and pkgdb_rpm.c fill in. The parts never call the facade: what
 * both backends need lives in pkgdb_util.c or pkgdb_cache.c. Not for callers outside pkgdb/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/host/pkgdb/pkgdb.h"

struct pkgdb_md5_ent {
	char *path;
	char md5[HASH_MD5_HEX];
};

/* What was read about one package, lazily. Never moved once allocated. */
struct pkgdb_pkg {
	char *name;
	bool files_done;
	int files_err;
	struct strv files; /* sorted */
	char *version;     /* rpm: the NEVRA; dpkg: the Version field */
	/* dpkg: info/<name>.md5sums */
	bool md5_done;
	int md5_err;
	struct pkgdb_md5_ent *md5; /* sorted by path */
	size_t n_md5;
	/* rpm: rpm -q and rpm -V */
	bool rpm_q_done;
	int rpm_installed; /* 1, 0 or -errno */
	bool rpm_v_done;
	int rpm_v_err;
	struct pkgdb_verify_result rpm_v;
};

struct pkgdb_owner_ent {
	char *path;
	char *pkg; /* NULL: nobody owns it */
};

struct pkgdb_digest_ent {
	char *path; /* real path, root prefix included */
	unsigned long long dev, ino, size;
	long long mtime_s, mtime_ns, ctime_s, ctime_ns;
	char md5[HASH_MD5_HEX]; /* "" when not computed */
	char sha256[HASH_SHA256_HEX];
	long long last_used;
};

/* What is kept across runs in dir (agent/host/query_cache.h): file digests and owners. */
struct pkgdb_cache {
	char *dir; /* NULL: memory only */
	time_t now;
	bool dig_loaded, dig_dirty;
	struct pkgdb_digest_ent *dig;
	size_t n_dig, cap_dig;
	uint32_t *dig_idx; /* open addressing: index + 1, 0 empty */
	size_t n_idx;
	struct pkgdb_owner_ent *owners;
	size_t n_owners;
	bool owners_loaded, owners_dirty;
};

struct pkgdb_backend_ops;

struct pkgdb {
	const struct sysroot *sr;
	const struct pkgdb_backend_ops *ops; /* NULL: no package database */
	void *priv;                          /* the backend's own state */
	struct pkgdb_pkg **pkgs;
	size_t n_pkgs;
	struct pkgdb_cache cache;
};

/* One package manager. Every function gets a valid package name (pkgdb_name_ok). */
struct pkgdb_backend_ops {
	enum pkgdb_backend id;
	/* Is this package manager's database under the root? */
	bool (*probe)(const struct sysroot *sr);
	/* The backend's state in db->priv (may stay NULL), and its free. */
	int (*open)(struct pkgdb *db);
	void (*close)(void *priv);
	/* 1 installed, 0 not, or -errno. */
	int (*is_installed)(struct pkgdb *db, const char *name);
	/* Set p->version of an installed package; NULL: is_installed already did. */
	int (*version)(struct pkgdb *db, struct pkgdb_pkg *p);
	/* Append the package's files to p->files (the facade sorts them). 0 or -errno. */
	int (*list_files)(struct pkgdb *db, struct pkgdb_pkg *p);
	/* Which package lists path (or alias, may be NULL)? *ret: free(). -ENOENT: none. */
	int (*owner)(struct pkgdb *db, const char *path, const char *alias, char **ret);
	/* A fingerprint of the database: cached owners under another stamp are stale. */
	void (*stamp)(struct pkgdb *db, char *buf, size_t size);
	/* The md5 recorded for path (or alias) in p; NULL when the backend records none. */
	int (*recorded_md5)(struct pkgdb *db, struct pkgdb_pkg *p, const char *path,
			    const char *alias, char hex[HASH_MD5_HEX]);
	/* Is path (or alias), owned by p, as the package manager installed it? *ret on 0. */
	int (*check_file)(struct pkgdb *db, struct pkgdb_pkg *p, const char *path,
			  const char *alias, enum pkgdb_file_state *ret);
	/* Compare every file of an installed package with the recorded digests. */
	int (*verify)(struct pkgdb *db, struct pkgdb_pkg *p, struct pkgdb_verify_result *res);
};

extern const struct pkgdb_backend_ops pkgdb_dpkg_ops;
extern const struct pkgdb_backend_ops pkgdb_rpm_ops;

/* pkgdb_util.c: what both backends and the facade share. */
/* Package names go into argv and fixture file names: no options, no slashes. */
bool pkgdb_name_ok(const char *s);
/* The record of name, created empty on first use; NULL on ENOMEM. */
struct pkgdb_pkg *pkgdb_pkg_get(struct pkgdb *db, const char *name);
void pkgdb_pkg_free(struct pkgdb_pkg *p);
/* Append every line of buf that is an absolute path ("/." excepted). */
int pkgdb_lines_add(struct strv *s, const char *buf);
void pkgdb_strv_sort_uniq(struct strv *s);
bool pkgdb_strv_bsearch(const struct strv *s, const char *str);
/* Record a changed, missing or unreadable file (path: len bytes) and count it. */
int pkgdb_issue_push(struct pkgdb_verify_result *r, const char *path, size_t len,
		     enum pkgdb_file_state st, int err);
void pkgdb_issues_free(struct pkgdb_verify_result *r);

/* pkgdb_cache.c: the digest cache (keyed by device, inode, size, mtime, ctime) and the owners
 * found so far (valid under one database stamp). */
void pkgdb_cache_set_dir(struct pkgdb_cache *c, const char *dir, time_t now);
void pkgdb_cache_clear(struct pkgdb_cache *c);
int pkgdb_cache_digest(struct pkgdb_cache *c, const struct sysroot *sr, const char *path,
		       char md5[HASH_MD5_HEX], char sha256[HASH_SHA256_HEX]);
int pkgdb_cache_flush_digests(struct pkgdb_cache *c);
/* Load the owners kept under stamp (once; nothing without a dir). */
void pkgdb_cache_load_owners(struct pkgdb_cache *c, const char *stamp);
/* The remembered owner of path: 1 and *ret (NULL: nobody owns it, not a copy), or 0. */
int pkgdb_cache_owner(const struct pkgdb_cache *c, const char *path, const char **ret);
int pkgdb_cache_remember_owner(struct pkgdb_cache *c, const char *path, const char *pkg);
/* Are there owners to write? Then the caller builds the stamp and calls flush_owners. */
bool pkgdb_cache_owners_dirty(const struct pkgdb_cache *c);
int pkgdb_cache_flush_owners(struct pkgdb_cache *c, const char *stamp);
