/* client.plugins: data-driven cases in tests/data/client/plugins/<case>/ (see
 * tests/lib/check_case.h, policy keys in tests/lib/client_policy.h), plus the real machine. */
#include "testlib.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "check_case.h"
#include "client_policy.h"

/* On the machine running the tests: whatever runs, the check reaches a verdict. The test
 * runner itself is declared the client, so its own maps and environment are inspected. */
static void test_client_plugins_real_root_inspects_self(void **state)
{
	struct policy pol = { 0 };
	struct check_result res = { 0 };
	char self[PATH_MAX];

	(void)state;
	client_policy_add_self(&pol, self, sizeof(self));
	assert_true(client_policy_set(&pol, "client.self.lib_dirs",
				      "/lib, /lib64, /usr/lib, /usr/lib64"));
	check_case_run_real("client.plugins", &pol, &res);
	assert_int_not_equal(res.status, CHECK_ERROR);
	assert_int_not_equal(res.status, CHECK_NOT_APPLICABLE);
	/* the runner's own binary is outside lib_dirs and in no package: reported */
	assert_non_null(check_result_get(&res, "plugins.foreign"));
	assert_non_null(strstr(check_result_get(&res, "plugins.foreign"), self));
	check_result_clear(&res);
	client_policy_clear(&pol);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"client/plugins",
		"client.plugins",
		client_policy_set,
		client_policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_client_plugins_real_root_inspects_self),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
