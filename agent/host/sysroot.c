#include "agent/host/sysroot.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/fileio.h"

#define RUN_MAX_OUTPUT (4u * 1024 * 1024)

int sysroot_new(const char *root, struct sysroot **ret)
{
	struct sysroot *sr;
	size_t len;

	if (!root || root[0] != '/')
		return -EINVAL;
	sr = calloc(1, sizeof(*sr));
	if (!sr)
		return -ENOMEM;
	len = strlen(root);
	while (len > 1 && root[len - 1] == '/')
		len--;
	sr->path = strndup(root, len == 1 ? 0 : len);
	if (!sr->path) {
		free(sr);
		return -ENOMEM;
	}
	sr->fixture = sr->path[0] != 0;
	*ret = sr;
	return 0;
}

void sysroot_free(struct sysroot *sr)
{
	if (!sr)
		return;
	free(sr->path);
	free(sr);
}

int sysroot_path(const struct sysroot *sr, const char *abs, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", sr->path, abs);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

FILE *sysroot_fopen(const struct sysroot *sr, const char *abs, const char *mode)
{
	char p[PATH_MAX];

	if (sysroot_path(sr, abs, p, sizeof(p)) < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(p, mode);
}

DIR *sysroot_opendir(const struct sysroot *sr, const char *abs)
{
	char p[PATH_MAX];

	if (sysroot_path(sr, abs, p, sizeof(p)) < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return opendir(p);
}

int sysroot_list_dir(const struct sysroot *sr, const char *abs, dir_filter_fn filter,
		     void *userdata, struct strv *ret)
{
	errno = 0;
	return dir_list_names(sysroot_opendir(sr, abs), filter, userdata, ret);
}

int sysroot_stat(const struct sysroot *sr, const char *abs, struct stat *st)
{
	char p[PATH_MAX];
	int r = sysroot_path(sr, abs, p, sizeof(p));

	if (r < 0)
		return r;
	return stat(p, st) < 0 ? -errno : 0;
}

int sysroot_lstat(const struct sysroot *sr, const char *abs, struct stat *st)
{
	char p[PATH_MAX];
	int r = sysroot_path(sr, abs, p, sizeof(p));

	if (r < 0)
		return r;
	return lstat(p, st) < 0 ? -errno : 0;
}

bool sysroot_exists(const struct sysroot *sr, const char *abs)
{
	struct stat st;

	return sysroot_stat(sr, abs, &st) == 0;
}

int sysroot_readlink(const struct sysroot *sr, const char *abs, char *buf, size_t size)
{
	char p[PATH_MAX];
	ssize_t n;
	int r = sysroot_path(sr, abs, p, sizeof(p));

	if (r < 0)
		return r;
	n = readlink(p, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = 0;
	return 0;
}

int sysroot_read_file(const struct sysroot *sr, const char *abs, size_t max, char **ret,
		      size_t *len)
{
	char p[PATH_MAX];
	int r = sysroot_path(sr, abs, p, sizeof(p));

	if (r < 0)
		return r;
	return read_full_file(p, max, ret, len);
}

int sysroot_read_line(const struct sysroot *sr, const char *abs, char **ret)
{
	char p[PATH_MAX];
	int r = sysroot_path(sr, abs, p, sizeof(p));

	if (r < 0)
		return r;
	return read_one_line(p, ret);
}

int sysroot_write_file_atomic(const struct sysroot *sr, const char *abs, const void *data,
			      size_t len, mode_t mode)
{
	char p[PATH_MAX], dir[PATH_MAX], *slash;
	int r = sysroot_path(sr, abs, p, sizeof(p));

	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s", p);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		r = mkdir_p(dir, 0755);
		if (r < 0)
			return r;
	}
	return write_file_atomic(p, data, len, mode);
}

static int run_fixture(const struct sysroot *sr, const char *key, char **ret_out, int *ret_status)
{
	char p[PATH_MAX], *out = NULL, *st = NULL;
	int r;

	snprintf(p, sizeof(p), "/.fixture/cmd/%s.out", key);
	r = sysroot_read_file(sr, p, RUN_MAX_OUTPUT, &out, NULL);
	if (r < 0)
		return r;
	snprintf(p, sizeof(p), "/.fixture/cmd/%s.status", key);
	*ret_status = 0;
	if (sysroot_read_line(sr, p, &st) == 0) {
		if (strcmp(st, "timeout") == 0) {
			free(st);
			free(out);
			return -ETIMEDOUT;
		}
		*ret_status = atoi(st);
		free(st);
	}
	*ret_out = out;
	return 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Read the child's stdout into out until EOF, the deadline or RUN_MAX_OUTPUT bytes. The child
 * is killed (SIGKILL) at the deadline or on too much output (-ETIMEDOUT), and when out cannot
 * grow (-ENOMEM); the caller reaps it. */
static int run_read_output(int fd, pid_t pid, long deadline, struct buf *out)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long left = deadline - now_ms();
		size_t room;
		ssize_t n;
		int k, r;

		if (left <= 0)
			goto kill;
		k = poll(&pfd, 1, (int)left);
		if (k < 0 && errno != EINTR)
			goto kill;
		if (k <= 0)
			continue;
		if (out->len + 4096 > RUN_MAX_OUTPUT)
			goto kill;
		r = buf_reserve(out, 4096);
		if (r < 0) {
			kill(pid, SIGKILL);
			return r;
		}
		room = out->cap - 1 - out->len;
		if (room > RUN_MAX_OUTPUT - out->len)
			room = RUN_MAX_OUTPUT - out->len;
		n = read(fd, out->data + out->len, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		out->len += (size_t)n;
		out->data[out->len] = '\0';
	}
kill:
	kill(pid, SIGKILL);
	return -ETIMEDOUT;
}

int sysroot_run(const struct sysroot *sr, const char *key, const char *const argv[],
		const char *const env[], uid_t uid, unsigned timeout_ms, char **ret_out,
		int *ret_status)
{
	const char *base_env[] = {
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C",
		"LC_ALL=C"
	};
	char *envp[64];
	struct buf out = { 0 };
	size_t ne = 0;
	int pipefd[2] = { -1, -1 }, status, r;
	pid_t pid;

	if (sr->fixture)
		return run_fixture(sr, key, ret_out, ret_status);

	char user_env[4][PATH_MAX];
	gid_t gid = (gid_t)-1;

	for (size_t i = 0; i < 3; i++)
		envp[ne++] = (char *)base_env[i];
	if (uid != (uid_t)-1 && uid != geteuid()) {
		/* Run as the user: their HOME and session bus, for gsettings and friends. */
		struct passwd pw, *pwp = NULL;
		char pwbuf[4096];

		if (getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &pwp) != 0 || !pwp)
			return -ESRCH;
		gid = pw.pw_gid;
		snprintf(user_env[0], PATH_MAX, "HOME=%s", pw.pw_dir);
		snprintf(user_env[1], PATH_MAX, "USER=%s", pw.pw_name);
		snprintf(user_env[2], PATH_MAX, "XDG_RUNTIME_DIR=/run/user/%u", (unsigned)uid);
		snprintf(user_env[3], PATH_MAX,
			 "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/%u/bus", (unsigned)uid);
		for (size_t i = 0; i < 4; i++)
			envp[ne++] = user_env[i];
	}
	for (size_t i = 0; env && env[i] && ne < 63; i++)
		envp[ne++] = (char *)env[i];
	envp[ne] = NULL;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto out;
	}
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);

		dup2(devnull, STDIN_FILENO);
		dup2(pipefd[1], STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		if (gid != (gid_t)-1) {
			if (setgroups(0, NULL) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
				_exit(126);
		}
		execvpe(argv[0], (char *const *)argv, envp);
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(pipefd[1]);
	pipefd[1] = -1;

	r = run_read_output(pipefd[0], pid, now_ms() + (long)timeout_ms, &out);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r < 0)
		goto out;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		r = -ENOENT;
		goto out;
	}
	*ret_out = buf_steal(&out);
	if (!*ret_out) {
		r = -ENOMEM;
		goto out;
	}
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r = 0;
out:
	buf_clear(&out);
	if (pipefd[0] >= 0)
		close(pipefd[0]);
	if (pipefd[1] >= 0)
		close(pipefd[1]);
	return r;
}
