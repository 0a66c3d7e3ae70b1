/* client.approved: data-driven cases in tests/data/client/approved/<case>/ (see
 * tests/lib/check_case.h, policy keys in tests/lib/client_policy.h), plus the real machine. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "check_case.h"
#include "client_policy.h"

/* On the machine running the tests, with a policy like the shipped one: whatever is
 * installed, the check must run to a verdict, never break. */
static void test_client_approved_real_root_is_never_error(void **state)
{
	struct policy pol = { 0 };
	struct check_result res = { 0 };

	(void)state;
	assert_true(client_policy_set(&pol, "client.wechat.comm", "wechat"));
	assert_true(client_policy_set(&pol, "client.wechat.exe", "/opt/wechat/*"));
	assert_true(client_policy_set(&pol, "client.wechat.package", "wechat"));
	assert_true(client_policy_set(&pol, "deny.ew.packages", "electronic-wechat"));
	assert_true(client_policy_set(&pol, "deny.ew.files", "electronic-wechat*"));
	assert_true(client_policy_set(&pol, "scan.max_entries", "2000"));
	check_case_run_real("client.approved", &pol, &res);
	assert_int_not_equal(res.status, CHECK_ERROR);
	assert_non_null(res.summary_en);
	assert_non_null(res.summary_zh);
	assert_non_null(check_result_get(&res, "pkgdb"));
	check_result_clear(&res);
	client_policy_clear(&pol);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"client/approved",
		"client.approved",
		client_policy_set,
		client_policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_client_approved_real_root_is_never_error),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
