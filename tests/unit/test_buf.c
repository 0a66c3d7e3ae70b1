/* common/buf.c: the growable buffer every serializer uses. */
#include "testlib.h"

#include <stdlib.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"

static void test_buf_append_grows_and_stays_terminated(void **state)
{
	struct buf b = { 0 };
	char chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	for (int i = 0; i < 50; i++)
		assert_int_equal(buf_append(&b, chunk, sizeof(chunk)), 0);
	assert_int_equal(b.len, 5000);
	assert_true(b.cap > b.len);
	assert_int_equal(b.data[b.len], '\0');
	assert_int_equal(strlen(b.data), 5000);
	buf_clear(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
}

static void test_buf_printf_appends_formatted(void **state)
{
	struct buf b = { 0 };

	assert_int_equal(buf_puts(&b, "seq="), 0);
	assert_int_equal(buf_printf(&b, "%d,%s", 42, "ok"), 0);
	assert_string_equal(b.data, "seq=42,ok");
	assert_int_equal(b.len, 9);
	buf_clear(&b);
}

static void test_buf_steal_empty_is_empty_string(void **state)
{
	struct buf b = { 0 };
	char *s = buf_steal(&b);

	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_int_equal(buf_append(&b, "ab", 2), 0);
	s = buf_steal(&b);
	assert_string_equal(s, "ab");
	assert_null(b.data);
	free(s);
}

static void test_buf_reserve_overflow_is_refused(void **state)
{
	struct buf b = { 0 };

	assert_int_equal(buf_append(&b, "a", 1), 0);
	assert_int_equal(buf_reserve(&b, SIZE_MAX), -EOVERFLOW);
	assert_string_equal(b.data, "a");
	buf_clear(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_append_grows_and_stays_terminated),
		cmocka_unit_test(test_buf_printf_appends_formatted),
		cmocka_unit_test(test_buf_steal_empty_is_empty_string),
		cmocka_unit_test(test_buf_reserve_overflow_is_refused),
	};
	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
