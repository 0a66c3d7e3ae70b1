/* Inside attest (agent/attest/attest.h); not for other modules. attest.c is the facade (life
 * cycle, inputs, enrollment); its parts never call it back:
 *
 *   attest_report.c   reports: build, sign, send, the server's reply; the policy it names
 *   attest_events.c   events: watcher events into the spool, batches from the spool to the server
 *   attest_status.c   status: the persisted last report, the status JSON
 *
 * They share struct attest and the timer helpers below. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "agent/attest/attest.h"
#include "agent/attest/identity.h"
#include "agent/attest/report.h"
#include "common/hash.h"
#include "common/random.h"
#include "common/retry.h"

struct enroll;
struct policy_fetch;
struct spool;
struct sysroot;
struct uplink;

#define USEC_PER_SEC 1000000ull
#define DEFAULT_INTERVAL_S 300u

struct attest {
	sd_event *event;
	struct attest_opts opts;
	char *state_dir, *policy_dir, *server_url, *ca, *pin, *proxy, *token;
	unsigned jitter;
	struct sysroot *root;
	struct identity *id;
	struct spool *spool;
	struct uplink *uplink;
	struct enroll *enroll;
	struct policy_fetch *fetch;
	struct report_chain chain;
	char chain_path[PATH_MAX];
	char last_path[PATH_MAX];
	char *boot_id;
	char agent_sha[HASH_SHA256_HEX];

	/* inputs */
	json_t *checks; /* array, as sent */
	char *pol_name, *pol_version;
	char pol_sha[HASH_SHA256_HEX];
	enum policy_mode pol_mode;
	bool have_policy;
	unsigned pol_interval;
	bool have_watcher;
	char w_state[16], w_enf[16];
	uint64_t w_events, w_drops, w_kills;
	struct watch_state w_ladder; /* decisions, kernel, btf, reason, summary */

	/* reports */
	sd_event_source *report_timer;
	json_t *report_in_flight; /* the unsigned "report" object */
	bool report_pending;
	unsigned report_attempt;
	unsigned server_interval;
	json_t *last_sent; /* envelope */
	char last_result[64], last_error[256];
	time_t last_sent_time, last_accepted_time;
	uint64_t next_report_usec;

	/* events */
	sd_event_source *events_timer;
	uint64_t *batch_ids;
	size_t batch_n;
	bool batch_in_flight;
	unsigned events_attempt;
	uint64_t events_sent, events_dup, events_rejected;
	char events_error[256];

	/* enrollment */
	sd_event_source *enroll_timer;
	unsigned enroll_attempt;
	char enroll_state[32], enroll_error[256];

	/* policy */
	char policy_want[HASH_SHA256_HEX];
	char policy_error[512];
	attest_policy_fn policy_hook;
	void *policy_hook_ud;
};

/* ---- timers and retries ---- */

static inline uint64_t now_usec(struct attest *a)
{
	uint64_t t = 0;

	sd_event_now(a->event, CLOCK_MONOTONIC, &t);
	return t;
}

static inline void arm(struct attest *a, sd_event_source *s, uint64_t delay_usec)
{
	sd_event_source_set_time(s, now_usec(a) + delay_usec);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (s == a->report_timer)
		a->next_report_usec = now_usec(a) + delay_usec;
}

static inline bool armed(sd_event_source *s)
{
	int en = SD_EVENT_OFF;

	sd_event_source_get_enabled(s, &en);
	return en != SD_EVENT_OFF;
}

static inline uint64_t backoff(struct attest *a, unsigned *attempt)
{
	uint64_t d = retry_backoff_usec(*attempt, a->opts.retry_base_usec, a->opts.retry_max_usec,
					random_u64());

	if (*attempt < 64)
		(*attempt)++;
	return d;
}

static inline uint64_t interval_usec(struct attest *a)
{
	unsigned s;

	if (a->opts.interval_usec)
		return a->opts.interval_usec;
	s = a->pol_interval      ? a->pol_interval
	    : a->server_interval ? a->server_interval
				 : DEFAULT_INTERVAL_S;
	return retry_jitter_usec((uint64_t)s * USEC_PER_SEC, a->jitter, random_u64());
}

static inline bool enrolled(struct attest *a)
{
	return identity_enrolled(a->id) && a->uplink;
}

/* ---- attest_report.c ---- */
int attest_report_on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* ---- attest_events.c ---- */
int attest_events_on_timer(sd_event_source *s, uint64_t usec, void *userdata);

/* ---- attest_status.c ---- */
/* The last report sent and how it went (state_dir/REPORT_LAST_FILE), for `wxguard status`. */
void attest_status_save_last(struct attest *a);
void attest_status_load_last(struct attest *a);
