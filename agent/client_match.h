/* Is a process (comm, exe path, argv) part of a chat-client family the policy knows?
 * Denied patterns win over approved ones. Matching is by glob (fnmatch); comm is compared
 * exactly (it is what the kernel shows, at most 15 bytes). */
#pragma once
#include <stddef.h>

#include "agent/policy.h"

enum client_match_kind {
	CLIENT_MATCH_NONE = 0,      /* not a chat client */
	CLIENT_MATCH_APPROVED = 1,  /* looks like an approved client family: the binary still has to be genuine */
	CLIENT_MATCH_DENIED = 2,    /* a known third-party client */
};

struct client_match {
	enum client_match_kind kind;
	const struct policy_client *client;   /* APPROVED */
	const struct policy_deny *deny;       /* DENIED */
	const char *field;                    /* "comm", "exe" or "argv" */
	const char *pattern;                  /* the pattern that matched */
};

/* Any of comm, exe, argv may be NULL/empty. argv has argc elements. */
void client_match_process(const struct policy *p, const char *comm, const char *exe,
			  char *const *argv, size_t argc, struct client_match *ret);
/* Does this comm belong to any family (approved or denied)? For the kernel's name map. */
enum client_match_kind client_match_comm(const struct policy *p, const char *comm);
