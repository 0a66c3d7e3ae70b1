/* The [policy] section of the client-check cases (tests/data/client/<check>/<case>/case),
 * for check_case.h. Keys name a policy field directly, lists are comma-separated:
 *   client.<id>.<key>   display_name comm exe argv package sha256 lib_dirs wine_prefix
 *                       wine_manifest max_instances
 *   deny.<id>.<key>     display_name comm exe argv packages files
 *   scan.<key>          home_dirs max_depth max_entries
 * Sections are created in the order their first key appears. */
#pragma once
#include <stdbool.h>

#include "common/policy/policy.h"

/* Set one key; false if the key is unknown. */
bool client_policy_set(struct policy *p, const char *key, const char *value);
/* Free what client_policy_set() allocated (policy_clear()). */
void client_policy_clear(struct policy *p);
