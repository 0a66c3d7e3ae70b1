/* Data-driven posture-check cases, shared by tests/unit/test_<check>.c (include after testlib.h).
 *
 * A case is a directory tests/data/<suite>/<case>/ and becomes one cmocka test named
 * test_<suite>_<case>, so adding a case needs no C:
 *   case     the policy, the setup and the expected result (below)
 *   root/    the fixture tree the check reads; copied (symlinks kept) to a temporary
 *            directory first, so setup steps and remediation never touch the source tree
 *   others   sources for `copy` steps
 * A directory without a `case` file (e.g. shared fixtures) is not a case.
 *
 * The case file:
 *   # what the case proves
 *   [policy]              handed to the suite's policy callback, e.g. required = true;
 *   mode = enforce        except mode (audit|enforce): the policy mode, and ctx.remediate
 *   [setup]
 *   now = 1795176000      ctx.now: epoch seconds, or relative to CHECK_CASE_NOW ("-2d", "+90m")
 *   mtime = /var/lib/dpkg/status -2d   mtime of a root path: epoch or relative to now (s m h d)
 *   cache = on            give the check a (fresh, empty) cache directory
 *   [then]                optional: run, apply these steps, run again; [expect] is about the
 *   now = +3601           second run. Steps: now, mtime, remove = <root path>,
 *   copy = new.out /.fixture/cmd/apt-get.out   (case-dir file -> root path)
 *   [expect]
 *   status = fail
 *   summary ~ text        the English summary contains text (!~ : does not)
 *   summary_zh ~ text
 *   fix ~ text            fix = (none): no fix given; fix_zh likewise
 *   evidence.KEY = value  the first KEY's value; (absent): no such key; ~ and !~ work too
 *   changes = 2           the number of remediation changes made
 *   change ~ text         some change line contains text; !~ : none
 *   file:/etc/x ~ text    the file under the (copied) root contains text, "\n" a newline;
 *                         file:/etc/x = (absent): no such file
 *   [again]               optional: run once more on the same root and compare, as [expect]
 *   changes = 0           (remediation is idempotent)
 *
 * WXG_CASE_VERBOSE=1 prints every result, not only those that do not match.
 */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "agent/checks/check.h"
#include "common/policy/policy.h"

#define CHECK_CASE_NOW ((time_t)1795176000) /* 2026-11-20 12:00:00 UTC */

/* Set one [policy] key; false if the key is unknown (the case then fails). */
typedef bool (*check_case_policy_fn)(struct policy *p, const char *key, const char *value);
/* Free what the policy callback allocated. */
typedef void (*check_case_policy_clear_fn)(struct policy *p);

struct check_case_suite {
	const char *name;     /* tests/data/<name>/ and the test-name prefix */
	const char *check_id; /* check_def_find() */
	check_case_policy_fn policy;
	check_case_policy_clear_fn policy_clear;
};

/* "true", "yes", "on", "1". */
bool check_case_bool(const char *v);
/* Copy a fixture tree (symlinks kept, modes & 0755); a failure fails the test. */
void check_case_copy_tree(const char *src, const char *dst);
/* Run one check on this machine (root "/") with pol; the caller clears r. */
void check_case_run_real(const char *check_id, const struct policy *pol, struct check_result *r);
/* Run extra (hand-written tests) plus one test per case directory of the suite: main()'s
 * return value. */
int check_case_run_suite(const struct check_case_suite *suite, const struct CMUnitTest *extra,
			 size_t n_extra);
