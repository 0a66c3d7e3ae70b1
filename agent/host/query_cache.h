/* A small on-disk cache for slow package-manager queries (apt simulation, dnf updateinfo).
 *
 * An entry is <dir>/<name>.cache: the time it was written, a stamp and the data. The stamp is
 * a caller-built fingerprint of the query's inputs (command line, mtimes of the package
 * database and lists...): an entry whose stamp differs from the caller's is stale, so an
 * `apt upgrade` or `apt update` refreshes the answer before the TTL runs out. Entries are
 * written atomically (write_file_atomic), so readers never see half an entry.
 *
 * A NULL dir disables the cache: query_cache_get() misses, query_cache_put() does nothing. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

/* Longest accepted name; names are [A-Za-z0-9._-], not starting with '.'. */
#define CACHE_NAME_MAX 64

/* Look up name. Returns 0 and a malloc'd NUL-terminated copy of the data in *ret (its length
 * in *ret_len, which may be NULL) on a hit. Misses: -ENOENT (no entry, or dir is NULL),
 * -ESTALE (older than ttl seconds, written in the future, or stamp differs), -EBADMSG (not
 * a cache entry), -EPERM (not owned by us, or writable by others: never trusted).
 * ttl 0 means every entry is stale. -EINVAL for a bad name or a stamp with a newline. */
int query_cache_get(const char *dir, const char *name, const char *stamp, unsigned ttl, time_t now,
		    char **ret, size_t *ret_len);

/* Store data (len bytes, may contain NULs) under name, written at now. Creates dir (0700)
 * if needed; the entry is 0600. Returns 0 (also when dir is NULL), or -errno. */
int query_cache_put(const char *dir, const char *name, const char *stamp, time_t now,
		    const void *data, size_t len);

/* Remove an entry. Returns 0 if it was there or dir is NULL, -ENOENT if not, or -errno. */
int query_cache_drop(const char *dir, const char *name);
