#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/host/sysroot.h"

static void test_sysroot_prefixes_paths(void **state)
{
	struct sysroot *sr;
	char buf[PATH_MAX];

	assert_int_equal(sysroot_new("/", &sr), 0);
	assert_false(sr->fixture);
	assert_int_equal(sysroot_path(sr, "/etc/passwd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/etc/passwd");
	sysroot_free(sr);

	assert_int_equal(sysroot_new("/tmp/fx///", &sr), 0);
	assert_true(sr->fixture);
	assert_int_equal(sysroot_path(sr, "/etc/passwd", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/tmp/fx/etc/passwd");
	assert_int_equal(sysroot_path(sr, "/etc/passwd", buf, 8), -ENAMETOOLONG);
	sysroot_free(sr);

	assert_int_equal(sysroot_new("relative", &sr), -EINVAL);
	sysroot_free(NULL);
}

static void test_sysroot_run_reads_fixture_output_and_status(void **state)
{
	char *dir = wxg_test_mkdtemp(), p[PATH_MAX], *out = NULL;
	const char *argv[] = { "apt-get", "-s", "upgrade", NULL };
	struct sysroot *sr;
	int st = -1;

	snprintf(p, sizeof(p), "%s/.fixture/cmd/apt-sim.out", dir);
	wxg_test_write(p, "Inst libssl3\n");
	snprintf(p, sizeof(p), "%s/.fixture/cmd/apt-sim.status", dir);
	wxg_test_write(p, "100\n");
	snprintf(p, sizeof(p), "%s/.fixture/cmd/slow.out", dir);
	wxg_test_write(p, "");
	snprintf(p, sizeof(p), "%s/.fixture/cmd/slow.status", dir);
	wxg_test_write(p, "timeout\n");
	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(sysroot_run(sr, "apt-sim", argv, NULL, (uid_t)-1, 1000, &out, &st), 0);
	assert_string_equal(out, "Inst libssl3\n");
	assert_int_equal(st, 100);
	free(out);
	assert_int_equal(sysroot_run(sr, "missing", argv, NULL, (uid_t)-1, 1000, &out, &st),
			 -ENOENT);
	assert_int_equal(sysroot_run(sr, "slow", argv, NULL, (uid_t)-1, 1000, &out, &st),
			 -ETIMEDOUT);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_sysroot_write_file_atomic_creates_parents_under_the_root(void **state)
{
	char *dir = wxg_test_mkdtemp(), p[PATH_MAX], *text = NULL;
	struct sysroot *sr;
	struct stat st;

	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(
		sysroot_write_file_atomic(sr, "/etc/dconf/db/local.d/00-x", "a=1\n", 4, 0640), 0);
	assert_int_equal(sysroot_read_file(sr, "/etc/dconf/db/local.d/00-x", 1024, &text, NULL), 0);
	assert_string_equal(text, "a=1\n");
	free(text);
	snprintf(p, sizeof(p), "%s/etc/dconf/db/local.d/00-x", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	snprintf(p, sizeof(p), "%s/etc/dconf/db/local.d", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	/* replaces the old content */
	assert_int_equal(sysroot_write_file_atomic(sr, "/etc/dconf/db/local.d/00-x", "b", 1, 0644),
			 0);
	assert_int_equal(sysroot_read_file(sr, "/etc/dconf/db/local.d/00-x", 1024, &text, NULL), 0);
	assert_string_equal(text, "b");
	free(text);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_sysroot_run_real_command(void **state)
{
	const char *echo[] = { "sh", "-c", "echo \"$LANG $EXTRA\"; exit 3", NULL };
	const char *env[] = { "EXTRA=yes", NULL };
	const char *missing[] = { "wxguard-no-such-command", NULL };
	const char *sleeper[] = { "sleep", "5", NULL };
	struct sysroot *sr;
	char *out = NULL;
	int st = -1;

	assert_int_equal(sysroot_new("/", &sr), 0);
	assert_int_equal(sysroot_run(sr, "echo", echo, env, (uid_t)-1, 5000, &out, &st), 0);
	assert_string_equal(out, "C yes\n");
	assert_int_equal(st, 3);
	free(out);
	assert_int_equal(sysroot_run(sr, "x", missing, NULL, (uid_t)-1, 5000, &out, &st), -ENOENT);
	assert_int_equal(sysroot_run(sr, "sleep", sleeper, NULL, (uid_t)-1, 100, &out, &st),
			 -ETIMEDOUT);
	sysroot_free(sr);
}

static void test_sysroot_run_output_grows_and_is_capped(void **state)
{
	const char *big[] = { "sh", "-c",
			      "i=0; while [ $i -lt 20000 ]; do echo 0123456789; "
			      "i=$((i+1)); done",
			      NULL };
	const char *huge[] = { "head", "-c", "5000000", "/dev/zero", NULL };
	struct sysroot *sr;
	char *out = NULL;
	int st = -1;

	assert_int_equal(sysroot_new("/", &sr), 0);
	assert_int_equal(sysroot_run(sr, "big", big, NULL, (uid_t)-1, 20000, &out, &st), 0);
	assert_int_equal(strlen(out), 20000 * 11);
	assert_int_equal(st, 0);
	free(out);
	/* More than 4 MiB of output: the command is stopped, as for a timeout. */
	assert_int_equal(sysroot_run(sr, "huge", huge, NULL, (uid_t)-1, 20000, &out, &st),
			 -ETIMEDOUT);
	sysroot_free(sr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sysroot_prefixes_paths),
		cmocka_unit_test(test_sysroot_run_reads_fixture_output_and_status),
		cmocka_unit_test(test_sysroot_write_file_atomic_creates_parents_under_the_root),
		cmocka_unit_test(test_sysroot_run_real_command),
		cmocka_unit_test(test_sysroot_run_output_grows_and_is_capped),
	};
	return cmocka_run_group_tests_name("sysroot", tests, NULL, NULL);
}
