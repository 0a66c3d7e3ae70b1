#include "agent/attest/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/dir.h"
#include "common/fileio.h"
#include "common/strv.h"

#define SPOOL_MAGIC "WXS1"

struct entry {
	uint64_t id;
	uint64_t size; /* framed */
};

struct spool {
	char *dir;
	int qfd; /* <dir>/q */
	int tfd; /* <dir>/tmp */
	struct spool_limits lim;
	struct entry *v; /* sorted by id; v[head..n) are live */
	size_t head, n, cap;
	uint64_t next_id;
	struct spool_stats st;
};

uint32_t spool_crc32c(uint32_t crc, const void *data, size_t len)
{
	static uint32_t table[256];
	static bool init;
	const unsigned char *p = data;

	if (!init) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;

			for (int k = 0; k < 8; k++)
				c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
			table[i] = c;
		}
		init = true;
	}
	crc = ~crc;
	while (len--)
		crc = table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static void put_le32(unsigned char *p, uint32_t v)
{
	p[0] = v & 0xff, p[1] = (v >> 8) & 0xff, p[2] = (v >> 16) & 0xff, p[3] = v >> 24;
}

static uint32_t get_le32(const unsigned char *p)
{
	return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t live(const struct spool *s)
{
	return s->n - s->head;
}

static int save_state(struct spool *s)
{
	char path[PATH_MAX], buf[128];
	int n;

	snprintf(path, sizeof(path), "%s/state", s->dir);
	n = snprintf(buf, sizeof(buf), "evicted=%" PRIu64 "\ncorrupt=%" PRIu64 "\n", s->st.evicted,
		     s->st.corrupt);
	return write_file_atomic(path, buf, (size_t)n, 0600);
}

static void load_state(struct spool *s)
{
	char path[PATH_MAX], *text = NULL;

	snprintf(path, sizeof(path), "%s/state", s->dir);
	if (read_full_file(path, 4096, &text, NULL) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		if (str_startswith(l, "evicted="))
			s->st.evicted = strtoull(l + 8, NULL, 10);
		else if (str_startswith(l, "corrupt="))
			s->st.corrupt = strtoull(l + 8, NULL, 10);
	}
	free(text);
}

static int push_entry(struct spool *s, uint64_t id, uint64_t size)
{
	if (s->n == s->cap) {
		if (s->head > 0) {
			memmove(s->v, s->v + s->head, live(s) * sizeof(*s->v));
			s->n -= s->head;
			s->head = 0;
		}
		if (s->n == s->cap) {
			size_t cap = s->cap ? s->cap * 2 : 64;
			struct entry *nv = realloc(s->v, cap * sizeof(*nv));

			if (!nv)
				return -ENOMEM;
			s->v = nv;
			s->cap = cap;
		}
	}
	s->v[s->n++] = (struct entry){ .id = id, .size = size };
	s->st.depth++;
	s->st.bytes += size;
	return 0;
}

static void name_of(uint64_t id, char name[17])
{
	snprintf(name, 17, "%016" PRIx64, id);
}

/* Drop entry i (index into v) from the table (file already gone). */
static void forget(struct spool *s, size_t i)
{
	s->st.depth--;
	s->st.bytes -= s->v[i].size;
	if (i == s->head) {
		s->head++;
		return;
	}
	memmove(s->v + i, s->v + i + 1, (s->n - i - 1) * sizeof(*s->v));
	s->n--;
}

static int evict_oldest(struct spool *s)
{
	char name[17];

	if (live(s) == 0)
		return -ENOENT;
	name_of(s->v[s->head].id, name);
	if (unlinkat(s->qfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	forget(s, s->head);
	s->st.evicted++;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Read and verify one record file. -EBADMSG when torn or damaged. */
static int read_record(struct spool *s, uint64_t id, char **ret, size_t *ret_len)
{
	char name[17], *buf = NULL;
	size_t len;
	uint32_t plen;
	int fd, r;

	name_of(id, name);
	fd = openat(s->qfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	r = read_full_fd(fd, SPOOL_RECORD_MAX + SPOOL_FRAME_LEN, &buf, &len);
	close(fd);
	if (r < 0)
		return r == -EFBIG ? -EBADMSG : r;
	if (len < SPOOL_FRAME_LEN || memcmp(buf, SPOOL_MAGIC, 4) != 0) {
		r = -EBADMSG;
		goto fail;
	}
	plen = get_le32((unsigned char *)buf + 4);
	if (plen != len - SPOOL_FRAME_LEN ||
	    spool_crc32c(0, buf + SPOOL_FRAME_LEN, plen) != get_le32((unsigned char *)buf + 8)) {
		r = -EBADMSG;
		goto fail;
	}
	memmove(buf, buf + SPOOL_FRAME_LEN, plen);
	buf[plen] = 0;
	*ret = buf;
	*ret_len = plen;
	return 0;
fail:
	free(buf);
	return r;
}

static bool is_id_name(const char *n)
{
	if (strlen(n) != 16)
		return false;
	for (; *n; n++)
		if (!((*n >= '0' && *n <= '9') || (*n >= 'a' && *n <= 'f')))
			return false;
	return true;
}

static bool filter_id_name(const struct dirent *de, void *userdata)
{
	return is_id_name(de->d_name);
}

/* The names in the directory open as dfd, filtered (common/dir.h). */
static int list_at(int dfd, dir_filter_fn filter, struct strv *ret)
{
	int fd = dup(dfd), r;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	return dir_list_names(d, filter, NULL, ret);
}

static int scan(struct spool *s)
{
	struct strv names = { 0 };
	int r;
	bool dirty = false;

	/* Interrupted writes: never renamed, never acknowledged. */
	r = list_at(s->tfd, NULL, &names);
	if (r < 0)
		return r;
	for (size_t i = 0; i < names.n; i++)
		unlinkat(s->tfd, names.v[i], 0);
	strv_clear(&names);

	r = list_at(s->qfd, NULL, &names);
	if (r < 0)
		return r;
	for (size_t i = 0; i < names.n; i++) {
		const char *name = names.v[i];
		struct stat st;
		uint64_t id;

		if (!is_id_name(name)) {
			unlinkat(s->qfd, name, 0);
			continue;
		}
		id = strtoull(name, NULL, 16);
		if (fstatat(s->qfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    st.st_size < SPOOL_FRAME_LEN ||
		    st.st_size > SPOOL_RECORD_MAX + SPOOL_FRAME_LEN) {
			unlinkat(s->qfd, name, 0);
			s->st.corrupt++;
			dirty = true;
			continue;
		}
		r = push_entry(s, id, (uint64_t)st.st_size);
		if (r < 0)
			break;
	}
	strv_clear(&names);
	if (r < 0)
		return r;
	if (live(s) > 0)
		qsort(s->v + s->head, live(s), sizeof(*s->v), cmp_entry);
	s->st.depth = live(s);
	s->st.bytes = 0;
	for (size_t i = s->head; i < s->n; i++)
		s->st.bytes += s->v[i].size;
	s->next_id = live(s) ? s->v[s->n - 1].id + 1 : 1;

	/* A torn tail (a reordering file system, a damaged disk) shows as a bad frame: verify every
	 * record once at open (newest first), so a peek never hands out a damaged one. */
	for (size_t i = s->n; i-- > s->head;) {
		char *buf, name[17];
		size_t len;

		r = read_record(s, s->v[i].id, &buf, &len);
		if (r == 0) {
			free(buf);
			continue;
		}
		if (r != -EBADMSG && r != -ENOENT)
			return r;
		name_of(s->v[i].id, name);
		unlinkat(s->qfd, name, 0);
		forget(s, i);
		s->st.corrupt++;
		dirty = true;
	}
	r = 0;
	if (dirty) {
		fsync(s->qfd);
		save_state(s);
	}
	return 0;
}

static int enforce_bounds(struct spool *s, uint64_t extra_records, uint64_t extra_bytes)
{
	bool evicted = false;
	int r;

	while (live(s) > 0 && (live(s) + extra_records > s->lim.max_records ||
			       s->st.bytes + extra_bytes > s->lim.max_bytes)) {
		r = evict_oldest(s);
		if (r < 0)
			return r;
		evicted = true;
	}
	if (evicted) {
		fsync(s->qfd);
		/* The counter is best effort on a full disk: it cannot be lost by much. */
		save_state(s);
	}
	return 0;
}

int spool_open(const char *dir, const struct spool_limits *lim, struct spool **ret)
{
	struct spool *s;
	char path[PATH_MAX];
	int r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->qfd = s->tfd = -1;
	s->lim.max_records = lim && lim->max_records ? lim->max_records : 10000;
	s->lim.max_bytes = lim && lim->max_bytes ? lim->max_bytes : 16u * 1024 * 1024;
	s->dir = strdup(dir);
	if (!s->dir) {
		r = -ENOMEM;
		goto fail;
	}
	r = mkdir_p(dir, 0700);
	if (r < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/q", dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	s->qfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "%s/tmp", dir);
	if (mkdir(path, 0700) < 0 && errno != EEXIST) {
		r = -errno;
		goto fail;
	}
	s->tfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->qfd < 0 || s->tfd < 0) {
		r = -errno;
		goto fail;
	}
	load_state(s);
	r = scan(s);
	if (r < 0)
		goto fail;
	r = enforce_bounds(s, 0, 0);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	spool_free(s);
	return r;
}

void spool_free(struct spool *s)
{
	if (!s)
		return;
	if (s->qfd >= 0)
		close(s->qfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s->v);
	free(s->dir);
	free(s);
}

/* One attempt: tmp file, fsync, rename into q/, fsync q/. */
static int write_record(struct spool *s, uint64_t id, const void *data, size_t len)
{
	unsigned char hdr[SPOOL_FRAME_LEN];
	char name[17];
	int fd, r;

	name_of(id, name);
	fd = openat(s->tfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	memcpy(hdr, SPOOL_MAGIC, 4);
	put_le32(hdr + 4, (uint32_t)len);
	put_le32(hdr + 8, spool_crc32c(0, data, len));
	r = write_full_fd(fd, hdr, sizeof(hdr));
	if (r < 0)
		goto fail;
	r = write_full_fd(fd, data, len);
	if (r < 0)
		goto fail;
	if (fsync(fd) < 0) {
		r = -errno;
		goto fail;
	}
	r = close(fd) < 0 ? -errno : 0;
	fd = -1;
	if (r < 0)
		goto fail;
	if (renameat(s->tfd, name, s->qfd, name) < 0) {
		r = -errno;
		goto fail;
	}
	if (fsync(s->qfd) < 0)
		return -errno; /* renamed but maybe not durable: report, the record stays */
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlinkat(s->tfd, name, 0);
	return r;
}

int spool_append(struct spool *s, const void *data, size_t len, uint64_t *ret_id)
{
	uint64_t size = (uint64_t)len + SPOOL_FRAME_LEN, id;
	int r;

	if (len > SPOOL_RECORD_MAX || size > s->lim.max_bytes)
		return -EMSGSIZE;
	r = enforce_bounds(s, 1, size);
	if (r < 0)
		return r;
	id = s->next_id;
	for (;;) {
		r = write_record(s, id, data, len);
		if (r != -ENOSPC && r != -EDQUOT)
			break;
		/* Full disk: make room by dropping the oldest, counted. */
		if (evict_oldest(s) < 0)
			return -ENOSPC;
		fsync(s->qfd);
		save_state(s);
	}
	if (r < 0 && r != -EIO)
		return r;
	s->next_id++;
	if (r == -EIO) {
		/* fsync of q/ failed after the rename: the record exists; keep it, report the
		 * error. */
		push_entry(s, id, size);
		return r;
	}
	r = push_entry(s, id, size);
	if (r < 0)
		return r;
	s->st.appended++;
	if (ret_id)
		*ret_id = id;
	return 0;
}

void spool_records_free(struct spool_record *v, size_t n)
{
	for (size_t i = 0; i < n && v; i++)
		free(v[i].data);
	free(v);
}

int spool_peek(struct spool *s, size_t max_n, size_t max_bytes, struct spool_record **ret,
	       size_t *ret_n)
{
	struct spool_record *v;
	size_t n = 0, bytes = 0, i;
	bool dirty = false;
	int r = 0;

	v = calloc(max_n ? max_n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = s->head; i < s->n && n < max_n;) {
		char *buf;
		size_t len;

		r = read_record(s, s->v[i].id, &buf, &len);
		if (r == -EBADMSG || r == -ENOENT) {
			char name[17];

			name_of(s->v[i].id, name);
			unlinkat(s->qfd, name, 0);
			forget(s, i); /* i now names the next entry */
			if (r == -EBADMSG) {
				s->st.corrupt++;
				dirty = true;
			}
			r = 0;
			continue;
		}
		if (r < 0)
			goto fail;
		if (n > 0 && bytes + len > max_bytes) {
			free(buf);
			break;
		}
		v[n++] = (struct spool_record){ .id = s->v[i].id, .data = buf, .len = len };
		bytes += len;
		i++;
	}
	if (dirty)
		save_state(s);
	*ret = v;
	*ret_n = n;
	return 0;
fail:
	spool_records_free(v, n);
	return r;
}

int spool_ack(struct spool *s, const uint64_t *ids, size_t n)
{
	int r = 0;

	for (size_t k = 0; k < n; k++) {
		struct entry key = { .id = ids[k] }, *e;
		char name[17];

		e = bsearch(&key, s->v + s->head, live(s), sizeof(*s->v), cmp_entry);
		if (!e)
			continue;
		name_of(ids[k], name);
		if (unlinkat(s->qfd, name, 0) < 0 && errno != ENOENT && r == 0)
			r = -errno;
		forget(s, (size_t)(e - s->v));
		s->st.acked++;
	}
	if (n > 0 && fsync(s->qfd) < 0 && r == 0)
		r = -errno;
	return r;
}

int spool_stat_dir(const char *dir, struct spool_stats *ret)
{
	struct spool tmp = { .dir = (char *)dir };
	struct strv names = { 0 };
	char path[PATH_MAX];
	int fd, r;

	snprintf(path, sizeof(path), "%s/q", dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = list_at(fd, filter_id_name, &names);
	if (r < 0) {
		close(fd);
		return r;
	}
	load_state(&tmp);
	for (size_t i = 0; i < names.n; i++) {
		struct stat st;

		if (fstatat(fd, names.v[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		tmp.st.depth++;
		tmp.st.bytes += (uint64_t)st.st_size;
	}
	strv_clear(&names);
	close(fd);
	*ret = tmp.st;
	return 0;
}

void spool_get_stats(const struct spool *s, struct spool_stats *ret)
{
	*ret = s->st;
}
