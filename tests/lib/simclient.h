/* A minimal reference client of docs/protocol.md: builds signed enroll, report and event
 * messages the way an agent must. Used by the unit and e2e tests, the fuzz corpus generator
 * and the benchmark (bench/server_load.c); executable documentation of the wire contract. */
#pragma once
#include <jansson.h>

#include "common/sign.h"

struct simclient {
	struct sign_key *key;
	char *public_key; /* base64 */
	char device_id[64];
	long long seq; /* last accepted */
	char nonce[64];
	char prev_hash[65];    /* sha256 of canon(last accepted report) */
	char pending_hash[65]; /* of the last report built */
	long long pending_seq;
};

int simclient_new(struct simclient **ret);
void simclient_free(struct simclient *c);
/* {"enroll": {...}, "signature": ...} */
json_t *simclient_enroll(struct simclient *c, const char *token, const char *challenge,
			 const char *hostname);
/* Take device_id and nonce from the enroll reply. */
int simclient_enrolled(struct simclient *c, const json_t *reply);
/* A report with seq = last accepted + 1 (or seq_override >= 0); failing: a check id to report
 * as "fail" (NULL: all pass). */
json_t *simclient_report(struct simclient *c, long long now, const char *failing,
			 long long seq_override);
/* The same with the policy's mode (NULL: "audit") and the watcher object (stolen; NULL: a
 * running LSM watcher without the ladder's fields, as agents before it sent). */
json_t *simclient_report_watcher(struct simclient *c, long long now, const char *failing,
				 long long seq_override, const char *mode, json_t *watcher);
/* Take the new nonce and advance seq/prev_hash after a 200 reply. */
int simclient_accepted(struct simclient *c, const json_t *reply);
/* One watcher event shaped like docs/events.md (v, ts, type, mode, rule, reason, verdict,
 * action, process, exe, deny/client, message.en/zh for deny verdicts; lost/lost_total for
 * type "drops"), without uuid. */
json_t *simclient_watch_event(long long now, const char *type, const char *rule, const char *reason,
			      const char *verdict, const char *action);
/* A signed batch of events (an array, stolen; each gets a fresh uuid). */
json_t *simclient_batch(struct simclient *c, long long now, json_t *events);
/* A batch of n events of the given old-style type (no rule; "time" integer) with fresh UUIDs. */
json_t *simclient_events(struct simclient *c, long long now, int n, const char *type);
