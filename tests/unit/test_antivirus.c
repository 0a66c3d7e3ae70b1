/* antivirus: data-driven cases in tests/data/antivirus/<case>/ (see tests/lib/check_case.h):
 * ClamAV headers (.cvd and .cld, old and fresh), daemons running or not, other products. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "check_case.h"

static bool policy_set(struct policy *p, const char *key, const char *value)
{
	struct policy_antivirus *av = &p->antivirus;

	if (strcmp(key, "required") == 0)
		av->required = check_case_bool(value);
	else if (strcmp(key, "products") == 0)
		assert_int_equal(strv_split(&av->products, value, ", "), 0);
	else if (strcmp(key, "process_names") == 0)
		assert_int_equal(strv_split(&av->process_names, value, ", "), 0);
	else if (strcmp(key, "max_signature_age_days") == 0)
		av->max_signature_age_days = (unsigned)strtoul(value, NULL, 10);
	else
		return false;
	return true;
}

/* On the machine running the tests: whatever it finds, the check must not break. */
static void test_antivirus_real_root_is_never_error(void **state)
{
	struct policy pol = { .antivirus = { .required = true, .max_signature_age_days = 3 } };
	struct check_result res = { 0 };

	(void)state;
	check_case_run_real("antivirus", &pol, &res);
	assert_int_not_equal(res.status, CHECK_ERROR);
	assert_non_null(res.summary_en);
	check_result_clear(&res);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"antivirus",
		"antivirus",
		policy_set,
		policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_antivirus_real_root_is_never_error),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
