/* agent/host/proc_wine.c: the Windows program of a Wine process, from fixture /proc trees. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/host/proc_wine.h"

#define TICK_NS (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK))

/* <dir>/proc/<pid>/{comm,cmdline,exe,task/<pid>/stat}: cmdline has len bytes (NULs inside),
 * exe is a link (dangling is fine) unless NULL, stat only when start_ticks. */
static void make_proc(const char *dir, int pid, const char *comm, const char *exe,
		      const char *cmdline, size_t len, unsigned long long start_ticks)
{
	char p[PATH_MAX], text[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/proc/%d/comm", dir, pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	wxg_test_write(p, text);
	if (cmdline) {
		snprintf(p, sizeof(p), "%s/proc/%d/cmdline", dir, pid);
		f = fopen(p, "we");
		assert_non_null(f);
		assert_int_equal(fwrite(cmdline, 1, len, f), len);
		fclose(f);
	}
	if (exe) {
		snprintf(p, sizeof(p), "%s/proc/%d/exe", dir, pid);
		assert_int_equal(symlink(exe, p), 0);
	}
	if (start_ticks) {
		snprintf(p, sizeof(p), "%s/proc/%d/task/%d/stat", dir, pid, pid);
		snprintf(text, sizeof(text),
			 "%d (%s) S 1 1 1 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n", pid,
			 comm, start_ticks);
		wxg_test_write(p, text);
	}
}

static void test_proc_wine_names_the_windows_program_of_a_wine_process(void **state)
{
	static const char cmd[] = "C:\\Program Files (x86)\\WXWork\\WXWork.exe\0--x\0";
	char *dir = wxg_test_mkdtemp();
	struct sysroot *sr;
	struct proc_wine pw;

	(void)state;
	make_proc(dir, 456, "WXWork.exe", "/usr/lib/wine/wine64", cmd, sizeof(cmd) - 1, 4242);
	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(proc_wine_read(sr, 456, 0, 4242 * TICK_NS, &pw), 0);
	assert_true(pw.wine);
	assert_string_equal(pw.comm, "WXWork.exe");
	assert_string_equal(pw.windows_path, "C:\\Program Files (x86)\\WXWork\\WXWork.exe");
	assert_string_equal(pw.program, pw.windows_path);
	assert_string_equal(pw.exe, "WXWork.exe");
	proc_wine_clear(&pw);
	assert_null(pw.program);
	proc_wine_clear(NULL);
	/* without a start time to check: any process at that pid */
	assert_int_equal(proc_wine_read(sr, 456, 456, 0, &pw), 0);
	assert_string_equal(pw.exe, "WXWork.exe");
	proc_wine_clear(&pw);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_proc_wine_windows_argv0_is_wine_without_the_exe_link(void **state)
{
	static const char cmd[] = "z:\\tmp\\bot\\INJECT.EXE";
	char *dir = wxg_test_mkdtemp();
	struct sysroot *sr;
	struct proc_wine pw;

	(void)state;
	/* exe unreadable (another user's process): argv[0] alone says Wine */
	make_proc(dir, 123, "INJECT.EXE", NULL, cmd, sizeof(cmd), 0);
	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(proc_wine_read(sr, 123, 0, 0, &pw), 0);
	assert_true(pw.wine);
	assert_string_equal(pw.windows_path, "z:\\tmp\\bot\\INJECT.EXE");
	assert_string_equal(pw.exe, "INJECT.EXE");
	proc_wine_clear(&pw);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_proc_wine_loader_with_a_unix_exe_path_has_no_windows_path(void **state)
{
	static const char first[] = "app/WXWork.exe\0--seconds\0006\0";
	static const char server[] = "/usr/lib/wine/wineserver64\0-p0\0";
	char *dir = wxg_test_mkdtemp();
	struct sysroot *sr;
	struct proc_wine pw;

	(void)state;
	/* a prefix's first program keeps the Unix path it was started with */
	make_proc(dir, 828, "WXWork.exe", "/usr/lib/wine/wine64", first, sizeof(first) - 1, 0);
	make_proc(dir, 830, "wineserver64", "/usr/lib/wine/wineserver64", server,
		  sizeof(server) - 1, 0);
	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(proc_wine_read(sr, 828, 0, 0, &pw), 0);
	assert_true(pw.wine);
	assert_null(pw.windows_path);
	assert_string_equal(pw.program, "app/WXWork.exe");
	assert_string_equal(pw.exe, "WXWork.exe");
	proc_wine_clear(&pw);
	/* wineserver is Wine, but runs no Windows program */
	assert_int_equal(proc_wine_read(sr, 830, 0, 0, &pw), 0);
	assert_true(pw.wine);
	assert_null(pw.program);
	assert_null(pw.windows_path);
	assert_null(pw.exe);
	assert_string_equal(pw.comm, "wineserver64");
	proc_wine_clear(&pw);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_proc_wine_native_process_is_not_wine(void **state)
{
	static const char gdb[] = "gdb\0-p\000456\0";
	static const char fake[] = "/tmp/C:\\x.exe";
	char *dir = wxg_test_mkdtemp();
	struct sysroot *sr;
	struct proc_wine pw;

	(void)state;
	make_proc(dir, 77, "gdb", "/usr/bin/gdb", gdb, sizeof(gdb) - 1, 0);
	/* an .exe name on a native binary is not a Wine program */
	make_proc(dir, 78, "x.exe", "/tmp/winemine-native", fake, sizeof(fake), 0);
	/* a zombie: comm only, no cmdline, no exe */
	make_proc(dir, 79, "defunct", NULL, "", 0, 0);
	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(proc_wine_read(sr, 77, 0, 0, &pw), 0);
	assert_false(pw.wine);
	assert_null(pw.program);
	assert_null(pw.exe);
	assert_string_equal(pw.comm, "gdb");
	proc_wine_clear(&pw);
	assert_int_equal(proc_wine_read(sr, 78, 0, 0, &pw), 0);
	assert_false(pw.wine);
	assert_null(pw.program);
	proc_wine_clear(&pw);
	assert_int_equal(proc_wine_read(sr, 79, 0, 0, &pw), 0);
	assert_false(pw.wine);
	assert_null(pw.program);
	assert_string_equal(pw.comm, "defunct");
	proc_wine_clear(&pw);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_proc_wine_gone_or_reused_pid_is_an_error(void **state)
{
	static const char cmd[] = "C:\\WXWork.exe";
	char *dir = wxg_test_mkdtemp();
	struct sysroot *sr;
	struct proc_wine pw = { .exe = "untouched" };

	(void)state;
	make_proc(dir, 456, "WXWork.exe", "/usr/lib/wine/wine64", cmd, sizeof(cmd), 5000);
	assert_int_equal(sysroot_new(dir, &sr), 0);
	/* exited */
	assert_int_equal(proc_wine_read(sr, 999, 0, 0, &pw), -ENOENT);
	assert_int_equal(proc_wine_read(sr, 999, 0, 5000 * TICK_NS, &pw), -ENOENT);
	/* the pid now belongs to a process started later: not the target */
	assert_int_equal(proc_wine_read(sr, 456, 0, 4000 * TICK_NS, &pw), -ESRCH);
	/* the thread that acted has exited */
	assert_int_equal(proc_wine_read(sr, 456, 457, 5000 * TICK_NS, &pw), -ENOENT);
	assert_string_equal(pw.exe, "untouched");
	/* within a clock tick is the same process */
	assert_int_equal(proc_wine_read(sr, 456, 0, 5001 * TICK_NS, &pw), 0);
	proc_wine_clear(&pw);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_proc_wine_hostile_argv0_is_bounded(void **state)
{
	char *dir = wxg_test_mkdtemp(), *big = malloc(5001), *nl = strdup("C:\\a\nb\\x.exe");
	struct sysroot *sr;
	struct proc_wine pw;

	(void)state;
	assert_non_null(big);
	memset(big, 'a', 5000);
	memcpy(big, "C:\\", 3);
	memcpy(big + 4996, ".exe", 5);
	make_proc(dir, 10, "big.exe", "/usr/lib/wine/wine64", big, 5001, 0);
	make_proc(dir, 11, "nl.exe", "/usr/lib/wine/wine64", nl, strlen(nl) + 1, 0);
	assert_int_equal(sysroot_new(dir, &sr), 0);
	/* longer than PROC_WINE_PATH_MAX: not taken (the comm still names it) */
	assert_int_equal(proc_wine_read(sr, 10, 0, 0, &pw), 0);
	assert_true(pw.wine);
	assert_null(pw.program);
	assert_string_equal(pw.comm, "big.exe");
	proc_wine_clear(&pw);
	/* kept as the process shows it: escaping is the reader's job (JSON, the server) */
	assert_int_equal(proc_wine_read(sr, 11, 0, 0, &pw), 0);
	assert_string_equal(pw.windows_path, nl);
	proc_wine_clear(&pw);
	assert_false(proc_wine_is_windows_exe("C:\\.exe"));
	assert_false(proc_wine_is_windows_exe("C:/x.exe"));
	assert_false(proc_wine_is_windows_exe("\\\\srv\\x.exe"));
	assert_false(proc_wine_is_windows_exe("C:\\x.exe.txt"));
	assert_false(proc_wine_is_windows_exe(NULL));
	assert_true(proc_wine_is_windows_exe("C:\\x.exe"));
	assert_true(proc_wine_is_wine_binary("/opt/deepin-wine8-stable/bin/wine-preloader"));
	assert_true(proc_wine_is_wine_binary("/usr/lib/wine/wine64 (deleted)"));
	assert_false(proc_wine_is_wine_binary("/usr/bin/winecfg"));
	assert_false(proc_wine_is_wine_binary("/usr/bin/wine64x"));
	assert_false(proc_wine_is_wine_binary(NULL));
	assert_string_equal(proc_wine_basename("C:\\a/b\\c.exe"), "c.exe");
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
	free(big);
	free(nl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proc_wine_names_the_windows_program_of_a_wine_process),
		cmocka_unit_test(test_proc_wine_windows_argv0_is_wine_without_the_exe_link),
		cmocka_unit_test(test_proc_wine_loader_with_a_unix_exe_path_has_no_windows_path),
		cmocka_unit_test(test_proc_wine_native_process_is_not_wine),
		cmocka_unit_test(test_proc_wine_gone_or_reused_pid_is_an_error),
		cmocka_unit_test(test_proc_wine_hostile_argv0_is_bounded),
	};
	return cmocka_run_group_tests_name("proc_wine", tests, NULL, NULL);
}
