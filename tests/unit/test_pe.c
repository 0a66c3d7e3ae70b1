/* agent/host/pe.c: the version resource of PE files.
 *
 *   tests/data/pe/NAME.exe + NAME.expect   data-driven cases (written by make_fixtures.py, the
 *       bytes committed). NAME.expect: "result = ok|ENOEXEC|EBADMSG|ENOENT", then for ok one
 *       "Key = value" line per string that must be there (CompanyName, ProductName,
 *       OriginalFilename, FileDescription, FileVersion) and "fixed = a.b.c.d"; a string not
 *       listed must be absent, a missing "fixed" means 0.0.0.0. Each case is read from memory,
 *       from a file descriptor and by path; all three must agree.
 *   every prefix and every one-byte corruption of the good fixtures: an error or a result,
 *       never a read out of bounds (run under ASan by `make SANITIZE=1 test`).
 *   build/tests/wine/ (mingw, tests/wine/src) when built: the real toolchain's output. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/pe.h"
#include "common/dir.h"
#include "common/fileio.h"
#include "common/strv.h"
#include "testlib.h"

#define FIXTURE_MAX (1u << 20)

static const char *field(const struct pe_version *v, const char *key)
{
	if (strcmp(key, "CompanyName") == 0)
		return v->company_name;
	if (strcmp(key, "ProductName") == 0)
		return v->product_name;
	if (strcmp(key, "OriginalFilename") == 0)
		return v->original_filename;
	if (strcmp(key, "FileDescription") == 0)
		return v->file_description;
	if (strcmp(key, "FileVersion") == 0)
		return v->file_version;
	fail_msg("unknown key %s", key);
	return NULL;
}

static const char *const keys[] = { "CompanyName", "ProductName", "OriginalFilename",
				    "FileDescription", "FileVersion" };

static int result_code(const char *s)
{
	if (strcmp(s, "ok") == 0)
		return 0;
	if (strcmp(s, "ENOEXEC") == 0)
		return -ENOEXEC;
	if (strcmp(s, "EBADMSG") == 0)
		return -EBADMSG;
	if (strcmp(s, "ENOENT") == 0)
		return -ENOENT;
	fail_msg("unknown result %s", s);
	return 1;
}

static bool filter_expect(const struct dirent *de, void *userdata)
{
	(void)userdata;
	return str_endswith(de->d_name, ".expect");
}

static bool same_version(const struct pe_version *a, const struct pe_version *b)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *x = field(a, keys[i]), *y = field(b, keys[i]);

		if ((x == NULL) != (y == NULL) || (x && strcmp(x, y) != 0))
			return false;
	}
	return memcmp(a->fixed_version, b->fixed_version, sizeof(a->fixed_version)) == 0;
}

/* Check one case against its .expect; returns the number of "Key = value" lines checked. */
static void check_case(const char *name, const char *exe, const char *expect)
{
	struct pe_version v = { 0 }, vf = { 0 }, vp = { 0 };
	char *text = NULL, *data = NULL, fixed[64] = "0.0.0.0", got_fixed[64];
	bool listed[sizeof(keys) / sizeof(keys[0])] = { 0 };
	int want = 1, r, rf, rp, fd;
	size_t len;

	assert_int_equal(read_full_file(expect, 65536, &text, NULL), 0);
	assert_int_equal(read_full_file(exe, FIXTURE_MAX, &data, &len), 0);
	r = pe_version_from_mem(data, len, &v);
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	rf = pe_version_from_fd(fd, &vf);
	close(fd);
	rp = pe_version_read(exe, &vp);
	if (rf != r || rp != r || (r == 0 && (!same_version(&v, &vf) || !same_version(&v, &vp))))
		fail_msg("%s: memory, fd and path disagree (%d, %d, %d)", name, r, rf, rp);
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *eq = strstr(l, " = ");

		if (l[0] == '#' || !eq)
			continue;
		*eq = 0;
		if (strcmp(l, "result") == 0) {
			want = result_code(eq + 3);
			if (r != want)
				fail_msg("%s: result %d (%s), expected %s", name, r, strerror(-r),
					 eq + 3);
			continue;
		}
		if (strcmp(l, "fixed") == 0) {
			snprintf(fixed, sizeof(fixed), "%s", eq + 3);
			continue;
		}
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (strcmp(keys[i], l) == 0)
				listed[i] = true;
		if (!field(&v, l) || strcmp(field(&v, l), eq + 3) != 0)
			fail_msg("%s: %s is '%s', expected '%s'", name, l,
				 field(&v, l) ? field(&v, l) : "(absent)", eq + 3);
	}
	assert_int_not_equal(want, 1); /* every .expect says its result */
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!listed[i] && field(&v, keys[i]))
			fail_msg("%s: %s is '%s', expected absent", name, keys[i],
				 field(&v, keys[i]));
	snprintf(got_fixed, sizeof(got_fixed), "%u.%u.%u.%u", v.fixed_version[0],
		 v.fixed_version[1], v.fixed_version[2], v.fixed_version[3]);
	if (strcmp(got_fixed, fixed) != 0)
		fail_msg("%s: fixed version %s, expected %s", name, got_fixed, fixed);
	pe_version_clear(&v);
	pe_version_clear(&vf);
	pe_version_clear(&vp);
	free(text);
	free(data);
}

