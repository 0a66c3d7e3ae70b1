/* device.ptrace_scope: data-driven cases in tests/data/ptrace_scope/<case>/
 * (see tests/lib/check_case.h). */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "check_case.h"

static bool policy_set(struct policy *p, const char *key, const char *value)
{
	if (strcmp(key, "min_ptrace_scope") == 0) {
		p->device.min_ptrace_scope = atoi(value);
		return true;
	}
	return false;
}

/* On the machine running the tests: whatever it finds, the check must not break. */
static void test_ptrace_scope_real_root_is_never_error(void **state)
{
	struct policy pol = { .device = { .min_ptrace_scope = 1 } };
	struct check_result res = { 0 };

	(void)state;
	check_case_run_real("device.ptrace_scope", &pol, &res);
	assert_int_not_equal(res.status, CHECK_ERROR);
	assert_non_null(check_result_get(&res, "min_ptrace_scope"));
	check_result_clear(&res);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"ptrace_scope",
		"device.ptrace_scope",
		policy_set,
		policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_ptrace_scope_real_root_is_never_error),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
