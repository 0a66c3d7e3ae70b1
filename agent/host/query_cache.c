#include "agent/host/query_cache.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"

/* Entry layout: a text header, a blank line, then exactly <size> bytes of data.
 *   wxguard-cache 1
 *   time <unix seconds>
 *   size <bytes>
 *   stamp <stamp>
 *
 *   <data> */
#define CACHE_MAGIC "wxguard-cache 1\n"
#define CACHE_MAX_ENTRY (8u * 1024 * 1024)

static bool name_ok(const char *name)
{
	size_t n;

	if (!name || name[0] == 0 || name[0] == '.')
		return false;
	n = strlen(name);
	if (n > CACHE_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int entry_path(const char *dir, const char *name, char *buf, size_t size)
{
	int n;

	if (!name_ok(name))
		return -EINVAL;
	n = snprintf(buf, size, "%s/%s.cache", dir, name);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Read one "key value\n" header line at *p; returns the value (NUL-terminated in place). */
static char *header_line(char **p, const char *key)
{
	size_t kl = strlen(key);
	char *nl, *v;

	if (strncmp(*p, key, kl) != 0 || (*p)[kl] != ' ')
		return NULL;
	nl = strchr(*p, '\n');
	if (!nl)
		return NULL;
	*nl = 0;
	v = *p + kl + 1;
	*p = nl + 1;
	return v;
}

/* A "key=<decimal>" header line: 0, or -EBADMSG. */
static int header_number(char **p, const char *key, long long *ret)
{
	char *v = header_line(p, key), *end;
	long long n;

	if (!v)
		return -EBADMSG;
	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || *end || end == v)
		return -EBADMSG;
	*ret = n;
	return 0;
}

int query_cache_get(const char *dir, const char *name, const char *stamp, unsigned ttl, time_t now,
		    char **ret, size_t *ret_len)
{
	char path[PATH_MAX], *buf = NULL, *p, *v, *data;
	long long written, size;
	struct stat st;
	size_t len;
	int fd = -1, r;

	if (!stamp || strchr(stamp, '\n'))
		return -EINVAL;
	if (!dir)
		return -ENOENT;
	r = entry_path(dir, name, path, sizeof(path));
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
	if (fd < 0)
		return errno == ELOOP ? -EPERM : -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	/* A cache decides a security verdict: only trust what we wrote ourselves. */
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		r = -EPERM;
		goto out;
	}
	r = read_full_fd(fd, CACHE_MAX_ENTRY, &buf, &len);
	if (r < 0)
		goto out;

	p = buf;
	if (strncmp(p, CACHE_MAGIC, strlen(CACHE_MAGIC)) != 0) {
		r = -EBADMSG;
		goto out;
	}
	p += strlen(CACHE_MAGIC);
	r = header_number(&p, "time", &written);
	if (r < 0)
		goto out;
	r = header_number(&p, "size", &size);
	if (r < 0)
		goto out;
	if (size < 0) {
		r = -EBADMSG;
		goto out;
	}
	v = header_line(&p, "stamp");
	if (!v || *p != '\n') {
		r = -EBADMSG;
		goto out;
	}
	data = p + 1;
	if (len - (size_t)(data - buf) != (size_t)size) {
		r = -EBADMSG; /* truncated or padded: not ours */
		goto out;
	}
	/* Stale: written in the future (clock went back), older than the TTL, other inputs. */
	if (written > (long long)now || (long long)now - written >= (long long)ttl ||
	    strcmp(v, stamp) != 0) {
		r = -ESTALE;
		goto out;
	}
	memmove(buf, data, (size_t)size);
	buf[size] = 0;
	*ret = buf;
	buf = NULL;
	if (ret_len)
		*ret_len = (size_t)size;
	r = 0;
out:
	free(buf);
	if (fd >= 0)
		close(fd);
	return r;
}

int query_cache_put(const char *dir, const char *name, const char *stamp, time_t now,
		    const void *data, size_t len)
{
	char path[PATH_MAX], *buf = NULL;
	int hl, r;

	if (!stamp || strchr(stamp, '\n'))
		return -EINVAL;
	if (!dir)
		return 0;
	r = entry_path(dir, name, path, sizeof(path));
	if (r < 0)
		return r;
	if (len > CACHE_MAX_ENTRY)
		return -EFBIG;
	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	hl = snprintf(NULL, 0, CACHE_MAGIC "time %lld\nsize %zu\nstamp %s\n\n", (long long)now, len,
		      stamp);
	if (hl < 0)
		return -EINVAL;
	buf = malloc((size_t)hl + len + 1);
	if (!buf)
		return -ENOMEM;
	snprintf(buf, (size_t)hl + 1, CACHE_MAGIC "time %lld\nsize %zu\nstamp %s\n\n",
		 (long long)now, len, stamp);
	if (len)
		memcpy(buf + hl, data, len);
	r = write_file_atomic(path, buf, (size_t)hl + len, 0600);
	free(buf);
	return r;
}

int query_cache_drop(const char *dir, const char *name)
{
	char path[PATH_MAX];
	int r;

	if (!dir)
		return 0;
	r = entry_path(dir, name, path, sizeof(path));
	if (r < 0)
		return r;
	return unlink(path) < 0 ? -errno : 0;
}
