/* The [policy] section of the client-check cases (tests/data/client/<check>/<case>/case),
 * for check_case.h. Keys name a policy field directly, lists are comma-separated:
 *   client.<id>.<key>   display_name comm exe argv package sha256 lib_dirs wine_prefix
 *                       wine_manifest max_instances
 *   deny.<id>.<key>     display_name comm exe argv packages files
 *   scan.<key>          home_dirs max_depth max_entries
 * Sections are created in the order their first key appears. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/policy/policy.h"

/* Set one key; false if the key is unknown. */
bool client_policy_set(struct policy *p, const char *key, const char *value);
/* Declare the running test binary the client "self": client.self.exe is its path
 * (/proc/self/exe), also returned in buf. */
void client_policy_add_self(struct policy *p, char *buf, size_t size);
/* Free what client_policy_set() allocated (policy_clear()). */
void client_policy_clear(struct policy *p);
