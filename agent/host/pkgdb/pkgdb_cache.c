/* The caches pkgdb keeps across runs, through agent/host/query_cache.h: file digests keyed by
 * device, inode, size, mtime and ctime (ctime cannot be set back from user space, so
 * "touch -r" after patching does not hide a change), and the owners found by
 * pkgdb_owner_of(), valid while the package database keeps its stamp. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/host/pkgdb/pkgdb_internal.h"
#include "agent/host/query_cache.h"
#include "common/buf.h"
#include "common/fileio.h"
#include "common/hex.h"

#define DIGEST_CACHE_NAME "pkgdb-digests"
#define DIGEST_CACHE_STAMP "v1"
#define DIGEST_CACHE_TTL (30u * 24 * 3600)
#define DIGEST_CACHE_MAX 30000u
#define DIGEST_KEEP_UNUSED (30 * 24 * 3600)
#define OWNER_CACHE_NAME "pkgdb-owners"
#define OWNER_CACHE_TTL (30u * 24 * 3600)
#define OWNER_CACHE_MAX 5000u

void pkgdb_cache_set_dir(struct pkgdb_cache *c, const char *dir, time_t now)
{
	free(c->dir);
	c->dir = dir ? strdup(dir) : NULL;
	c->now = now ? now : time(NULL);
}

void pkgdb_cache_clear(struct pkgdb_cache *c)
{
	for (size_t i = 0; i < c->n_owners; i++) {
		free(c->owners[i].path);
		free(c->owners[i].pkg);
	}
	free(c->owners);
	free(c->dir);
	for (size_t i = 0; i < c->n_dig; i++)
		free(c->dig[i].path);
	free(c->dig);
	free(c->dig_idx);
	*c = (struct pkgdb_cache){ 0 };
}

/* ---- digests ---- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct pkgdb_digest_ent *dig_lookup(struct pkgdb_cache *c, const char *path)
{
	if (!c->n_idx)
		return NULL;
	for (size_t i = str_hash(path) & (c->n_idx - 1);; i = (i + 1) & (c->n_idx - 1)) {
		uint32_t x = c->dig_idx[i];

		if (!x)
			return NULL;
		if (strcmp(c->dig[x - 1].path, path) == 0)
			return &c->dig[x - 1];
	}
}

static void dig_index(struct pkgdb_cache *c, size_t ent)
{
	size_t i = str_hash(c->dig[ent].path) & (c->n_idx - 1);

	while (c->dig_idx[i])
		i = (i + 1) & (c->n_idx - 1);
	c->dig_idx[i] = (uint32_t)(ent + 1);
}

/* Append an entry (takes e->path). */
static struct pkgdb_digest_ent *dig_add(struct pkgdb_cache *c, struct pkgdb_digest_ent *e)
{
	if (c->n_dig == c->cap_dig) {
		size_t nc = c->cap_dig ? c->cap_dig * 2 : 256;
		struct pkgdb_digest_ent *nv = realloc(c->dig, nc * sizeof(*nv));

		if (!nv)
			goto fail;
		c->dig = nv;
		c->cap_dig = nc;
	}
	if ((c->n_dig + 1) * 2 > c->n_idx) {
		size_t ni = c->n_idx ? c->n_idx * 2 : 1024;
		uint32_t *nx = calloc(ni, sizeof(*nx));

		if (!nx)
			goto fail;
		free(c->dig_idx);
		c->dig_idx = nx;
		c->n_idx = ni;
		for (size_t i = 0; i < c->n_dig; i++)
			dig_index(c, i);
	}
	c->dig[c->n_dig] = *e;
	dig_index(c, c->n_dig);
	return &c->dig[c->n_dig++];
fail:
	free(e->path);
	return NULL;
}

