/* patch.updates: data-driven cases in tests/data/patch_updates/<case>/
 * (see tests/lib/check_case.h): apt and dnf outputs, list ages, pending restarts, kernels, and
 * the query cache. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "check_case.h"

static bool policy_set(struct policy *p, const char *key, const char *value)
{
	struct policy_patches *pp = &p->patches;

	if (strcmp(key, "required") == 0)
		pp->required = check_case_bool(value);
	else if (strcmp(key, "max_pending_security") == 0)
		pp->max_pending_security = (unsigned)strtoul(value, NULL, 10);
	else if (strcmp(key, "max_list_age_days") == 0)
		pp->max_list_age_days = (unsigned)strtoul(value, NULL, 10);
	else if (strcmp(key, "cache_ttl_seconds") == 0)
		pp->cache_ttl_seconds = (unsigned)strtoul(value, NULL, 10);
	else if (strcmp(key, "min_kernel") == 0) {
		free(pp->min_kernel);
		pp->min_kernel = strdup(value);
	} else if (strcmp(key, "reboot_required") == 0) {
		if (strcmp(value, "ignore") == 0)
			pp->reboot_required = POLICY_REBOOT_IGNORE;
		else if (strcmp(value, "warn") == 0)
			pp->reboot_required = POLICY_REBOOT_WARN;
		else if (strcmp(value, "fail") == 0)
			pp->reboot_required = POLICY_REBOOT_FAIL;
		else
			return false;
	} else
		return false;
	return true;
}

int main(void)
{
	static const struct check_case_suite suite = {
		"patch_updates",
		"patch.updates",
		policy_set,
		policy_clear,
	};

	return check_case_run_suite(&suite, NULL, 0);
}
