#include "testlib.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"

static void test_strv_split_trims_and_drops_empty(void **state)
{
	struct strv s = { 0 };

	assert_int_equal(strv_split(&s, " a , b,,  c d ,", ","), 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.v[0], "a");
	assert_string_equal(s.v[1], "b");
	assert_string_equal(s.v[2], "c d");
	assert_null(s.v[3]);
	strv_clear(&s);
	assert_int_equal(s.n, 0);
	assert_null(s.v);
}

static void test_strv_contains_and_fnmatch(void **state)
{
	struct strv s = { 0 };

	assert_int_equal(strv_split(&s, "/opt/wechat/*,*\\WXWork.exe", ","), 0);
	assert_true(strv_contains(&s, "/opt/wechat/*"));
	assert_false(strv_contains(&s, "/opt/wechat"));
	assert_int_equal(strv_fnmatch_any(&s, "/opt/wechat/wechat", FNM_NOESCAPE), 0);
	assert_int_equal(strv_fnmatch_any(&s, "C:\\Program Files\\WXWork.exe", FNM_NOESCAPE), 1);
	assert_int_equal(strv_fnmatch_any(&s, "/usr/bin/ls", FNM_NOESCAPE), -1);
	strv_clear(&s);
}

static void test_strv_join(void **state)
{
	struct strv s = { 0 };
	char *j;

	j = strv_join(&s, ", ");
	assert_string_equal(j, "");
	free(j);
	strv_push(&s, "x");
	strv_push(&s, "y");
	j = strv_join(&s, ", ");
	assert_string_equal(j, "x, y");
	free(j);
	strv_clear(&s);
}

static void test_str_helpers(void **state)
{
	char buf[] = " \t hello \n";

	assert_string_equal(str_strip(buf), "hello");
	assert_true(str_startswith("WXWork.exe", "WXW"));
	assert_false(str_startswith("WX", "WXW"));
	assert_true(str_endswith("a.dll.bak", ".bak"));
	assert_false(str_endswith("k", ".bak"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strv_split_trims_and_drops_empty),
		cmocka_unit_test(test_strv_contains_and_fnmatch),
		cmocka_unit_test(test_strv_join),
		cmocka_unit_test(test_str_helpers),
	};
	return cmocka_run_group_tests_name("strv", tests, NULL, NULL);
}
