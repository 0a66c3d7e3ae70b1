/* Private to the client checks (agent/check_client_*.c): the process snapshot, users and
 * home directories, the main binary of a client, and findings with capped evidence.
 * docs/checks/client.md describes what the checks read and decide. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/checks/check.h"
#include "common/policy/policy_match.h"
#include "agent/host/pkgdb/pkgdb.h"
#include "common/policy/policy.h"
#include "agent/host/proc.h"

/* Evidence entries per key before the rest is only counted ("<key>.more"). */
#define CLIENTCHECK_EVIDENCE_MAX 20

struct check_client_proc {
	struct proc_info pi; /* with argv */
	struct policy_match m;
};

struct check_client_procs {
	struct check_client_proc *v; /* ascending pid */
	size_t n;
};

/* Every process of <root>/proc with its argv, matched against the policy (client_match).
 * Processes that exit while we read are skipped. -errno when /proc cannot be listed. */
int check_client_procs_read(const struct sysroot *sr, const struct policy *p,
			    struct check_client_procs *ret);
void check_client_procs_clear(struct check_client_procs *ps);
const struct check_client_proc *check_client_procs_find(const struct check_client_procs *ps,
							pid_t pid);
/* Is this process really client c, not only a process sharing its loader? A Wine client's
 * exe is the wine loader every Wine program uses: it counts only when its comm or argv
 * matched. A native client counts on any field. */
bool check_client_is_client(const struct check_client_proc *cp, const struct policy_client *c);

/* "alice" or "uid 1234" into buf. */
const char *check_client_user_label(const struct sysroot *sr, uid_t uid, char *buf, size_t size);

/* Home directories named by [scan] home_dirs (globs, expanded under the root; defaults
 * /home/ * and /root), existing directories only, sorted, as the system sees them. */
int check_client_homes(const struct sysroot *sr, const struct policy_scan *scan, struct strv *ret);
/* scan.max_depth / max_entries with the documented defaults for zero. */
unsigned check_client_scan_depth(const struct policy_scan *scan);
unsigned check_client_scan_entries(const struct policy_scan *scan);

bool check_client_has_glob(const char *s);
/* wine_prefix without a leading "~/" (the parser strips it; hand-made policies may not). */
const char *check_client_wine_prefix(const struct policy_client *c);
/* The client's main binary: the first exe pattern without a glob; else the package file
 * that matches an exe glob and is named like one of its comm names; else the first regular
 * package file that matches an exe glob. *ret: free(). -ENOENT when there is none. */
int check_client_main_binary(const struct sysroot *sr, struct pkgdb *db,
			     const struct policy_client *c, char **ret);
/* A pkgdb with the context's cache directory. */
int check_client_pkgdb(const struct check_ctx *ctx, struct pkgdb **ret);

/* Findings of one check run: the worst status, counts, the first text per status and
 * evidence capped per key. */
struct check_client_findings {
	struct check_result *r;
	enum check_status status;     /* CHECK_PASS until a finding says otherwise */
	unsigned n[CHECK_ERROR + 1];  /* findings per status */
	char *first[CHECK_ERROR + 1]; /* the first finding's text per status */
	struct {
		char *key;
		unsigned n;
	} keys[32];
	size_t n_keys;
};

void check_client_findings_init(struct check_client_findings *f, struct check_result *r);
/* Record a finding: evidence key = text (capped) and the status. st CHECK_PASS only adds the
 * evidence (capped too). */
void check_client_finding(struct check_client_findings *f, enum check_status st, const char *key,
			  const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Add "<key>.more" for the keys that were capped, then set the summary: on pass the given
 * pass texts, else "<what> (N finding(s)): <the first finding of the worst status>", where
 * what is what_en/what_zh for fail, "needs attention" for warn, "could not verify everything"
 * for unknown, and N counts the findings of that status. */
void check_client_findings_finish(struct check_client_findings *f, const char *pass_en,
				  const char *pass_zh, const char *what_en, const char *what_zh);
void check_client_findings_clear(struct check_client_findings *f);
