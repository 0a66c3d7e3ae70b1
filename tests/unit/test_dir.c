/* common/dir.c: sorted, filtered directory listings. */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/dir.h"
#include "common/strv.h"

static bool ends_ini(const struct dirent *de, void *ud)
{
	return dir_filter_visible(de, ud) && str_endswith(de->d_name, (const char *)ud);
}

static void test_dir_list_sorted_and_filtered(void **state)
{
	char *d = wxg_test_mkdtemp(), p[512];
	const char *names[] = { "20-b.ini", ".hidden.ini", "10-a.ini", "notes.txt", "123" };
	struct strv s = { 0 };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", d, names[i]);
		wxg_test_write(p, "x");
	}
	assert_int_equal(dir_list(d, ends_ini, (void *)".ini", &s), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "10-a.ini");
	assert_string_equal(s.v[1], "20-b.ini");
	strv_clear(&s);

	assert_int_equal(dir_list(d, dir_filter_numeric, NULL, &s), 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "123");
	strv_clear(&s);

	assert_int_equal(dir_list(d, NULL, NULL, &s), 0);
	assert_int_equal(s.n, 5);
	strv_clear(&s);
	wxg_test_rmtree(d);
	free(d);
}

static void test_dir_list_missing_is_enoent(void **state)
{
	struct strv s = { 0 };

	assert_int_equal(dir_list("/nonexistent/wxguard-test", NULL, NULL, &s), -ENOENT);
	assert_int_equal(s.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dir_list_sorted_and_filtered),
		cmocka_unit_test(test_dir_list_missing_is_enoent),
	};
	return cmocka_run_group_tests_name("dir", tests, NULL, NULL);
}
