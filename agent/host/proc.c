#include "agent/host/proc.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_pid(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

int proc_list_pids(const struct sysroot *sr, pid_t **ret, size_t *ret_n)
{
	struct strv names = { 0 };
	pid_t *v = NULL;
	size_t n = 0;
	int r;

	r = sysroot_list_dir(sr, "/proc", dir_filter_numeric, NULL, &names);
	if (r < 0)
		return r;
	if (names.n) {
		v = malloc(names.n * sizeof(*v));
		if (!v) {
			strv_clear(&names);
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < names.n; i++) {
		long pid = strtol(names.v[i], NULL, 10);

		if (pid > 0)
			v[n++] = (pid_t)pid;
	}
	strv_clear(&names);
	if (n)
		qsort(v, n, sizeof(*v), cmp_pid);
	*ret = v;
	*ret_n = n;
	return 0;
}

static int read_nul_list(const struct sysroot *sr, const char *path, struct strv *out)
{
	size_t len;
	char *buf;
	int r;

	r = sysroot_read_file(sr, path, 1024 * 1024, &buf, &len);
	if (r < 0)
		return r;
	for (size_t off = 0; off < len;) {
		size_t l = strnlen(buf + off, len - off);

		r = strv_push_take(out, strndup(buf + off, l));
		if (r < 0)
			break;
		off += l + 1;
	}
	free(buf);
	return r;
}

/* The "(comm)" of a stat line: comm may contain spaces and parentheses, it ends at the last
 * ')'. Sets *open_ and *close_ to the parentheses. */
static bool stat_comm(char *stat, char **open_, char **close_)
{
	char *p = strchr(stat, '('), *rp = strrchr(stat, ')');

	if (!p || !rp || rp < p)
		return false;
	*open_ = p;
	*close_ = rp;
	return true;
}

static int read_stat(const struct sysroot *sr, pid_t pid, struct proc_info *pi)
{
	char path[64], *buf, *rp, *p;
	int r, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = sysroot_read_file(sr, path, 8192, &buf, NULL);
	if (r < 0)
		return r;
	if (!stat_comm(buf, &p, &rp)) {
		free(buf);
		return -EBADMSG;
	}
	snprintf(pi->comm, sizeof(pi->comm), "%.*s", (int)(rp - p - 1), p + 1);
	/* After ") ": field 3 is state, 4 ppid, ..., 22 starttime. */
	p = rp + 2;
	for (field = 3; p && *p; field++) {
		if (field == 4)
			pi->ppid = (pid_t)strtol(p, NULL, 10);
		if (field == 22) {
			pi->start_time = strtoull(p, NULL, 10);
			break;
		}
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	free(buf);
	return 0;
}

static int read_uid(const struct sysroot *sr, pid_t pid, uid_t *uid)
{
	char path[64], line[256];
	FILE *f;
	int r = -EBADMSG;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = sysroot_fopen(sr, path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "Uid:", 4) == 0) {
			*uid = (uid_t)strtoul(line + 4, NULL, 10);
			r = 0;
			break;
		}
	}
	fclose(f);
	return r;
}

int proc_read_comm(const struct sysroot *sr, pid_t pid, char *buf, size_t size)
{
	char p[64], *data = NULL, *open_, *close_;
	int r;

	snprintf(p, sizeof(p), "/proc/%d/comm", (int)pid);
	if (sysroot_read_line(sr, p, &data) == 0) {
		snprintf(buf, size, "%s", data);
		free(data);
		return 0;
	}
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	r = sysroot_read_line(sr, p, &data);
	if (r < 0)
		return r;
	if (!stat_comm(data, &open_, &close_)) {
		free(data);
		return -EBADMSG;
	}
	snprintf(buf, size, "%.*s", (int)(close_ - open_ - 1), open_ + 1);
	free(data);
	return 0;
}

int proc_read(const struct sysroot *sr, pid_t pid, unsigned want, struct proc_info *ret)
{
	struct proc_info pi = { .pid = pid };
	char path[64], link[PATH_MAX];
	int r;

	r = read_stat(sr, pid, &pi);
	if (r < 0)
		goto fail;
	r = read_uid(sr, pid, &pi.uid);
	if (r < 0)
		goto fail;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (sysroot_readlink(sr, path, link, sizeof(link)) == 0) {
		pi.exe = strdup(link);
		if (!pi.exe) {
			r = -ENOMEM;
			goto fail;
		}
	}
	if (want & PROC_WANT_ARGV) {
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		r = read_nul_list(sr, path, &pi.argv);
		if (r < 0 && r != -EACCES && r != -ESRCH)
			goto fail;
	}
	if (want & PROC_WANT_ENV) {
		snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
		r = read_nul_list(sr, path, &pi.environ);
		if (r < 0 && r != -EACCES && r != -ESRCH)
			goto fail;
	}
	*ret = pi;
	return 0;
fail:
	proc_info_clear(&pi);
	return r == -ENOENT || r == -ESRCH ? -ENOENT : r;
}

void proc_info_clear(struct proc_info *pi)
{
	if (!pi)
		return;
	free(pi->exe);
	strv_clear(&pi->argv);
	strv_clear(&pi->environ);
	memset(pi, 0, sizeof(*pi));
}

const char *proc_getenv(const struct proc_info *pi, const char *name)
{
	size_t l = strlen(name);

	for (size_t i = 0; i < pi->environ.n; i++)
		if (strncmp(pi->environ.v[i], name, l) == 0 && pi->environ.v[i][l] == '=')
			return pi->environ.v[i] + l + 1;
	return NULL;
}
