/* common/url.c: which server URLs the agent accepts. */
#include "testlib.h"

#include <errno.h>

#include "common/url.h"

static void test_url_check_server_https_or_loopback_http(void **state)
{
	assert_int_equal(url_check_server("https://wxg.example.com"), 0);
	assert_int_equal(url_check_server("http://127.0.0.1:8080"), 0);
	assert_int_equal(url_check_server("http://localhost:1"), 0);
	assert_int_equal(url_check_server("http://[::1]:8443/"), 0);
	assert_int_equal(url_check_server("http://wxg.example.com"), -EPROTONOSUPPORT);
	assert_int_equal(url_check_server("http://localhost.example.com"), -EPROTONOSUPPORT);
	assert_int_equal(url_check_server("https://"), -EPROTONOSUPPORT);
	assert_int_equal(url_check_server("ftp://x"), -EPROTONOSUPPORT);
	assert_int_equal(url_check_server(NULL), -EINVAL);
}

static void test_url_is_loopback_looks_at_the_host_only(void **state)
{
	assert_true(url_is_loopback("http://localhost"));
	assert_true(url_is_loopback("http://localhost/api"));
	assert_true(url_is_loopback("https://127.0.0.2:1"));
	assert_false(url_is_loopback("http://example.com/127.0.0.1"));
	assert_false(url_is_loopback("localhost"));
	assert_false(url_is_loopback(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_check_server_https_or_loopback_http),
		cmocka_unit_test(test_url_is_loopback_looks_at_the_host_only),
	};
	return cmocka_run_group_tests_name("url", tests, NULL, NULL);
}
