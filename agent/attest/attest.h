/* Attestation and event uplink for `wxguard run` (docs/attestation.md, docs/privacy.md).
 *
 * One struct attest per agent process, living on the main loop's sd-event. It owns the device
 * identity (agent/attest/identity.h), the event spool (agent/attest/spool.h), the report chain
 * (agent/attest/report.h), the HTTPS uplink (agent/uplink/uplink.h), enrollment on first start
 * from an [enroll] drop-in (agent/attest/enroll.h) and server policy updates
 * (agent/attest/policy_fetch.h). Nothing here blocks the loop: network I/O is curl multi driven by
 * sd-event; disk writes are small fsync'd files in the state directory.
 *
 * How `wxguard run` uses it (agent/cli/cmd_run.c): attest_new() once a server is configured
 * (or the device was enrolled), attest_set_policy_hook() to reload the policy directory when a
 * server policy was written; every watcher event except posture results goes through
 * attest_on_event(); every posture run through attest_on_checks(); the status document it
 * publishes in /run/wxguard/status.json embeds attest_status_json() (after
 * attest_set_watcher_state()); attest_free() on exit. `wxguard status` (agent/cli/cmd_status.c)
 * falls back on attest_status_read(), which reads the persisted files, when no daemon runs.
 *
 * Inside: attest.c (life cycle, inputs, enrollment) and its parts attest_report.c,
 * attest_events.c and attest_status.c (agent/attest/attest_internal.h).
 *
 * Schedules: a report on a jittered interval (the policy's report_interval, else the server's,
 * else 300 s; +-[agent] report_jitter percent) and at once when a check's status changes;
 * events batched (<= 200 per request) shortly after they arrive; failures retried with
 * exponential backoff and jitter (2 s .. 10 min). */
#pragma once
#include <jansson.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "agent/checks/check.h"
#include "agent/attest/config.h"
#include "common/policy/policy.h"
#include "agent/watch/watch.h"

struct attest;

/* Knobs for tests; production passes NULL (attest_new). */
struct attest_opts {
	const char *root;           /* sysroot for device facts and boot id: "/" */
	uint64_t retry_base_usec;   /* first retry delay: 2 s */
	uint64_t retry_max_usec;    /* longest: 10 min */
	uint64_t interval_usec;     /* fixed report interval (no policy/server value): 0 */
	uint64_t first_report_usec; /* first report if no checks arrive before: 30 s */
	uint64_t batch_delay_usec;  /* wait to coalesce events: 200 ms */
};

/* Loads or creates the identity (state_dir/device.key), opens the spool, and when the device is
 * not enrolled but agent.conf has an [enroll] token and a server, enrolls (with retries).
 * -errno on a broken state directory or bad server URL (-EPROTONOSUPPORT). */
int attest_new(sd_event *e, const struct agent_config *cfg, struct attest **ret);
int attest_new_opts(sd_event *e, const struct agent_config *cfg, const struct attest_opts *o,
		    struct attest **ret);
void attest_free(struct attest *a);

/* A watcher event (docs/events.md). A copy gets a "uuid" and goes to the durable spool before
 * this returns; -EINVAL if it cannot be signed (a real number inside), -ENOSPC disk full. */
int attest_on_event(struct attest *a, const json_t *ev);
/* The same, with the signature of watch_event_fn (agent/watch/watch.h); userdata is the attest. */
void attest_watch_hook(const json_t *ev, void *userdata);
/* The latest posture check run and the policy in force (either may be NULL). Copied. */
int attest_on_checks(struct attest *a, const struct check_report *rep, const struct policy *p);
/* The watcher's state (copied). NULL: watcher off. */
void attest_set_watcher_state(struct attest *a, const struct watch_state *ws);

/* Called after a server policy was verified and written to <policy_dir>/50-server.ini: reload
 * the policy directory and hand it to the watcher. */
typedef void (*attest_policy_fn)(void *userdata, const char *path);
void attest_set_policy_hook(struct attest *a, attest_policy_fn fn, void *userdata);

/* Send a report now (e.g. on SIGUSR1). */
int attest_report_now(struct attest *a);

/* For `wxguard status`:
 * {"enrolled", "device_id", "server", "approved", "public_key",
 *  "enrollment": {"state", "error"},
 *  "report": {"seq", "last_result", "last_error", "last_sent", "last_accepted", "next_in_s",
 *             "interval_s"},
 *  "last_report": <the signed report exactly as last sent, or null>,
 *  "spool": {"depth", "bytes", "evicted", "corrupt"},
 *  "events": {"sent", "duplicates", "rejected", "last_error", "retry_attempt"},
 *  "watcher": {"state", "enforcement", "events", "drops", "kills", "summary"} | null,
 *  "policy": {"server_sha256", "wanted_sha256", "last_error"},
 *  "uplink": {"isolation": "child"|"none", "child_pid", "child_ready", "child_starts",
 *             "last_error"} (absent without a server)} */
int attest_status_json(struct attest *a, json_t **ret);
/* The same from the files in state_dir, for a process that is not the daemon (fields that only
 * the daemon knows are absent). */
int attest_status_read(const struct agent_config *cfg, json_t **ret);
