/* agent/watch/watch_wine.c: what an approved Wine loader runs, judged against a fixture tree (a
 * sysroot with /proc/PID, a home with the client's prefix and another one, the PE fixtures of
 * tests/data/pe as the programs, a manifest) and a real policy. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/watch/watch_wine.h"
#include "common/hash.h"
#include "common/policy/policy.h"

struct fx {
	char *dir;
	struct sysroot *sr;
	struct policy *p;
	char wxwork_sha[HASH_SHA256_HEX];
};

static void put(struct fx *f, const char *rel, const char *content)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", f->dir, rel);
	wxg_test_write(p, content);
}

static void put_bin(struct fx *f, const char *rel, const void *data, size_t len)
{
	char p[PATH_MAX];
	FILE *o;

	snprintf(p, sizeof(p), "%s%s", f->dir, rel);
	wxg_test_write(p, "");
	o = fopen(p, "we");
	assert_non_null(o);
	assert_int_equal(fwrite(data, 1, len, o), len);
	fclose(o);
}

static void copy_fixture(struct fx *f, const char *fixture, const char *rel)
{
	FILE *i = fopen(wxg_test_data("pe/%s", fixture), "re");
	char buf[1 << 16];
	size_t n;

	assert_non_null(i);
	n = fread(buf, 1, sizeof(buf), i);
	fclose(i);
	assert_true(n > 0 && n < sizeof(buf));
	put_bin(f, rel, buf, n);
}

static void link_at(struct fx *f, const char *target, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s%s", f->dir, rel);
	assert_int_equal(symlink(target, p), 0);
}

/* A prefix at rel (drive_c, dosdevices/c: and z:). */
static void prefix(struct fx *f, const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/drive_c/windows/system32/.keep", rel);
	put(f, p, "");
	snprintf(p, sizeof(p), "%s/dosdevices/.keep", rel);
	put(f, p, "");
	snprintf(p, sizeof(p), "%s/dosdevices/c:", rel);
	link_at(f, "../drive_c", p);
	snprintf(p, sizeof(p), "%s/dosdevices/z:", rel);
	link_at(f, "/", p);
}

static void system_rm(struct fx *f)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/proc", f->dir);
	wxg_test_rmtree(p);
}

