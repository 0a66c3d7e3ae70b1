/* client.instances: data-driven cases in tests/data/client/instances/<case>/ (see
 * tests/lib/check_case.h, policy keys in tests/lib/client_policy.h), plus the real machine. */
#include "testlib.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_case.h"
#include "client_policy.h"

/* The test runner declared as the client: exactly one instance, its own pid. */
static void test_client_instances_real_root_counts_self(void **state)
{
	struct policy pol = { 0 };
	struct check_result res = { 0 };
	char self[PATH_MAX], want[64];

	(void)state;
	client_policy_add_self(&pol, self, sizeof(self));
	assert_true(client_policy_set(&pol, "client.self.max_instances", "1"));
	check_case_run_real("client.instances", &pol, &res);
	assert_int_equal(res.status, CHECK_PASS);
	snprintf(want, sizeof(want), "(pid %d)", (int)getpid());
	assert_non_null(check_result_get(&res, "instances"));
	assert_non_null(strstr(check_result_get(&res, "instances"), want));
	check_result_clear(&res);
	client_policy_clear(&pol);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"client/instances",
		"client.instances",
		client_policy_set,
		client_policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_client_instances_real_root_counts_self),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
