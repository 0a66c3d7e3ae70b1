/* agent/host/manifest.c: parsing sha256sum manifests, creating one from a Wine prefix, and
 * writing it back in the same format. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/manifest.h"
#include "common/hash.h"
#include "testlib.h"

#define A64 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define B64 "BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB"
#define C64 "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static void test_manifest_parse_accepts_sha256sum_forms_and_sorts(void **state)
{
	struct manifest m = { 0 };
	const char *text = B64 "  drive_c/windows/system32/version.dll\n"
			       "not a line\n" A64 " *./drive_c/Program Files/WXWork/WXWork.exe\n"
			       "\\" C64 "  drive_c/odd\\nname\\\\x.dll\n" A64 "\tdrive_c/tab.dll\n"
			       "short  drive_c/short.dll\n" C64 "  /drive_c/last.dll";

	(void)state;
	assert_int_equal(manifest_parse(text, &m), 0);
	assert_int_equal(m.n, 4);
	assert_string_equal(m.v[0].rel, "drive_c/Program Files/WXWork/WXWork.exe");
	assert_string_equal(m.v[1].rel, "drive_c/last.dll");
	assert_string_equal(m.v[2].rel, "drive_c/odd\nname\\x.dll");
	assert_string_equal(m.v[3].rel, "drive_c/windows/system32/version.dll");
	/* hex is lowercased */
	assert_string_equal(manifest_find(&m, "drive_c/windows/system32/version.dll")->sha256,
			    "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb");
	assert_non_null(manifest_find(&m, "drive_c/odd\nname\\x.dll"));
	assert_null(manifest_find(&m, "drive_c/tab.dll"));
	assert_null(manifest_find(&m, "drive_c/Program Files/WXWork/wxwork.exe"));
	manifest_clear(&m);
	assert_null(manifest_find(&m, "x"));
	manifest_clear(NULL);
}

static void test_manifest_format_round_trips_escaped_names(void **state)
{
	struct manifest m = { 0 }, again = { 0 };
	char *text = NULL, *text2 = NULL;

	(void)state;
	assert_int_equal(
		manifest_parse(A64 "  drive_c/a.dll\n\\" C64 "  drive_c/b\\nc\\\\d.exe\n", &m), 0);
	assert_int_equal(manifest_format(&m, &text), 0);
	assert_string_equal(text, A64 "  drive_c/a.dll\n\\" C64 "  drive_c/b\\nc\\\\d.exe\n");
	assert_int_equal(manifest_parse(text, &again), 0);
	assert_int_equal(manifest_format(&again, &text2), 0);
	assert_string_equal(text, text2);
	manifest_clear(&m);
	manifest_clear(&again);
	free(text);
	free(text2);
	assert_int_equal(manifest_format(&m, &text), 0);
	assert_string_equal(text, "");
	free(text);
}

static void put(const char *root, const char *rel, const char *content)
{
	char p[4096];

	assert_true(snprintf(p, sizeof(p), "%s/%s", root, rel) < (int)sizeof(p));
	wxg_test_write(p, content);
}

