/* Attestation reports (docs/protocol.md "Attestation report", docs/privacy.md): building the
 * signed object, and the chain state that makes reports ordered and linked.
 *
 * Chain state, <state_dir>/report.state (JSON, 0600, written atomically):
 *   {"seq": last sequence number used, "prev_hash": sha256 of canon(last accepted report),
 *    "nonce": the server's nonce from its last reply}
 * seq is persisted BEFORE a report leaves, so it strictly increases across restarts and
 * crashes. prev_hash advances only when the server accepts a report: a report lost in transit
 * leaves a seq gap, not a false chain break. */
#pragma once
#include <stdint.h>
#include <time.h>
#include <jansson.h>

#include "agent/checks/check.h"
#include "agent/watch/watch.h"
#include "common/policy/policy.h"
#include "common/hash.h"

#define REPORT_STATE_FILE "report.state"
#define REPORT_LAST_FILE "last-report.json"
#define REPORT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* What the watcher (agent/watch/watch.h) says about itself, as reported. */
struct report_watcher {
	const char *state;       /* "running" | "degraded" | "posture_only" | "off" */
	const char *enforcement; /* "lsm" | "tracing" | "signal" | "fanotify" | "none" */
	uint64_t events, drops, kills;
	/* The backend ladder's view (docs/protocol.md): "decisions" {exec, libraries, injection,
	 * renames: {"backend", "effect"}}, "kernel", "btf", "reason", "summary". NULL leaves
	 * them out, as agents before the ladder did. */
	const struct watch_state *ladder;
};

struct report_chain {
	uint64_t seq;
	char prev_hash[HASH_SHA256_HEX];
	char *nonce; /* NULL before the first server reply */
};

/* Missing file: a fresh chain (seq 0, zero hash). */
int report_chain_load(const char *path, struct report_chain *c);
int report_chain_save(const char *path, const struct report_chain *c);
int report_chain_set_nonce(struct report_chain *c, const char *nonce);
void report_chain_clear(struct report_chain *c);
/* Take the next seq and persist it (before the report is sent). */
int report_chain_next(struct report_chain *c, const char *path, uint64_t *ret_seq);
/* The server accepted report (the unsigned "report" object): chain the next one to it and keep
 * the server's new nonce (may be NULL: keep the old). Persists. */
int report_chain_accepted(struct report_chain *c, const char *path, const json_t *report,
			  const char *nonce);

struct report_input {
	const char *device_id;
	uint64_t seq;
	const char *boot_id;
	time_t time;
	const char *nonce;     /* NULL: "" */
	const char *prev_hash; /* NULL: 64 zeros */
	const char *agent_version;
	const char *agent_sha256;
	const struct policy *policy;          /* NULL: nulls in "policy" */
	const struct check_report *checks;    /* NULL: checks_json, else no checks yet */
	const json_t *checks_json;            /* an array of report_check_json() objects */
	const struct report_watcher *watcher; /* NULL: state "off" */
	uint64_t spool_depth, spool_evicted;
};

/* The "report" object (not yet signed). Only strings, integers, null: canon-safe. */
int report_build(const struct report_input *in, json_t **ret);
/* One check result as sent: {"id", "status", "summary" (English), "evidence": {k: v | [v...]}}. */
json_t *report_check_json(const struct check_result *r);
/* SHA-256 of the running binary (/proc/self/exe). */
int report_self_sha256(char hex[HASH_SHA256_HEX]);
