/* common/retry.c: backoff and jitter for everything that retries. */
#include "testlib.h"

#include <stdint.h>

#include "common/random.h"
#include "common/retry.h"

static void test_retry_backoff_doubles_within_jitter_bounds(void **state)
{
	const uint64_t base = 1000000, max = 300000000;

	for (unsigned n = 0; n < 40; n++) {
		uint64_t d = base << (n < 20 ? n : 20);

		if (d > max)
			d = max;
		for (int k = 0; k < 200; k++) {
			uint64_t rnd = k == 0 ? 0 : k == 1 ? UINT64_MAX : random_u64();
			uint64_t v = retry_backoff_usec(n, base, max, rnd);

			assert_true(v >= d / 2);
			assert_true(v <= d);
		}
	}
	/* The jitter is real: not every draw is the same. */
	assert_true(retry_backoff_usec(5, base, max, 1) !=
		    retry_backoff_usec(5, base, max, 7777777));
}

static void test_retry_interval_jitter_bounds(void **state)
{
	for (int k = 0; k < 1000; k++) {
		uint64_t v = retry_jitter_usec(300000000, 10, random_u64());

		assert_true(v >= 270000000 && v <= 330000000);
	}
	assert_int_equal(retry_jitter_usec(300000000, 0, 12345), 300000000);
	assert_true(retry_jitter_usec(100, 90, UINT64_MAX) <= 150);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_backoff_doubles_within_jitter_bounds),
		cmocka_unit_test(test_retry_interval_jitter_bounds),
	};
	return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
