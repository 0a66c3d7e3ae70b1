/* Alerts: rules raise them (server/api/ for reports and events, the sweep for stale devices), they
 * are de-duplicated (dedup_key), rate limited per device and rule, kept in the alerts table and
 * delivered to each configured sink (WeCom group robot, JSON webhook, syslog) with retries and
 * exponential backoff by whichever server process claims them first. See docs/alerts.md. */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "server/srv.h"

struct store;

/* Rules (the "rule" field and the docs): */
#define ALERT_NONCOMPLIANT "noncompliant"
#define ALERT_STALE "stale"
#define ALERT_VERIFY "verification_failed"
#define ALERT_CHAIN_GAP "chain_gap"
#define ALERT_CLIENT_UNAPPROVED "client_unapproved"
#define ALERT_INJECTION "injection"
#define ALERT_ATTACHMENT_EXEC "attachment_exec"
#define ALERT_WATCHER_DROPS "watcher_drops"
#define ALERT_NOT_ENFORCING "not_enforcing"
#define ALERT_ENFORCING_RESTORED "enforcing_restored"

/* Returns 1 raised, 0 duplicate or rate limited (kept as suppressed), -errno. */
int alert_raise(struct srv *s, struct store *st, long long now, const char *device_id,
		const char *rule, const char *severity, const char *message, const char *dedup_key);
/* A watcher event (docs/events.md) that raises an alert: mapped by its rule, reason, verdict
 * and action (older agents' type names such as "client.blocked" too). */
struct alert_event {
	const char *rule;     /* ALERT_* */
	const char *severity; /* "critical", "high", "low" */
	bool blocked;         /* action kill, lsm_deny or kill_user: the process was stopped */
};
/* Returns true and fills *ret when ev raises an alert. */
bool alert_event_classify(const json_t *ev, struct alert_event *ret);
/* The alert text for ev (English / Chinese: what was seen, the rule, what to do), built from
 * the event's rule, reason, process and its own message.en/zh (sanitized, length-capped). */
void alert_event_message(const json_t *ev, const struct alert_event *a, const char *hostname,
			 const char *device_id, char *out, size_t len);
/* The de-duplication key: per event uuid; watcher drops once per device and hour. */
void alert_event_key(const json_t *ev, const struct alert_event *a, const char *device_id,
		     long long now, char *out, size_t len);

/* A report's watcher (docs/protocol.md "watcher"; NULL for none) under a policy mode: is the
 * device in enforce mode without enforcing (watcher state degraded or posture_only)? */
bool alert_not_enforcing(const char *policy_mode, const json_t *watcher);
/* The not_enforcing alert's text (English / Chinese): the policy, the watcher's state and
 * kernel, which decisions are only reported or not watched (with their backend), the agent's
 * one-line summary (why, what to do). Untrusted text is sanitized and length-capped. */
void alert_not_enforcing_message(const json_t *watcher, const char *policy_name,
				 const char *hostname, const char *device_id, char *out,
				 size_t len);
/* The enforcing_restored notice: enforcing again (watcher running), or no longer in enforce
 * mode (policy_mode). */
void alert_enforcing_restored_message(const json_t *watcher, const char *policy_mode,
				      const char *hostname, const char *device_id, char *out,
				      size_t len);

/* One pass: raise stale-device alerts, then deliver due alerts (blocking HTTP, timeouts 5s).
 * Returns the number of deliveries attempted, or -errno. */
int alerts_sweep(struct srv *s, struct store *st, long long now);

/* Build the sink payloads (tests check them). */
char *alert_wecom_payload(const json_t *alert);
char *alert_json_payload(const json_t *alert);

/* Background thread running alerts_sweep every cfg.sweep_ms with its own connection. */
struct alerts_worker {
	pthread_t thread;
	struct srv *srv;
	atomic_bool stop;
	bool started;
};
int alerts_worker_start(struct alerts_worker *w, struct srv *s);
void alerts_worker_stop(struct alerts_worker *w);
