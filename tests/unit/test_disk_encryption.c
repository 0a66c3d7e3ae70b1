/* device.disk_encryption: data-driven cases in tests/data/disk_encryption/<case>/ (see
 * check_case.h). The fixture trees hold sysfs as the kernel lays it out, with relative
 * symlinks: LUKS directly, under LVM, on md RAID, plain dm-crypt, btrfs, ZFS, overlay... */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "check_case.h"

static bool policy_set(struct policy *p, const char *key, const char *value)
{
	if (strcmp(key, "disk_encryption") != 0)
		return false;
	if (strcmp(value, "off") == 0)
		p->device.disk_encryption = POLICY_DISK_OFF;
	else if (strcmp(value, "warn") == 0)
		p->device.disk_encryption = POLICY_DISK_WARN;
	else if (strcmp(value, "require") == 0)
		p->device.disk_encryption = POLICY_DISK_REQUIRE;
	else
		return false;
	return true;
}

/* On the machine running the tests: whatever it finds, the check must not break. */
static void test_disk_encryption_real_root_is_never_error(void **state)
{
	struct policy pol = { .device = { .disk_encryption = POLICY_DISK_REQUIRE } };
	struct check_result res = { 0 };

	(void)state;
	check_case_run_real("device.disk_encryption", &pol, &res);
	assert_int_not_equal(res.status, CHECK_ERROR);
	assert_non_null(res.summary_en);
	check_result_clear(&res);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"disk_encryption",
		"device.disk_encryption",
		policy_set,
		policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_disk_encryption_real_root_is_never_error),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
