#include "agent/watch/hashcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"

struct hc_entry {
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime, ctime;
	char hex[HASH_SHA256_HEX];
};

struct hashcache {
	struct hc_entry *v; /* ring: next insert at pos */
	size_t n, max, pos;
	size_t hits, misses;
};

int hashcache_new(size_t max_entries, struct hashcache **ret)
{
	struct hashcache *hc;

	if (max_entries == 0)
		return -EINVAL;
	hc = calloc(1, sizeof(*hc));
	if (!hc)
		return -ENOMEM;
	hc->v = calloc(max_entries, sizeof(*hc->v));
	if (!hc->v) {
		free(hc);
		return -ENOMEM;
	}
	hc->max = max_entries;
	*ret = hc;
	return 0;
}

void hashcache_free(struct hashcache *hc)
{
	if (!hc)
		return;
	free(hc->v);
	free(hc);
}

static bool ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

static struct hc_entry *hc_find(struct hashcache *hc, const struct stat *st)
{
	for (size_t i = 0; i < hc->n; i++) {
		struct hc_entry *e = &hc->v[i];

		if (e->dev == st->st_dev && e->ino == st->st_ino && e->size == st->st_size &&
		    ts_eq(&e->mtime, &st->st_mtim) && ts_eq(&e->ctime, &st->st_ctim))
			return e;
	}
	return NULL;
}

int hashcache_sha256(struct hashcache *hc, const char *path, char hex[HASH_SHA256_HEX],
		     struct stat *ret_st)
{
	struct hc_entry *e;
	struct stat st, st2;
	int fd, r;

	fd = fileio_open_regular(path, &st);
	if (fd < 0)
		return fd;
	e = hc_find(hc, &st);
	if (e) {
		hc->hits++;
		memcpy(hex, e->hex, HASH_SHA256_HEX);
		r = 0;
		goto done;
	}
	hc->misses++;
	r = hash_sha256_fd(fd, hex);
	if (r < 0)
		goto out;
	/* Changed while we read it: the digest may not describe these bytes. */
	if (fstat(fd, &st2) < 0 || st2.st_size != st.st_size || !ts_eq(&st2.st_mtim, &st.st_mtim) ||
	    !ts_eq(&st2.st_ctim, &st.st_ctim)) {
		r = -EAGAIN;
		goto out;
	}
	e = &hc->v[hc->pos];
	hc->pos = (hc->pos + 1) % hc->max;
	if (hc->n < hc->max)
		hc->n++;
	*e = (struct hc_entry){ .dev = st.st_dev,
				.ino = st.st_ino,
				.size = st.st_size,
				.mtime = st.st_mtim,
				.ctime = st.st_ctim };
	memcpy(e->hex, hex, HASH_SHA256_HEX);
done:
	if (ret_st)
		*ret_st = st;
out:
	close(fd);
	return r;
}

void hashcache_stats(const struct hashcache *hc, size_t *hits, size_t *misses, size_t *n)
{
	*hits = hc->hits;
	*misses = hc->misses;
	*n = hc->n;
}
