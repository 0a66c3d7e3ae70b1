/* Is a process (comm, exe path, argv) part of a chat-client family the policy knows?
 * Denied patterns win over approved ones. Matching is by glob (fnmatch); comm is compared
 * exactly (it is what the kernel shows, at most 15 bytes). */
#pragma once
#include <stddef.h>

#include "common/policy/policy.h"

enum policy_match_kind {
	POLICY_MATCH_NONE = 0, /* not a chat client */
	POLICY_MATCH_APPROVED =
		1, /* looks like an approved client family: the binary still has to be genuine */
	POLICY_MATCH_DENIED = 2, /* a known third-party client */
};

struct policy_match {
	enum policy_match_kind kind;
	const struct policy_client *client; /* APPROVED */
	const struct policy_deny *deny;     /* DENIED */
	const char *field;                  /* "comm", "exe" or "argv" */
	const char *pattern;                /* the pattern that matched */
};

/* Any of comm, exe, argv may be NULL/empty. argv has argc elements. */
void policy_match_process(const struct policy *p, const char *comm, const char *exe,
			  char *const *argv, size_t argc, struct policy_match *ret);
/* Does this comm belong to any family (approved or denied)? For the kernel's name map. */
enum policy_match_kind policy_match_comm(const struct policy *p, const char *comm);
