/* The package database, read through the root: is a package installed, which package owns a
 * file, do a package's files still match the digests the package manager recorded.
 *
 * dpkg (Debian, Ubuntu, UOS, Kylin) is read directly: <root>/var/lib/dpkg/status and
 * <root>/var/lib/dpkg/info/<pkg>[:<arch>].{list,md5sums}. rpm (Fedora) is asked through
 * sysroot_run(), so a fixture root answers from <root>/.fixture/cmd/<key>.out:
 *   rpm -q PKG                       key "rpm-q-PKG"
 *   rpm -qf --qf '%{NAME}\n' PATH    key "rpm-qf-" + PATH without its leading '/', '/' -> '_'
 *   rpm -ql PKG                      key "rpm-ql-PKG"
 *   rpm -V PKG                       key "rpm-V-PKG"
 *
 * Digests of files are kept across runs (pkgdb_set_cache_dir) keyed by device, inode, size,
 * mtime and ctime, so a file is hashed again only when it changed; ctime cannot be set back
 * from user space, so "touch -r" after patching does not hide a change. Owners found by
 * pkgdb_owner_of() are kept too, until the package database changes (dpkg: the mtimes of
 * status and info/; rpm: of the rpmdb).
 *
 * The watcher uses pkgdb_check_file() to decide whether an executable is genuine. A struct
 * pkgdb is not thread-safe; it caches what it read until pkgdb_free(). docs/checks/client.md. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "agent/host/sysroot.h"
#include "common/hash.h"
#include "common/strv.h"

struct pkgdb;

enum pkgdb_backend {
	PKGDB_NONE = 0, /* no package database under the root */
	PKGDB_DPKG = 1,
	PKGDB_RPM = 2,
};

enum pkgdb_file_state {
	PKGDB_FILE_OK = 0,         /* on disk, digest matches the package manager's */
	PKGDB_FILE_CHANGED = 1,    /* digest (or type) differs: patched or replaced */
	PKGDB_FILE_MISSING = 2,    /* listed by the package, not on disk */
	PKGDB_FILE_UNREADABLE = 3, /* exists but could not be hashed (err says why) */
	PKGDB_FILE_NOT_OWNED = 4,  /* no installed package lists the path */
	PKGDB_FILE_NO_DIGEST = 5,  /* owned, but no digest is recorded (conffile, no md5sums) */
};

struct pkgdb_file_issue {
	char *path; /* absolute, as the system sees it */
	enum pkgdb_file_state state;
	int err; /* PKGDB_FILE_UNREADABLE: the -errno */
};

struct pkgdb_verify_result {
	size_t n_checked;  /* files compared (dpkg; rpm -V does not say: 0) */
	size_t n_excluded; /* conffiles, and files dpkg was told not to install */
	size_t n_changed, n_missing, n_unreadable;
	struct pkgdb_file_issue *issues; /* every changed, missing or unreadable file */
	size_t n_issues;
};

int pkgdb_new(const struct sysroot *sr, struct pkgdb **ret);
void pkgdb_free(struct pkgdb *db);
enum pkgdb_backend pkgdb_backend(const struct pkgdb *db);
const char *pkgdb_backend_to_string(enum pkgdb_backend b);

/* Keep file digests, owners and rpm -V answers in dir (agent/host/query_cache.h) across runs; NULL:
 * memory only. now is the wall clock for the cache's age checks (0: time()). Call before
 * any query. */
void pkgdb_set_cache_dir(struct pkgdb *db, const char *dir, time_t now);
/* Write the digest and owner caches if this pkgdb learnt anything new. 0 or -errno. */
int pkgdb_flush(struct pkgdb *db);

/* 1 when the package's files are on disk (dpkg: installed, unpacked, half-configured...;
 * "config-files" is not installed), 0 when not, -errno when it cannot be told
 * (-EOPNOTSUPP: no package database; rpm: -ENOENT no rpm command, -ETIMEDOUT...). */
int pkgdb_is_installed(struct pkgdb *db, const char *pkg);
/* Version of an installed package ("4.1.22-1", rpm: "name-ver-rel.arch"); the string lives
 * as long as db. -ENOENT when not installed. */
int pkgdb_version(struct pkgdb *db, const char *pkg, const char **ret);
/* The files a package installs (dpkg .list, rpm -ql), sorted; lives as long as db. */
int pkgdb_files(struct pkgdb *db, const char *pkg, const struct strv **ret);
/* Does pkg list path? 1/0 or -errno. Cheap: reads that one package's list. */
int pkgdb_owns(struct pkgdb *db, const char *pkg, const char *path);
/* Which installed package lists path? hint (may be NULL) is tried first, then every package
 * (dpkg: all info/ *.list files, tens of ms; rpm: rpm -qf). merged-/usr aliases (/bin vs
 * /usr/bin...) are tried too. *ret_pkg: free(). -ENOENT when no package owns it. */
int pkgdb_owner_of(struct pkgdb *db, const char *path, const char *hint, char **ret_pkg);
/* The md5 dpkg recorded for path, and its package (ret_pkg may be NULL; free()). -ENOENT not
 * owned, -ENODATA owned but no md5 recorded (conffile, package without md5sums),
 * -EOPNOTSUPP not dpkg. */
int pkgdb_file_md5(struct pkgdb *db, const char *path, const char *hint, char hex[HASH_MD5_HEX],
		   char **ret_pkg);
/* Is path a genuine file of an installed package (hint first, as for pkgdb_owner_of)?
 * *ret_state is set on 0; ret_pkg (may be NULL) gets the owner when there is one. */
int pkgdb_check_file(struct pkgdb *db, const char *path, const char *hint,
		     enum pkgdb_file_state *ret_state, char **ret_pkg);
/* Compare every file of pkg with the recorded digests (conffiles excluded; missing files that
 * dpkg's path-exclude settings kept off the disk excluded). -ENOENT not installed, -ENODATA
 * the package manager recorded no digests. */
int pkgdb_verify(struct pkgdb *db, const char *pkg, struct pkgdb_verify_result *ret);
void pkgdb_verify_result_clear(struct pkgdb_verify_result *r);

/* md5 and/or sha256 (either may be NULL) of a regular file under the root, through the digest
 * cache. -EINVAL when it is not a regular file (never blocks on a FIFO). */
int pkgdb_digest(struct pkgdb *db, const char *path, char md5[HASH_MD5_HEX],
		 char sha256[HASH_SHA256_HEX]);

const char *pkgdb_file_state_to_string(enum pkgdb_file_state s);
