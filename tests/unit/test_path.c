/* common/path.c. */
#include "testlib.h"

#include "common/path.h"

static void test_path_basename(void **state)
{
	const char *p = "/usr/lib/wine/wine64";

	(void)state;
	assert_ptr_equal(path_basename(p), p + 14);
	assert_string_equal(path_basename("wine64"), "wine64");
	assert_string_equal(path_basename("a/b/"), "a/b/");
	assert_string_equal(path_basename("/"), "/");
	assert_string_equal(path_basename(""), "");
	assert_string_equal(path_basename("C:\\x\\WXWork.exe"), "C:\\x\\WXWork.exe");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_basename),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