static void test_pe_fixtures_match_their_expect(void **state)
{
	struct strv names = { 0 };
	const char *dir = wxg_test_data("pe");
	char d[4096];

	(void)state;
	snprintf(d, sizeof(d), "%s", dir);
	assert_int_equal(dir_list(d, filter_expect, NULL, &names), 0);
	assert_true(names.n >= 20);
	for (size_t i = 0; i < names.n; i++) {
		char exe[4400], expect[4400], name[256];

		snprintf(name, sizeof(name), "%.*s", (int)(strlen(names.v[i]) - 7), names.v[i]);
		snprintf(exe, sizeof(exe), "%s/%s.exe", d, name);
		snprintf(expect, sizeof(expect), "%s/%s", d, names.v[i]);
		check_case(name, exe, expect);
	}
	strv_clear(&names);
}

static bool known_result(int r)
{
	return r == 0 || r == -EBADMSG || r == -ENOEXEC || r == -ENOENT;
}

static void test_pe_every_prefix_and_corruption_is_bounded(void **state)
{
	static const char *const good[] = { "wechat", "wxwork-pe32", "two-tables-named-first" };
	unsigned runs = 0;

	(void)state;
	for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
		struct pe_version v = { 0 };
		char *data = NULL;
		size_t len;
		int r;

		assert_int_equal(read_full_file(wxg_test_data("pe/%s.exe", good[g]), FIXTURE_MAX,
						&data, &len),
				 0);
		/* Every prefix, copied so ASan sees the end of the buffer. */
		for (size_t n = 0; n < len; n++) {
			char *cut = malloc(n ? n : 1);

			memcpy(cut, data, n);
			r = pe_version_from_mem(cut, n, &v);
			if (!known_result(r) ||
			    (n < len - 3 && r == 0 && v.company_name && strlen(v.company_name) > n))
				fail_msg("%s cut at %zu: %d", good[g], n, r);
			pe_version_clear(&v);
			free(cut);
			runs++;
		}
		/* Every byte set to 0xff and to 0x00, one at a time. */
		for (size_t i = 0; i < len; i++)
			for (int b = 0; b < 2; b++) {
				char keep = data[i];

				data[i] = b ? (char)0xff : 0;
				r = pe_version_from_mem(data, len, &v);
				if (!known_result(r))
					fail_msg("%s byte %zu = %d: %d", good[g], i, b, r);
				pe_version_clear(&v);
				data[i] = keep;
				runs++;
			}
		free(data);
	}
	assert_true(runs > 5000);
}

