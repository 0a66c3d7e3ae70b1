/* common/random.c: UUIDs and random values from the kernel. */
#include "testlib.h"

#include <string.h>

#include "common/random.h"

static void test_random_uuid_is_version_4_text(void **state)
{
	char a[RANDOM_UUID_LEN], b[RANDOM_UUID_LEN];

	assert_int_equal(random_uuid(a), 0);
	assert_int_equal(random_uuid(b), 0);
	assert_int_equal(strlen(a), 36);
	assert_int_equal(a[8], '-');
	assert_int_equal(a[13], '-');
	assert_int_equal(a[14], '4');
	assert_non_null(strchr("89ab", a[19]));
	assert_string_not_equal(a, b);
}

static void test_random_bytes_fills_buffer(void **state)
{
	unsigned char z[64] = { 0 }, buf[64] = { 0 };

	assert_int_equal(random_bytes(buf, sizeof(buf)), 0);
	assert_memory_not_equal(buf, z, sizeof(buf));
	assert_true(random_u64() != random_u64());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_uuid_is_version_4_text),
		cmocka_unit_test(test_random_bytes_fills_buffer),
	};
	return cmocka_run_group_tests_name("random", tests, NULL, NULL);
}
