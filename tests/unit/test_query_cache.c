/* agent/cache: get/put of slow command outputs, keyed by name and an input stamp, with a TTL. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/query_cache.h"

#define NOW ((time_t)1795176000)

static int setup(void **state)
{
	*state = wxg_test_mkdtemp();
	return 0;
}

static int teardown(void **state)
{
	wxg_test_rmtree(*state);
	free(*state);
	return 0;
}

static const char *subdir(void **state)
{
	static char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/cache", (const char *)*state); /* created by query_cache_put */
	return p;
}

static void test_cache_put_then_get_is_hit_with_same_bytes(void **state)
{
	const char data[] =
		"Inst libssl3 [1] (2 Debian-Security:12/stable-security [amd64])\n\0tail";
	char *got = NULL;
	size_t len = 0;

	assert_int_equal(query_cache_put(subdir(state), "apt-get", "s1", NOW, data, sizeof(data)),
			 0);
	assert_int_equal(
		query_cache_get(subdir(state), "apt-get", "s1", 3600, NOW + 10, &got, &len), 0);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(got, data, sizeof(data));
	assert_int_equal(got[len], 0);
	free(got);
}

static void test_cache_missing_entry_is_enoent(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_get(*state, "nothing", "s", 3600, NOW, &got, NULL), -ENOENT);
	assert_null(got);
}

static void test_cache_entry_older_than_ttl_is_stale(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_put(*state, "k", "s", NOW, "x", 1), 0);
	assert_int_equal(query_cache_get(*state, "k", "s", 60, NOW + 59, &got, NULL), 0);
	free(got);
	got = NULL;
	assert_int_equal(query_cache_get(*state, "k", "s", 60, NOW + 60, &got, NULL), -ESTALE);
	assert_null(got);
}

static void test_cache_changed_stamp_is_stale(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_put(*state, "k", "dpkg=1.0|lists=2.0", NOW, "x", 1), 0);
	assert_int_equal(query_cache_get(*state, "k", "dpkg=1.5|lists=2.0", 3600, NOW, &got, NULL),
			 -ESTALE);
	assert_null(got);
}

static void test_cache_entry_from_the_future_is_stale(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_put(*state, "k", "s", NOW, "x", 1), 0);
	assert_int_equal(query_cache_get(*state, "k", "s", 3600, NOW - 1, &got, NULL), -ESTALE);
}

static void test_cache_ttl_zero_never_hits(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_put(*state, "k", "s", NOW, "x", 1), 0);
	assert_int_equal(query_cache_get(*state, "k", "s", 0, NOW, &got, NULL), -ESTALE);
}

static void test_cache_null_dir_disables_the_cache(void **state)
{
	char *got = NULL;

	(void)state;
	assert_int_equal(query_cache_put(NULL, "k", "s", NOW, "x", 1), 0);
	assert_int_equal(query_cache_get(NULL, "k", "s", 3600, NOW, &got, NULL), -ENOENT);
	assert_int_equal(query_cache_drop(NULL, "k"), 0);
}

static void test_cache_names_that_could_escape_the_dir_are_einval(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_put(*state, "../x", "s", NOW, "x", 1), -EINVAL);
	assert_int_equal(query_cache_put(*state, ".hidden", "s", NOW, "x", 1), -EINVAL);
	assert_int_equal(query_cache_put(*state, "", "s", NOW, "x", 1), -EINVAL);
	assert_int_equal(query_cache_get(*state, "a/b", "s", 3600, NOW, &got, NULL), -EINVAL);
}

static void test_cache_stamp_with_newline_is_einval(void **state)
{
	assert_int_equal(query_cache_put(*state, "k", "a\nb", NOW, "x", 1), -EINVAL);
}

static void test_cache_truncated_entry_is_ebadmsg(void **state)
{
	char p[PATH_MAX], *got = NULL;

	assert_int_equal(query_cache_put(*state, "k", "s", NOW, "hello", 5), 0);
	snprintf(p, sizeof(p), "%s/k.cache", (const char *)*state);
	assert_int_equal(truncate(p, 40), 0);
	assert_int_equal(query_cache_get(*state, "k", "s", 3600, NOW, &got, NULL), -EBADMSG);
	wxg_test_write(p, "not a cache entry\n");
	assert_int_equal(chmod(p, 0600), 0);
	assert_int_equal(query_cache_get(*state, "k", "s", 3600, NOW, &got, NULL), -EBADMSG);
}

static void test_cache_entry_writable_by_others_is_not_trusted(void **state)
{
	char p[PATH_MAX], *got = NULL;
	struct stat st;

	assert_int_equal(query_cache_put(*state, "k", "s", NOW, "x", 1), 0);
	snprintf(p, sizeof(p), "%s/k.cache", (const char *)*state);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(query_cache_get(*state, "k", "s", 3600, NOW, &got, NULL), -EPERM);
}

static void test_cache_put_replaces_the_entry(void **state)
{
	char *got = NULL;

	assert_int_equal(query_cache_put(*state, "k", "s1", NOW, "old", 3), 0);
	assert_int_equal(query_cache_put(*state, "k", "s2", NOW + 5, "new", 3), 0);
	assert_int_equal(query_cache_get(*state, "k", "s1", 3600, NOW + 5, &got, NULL), -ESTALE);
	assert_int_equal(query_cache_get(*state, "k", "s2", 3600, NOW + 5, &got, NULL), 0);
	assert_string_equal(got, "new");
	free(got);
	assert_int_equal(query_cache_drop(*state, "k"), 0);
	assert_int_equal(query_cache_drop(*state, "k"), -ENOENT);
}

static void test_cache_empty_data_round_trips(void **state)
{
	char *got = NULL;
	size_t len = 99;

	assert_int_equal(query_cache_put(*state, "k", "", NOW, "", 0), 0);
	assert_int_equal(query_cache_get(*state, "k", "", 3600, NOW, &got, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(got, "");
	free(got);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_cache_put_then_get_is_hit_with_same_bytes),
		T(test_cache_missing_entry_is_enoent),
		T(test_cache_entry_older_than_ttl_is_stale),
		T(test_cache_changed_stamp_is_stale),
		T(test_cache_entry_from_the_future_is_stale),
		T(test_cache_ttl_zero_never_hits),
		T(test_cache_null_dir_disables_the_cache),
		T(test_cache_names_that_could_escape_the_dir_are_einval),
		T(test_cache_stamp_with_newline_is_einval),
		T(test_cache_truncated_entry_is_ebadmsg),
		T(test_cache_entry_writable_by_others_is_not_trusted),
		T(test_cache_put_replaces_the_entry),
		T(test_cache_empty_data_round_trips),
	};

	return cmocka_run_group_tests_name("test_cache", tests, NULL, NULL);
}
