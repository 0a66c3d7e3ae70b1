/* common/hex.c: digest syntax checks. */
#include "testlib.h"

#include "common/hex.h"

static void test_hex_is_sha256_exact_length_only(void **state)
{
	const char *ok = "0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef";

	assert_true(hex_is_sha256(ok));
	assert_false(hex_is_sha256("0123"));
	assert_false(hex_is_sha256(NULL));
	assert_false(
		hex_is_sha256("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"));
	assert_false(
		hex_is_sha256("g123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
}

static void test_hex_span_stops_at_non_hex_and_max(void **state)
{
	assert_int_equal(hex_span("abc12  path", 64), 5);
	assert_int_equal(hex_span("abcdef", 3), 3);
	assert_int_equal(hex_span("", 3), 0);
	assert_true(hex_is_n("d41d8cd98f00b204e9800998ecf8427e", 32));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hex_is_sha256_exact_length_only),
		cmocka_unit_test(test_hex_span_stops_at_non_hex_and_max),
	};
	return cmocka_run_group_tests_name("hex", tests, NULL, NULL);
}