static void test_manifest_create_lists_windows_executables_sorted(void **state)
{
	char *tmp = wxg_test_mkdtemp(), prefix[2048], p[4096], q[4096], sha[HASH_SHA256_HEX];
	struct manifest m = { 0 }, m2 = { 0 };
	char *text = NULL, *text2 = NULL, *bad = NULL;

	(void)state;
	snprintf(prefix, sizeof(prefix), "%s/prefix", tmp);
	put(prefix, "drive_c/Program Files/WXWork/WXWork.exe", "exe");
	put(prefix, "drive_c/Program Files/WXWork/wxwork_util.DLL", "dll");
	put(prefix, "drive_c/Program Files/WXWork/readme.txt", "not code");
	put(prefix, "drive_c/Program Files/WXWork/.exe", "no name, no extension");
	put(prefix, "drive_c/windows/system32/drivers/null.sys", "sys");
	put(prefix, "drive_c/windows/system32/winspool.drv", "drv");
	put(prefix, "drive_c/windows/system32/odd\nname.dll", "newline");
	put(prefix, "system.reg", "outside drive_c");
	put(prefix, "dosdevices/readme.dll", "outside drive_c");
	put(tmp, "home/Desktop/evil.dll", "through a linked directory");
	put(tmp, "elsewhere/real.dll", "linked file");
	snprintf(p, sizeof(p), "%s/home/Desktop", tmp);
	assert_true(snprintf(q, sizeof(q), "%s/drive_c/users/alice/Desktop", prefix) <
		    (int)sizeof(q));
	wxg_test_write(q, "");
	assert_int_equal(unlink(q), 0);
	assert_int_equal(symlink(p, q), 0);
	snprintf(p, sizeof(p), "%s/elsewhere/real.dll", tmp);
	assert_true(snprintf(q, sizeof(q), "%s/drive_c/windows/link.dll", prefix) < (int)sizeof(q));
	assert_int_equal(symlink(p, q), 0);

	/* A trailing slash on the prefix changes nothing. */
	strcat(prefix, "/");
	assert_int_equal(manifest_create(prefix, &m, &bad), 0);
	assert_null(bad);
	assert_int_equal(m.n, 6);
	assert_string_equal(m.v[0].rel, "drive_c/Program Files/WXWork/WXWork.exe");
	assert_string_equal(m.v[1].rel, "drive_c/Program Files/WXWork/wxwork_util.DLL");
	assert_string_equal(m.v[2].rel, "drive_c/windows/link.dll");
	assert_string_equal(m.v[3].rel, "drive_c/windows/system32/drivers/null.sys");
	assert_string_equal(m.v[4].rel, "drive_c/windows/system32/odd\nname.dll");
	assert_string_equal(m.v[5].rel, "drive_c/windows/system32/winspool.drv");
	assert_int_equal(hash_sha256_buf("linked file", 11, sha), 0);
	assert_string_equal(m.v[2].sha256, sha);
	assert_int_equal(hash_sha256_buf("exe", 3, sha), 0);
	assert_string_equal(m.v[0].sha256, sha);

	/* Stable: the same tree gives the same bytes, and they parse back to the same entries. */
	assert_int_equal(manifest_format(&m, &text), 0);
	prefix[strlen(prefix) - 1] = 0;
	assert_int_equal(manifest_create(prefix, &m2, NULL), 0);
	assert_int_equal(manifest_format(&m2, &text2), 0);
	assert_string_equal(text, text2);
	manifest_clear(&m2);
	assert_int_equal(manifest_parse(text, &m2), 0);
	assert_int_equal(m2.n, m.n);
	for (size_t i = 0; i < m.n; i++) {
		assert_string_equal(m2.v[i].rel, m.v[i].rel);
		assert_string_equal(m2.v[i].sha256, m.v[i].sha256);
	}
	manifest_clear(&m);
	manifest_clear(&m2);
	free(text);
	free(text2);
	wxg_test_rmtree(tmp);
	free(tmp);
}

static void test_manifest_create_without_drive_c_is_enoent(void **state)
{
	char *tmp = wxg_test_mkdtemp(), p[4096];
	struct manifest m = { 0 };

	(void)state;
	assert_int_equal(manifest_create(tmp, &m, NULL), -ENOENT);
	snprintf(p, sizeof(p), "%s/drive_c", tmp);
	wxg_test_write(p, "a file, not a directory");
	assert_int_equal(manifest_create(tmp, &m, NULL), -ENOTDIR);
	assert_int_equal(m.n, 0);
	wxg_test_rmtree(tmp);
	free(tmp);
}

static void test_manifest_create_names_the_path_that_failed(void **state)
{
	char *tmp = wxg_test_mkdtemp(), p[4096], q[4096], *bad = NULL;
	struct manifest m = { 0 };

	(void)state;
	put(tmp, "drive_c/windows/ok.dll", "ok");
	/* A dangling symlink and a FIFO named like DLLs are not files: skipped. */
	snprintf(p, sizeof(p), "%s/drive_c/windows/dangling.dll", tmp);
	assert_int_equal(symlink("/nonexistent/x.dll", p), 0);
	snprintf(q, sizeof(q), "%s/drive_c/windows/fifo.dll", tmp);
	assert_int_equal(mkfifo(q, 0600), 0);
	assert_int_equal(manifest_create(tmp, &m, &bad), 0);
	assert_int_equal(m.n, 1);
	manifest_clear(&m);
	/* Deeper than any install (64 directories): refused, and the path named. */
	{
		char deep[512] = "drive_c";

		for (int i = 0; i < 70; i++)
			strcat(deep, "/d");
		strcat(deep, "/x.dll");
		put(tmp, deep, "deep");
		assert_int_equal(manifest_create(tmp, &m, &bad), -ELOOP);
		assert_non_null(bad);
		assert_true(strstr(bad, "/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d/d") !=
			    NULL);
		assert_int_equal(m.n, 0);
		free(bad);
		bad = NULL;
	}
	if (geteuid() != 0) {
		snprintf(p, sizeof(p), "%s/drive_c/windows", tmp);
		assert_int_equal(chmod(p, 0), 0);
		assert_int_equal(manifest_create(tmp, &m, &bad), -EACCES);
		assert_non_null(bad);
		assert_string_equal(bad, p);
		free(bad);
		chmod(p, 0755);
	}
	wxg_test_rmtree(tmp);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_parse_accepts_sha256sum_forms_and_sorts),
		cmocka_unit_test(test_manifest_format_round_trips_escaped_names),
		cmocka_unit_test(test_manifest_create_lists_windows_executables_sorted),
		cmocka_unit_test(test_manifest_create_without_drive_c_is_enoent),
		cmocka_unit_test(test_manifest_create_names_the_path_that_failed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
