/* Storage for wxguard-server: one schema, two backends (SQLite in WAL mode, PostgreSQL).
 *
 * Two layers:
 *  - a driver (store_sqlite.c, store_pg.c) runs parameterized SQL and returns rows as text
 *    (the interface and the connection plumbing: store_driver.h); the SQL is written once,
 *    portable between both (parameters are $1, $2, ...);
 *  - the queries, one file per table (store_tokens.c, store_devices.c, store_reports.c,
 *    store_events.c, store_alerts.c, store_policies.c; the schema in store_schema.c).
 * One struct store is one connection: use it from one thread at a time. Server processes keep
 * no other state, so several can share one PostgreSQL database.
 * Errors: -EIO for a database error (store_errmsg() says which), -ENOENT not found,
 * -ENOMEM; documented otherwise. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "server/store/store_driver.h"

/* "sqlite:PATH", a plain path (SQLite), or "postgresql://..." / "postgres://..." /
 * "pg:CONNINFO" (PostgreSQL). Creates the schema if missing. */
int store_open(const char *url, struct store **ret, char *err, size_t errlen);

/* Create the tables that are missing (store_schema.c; store_open() does it). */
int store_migrate(struct store *st);
/* A server-wide secret kept in the database (created on first call): the HMAC key for
 * stateless enrollment challenges, the same for every server process. */
int store_get_secret(struct store *st, const char *name, unsigned char out[32]);

/* Enrollment tokens. The secret is stored as its SHA-256 only. */
struct store_token {
	char id[17];
	long long uses_left, uses_total, expires, created;
	bool hold, revoked;
};
int store_token_create(struct store *st, const char *id, const char *secret_sha256, long long uses,
		       long long expires, bool hold, long long now);
/* Atomically takes one use of a valid token. -EACCES unknown, revoked, expired or used up.
 * *hold tells whether devices enrolled with it wait for approval. */
int store_token_consume(struct store *st, const char *secret_sha256, long long now, char id[17],
			bool *hold);
int store_token_list(struct store *st, json_t **ret);
int store_token_revoke(struct store *st, const char *id);

/* Devices. status: "pending", "approved", "revoked". */
struct store_device {
	char id[40];
	char public_key[48];
	char status[12];
	long long last_seq; /* -1 before the first report */
	char nonce[32];
	char last_hash[65];
	long long last_report; /* 0 = never */
	long long report_interval;
	char hostname[256];
};
int store_device_create(struct store *st, const struct store_device *d, const char *token_id,
			const char *facts_json, long long now);
int store_device_get(struct store *st, const char *id, struct store_device *d);
/* The device and what accepting a report needs, in one query (one round trip): its last
 * report's compliance (-1 never reported) and the current policy's sha256 and report_interval
 * ("" and 0 when no policy was uploaded or it sets none). */
struct store_report_ctx {
	int compliant;
	bool not_enforcing; /* the last report: enforce mode, watcher degraded or posture only */
	char policy_sha256[65];
	long long policy_interval;
};
int store_device_get_for_report(struct store *st, const char *id, struct store_device *d,
				struct store_report_ctx *ctx);
int store_device_set_status(struct store *st, const char *id, const char *status);
/* Accept a verified report: compare-and-swap on (last_seq, nonce) as read in *d, so two
 * servers cannot both accept for one device; stores the report. -ESTALE when another request
 * won the race, -EEXIST when (device, seq) is stored already. PostgreSQL: one statement (a
 * data-modifying CTE, one round trip); SQLite: one IMMEDIATE transaction. */
struct store_report {
	long long seq, time, received;
	const char *new_nonce, *hash, *body, *checks_json, *failing, *policy_sha256, *agent_version;
	const char *watcher_json; /* the report's "watcher" object (NULL: none) */
	const char *policy_mode;  /* "audit" | "enforce" | NULL */
	bool compliant, chain_gap;
	bool not_enforcing; /* enforce mode and the watcher degraded or posture only */
};
int store_report_accept(struct store *st, const struct store_device *d,
			const struct store_report *r);
/* Is the device's last report noncompliant? (before accepting the next) -1 never reported. */
int store_device_compliance(struct store *st, const char *id);

/* Events: de-duplicated by (device_id, uuid). Returns 1 inserted, 0 duplicate. */
int store_event_insert(struct store *st, const char *device_id, const char *uuid, long long time,
		       long long received, const char *type, const char *body);

/* Policies: the current one is the latest uploaded. */
int store_policy_put(struct store *st, const char *sha256, const char *name, const char *version,
		     const char *text, const char *signature, long long report_interval,
		     long long now);
/* *ret: {"name","version","sha256","text","signature","report_interval"} or -ENOENT. */
int store_policy_current(struct store *st, json_t **ret);

/* Alerts. Returns 1 recorded, 0 a duplicate of dedup_key (dropped). suppressed: kept in history
 * but not delivered (rate limit). One delivery row per sink in sinks (NULL-terminated). */
int store_alert_insert(struct store *st, const char *id, long long now, const char *device_id,
		       const char *rule, const char *severity, const char *message,
		       const char *dedup_key, bool suppressed, const char *const *sinks);
/* Clear the device's open alerts of a rule (cleared = now): returns how many. */
int store_alert_clear(struct store *st, const char *device_id, const char *rule, long long now);
/* Alerts for (device, rule) since a time: for the rate limit. */
int store_alert_count_since(struct store *st, const char *device_id, const char *rule,
			    long long since);
/* Claim up to max due deliveries for lease seconds (so another server process does not send
 * them too): a JSON array of {alert_id, sink, attempts, device_id, rule, severity, message,
 * created}. */
int store_delivery_claim(struct store *st, long long now, long long lease, long long max,
			 json_t **ret);
int store_delivery_done(struct store *st, const char *alert_id, const char *sink, bool ok,
			long long next_attempt, bool give_up, const char *error);

/* Stale devices: approved, reported at least once, last report before now - 2*interval - grace. */
/* Rows: id, hostname, last_report, last_seq. */
int store_stale_devices(struct store *st, long long now, long long grace, struct store_res **ret);
/* Devices by state, for /metrics: {"compliant": n, ...}. */
int store_device_states(struct store *st, long long now, long long grace, json_t **ret);
/* Approved devices whose last report is in enforce mode without enforcing (for /metrics). */
int store_device_not_enforcing_count(struct store *st);
/* The same from store_device_list()'s array: every state, 0 when no device is in it. */
json_t *store_device_count_states(const json_t *devices);

/* Admin views (JSON for the API, the CLI and the dashboard). */
int store_device_list(struct store *st, long long now, long long grace, json_t **ret);
int store_device_detail(struct store *st, const char *id, long long now, long long grace,
			json_t **ret);
int store_events_list(struct store *st, const char *device_id, long long limit, json_t **ret);
int store_alerts_list(struct store *st, const char *device_id, long long limit, json_t **ret);
int store_summary(struct store *st, long long now, long long grace, long long hours, json_t **ret);
