/* What a Wine program is (wine_exe.h): a file's identity and Tencent family, and the image a
 * running Wine process maps. Which file: wine_exe.c. */
#include "agent/host/wine_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/fileio.h"

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool ascii_casecontains(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; s && *s; s++) {
		size_t i = 0;

		while (i < n && s[i] && ascii_lower((unsigned char)s[i]) == needle[i])
			i++;
		if (i == n)
			return true;
	}
	return false;
}

/* ---- identity ---------------------------------------------------------------------------------
 */

int wine_exe_identify(const struct sysroot *sr, const char *path, struct wine_exe_id *ret)
{
	struct wine_exe_id id = { 0 };
	struct stat st, st2;
	char p[PATH_MAX];
	int fd, r;

	if (!path || path[0] != '/')
		return -EINVAL;
	r = sysroot_path(sr, path, p, sizeof(p));
	if (r < 0)
		return r;
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -ENOEXEC;
		goto out;
	}
	if ((uint64_t)st.st_size > WINE_EXE_SIZE_MAX) {
		r = -EFBIG;
		goto out;
	}
	r = pe_version_from_fd(fd, &id.version);
	if (r < 0 && r != -ENOENT)
		goto out;
	id.has_version = r == 0;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		r = -errno;
		goto out;
	}
	r = hash_sha256_fd(fd, id.sha256);
	if (r < 0)
		goto out;
	if (fstat(fd, &st2) < 0) {
		r = -errno;
		goto out;
	}
	if (st2.st_size != st.st_size || st2.st_mtim.tv_sec != st.st_mtim.tv_sec ||
	    st2.st_mtim.tv_nsec != st.st_mtim.tv_nsec || st2.st_ctim.tv_sec != st.st_ctim.tv_sec ||
	    st2.st_ctim.tv_nsec != st.st_ctim.tv_nsec) {
		r = -EAGAIN;
		goto out;
	}
	id.size = (uint64_t)st.st_size;
	id.dev = st.st_dev;
	id.ino = st.st_ino;
	*ret = id;
	close(fd);
	return 0;
out:
	pe_version_clear(&id.version);
	close(fd);
	return r;
}

void wine_exe_id_clear(struct wine_exe_id *id)
{
	if (!id)
		return;
	pe_version_clear(&id->version);
	*id = (struct wine_exe_id){ 0 };
}

/* 微信 (WeChat) but not as part of 企业微信 (WeCom). */
static bool names_weixin(const char *s)
{
	static const char wx[] = "微信", qy[] = "企业";

	for (const char *p = s ? strstr(s, wx) : NULL; p; p = strstr(p + 1, wx))
		if ((size_t)(p - s) < sizeof(qy) - 1 ||
		    memcmp(p - (sizeof(qy) - 1), qy, sizeof(qy) - 1) != 0)
			return true;
	return false;
}

static bool names_wechat(const char *s)
{
	return ascii_casecontains(s, "wechat") || ascii_casecontains(s, "weixin") ||
	       names_weixin(s);
}

static bool names_wecom(const char *s)
{
	return ascii_casecontains(s, "wxwork") || ascii_casecontains(s, "wecom") ||
	       ascii_casecontains(s, "wework") || (s && strstr(s, "企业微信"));
}

enum wine_exe_family wine_exe_family(const struct wine_exe_id *id)
{
	const struct pe_version *v = id ? &id->version : NULL;
	const char *fields[3];
	bool wechat = false, wecom = false;

	if (!v || !v->company_name)
		return WINE_EXE_OTHER;
	if (!ascii_casecontains(v->company_name, "tencent") && !strstr(v->company_name, "腾讯"))
		return WINE_EXE_OTHER;
	fields[0] = v->product_name;
	fields[1] = v->original_filename;
	fields[2] = v->file_description;
	for (size_t i = 0; i < 3; i++) {
		wechat = wechat || names_wechat(fields[i]);
		wecom = wecom || names_wecom(fields[i]);
	}
	/* A build naming both is taken as WeChat: the denied family wins. */
	if (wechat)
		return WINE_EXE_WECHAT;
	return wecom ? WINE_EXE_WECOM : WINE_EXE_TENCENT;
}

bool wine_exe_is_tencent(const struct wine_exe_id *id)
{
	return wine_exe_family(id) != WINE_EXE_OTHER;
}

const char *wine_exe_family_to_string(enum wine_exe_family f)
{
	switch (f) {
	case WINE_EXE_TENCENT: return "tencent";
	case WINE_EXE_WECHAT: return "wechat";
	case WINE_EXE_WECOM: return "wecom";
	case WINE_EXE_OTHER: break;
	}
	return "other";
}

/* ---- the image a running process maps ---------------------------------------------------------
 */

static bool ends_exe(const char *p, size_t n)
{
	static const char *const deleted = " (deleted)";
	size_t dl = strlen(deleted);

	if (n > dl && memcmp(p + n - dl, deleted, dl) == 0)
		n -= dl;
	return n > 4 && p[n - 4] == '.' && ascii_lower((unsigned char)p[n - 3]) == 'e' &&
	       ascii_lower((unsigned char)p[n - 2]) == 'x' &&
	       ascii_lower((unsigned char)p[n - 1]) == 'e';
}

int wine_exe_mapped(const struct sysroot *sr, pid_t pid, char *path, size_t size, dev_t *ret_dev,
		    ino_t *ret_ino)
{
	char maps[64], *text = NULL, found[PATH_MAX] = "";
	unsigned long long ino = 0, found_ino = 0;
	dev_t found_dev = 0;
	int r;

	if (pid <= 0)
		return -EINVAL;
	snprintf(maps, sizeof(maps), "/proc/%d/maps", (int)pid);
	r = sysroot_read_file(sr, maps, FILEIO_MAX_DEFAULT, &text, NULL);
	if (r < 0)
		return r;
	r = 0;
	for (char *l = text, *next; *l && r == 0; l = next) {
		unsigned long long start, end, off;
		unsigned maj, min;
		char perms[5];
		int at = -1;
		size_t n;

		next = l + strcspn(l, "\n");
		if (*next)
			*next++ = 0;
		if (sscanf(l, "%llx-%llx %4s %llx %x:%x %llu %n", &start, &end, perms, &off, &maj,
			   &min, &ino, &at) < 7) {
			r = -EBADMSG;
			break;
		}
		if (at < 0 || l[at] != '/' || off != 0 || ino == 0)
			continue;
		n = strlen(l + at);
		if (!ends_exe(l + at, n))
			continue;
		if (n >= sizeof(found))
			r = -ENAMETOOLONG;
		else if (!found[0]) {
			memcpy(found, l + at, n + 1);
			found_ino = ino;
			found_dev = makedev(maj, min);
		} else if (found_ino != ino || found_dev != makedev(maj, min))
			r = -ENOTUNIQ;
	}
	free(text);
	if (r < 0)
		return r;
	if (!found[0])
		return -ENOENT;
	if (strlen(found) >= size)
		return -ENAMETOOLONG;
	memcpy(path, found, strlen(found) + 1);
	if (ret_dev)
		*ret_dev = found_dev;
	if (ret_ino)
		*ret_ino = (ino_t)found_ino;
	return 0;
}