static void test_pe_hostile_result_is_ebadmsg_and_leaves_ret_untouched(void **state)
{
	struct pe_version v = { .company_name = (char *)"untouched" };
	char *data = NULL;
	size_t len;

	(void)state;
	assert_int_equal(read_full_file(wxg_test_data("pe/bad-string-wlength.exe"), FIXTURE_MAX,
					&data, &len),
			 0);
	assert_int_equal(pe_version_from_mem(data, len, &v), -EBADMSG);
	assert_string_equal(v.company_name, "untouched");
	free(data);
}

static void test_pe_not_a_regular_file_is_enoexec(void **state)
{
	struct pe_version v = { 0 };

	(void)state;
	assert_int_equal(pe_version_read("/dev/null", &v), -ENOEXEC);
	assert_int_equal(pe_version_read(wxg_test_data("pe"), &v), -ENOEXEC);
	assert_int_equal(pe_version_read("/nonexistent/WeChat.exe", &v), -ENOENT);
	assert_int_equal(pe_version_from_mem(NULL, 0, &v), -ENOEXEC);
	pe_version_clear(NULL);
}

/* The mingw-built programs of tests/wine (when the toolchain is installed): windres's output,
 * read by name and under another name (what the file is called never matters). */
static void test_pe_mingw_built_programs(void **state)
{
	struct pe_version v = { 0 };
	char path[4096], *tmp;
	const char *b = wxg_test_build_dir();
	int r;

	(void)state;
	snprintf(path, sizeof(path), "%s/tests/wine/WeChat.exe", b);
	if (access(path, R_OK) != 0) {
		skip(); /* no x86_64-w64-mingw32-gcc: tests/wine/src not built */
		return;
	}
	tmp = wxg_test_mkdtemp();
	{
		char *data = NULL, notepad[4200];
		size_t len;

		assert_int_equal(read_full_file(path, 16u << 20, &data, &len), 0);
		snprintf(notepad, sizeof(notepad), "%s/notepad.exe", tmp);
		assert_int_equal(write_file_atomic(notepad, data, len, 0644), 0);
		free(data);
		r = pe_version_read(notepad, &v);
	}
	assert_int_equal(r, 0);
	assert_string_equal(v.company_name, "Tencent");
	assert_string_equal(v.product_name, "Weixin");
	assert_string_equal(v.original_filename, "WeChat.exe");
	assert_string_equal(v.file_description, "微信");
	assert_string_equal(v.file_version, "4.0.3.22");
	assert_int_equal(v.fixed_version[0], 4);
	assert_int_equal(v.fixed_version[3], 22);
	pe_version_clear(&v);

	snprintf(path, sizeof(path), "%s/tests/wine/WXWork.exe", b);
	assert_int_equal(pe_version_read(path, &v), 0);
	assert_string_equal(v.company_name, "Tencent");
	assert_string_equal(v.product_name, "WXWork");
	assert_string_equal(v.original_filename, "WXWork.exe");
	assert_string_equal(v.file_description, "企业微信");
	assert_int_equal(v.fixed_version[1], 1);
	assert_int_equal(v.fixed_version[2], 33);
	pe_version_clear(&v);

	/* DLLs without a version resource. */
	snprintf(path, sizeof(path), "%s/tests/wine/plugin.dll", b);
	assert_int_equal(pe_version_read(path, &v), -ENOENT);
	wxg_test_rmtree(tmp);
	free(tmp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pe_fixtures_match_their_expect),
		cmocka_unit_test(test_pe_every_prefix_and_corruption_is_bounded),
		cmocka_unit_test(test_pe_hostile_result_is_ebadmsg_and_leaves_ret_untouched),
		cmocka_unit_test(test_pe_not_a_regular_file_is_enoexec),
		cmocka_unit_test(test_pe_mingw_built_programs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
