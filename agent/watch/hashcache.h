/* SHA-256 of executables, cached by (dev, inode, mtime, ctime, size): the watcher hashes a
 * file once per change, not once per exec or per policy reload. Not thread-safe. */
#pragma once
#include <stddef.h>
#include <sys/stat.h>

#include "common/hash.h"

struct hashcache;

/* max_entries bounds memory (oldest-inserted entries are evicted). */
int hashcache_new(size_t max_entries, struct hashcache **ret);
void hashcache_free(struct hashcache *hc);
/* Hash the regular file at path; *ret_st (may be NULL) gets the fstat of the file hashed, so
 * the caller's (dev, inode) is the one of the bytes it verified. 0 or -errno (-EINVAL: not a
 * regular file). */
int hashcache_sha256(struct hashcache *hc, const char *path, char hex[HASH_SHA256_HEX],
		     struct stat *ret_st);
/* Hits and misses since hashcache_new(), for status. */
void hashcache_stats(const struct hashcache *hc, size_t *hits, size_t *misses, size_t *n);
