#include "common/policy/policy_match.h"

#include <fnmatch.h>
#include <stdbool.h>
#include <string.h>

/* Windows paths in argv use backslashes: match them without FNM_NOESCAPE's help by
 * comparing case-insensitively, as Windows does, and with backslash as a literal. */
#define ARGV_FLAGS (FNM_NOESCAPE | FNM_CASEFOLD)

static bool match_fields(const struct strv *comm_pat, const struct strv *exe_pat,
			 const struct strv *argv_pat, const char *comm, const char *exe,
			 char *const *argv, size_t argc, const char **field, const char **pattern)
{
	int i;

	if (comm && *comm && strv_contains(comm_pat, comm)) {
		*field = "comm";
		*pattern = comm;
		return true;
	}
	if (exe && *exe && (i = strv_fnmatch_any(exe_pat, exe, FNM_NOESCAPE)) >= 0) {
		*field = "exe";
		*pattern = exe_pat->v[i];
		return true;
	}
	for (size_t a = 0; argv && a < argc; a++) {
		if (!argv[a] || !*argv[a])
			continue;
		i = strv_fnmatch_any(argv_pat, argv[a], ARGV_FLAGS);
		if (i >= 0) {
			*field = "argv";
			*pattern = argv_pat->v[i];
			return true;
		}
	}
	return false;
}

void policy_match_process(const struct policy *p, const char *comm, const char *exe,
			  char *const *argv, size_t argc, struct policy_match *ret)
{
	memset(ret, 0, sizeof(*ret));
	for (size_t i = 0; i < p->n_denies; i++) {
		const struct policy_deny *d = &p->denies[i];

		if (match_fields(&d->comm, &d->exe, &d->argv, comm, exe, argv, argc, &ret->field,
				 &ret->pattern)) {
			ret->kind = POLICY_MATCH_DENIED;
			ret->deny = d;
			return;
		}
	}
	for (size_t i = 0; i < p->n_clients; i++) {
		const struct policy_client *c = &p->clients[i];

		if (match_fields(&c->comm, &c->exe, &c->argv, comm, exe, argv, argc, &ret->field,
				 &ret->pattern)) {
			ret->kind = POLICY_MATCH_APPROVED;
			ret->client = c;
			return;
		}
	}
}

enum policy_match_kind policy_match_comm(const struct policy *p, const char *comm)
{
	for (size_t i = 0; i < p->n_denies; i++)
		if (strv_contains(&p->denies[i].comm, comm))
			return POLICY_MATCH_DENIED;
	for (size_t i = 0; i < p->n_clients; i++)
		if (strv_contains(&p->clients[i].comm, comm))
			return POLICY_MATCH_APPROVED;
	return POLICY_MATCH_NONE;
}