/* One cached digest field: "-" (not computed) or exactly n hex digits. */
static bool dig_field(const char *s, size_t n, char *dst)
{
	if (strcmp(s, "-") == 0)
		return true;
	if (!hex_is_n(s, n))
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

static void dig_load(struct pkgdb_cache *c)
{
	char *data = NULL;

	if (c->dig_loaded)
		return;
	c->dig_loaded = true;
	if (query_cache_get(c->dir, DIGEST_CACHE_NAME, DIGEST_CACHE_STAMP, DIGEST_CACHE_TTL, c->now,
			    &data, NULL) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(data, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		struct pkgdb_digest_ent e = { 0 };
		char md5[40], sha[80];
		int off = 0;

		if (sscanf(l, "%llu %llu %llu %lld %lld %lld %lld %lld %39s %79s %n", &e.dev,
			   &e.ino, &e.size, &e.mtime_s, &e.mtime_ns, &e.ctime_s, &e.ctime_ns,
			   &e.last_used, md5, sha, &off) != 10 ||
		    !off || l[off] != '/')
			continue;
		if (!dig_field(md5, 32, e.md5) || !dig_field(sha, 64, e.sha256))
			continue;
		if (dig_lookup(c, l + off))
			continue;
		e.path = strdup(l + off);
		if (!e.path || !dig_add(c, &e))
			break;
	}
	free(data);
}

static bool dig_same(const struct pkgdb_digest_ent *e, const struct stat *st)
{
	return e->dev == (unsigned long long)st->st_dev &&
	       e->ino == (unsigned long long)st->st_ino &&
	       e->size == (unsigned long long)st->st_size &&
	       e->mtime_s == (long long)st->st_mtim.tv_sec && e->mtime_ns == st->st_mtim.tv_nsec &&
	       e->ctime_s == (long long)st->st_ctim.tv_sec && e->ctime_ns == st->st_ctim.tv_nsec;
}

static void dig_set_stat(struct pkgdb_digest_ent *e, const struct stat *st)
{
	e->dev = (unsigned long long)st->st_dev;
	e->ino = (unsigned long long)st->st_ino;
	e->size = (unsigned long long)st->st_size;
	e->mtime_s = st->st_mtim.tv_sec;
	e->mtime_ns = st->st_mtim.tv_nsec;
	e->ctime_s = st->st_ctim.tv_sec;
	e->ctime_ns = st->st_ctim.tv_nsec;
}

int pkgdb_cache_digest(struct pkgdb_cache *c, const struct sysroot *sr, const char *path,
		       char md5[HASH_MD5_HEX], char sha256[HASH_SHA256_HEX])
{
	char real[PATH_MAX], m[HASH_MD5_HEX], s[HASH_SHA256_HEX];
	struct pkgdb_digest_ent *e, ne = { 0 };
	struct stat st, st2;
	int fd, r;

	r = sysroot_path(sr, path, real, sizeof(real));
	if (r < 0)
		return r;
	fd = fileio_open_regular(real, &st);
	if (fd < 0)
		return fd;
	dig_load(c);
	e = dig_lookup(c, real);
	if (e && dig_same(e, &st) && e->md5[0] && e->sha256[0]) {
		if (e->last_used < (long long)c->now - 24 * 3600)
			c->dig_dirty = true; /* refresh its age on disk once a day */
		e->last_used = c->now;
		if (md5)
			memcpy(md5, e->md5, HASH_MD5_HEX);
		if (sha256)
			memcpy(sha256, e->sha256, HASH_SHA256_HEX);
		r = 0;
		goto out;
	}
	r = hash_md5_sha256_fd(fd, m, s);
	if (r < 0)
		goto out;
	if (md5)
		memcpy(md5, m, HASH_MD5_HEX);
	if (sha256)
		memcpy(sha256, s, HASH_SHA256_HEX);
	/* Remember it only if the file did not change while we read it. */
	if (strchr(real, '\n') || fstat(fd, &st2) < 0)
		goto out;
	dig_set_stat(&ne, &st2);
	if (!dig_same(&ne, &st))
		goto out;
	if (!e) {
		ne.path = strdup(real);
		if (!ne.path)
			goto out;
		e = dig_add(c, &ne);
		if (!e)
			goto out;
	}
	dig_set_stat(e, &st);
	memcpy(e->md5, m, HASH_MD5_HEX);
	memcpy(e->sha256, s, HASH_SHA256_HEX);
	e->last_used = c->now;
	c->dig_dirty = true;
out:
	close(fd);
	return r;
}

static int cmp_used_desc(const void *a, const void *b)
{
	long long x = (*(struct pkgdb_digest_ent *const *)a)->last_used;
	long long y = (*(struct pkgdb_digest_ent *const *)b)->last_used;

	return (x < y) - (x > y);
}

int pkgdb_cache_flush_digests(struct pkgdb_cache *c)
{
	struct pkgdb_digest_ent **v = NULL;
	struct buf b = { 0 };
	size_t n = 0;
	int r = 0;

	if (!c->dig_dirty || !c->dir)
		return 0;
	v = malloc((c->n_dig + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < c->n_dig; i++)
		if (c->dig[i].last_used >= (long long)c->now - DIGEST_KEEP_UNUSED)
			v[n++] = &c->dig[i];
	if (n > DIGEST_CACHE_MAX) {
		qsort(v, n, sizeof(*v), cmp_used_desc);
		n = DIGEST_CACHE_MAX;
	}
	for (size_t i = 0; i < n; i++) {
		r = buf_printf(&b, "%llu %llu %llu %lld %lld %lld %lld %lld %s %s %s\n", v[i]->dev,
			       v[i]->ino, v[i]->size, v[i]->mtime_s, v[i]->mtime_ns, v[i]->ctime_s,
			       v[i]->ctime_ns, v[i]->last_used, v[i]->md5[0] ? v[i]->md5 : "-",
			       v[i]->sha256[0] ? v[i]->sha256 : "-", v[i]->path);
		if (r < 0)
			goto out;
	}
	r = query_cache_put(c->dir, DIGEST_CACHE_NAME, DIGEST_CACHE_STAMP, c->now,
			    b.data ? b.data : "", b.len);
	if (r < 0)
		goto out;
	c->dig_dirty = false;
out:
	buf_clear(&b);
	free(v);
	return r;
}

/* ---- owners ---- */

static int owner_add(struct pkgdb_cache *c, const char *path, const char *pkg)
{
	struct pkgdb_owner_ent *nv = realloc(c->owners, (c->n_owners + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	c->owners = nv;
	nv[c->n_owners].path = strdup(path);
	nv[c->n_owners].pkg = pkg ? strdup(pkg) : NULL;
	if (!nv[c->n_owners].path || (pkg && !nv[c->n_owners].pkg)) {
		free(nv[c->n_owners].path);
		free(nv[c->n_owners].pkg);
		return -ENOMEM;
	}
	c->n_owners++;
	return 0;
}

int pkgdb_cache_remember_owner(struct pkgdb_cache *c, const char *path, const char *pkg)
{
	int r;

	r = owner_add(c, path, pkg);
	if (r < 0)
		return r;
	c->owners_dirty = true;
	return 0;
}

/* Lines "<pkg or ->\t<path>". */
void pkgdb_cache_load_owners(struct pkgdb_cache *c, const char *stamp)
{
	char *data = NULL;

	if (c->owners_loaded || !c->dir)
		return;
	c->owners_loaded = true;
	if (query_cache_get(c->dir, OWNER_CACHE_NAME, stamp, OWNER_CACHE_TTL, c->now, &data, NULL) <
	    0)
		return;
	for (char *save = NULL, *l = strtok_r(data, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');

		if (!tab || tab[1] != '/')
			continue;
		*tab = 0;
		if (strcmp(l, "-") != 0 && !pkgdb_name_ok(l))
			continue;
		if (owner_add(c, tab + 1, strcmp(l, "-") == 0 ? NULL : l) < 0)
			break;
	}
	free(data);
}

int pkgdb_cache_owner(const struct pkgdb_cache *c, const char *path, const char **ret)
{
	for (size_t i = 0; i < c->n_owners; i++)
		if (strcmp(c->owners[i].path, path) == 0) {
			*ret = c->owners[i].pkg;
			return 1;
		}
	return 0;
}

bool pkgdb_cache_owners_dirty(const struct pkgdb_cache *c)
{
	return c->owners_dirty && c->dir;
}

int pkgdb_cache_flush_owners(struct pkgdb_cache *c, const char *stamp)
{
	struct buf b = { 0 };
	size_t first;
	int r = 0;

	if (!pkgdb_cache_owners_dirty(c))
		return 0;
	/* keep the newest */
	first = c->n_owners > OWNER_CACHE_MAX ? c->n_owners - OWNER_CACHE_MAX : 0;
	for (size_t i = first; i < c->n_owners; i++) {
		if (strchr(c->owners[i].path, '\n'))
			continue;
		r = buf_printf(&b, "%s\t%s\n", c->owners[i].pkg ? c->owners[i].pkg : "-",
			       c->owners[i].path);
		if (r < 0)
			goto out;
	}
	r = query_cache_put(c->dir, OWNER_CACHE_NAME, stamp, c->now, b.data ? b.data : "", b.len);
	if (r < 0)
		goto out;
	c->owners_dirty = false;
out:
	buf_clear(&b);
	return r;
}
