#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"

const char *wxg_test_data_dir(void)
{
	static char dir[PATH_MAX];
	const char *src = getenv("WXG_SRCDIR");

	if (!dir[0]) {
		if (src)
			snprintf(dir, sizeof(dir), "%s/tests/data", src);
		else if (getcwd(dir, sizeof(dir) - 16))
			strcat(dir, "/tests/data");
	}
	return dir;
}

const char *wxg_test_data(const char *fmt, ...)
{
	static char bufs[8][PATH_MAX];
	static unsigned idx;
	char *b = bufs[idx++ % 8], rel[PATH_MAX / 2];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	snprintf(b, PATH_MAX, "%s/%s", wxg_test_data_dir(), rel);
	return b;
}

char *wxg_test_mkdtemp(void)
{
	char *t = strdup("/tmp/wxgtest.XXXXXX");

	assert_non_null(t);
	assert_non_null(mkdtemp(t));
	return t;
}

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void wxg_test_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void wxg_test_write(const char *path, const char *content)
{
	char dir[PATH_MAX], *slash;
	FILE *f;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		assert_int_equal(mkdir_p(dir, 0755), 0);
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	assert_int_equal(fclose(f), 0);
}

bool wxg_test_require_root_bpf(void)
{
	const char *req = getenv("WXGUARD_REQUIRE_BPF");
	bool required = req && strcmp(req, "1") == 0;

	if (geteuid() == 0 && access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return true;
	if (required)
		fail_msg("BPF test cannot run (need root and BTF) but WXGUARD_REQUIRE_BPF=1");
	skip();
	return false;
}

const char *wxg_test_build_dir(void)
{
	const char *b = getenv("WXG_BUILD");

	return b && *b ? b : "build";
}

bool wxg_test_bpf_lsm_active(void)
{
	char buf[512] = "";
	FILE *f = fopen("/sys/kernel/security/lsm", "re");
	bool found = false;

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		for (char *save = NULL, *t = strtok_r(buf, ",", &save); t;
		     t = strtok_r(NULL, ",", &save))
			found = found || strcmp(t, "bpf") == 0;
	}
	fclose(f);
	return found;
}

const char *wxg_test_backend(void)
{
	const char *b = getenv("WXG_TEST_BACKEND");

	return b && *b && strcmp(b, "auto") != 0 ? b : NULL;
}

pid_t wxg_test_spawn(const char *path, char *const argv[], char *const envp[])
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		int e;

		execve(path, argv, envp);
		e = errno;
		if (e != EPERM && e != EACCES)
			dprintf(STDERR_FILENO, "wxg_test_spawn: execve %s: %s\n", path,
				strerror(e));
		_exit(e == EPERM || e == EACCES ? WXG_TEST_EXIT_REFUSED : 127);
	}
	return pid;
}

unsigned wxg_test_free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

bool wxg_test_port_open(unsigned port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bool ok = connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0;

	close(fd);
	return ok;
}

static int case_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wxg_test_case *)a)->name,
		      ((const struct wxg_test_case *)b)->name);
}

int wxg_test_run_case_dir(const char *group, const char *folder, size_t min_cases,
			  void (*case_fn)(void **state), const struct CMUnitTest *extra,
			  size_t n_extra)
{
	struct wxg_test_case *cases = NULL;
	struct CMUnitTest *tests;
	struct dirent *de;
	size_t n = 0, cap = 0;
	char dir[512];
	DIR *d;
	int r;

	snprintf(dir, sizeof(dir), "%s/%s", wxg_test_data_dir(), folder);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "no cases in %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".case") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			cases = realloc(cases, cap * sizeof(*cases));
			assert_non_null(cases);
		}
		snprintf(cases[n].path, sizeof(cases[n].path), "%s/%s", dir, de->d_name);
		snprintf(cases[n].name, sizeof(cases[n].name), "%s_%.*s", group, (int)(len - 5),
			 de->d_name);
		n++;
	}
	closedir(d);
	if (n < min_cases) {
		fprintf(stderr, "only %zu cases in %s (at least %zu expected)\n", n, dir,
			min_cases);
		free(cases);
		return 1;
	}
	qsort(cases, n, sizeof(*cases), case_cmp);
	tests = calloc(n_extra + n, sizeof(*tests));
	assert_non_null(tests);
	memcpy(tests, extra, n_extra * sizeof(*extra));
	for (size_t i = 0; i < n; i++)
		tests[n_extra + i] = (struct CMUnitTest){ .name = cases[i].name,
							  .test_func = case_fn,
							  .initial_state = &cases[i] };
	r = _cmocka_run_group_tests(group, tests, n_extra + n, NULL, NULL);
	free(tests);
	free(cases);
	return r;
}