/* /proc/100: uid 1000, cwd /home/u, exe exe, argv (NUL-separated, len bytes), environment. */
static void proc(struct fx *f, const char *exe, const char *argv, size_t alen, const char *env,
		 size_t elen)
{
	char p[PATH_MAX];

	system_rm(f);
	put(f, "/proc/100/stat",
	    "100 (wine64) S 1 100 100 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0\n");
	put(f, "/proc/100/status", "Name:\twine64\nUid:\t1000\t1000\t1000\t1000\n");
	put_bin(f, "/proc/100/cmdline", argv, alen);
	put_bin(f, "/proc/100/environ", env, elen);
	snprintf(p, sizeof(p), "/proc/100/exe");
	link_at(f, exe, p);
	link_at(f, "/home/u", "/proc/100/cwd");
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char ini[2048], path[PATH_MAX], man[512];

	assert_non_null(f);
	f->dir = wxg_test_mkdtemp();
	prefix(f, "/home/u/.pfx");
	prefix(f, "/home/u/.other");
	copy_fixture(f, "wxwork-pe32.exe", "/home/u/.pfx/drive_c/Program Files/WXWork/WXWork.exe");
	copy_fixture(f, "no-version.exe", "/home/u/.pfx/drive_c/users/u/Downloads/inject.exe");
	copy_fixture(f, "wechat.exe", "/home/u/.other/drive_c/app/notepad.exe");
	copy_fixture(f, "wxwork-pe32.exe", "/home/u/.other/drive_c/app/WXWork.exe");
	copy_fixture(f, "no-version.exe", "/home/u/.other/drive_c/app/tool.exe");
	snprintf(path, sizeof(path), "%s/home/u/.pfx/drive_c/Program Files/WXWork/WXWork.exe",
		 f->dir);
	assert_int_equal(hash_sha256_file(path, f->wxwork_sha), 0);
	snprintf(man, sizeof(man), "%s  drive_c/Program Files/WXWork/WXWork.exe\n", f->wxwork_sha);
	put(f, "/etc/m.sha256", man);
	put(f, "/usr/bin/wine-stable", "#!/bin/sh -e\nexec /usr/lib/wine/wine64 \"$@\"\n");
	link_at(f, "wine-stable", "/usr/bin/wine");
	put(f, "/tmp/evil.sh", "#!/bin/sh\n");
	snprintf(ini, sizeof(ini),
		 "[policy]\nname = t\nversion = 1\nmode = enforce\n\n"
		 "[client.wecom]\ncomm = WXWork.exe\nexe = /usr/lib/wine/wine64, /usr/bin/wine*\n"
		 "argv = *\\WXWork.exe\nwine_prefix = ~/.pfx\nwine_manifest = /etc/m.sha256\n"
		 "max_instances = 1\n\n"
		 "[deny.wine-wechat]\ncomm = WeChat.exe\n");
	assert_int_equal(policy_load_buffer("t.ini", ini, strlen(ini), &f->p, NULL), 0);
	assert_int_equal(sysroot_new(f->dir, &f->sr), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	sysroot_free(f->sr);
	policy_free(f->p);
	wxg_test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Judge /proc/100 running argv (a NUL-separated literal) with WINEPREFIX=prefix (or none). */
#define JUDGE(f, v, argv_lit, env_lit) JUDGE_EXE(f, v, "/usr/lib/wine/wine64", argv_lit, env_lit)
/* The same, the process's executable being exe. */
#define JUDGE_EXE(f, v, exe, argv_lit, env_lit)                                              \
	do {                                                                                 \
		proc((f), (exe), (argv_lit), sizeof(argv_lit) - 1, (env_lit),                \
		     sizeof(env_lit) - 1);                                                   \
		assert_int_equal(watch_wine_judge((f)->sr, (f)->p, &(f)->p->clients[0], 100, \
						  "/home/u", (v)),                           \
				 0);                                                         \
	} while (0)

static void test_watch_wine_manifest_client_runs(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\Program Files\\WXWork\\WXWork.exe\0",
	      "WINEPREFIX=/home/u/.pfx\0HOME=/home/u\0");
	assert_false(v.deny);
	assert_string_equal(v.exe, "/home/u/.pfx/drive_c/Program Files/WXWork/WXWork.exe");
	assert_string_equal(v.sha256, f->wxwork_sha);
	assert_string_equal(v.prefix, "/home/u/.pfx");
	assert_string_equal(v.why, "");
}

static void test_watch_wine_program_not_in_manifest_is_denied(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\users\\u\\Downloads\\inject.exe\0x\0",
	      "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
	assert_non_null(strstr(v.why, "inject.exe is not in the client's manifest /etc/m.sha256"));
}

static void test_watch_wine_patched_client_is_denied(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;
	char man[512];

	snprintf(man, sizeof(man), "%064d  drive_c/Program Files/WXWork/WXWork.exe\n", 0);
	put(f, "/etc/m.sha256", man);
	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\Program Files\\WXWork\\WXWork.exe\0",
	      "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
	assert_non_null(strstr(v.why, "differs from the client's manifest"));
}

static void test_watch_wine_denied_by_version_resource_anywhere(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\app\\notepad.exe\0", "WINEPREFIX=/home/u/.other\0");
	assert_true(v.deny);
	assert_string_equal(v.family, "wechat");
	assert_non_null(strstr(v.why, "(WeChat.exe) is wine-wechat by its version resource"));
}

static void test_watch_wine_client_outside_its_prefix_is_denied(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\app\\WXWork.exe\0", "WINEPREFIX=/home/u/.other\0");
	assert_true(v.deny);
	assert_non_null(strstr(v.why, "runs outside the client's prefix /home/u/.pfx"));
}

static void test_watch_wine_other_program_elsewhere_and_wineserver_are_left_alone(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\app\\tool.exe\0", "WINEPREFIX=/home/u/.other\0");
	assert_false(v.deny);
	assert_string_equal(v.exe, "/home/u/.other/drive_c/app/tool.exe");
	JUDGE_EXE(f, &v, "/usr/lib/wine/wineserver64", "/usr/lib/wine/wineserver64\0--persistent\0",
		  "WINEPREFIX=/home/u/.pfx\0");
	assert_false(v.deny);
	assert_string_equal(v.exe, "");
	/* argv[0] is the caller's choice: a loader calling itself wineserver is still judged */
	JUDGE(f, &v, "wineserver\0C:\\users\\u\\Downloads\\inject.exe\0",
	      "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
}

static void test_watch_wine_unresolvable_program_in_client_prefix_fails_closed(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\PROGRA~1\\WXWork\\WXWork.exe\0",
	      "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
	assert_non_null(strstr(v.why, "cannot tell which program"));
	/* ..above the drive's root */
	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\..\\..\\etc\\x.exe\0", "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
}

static void test_watch_wine_only_the_clients_launcher_script_may_run_its_program(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	/* Debian's wine script (a link to wine-stable, matched by /usr/bin/wine*) */
	JUDGE_EXE(f, &v, "/usr/bin/dash",
		  "/bin/sh\0-e\0/usr/bin/wine\0C:\\Program Files\\WXWork\\WXWork.exe\0",
		  "WINEPREFIX=/home/u/.pfx\0");
	assert_false(v.deny);
	assert_string_equal(v.exe, "/home/u/.pfx/drive_c/Program Files/WXWork/WXWork.exe");
	/* any other script */
	JUDGE_EXE(f, &v, "/usr/bin/dash",
		  "/bin/sh\0/tmp/evil.sh\0C:\\Program Files\\WXWork\\WXWork.exe\0",
		  "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
	assert_string_equal(v.why, "/tmp/evil.sh runs the client's program and is not one of its "
				   "launchers");
	/* a relative path to the launcher is not taken on trust */
	JUDGE_EXE(f, &v, "/usr/bin/bash",
		  "/bin/bash\0./wine\0C:\\Program Files\\WXWork\\WXWork.exe\0",
		  "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.deny);
	/* sh -c */
	JUDGE_EXE(f, &v, "/usr/bin/dash",
		  "/bin/dash\0-c\0wine C:\\Program Files\\WXWork\\WXWork.exe\0", "\0");
	assert_true(v.deny);
	assert_non_null(strstr(v.why, "no launcher script"));
}

/* Another process: pid, uid, argv[0] (Wine's running form). */
static void other_proc(struct fx *f, int pid, int uid, const char *argv0)
{
	char p[PATH_MAX], text[256];

	snprintf(p, sizeof(p), "/proc/%d/stat", pid);
	snprintf(text, sizeof(text),
		 "%d (WXWork.exe) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 4000 0 0\n", pid,
		 pid, pid);
	put(f, p, text);
	snprintf(p, sizeof(p), "/proc/%d/status", pid);
	snprintf(text, sizeof(text), "Name:\tWXWork.exe\nUid:\t%d\t%d\t%d\t%d\n", uid, uid, uid,
		 uid);
	put(f, p, text);
	snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
	put_bin(f, p, argv0, strlen(argv0) + 1);
}

static void test_watch_wine_second_instance_across_prefixes_is_denied(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	/* another user's WeCom does not count */
	proc(f, "/usr/lib/wine/wine64",
	     "/usr/lib/wine/wine64\0C:\\Program Files\\WXWork\\WXWork.exe\0",
	     sizeof("/usr/lib/wine/wine64\0C:\\Program Files\\WXWork\\WXWork.exe\0") - 1,
	     "WINEPREFIX=/home/u/.pfx\0", sizeof("WINEPREFIX=/home/u/.pfx\0") - 1);
	other_proc(f, 201, 1001, "C:\\Program Files\\WXWork\\WXWork.exe");
	assert_int_equal(watch_wine_judge(f->sr, f->p, &f->p->clients[0], 100, "/home/u", &v), 0);
	assert_false(v.deny);
	/* the same user's, in whatever prefix, does */
	other_proc(f, 200, 1000, "Z:\\home\\u\\.other\\drive_c\\x\\wxwork.exe");
	assert_int_equal(watch_wine_judge(f->sr, f->p, &f->p->clients[0], 100, "/home/u", &v), 0);
	assert_true(v.deny);
	assert_non_null(strstr(v.why, "a further instance of C:\\Program Files\\WXWork\\WXWork.exe "
				      "(1 running, max_instances 1)"));
}

static void test_watch_wine_gone_process_is_an_error_and_allowed(void **state)
{
	struct fx *f = *state;
	struct watch_wine_verdict v;

	system_rm(f);
	assert_true(watch_wine_judge(f->sr, f->p, &f->p->clients[0], 100, "/home/u", &v) < 0);
	assert_false(v.deny);
}

/* A file the kernel refused to map: why, by the prefix's manifest; nothing said for a file
 * outside the prefix, and the verdicts also say whether the process uses the client's prefix. */
static void test_watch_wine_image_why_names_the_manifest(void **state)
{
	struct fx *f = *state;
	const struct policy_client *c = &f->p->clients[0];
	struct watch_wine_verdict v;
	char why[PATH_MAX + 1200] = "";

	assert_int_equal(
		watch_wine_image_why(f->sr, c, "/home/u",
				     "/home/u/.pfx/drive_c/Program Files/WXWork/version.dll", why,
				     sizeof(why)),
		1);
	assert_non_null(strstr(why, "version.dll is not in the client's manifest /etc/m.sha256"));
	assert_int_equal(
		watch_wine_image_why(f->sr, c, "/home/u",
				     "/home/u/.pfx/drive_c/Program Files/WXWork/WXWork.exe", why,
				     sizeof(why)),
		1);
	assert_non_null(strstr(why, "WXWork.exe differs from the client's manifest"));
	assert_int_equal(watch_wine_image_why(f->sr, c, "/home/u", "/home/u/.other/drive_c/x.dll",
					      why, sizeof(why)),
			 0);
	assert_int_equal(watch_wine_image_why(f->sr, c, NULL, "/home/u/.pfx/drive_c/x.dll", why,
					      sizeof(why)),
			 0);

	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\Program Files\\WXWork\\WXWork.exe\0",
	      "WINEPREFIX=/home/u/.pfx\0");
	assert_true(v.own_prefix);
	JUDGE(f, &v, "/usr/lib/wine/wine64\0C:\\app\\tool.exe\0", "WINEPREFIX=/home/u/.other\0");
	assert_false(v.own_prefix);
	snprintf(why, sizeof(why), "%s/etc/m.sha256", f->dir);
	assert_int_equal(unlink(why), 0);
	assert_int_equal(watch_wine_image_why(f->sr, c, "/home/u", "/home/u/.pfx/drive_c/x.dll",
					      why, sizeof(why)),
			 -ENOENT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_watch_wine_manifest_client_runs, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_wine_program_not_in_manifest_is_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_wine_patched_client_is_denied, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_watch_wine_denied_by_version_resource_anywhere,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_wine_client_outside_its_prefix_is_denied,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_wine_other_program_elsewhere_and_wineserver_are_left_alone,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_wine_unresolvable_program_in_client_prefix_fails_closed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_wine_only_the_clients_launcher_script_may_run_its_program, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_wine_second_instance_across_prefixes_is_denied, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_watch_wine_gone_process_is_an_error_and_allowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_watch_wine_image_why_names_the_manifest, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
