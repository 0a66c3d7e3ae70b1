#include "agent/attest/attest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/attest/enroll.h"
#include "agent/attest/identity.h"
#include "agent/attest/policy_fetch.h"
#include "agent/attest/report.h"
#include "agent/attest/spool.h"
#include "agent/host/sysroot.h"
#include "agent/uplink/uplink.h"
#include "common/canon.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/sign.h"
#include "common/retry.h"
#include "common/random.h"

#define USEC_PER_SEC 1000000ull
#define BATCH_MAX_EVENTS 200
#define BATCH_MAX_BYTES (512u * 1024)
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
	json_t *checks;                 /* array, as sent */
	char *pol_name, *pol_version;
	char pol_sha[HASH_SHA256_HEX];
	enum policy_mode pol_mode;
	bool have_policy;
	unsigned pol_interval;
	bool have_watcher;
	char w_state[16], w_enf[16];
	uint64_t w_events, w_drops, w_kills;

	/* reports */
	sd_event_source *report_timer;
	json_t *report_in_flight;       /* the unsigned "report" object */
	bool report_pending;
	unsigned report_attempt;
	unsigned server_interval;
	json_t *last_sent;              /* envelope */
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

static uint64_t now_usec(struct attest *a)
{
	uint64_t t = 0;

	sd_event_now(a->event, CLOCK_MONOTONIC, &t);
	return t;
}

static void arm(struct attest *a, sd_event_source *s, uint64_t delay_usec)
{
	sd_event_source_set_time(s, now_usec(a) + delay_usec);
	sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	if (s == a->report_timer)
		a->next_report_usec = now_usec(a) + delay_usec;
}

static bool armed(sd_event_source *s)
{
	int en = SD_EVENT_OFF;

	sd_event_source_get_enabled(s, &en);
	return en != SD_EVENT_OFF;
}

static uint64_t backoff(struct attest *a, unsigned *attempt)
{
	uint64_t d = retry_backoff_usec(*attempt, a->opts.retry_base_usec, a->opts.retry_max_usec, random_u64());

	if (*attempt < 64)
		(*attempt)++;
	return d;
}

static uint64_t interval_usec(struct attest *a)
{
	unsigned s;

	if (a->opts.interval_usec)
		return a->opts.interval_usec;
	s = a->pol_interval ? a->pol_interval : a->server_interval ? a->server_interval : DEFAULT_INTERVAL_S;
	return retry_jitter_usec((uint64_t)s * USEC_PER_SEC, a->jitter, random_u64());
}

static bool enrolled(struct attest *a)
{
	return identity_enrolled(a->id) && a->uplink;
}

/* ---- persisted "last report" for `wxguard status` ---- */

static void save_last(struct attest *a)
{
	json_t *o;
	char *text;

	o = json_pack("{s:I, s:I, s:s, s:s, s:O?}", "sent", (json_int_t)a->last_sent_time, "accepted",
		      (json_int_t)a->last_accepted_time, "result", a->last_result, "error", a->last_error,
		      "report", a->last_sent);
	if (!o)
		return;
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (text)
		write_file_atomic(a->last_path, text, strlen(text), 0644);
	free(text);
}

/* ---- policy ---- */

static void on_policy(void *userdata, int r, const char *detail, const char *path)
{
	struct attest *a = userdata;

	policy_fetch_free(a->fetch);
	a->fetch = NULL;
	if (r < 0) {
		snprintf(a->policy_error, sizeof(a->policy_error), "%s", detail ? detail : strerror(-r));
		return;
	}
	a->policy_error[0] = 0;
	if (a->policy_hook)
		a->policy_hook(a->policy_hook_ud, path);
}

static void maybe_fetch_policy(struct attest *a, const char *want)
{
	char cur[HASH_SHA256_HEX] = "";
	int r;

	if (!want || strlen(want) != 64)
		return;
	if (policy_fetch_current_sha256(a->policy_dir, cur) == 0 && strcmp(cur, want) == 0)
		return;
	/* Retry a policy that failed only when the server names another one, or after a restart. */
	if (strcmp(a->policy_want, want) == 0 && (a->fetch || a->policy_error[0]))
		return;
	snprintf(a->policy_want, sizeof(a->policy_want), "%s", want);
	policy_fetch_free(a->fetch);
	a->fetch = NULL;
	r = policy_fetch_start(a->uplink, &(struct policy_fetch_opts){ .policy_dir = a->policy_dir,
			       .state_dir = a->state_dir, .device_id = a->id->device_id,
			       .server_public_key = a->id->server_public_key, .want_sha256 = want },
			       on_policy, a, &a->fetch);
	if (r < 0)
		snprintf(a->policy_error, sizeof(a->policy_error), "cannot start: %s", strerror(-r));
	else
		a->policy_error[0] = 0;
}

/* ---- reports ---- */

static void send_report(struct attest *a);

static void on_report_reply(void *userdata, const struct uplink_response *resp)
{
	struct attest *a = userdata;
	/* Typed fields (UPLINK_REPLY_REPORT), parsed and checked by the uplink child. */
	const struct uplink_reply *y = resp->err ? NULL : resp->reply;
	const char *nonce = y && y->nonce[0] ? y->nonce : NULL, *code = y && y->error[0] ? y->error : NULL;
	uint64_t delay;

	if (!resp->err && resp->status == 200 && !(y && y->valid)) {
		/* Accepted, but the reply is unusable (no nonce, bad fields): like a server error. */
		snprintf(a->last_result, sizeof(a->last_result), "bad_reply");
		snprintf(a->last_error, sizeof(a->last_error), "HTTP 200 with a malformed reply: %.200s",
			 y ? y->invalid : "no reply");
		delay = backoff(a, &a->report_attempt);
	} else if (!resp->err && resp->status == 200) {
		report_chain_accepted(&a->chain, a->chain_path, a->report_in_flight, nonce);
		if (y->report_interval)
			a->server_interval = y->report_interval;
		snprintf(a->last_result, sizeof(a->last_result), "accepted");
		a->last_error[0] = 0;
		a->last_accepted_time = time(NULL);
		a->report_attempt = 0;
		delay = interval_usec(a);
		maybe_fetch_policy(a, y->policy_sha256[0] ? y->policy_sha256 : NULL);
	} else if (!resp->err && resp->status >= 400 && resp->status < 500) {
		snprintf(a->last_result, sizeof(a->last_result), "%s", code ? code : "refused");
		if (code && !strcmp(code, "replay") && y->last_seq >= 0)
			snprintf(a->last_error, sizeof(a->last_error), "HTTP %ld: %.160s (server's last seq %lld%s)",
				 resp->status, y->message, (long long)y->last_seq, y->duplicate ? ", duplicate" : "");
		else
			snprintf(a->last_error, sizeof(a->last_error), "HTTP %ld: %.200s", resp->status,
				 y ? y->message : "");
		if (nonce) {
			report_chain_set_nonce(&a->chain, nonce);
			report_chain_save(a->chain_path, &a->chain);
		}
		/* A stale nonce, a clock or sequence problem: try again soon with what the server
		 * said. The device's standing (unknown, revoked, not approved): the normal interval. */
		if (code && (!strcmp(code, "bad_nonce") || !strcmp(code, "replay") || !strcmp(code, "clock_skew") ||
			     !strcmp(code, "bad_signature") || !strcmp(code, "malformed")))
			delay = backoff(a, &a->report_attempt);
		else
			delay = interval_usec(a);
	} else {
		snprintf(a->last_result, sizeof(a->last_result), "%s", resp->err ? "unreachable" : "server_error");
		if (resp->err)
			snprintf(a->last_error, sizeof(a->last_error), "%s", resp->error);
		else
			snprintf(a->last_error, sizeof(a->last_error), "HTTP %ld", resp->status);
		delay = backoff(a, &a->report_attempt);
	}
	json_decref(a->report_in_flight);
	a->report_in_flight = NULL;
	save_last(a);
	if (a->report_pending) {
		a->report_pending = false;
		if (a->report_attempt == 0)
			delay = 0;
	}
	arm(a, a->report_timer, delay);
}

static void send_report(struct attest *a)
{
	struct report_watcher w = { .state = a->w_state, .enforcement = a->w_enf, .events = a->w_events,
				    .drops = a->w_drops, .kills = a->w_kills };
	struct policy pol = { 0 };
	struct spool_stats st;
	json_t *rep = NULL, *env = NULL;
	char *text = NULL;
	uint64_t seq;
	int r;

	if (!enrolled(a))
		return;
	if (a->report_in_flight) {
		a->report_pending = true;
		return;
	}
	r = report_chain_next(&a->chain, a->chain_path, &seq);
	if (r < 0)
		goto fail;
	if (a->have_policy) {
		pol.name = a->pol_name;
		pol.version = a->pol_version;
		pol.mode = a->pol_mode;
		memcpy(pol.sha256, a->pol_sha, sizeof(pol.sha256));
	}
	spool_get_stats(a->spool, &st);
	r = report_build(&(struct report_input){
		.device_id = a->id->device_id, .seq = seq, .boot_id = a->boot_id, .time = time(NULL),
		.nonce = a->chain.nonce, .prev_hash = a->chain.prev_hash, .agent_version = WXG_VERSION,
		.agent_sha256 = a->agent_sha, .policy = a->have_policy ? &pol : NULL,
		.checks_json = a->checks, .watcher = a->have_watcher ? &w : NULL,
		.spool_depth = st.depth, .spool_evicted = st.evicted }, &rep);
	if (r < 0)
		goto fail;
	r = sign_envelope(a->id->key, "report", rep, &env);
	if (r < 0)
		goto fail;
	text = json_dumps(env, JSON_COMPACT);
	if (!text) {
		r = -ENOMEM;
		goto fail;
	}
	r = uplink_request_typed(a->uplink, UPLINK_REPLY_REPORT, "POST", "/api/v1/report", NULL, text, strlen(text),
				 on_report_reply, a);
	if (r < 0)
		goto fail;
	a->report_in_flight = rep;
	json_decref(a->last_sent);
	a->last_sent = env;
	a->last_sent_time = time(NULL);
	snprintf(a->last_result, sizeof(a->last_result), "sending");
	save_last(a);
	free(text);
	return;
fail:
	snprintf(a->last_result, sizeof(a->last_result), "not_sent");
	snprintf(a->last_error, sizeof(a->last_error), "cannot build or send: %s", strerror(-r));
	json_decref(rep);
	json_decref(env);
	free(text);
	arm(a, a->report_timer, backoff(a, &a->report_attempt));
}

static int on_report_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	send_report(userdata);
	return 0;
}

int attest_report_now(struct attest *a)
{
	if (!enrolled(a))
		return -ENOTCONN;
	if (a->report_in_flight)
		a->report_pending = true;
	else
		arm(a, a->report_timer, 0);
	return 0;
}

/* ---- events ---- */

static void send_events(struct attest *a);

static void on_events_reply(void *userdata, const struct uplink_response *resp)
{
	struct attest *a = userdata;
	const struct uplink_reply *y = resp->err ? NULL : resp->reply;
	struct spool_stats st;

	a->batch_in_flight = false;
	if (!resp->err && resp->status == 200) {
		/* The server has the batch (a malformed count changes nothing about that). */
		spool_ack(a->spool, a->batch_ids, a->batch_n);
		a->events_sent += a->batch_n;
		a->events_dup += y && y->valid ? y->duplicates : 0;
		a->events_attempt = 0;
		a->events_error[0] = 0;
		spool_get_stats(a->spool, &st);
		if (st.depth > 0)
			arm(a, a->events_timer, 0);
	} else {
		if (resp->err)
			snprintf(a->events_error, sizeof(a->events_error), "%s", resp->error);
		else
			snprintf(a->events_error, sizeof(a->events_error), "HTTP %ld: %s%s%.150s", resp->status,
				 y ? y->error : "", y && y->error[0] && y->message[0] ? ": " : "", y ? y->message : "");
		arm(a, a->events_timer, backoff(a, &a->events_attempt));
	}
	free(a->batch_ids);
	a->batch_ids = NULL;
	a->batch_n = 0;
}

static void send_events(struct attest *a)
{
	struct spool_record *v = NULL;
	json_t *events = NULL, *batch = NULL, *env = NULL;
	uint64_t *ids = NULL, *bad = NULL;
	size_t n = 0, nids = 0, nbad = 0;
	char *text = NULL;
	int r;

	if (!enrolled(a) || a->batch_in_flight)
		return;
	r = spool_peek(a->spool, BATCH_MAX_EVENTS, BATCH_MAX_BYTES, &v, &n);
	if (r < 0 || n == 0)
		goto out;
	events = json_array();
	ids = calloc(n, sizeof(*ids));
	bad = calloc(n, sizeof(*bad));
	if (!events || !ids || !bad) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_loadb(v[i].data, v[i].len, 0, NULL);

		if (!json_is_object(ev)) {
			/* Cannot happen for what attest_on_event wrote; never let it block the queue. */
			json_decref(ev);
			bad[nbad++] = v[i].id;
			continue;
		}
		json_array_append_new(events, ev);
		ids[nids++] = v[i].id;
	}
	if (nbad) {
		spool_ack(a->spool, bad, nbad);
		a->events_rejected += nbad;
	}
	if (nids == 0) {
		arm(a, a->events_timer, 0);
		goto out;
	}
	batch = json_pack("{s:s, s:I, s:O}", "device_id", a->id->device_id, "time", (json_int_t)time(NULL),
			  "events", events);
	r = batch ? sign_envelope(a->id->key, "batch", batch, &env) : -ENOMEM;
	if (r < 0)
		goto out;
	text = json_dumps(env, JSON_COMPACT);
	r = text ? uplink_request_typed(a->uplink, UPLINK_REPLY_EVENTS, "POST", "/api/v1/events", NULL, text,
					strlen(text), on_events_reply, a)
		 : -ENOMEM;
	if (r < 0)
		goto out;
	a->batch_ids = ids;
	a->batch_n = nids;
	ids = NULL;
	a->batch_in_flight = true;
out:
	if (r < 0) {
		snprintf(a->events_error, sizeof(a->events_error), "cannot send: %s", strerror(-r));
		arm(a, a->events_timer, backoff(a, &a->events_attempt));
	}
	spool_records_free(v, n);
	free(ids);
	free(bad);
	free(text);
	json_decref(events);
	json_decref(batch);
	json_decref(env);
}

static int on_events_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	send_events(userdata);
	return 0;
}

int attest_on_event(struct attest *a, const json_t *ev)
{
	char uuid[RANDOM_UUID_LEN], *text = NULL, *canon = NULL;
	json_t *copy;
	int r;

	if (!json_is_object(ev))
		return -EINVAL;
	r = random_uuid(uuid);
	if (r < 0)
		return r;
	copy = json_deep_copy(ev);
	if (!copy)
		return -ENOMEM;
	json_object_set_new(copy, "uuid", json_string(uuid));
	/* It will be signed: refuse now what canon cannot serialize, not at send time. */
	r = canon_dump(copy, &canon, NULL);
	if (r < 0) {
		a->events_rejected++;
		goto out;
	}
	text = json_dumps(copy, JSON_COMPACT);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	r = spool_append(a->spool, text, strlen(text), NULL);
	if (r < 0)
		goto out;
	if (enrolled(a) && !a->batch_in_flight && !armed(a->events_timer))
		arm(a, a->events_timer, a->opts.batch_delay_usec);
out:
	free(canon);
	free(text);
	json_decref(copy);
	return r;
}

void attest_watch_hook(const json_t *ev, void *userdata)
{
	int r = attest_on_event(userdata, ev);

	if (r < 0)
		log_debug_errno(r, "attest: event not spooled");
}

/* ---- checks, watcher ---- */

/* A status change is what makes a report urgent; evidence changes wait for the interval. */
static bool statuses_differ(const json_t *a, const json_t *b)
{
	if (!a || !b || json_array_size(a) != json_array_size(b))
		return true;
	for (size_t i = 0; i < json_array_size(a); i++) {
		const json_t *x = json_array_get(a, i), *y = json_array_get(b, i);

		if (!json_equal(json_object_get(x, "id"), json_object_get(y, "id")) ||
		    !json_equal(json_object_get(x, "status"), json_object_get(y, "status")))
			return true;
	}
	return false;
}

int attest_on_checks(struct attest *a, const struct check_report *rep, const struct policy *p)
{
	bool changed = false;

	if (rep) {
		json_t *arr = json_array();

		if (!arr)
			return -ENOMEM;
		for (size_t i = 0; i < rep->n_results; i++) {
			json_t *c = report_check_json(&rep->results[i]);

			if (!c || json_array_append_new(arr, c) < 0) {
				json_decref(arr);
				return -ENOMEM;
			}
		}
		changed = statuses_differ(a->checks, arr);
		json_decref(a->checks);
		a->checks = arr;
	}
	if (p) {
		char *n = p->name ? strdup(p->name) : NULL, *v = p->version ? strdup(p->version) : NULL;

		if ((p->name && !n) || (p->version && !v)) {
			free(n);
			free(v);
			return -ENOMEM;
		}
		if (!a->have_policy || strcmp(a->pol_sha, p->sha256) != 0 || a->pol_mode != p->mode)
			changed = true;
		free(a->pol_name);
		free(a->pol_version);
		a->pol_name = n;
		a->pol_version = v;
		snprintf(a->pol_sha, sizeof(a->pol_sha), "%s", p->sha256);
		a->pol_mode = p->mode;
		a->pol_interval = p->report_interval;
		a->have_policy = true;
	}
	if (changed && enrolled(a))
		attest_report_now(a);
	return 0;
}

void attest_set_watcher_state(struct attest *a, const struct watch_state *ws)
{
	if (!ws) {
		a->have_watcher = false;
		return;
	}
	a->have_watcher = true;
	snprintf(a->w_state, sizeof(a->w_state), "%s", ws->state == WATCH_STATE_RUNNING ? "running" : "degraded");
	snprintf(a->w_enf, sizeof(a->w_enf), "%s",
		 ws->enforcement == WATCH_ENF_LSM ? "lsm" : ws->enforcement == WATCH_ENF_SIGNAL ? "signal" : "none");
	a->w_events = ws->counters.events;
	a->w_drops = ws->counters.drops;
	a->w_kills = ws->counters.kills + ws->counters.user_kills;
}

void attest_set_policy_hook(struct attest *a, attest_policy_fn fn, void *userdata)
{
	a->policy_hook = fn;
	a->policy_hook_ud = userdata;
}

/* ---- enrollment ---- */

static void start_enroll(struct attest *a);

static void on_enrolled(void *userdata, const struct enroll_result *res)
{
	struct attest *a = userdata;

	enroll_free(a->enroll);
	a->enroll = NULL;
	if (res->r < 0) {
		snprintf(a->enroll_state, sizeof(a->enroll_state), "failed");
		snprintf(a->enroll_error, sizeof(a->enroll_error), "%s%s%s", res->error, res->message[0] ? ": " : "",
			 res->message);
		arm(a, a->enroll_timer, backoff(a, &a->enroll_attempt));
		return;
	}
	snprintf(a->enroll_state, sizeof(a->enroll_state), "enrolled");
	a->enroll_error[0] = 0;
	if (res->nonce) {
		report_chain_set_nonce(&a->chain, res->nonce);
		report_chain_save(a->chain_path, &a->chain);
	}
	if (res->report_interval)
		a->server_interval = res->report_interval;
	arm(a, a->report_timer, 0);
	arm(a, a->events_timer, 0);
}

static void start_enroll(struct attest *a)
{
	int r;

	if (identity_enrolled(a->id) || a->enroll || !a->uplink || !a->token)
		return;
	snprintf(a->enroll_state, sizeof(a->enroll_state), "enrolling");
	r = enroll_start(a->uplink, a->id, a->root, a->token, a->server_url, a->ca, on_enrolled, a, &a->enroll);
	if (r < 0) {
		snprintf(a->enroll_error, sizeof(a->enroll_error), "cannot start: %s", strerror(-r));
		arm(a, a->enroll_timer, backoff(a, &a->enroll_attempt));
	}
}

static int on_enroll_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	start_enroll(userdata);
	return 0;
}

/* ---- life cycle ---- */

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void attest_free(struct attest *a)
{
	if (!a)
		return;
	enroll_free(a->enroll);
	policy_fetch_free(a->fetch);
	uplink_free(a->uplink);
	sd_event_source_disable_unref(a->report_timer);
	sd_event_source_disable_unref(a->events_timer);
	sd_event_source_disable_unref(a->enroll_timer);
	spool_free(a->spool);
	identity_free(a->id);
	sysroot_free(a->root);
	report_chain_clear(&a->chain);
	json_decref(a->checks);
	json_decref(a->report_in_flight);
	json_decref(a->last_sent);
	free(a->batch_ids);
	free(a->pol_name);
	free(a->pol_version);
	free(a->boot_id);
	free(a->state_dir);
	free(a->policy_dir);
	free(a->server_url);
	free(a->ca);
	free(a->pin);
	free(a->proxy);
	free(a->token);
	sd_event_unref(a->event);
	free(a);
}

static int add_timer(struct attest *a, sd_event_source **s, sd_event_time_handler_t fn)
{
	int r = sd_event_add_time(a->event, s, CLOCK_MONOTONIC, UINT64_MAX, 0, fn, a);

	if (r < 0)
		return r;
	return sd_event_source_set_enabled(*s, SD_EVENT_OFF);
}

int attest_new(sd_event *e, const struct agent_config *cfg, struct attest **ret)
{
	return attest_new_opts(e, cfg, NULL, ret);
}

int attest_new_opts(sd_event *e, const struct agent_config *cfg, const struct attest_opts *o,
		    struct attest **ret)
{
	struct attest *a;
	struct spool_stats st;
	char path[PATH_MAX];
	json_t *last;
	int r;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->event = sd_event_ref(e);
	if (o)
		a->opts = *o;
	if (!a->opts.retry_base_usec)
		a->opts.retry_base_usec = 2 * USEC_PER_SEC;
	if (!a->opts.retry_max_usec)
		a->opts.retry_max_usec = 600 * USEC_PER_SEC;
	if (!a->opts.first_report_usec)
		a->opts.first_report_usec = 30 * USEC_PER_SEC;
	if (!a->opts.batch_delay_usec)
		a->opts.batch_delay_usec = 200000;
	a->jitter = cfg->report_jitter;
	a->state_dir = xstrdup(cfg->state_dir);
	a->policy_dir = xstrdup(cfg->policy_dir);
	a->pin = xstrdup(cfg->pin_sha256);
	a->proxy = xstrdup(cfg->proxy);
	a->token = xstrdup(cfg->enroll_token);
	if (!a->state_dir || !a->policy_dir) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(a->enroll_state, sizeof(a->enroll_state), "not_enrolled");
	r = sysroot_new(a->opts.root ? a->opts.root : "/", &a->root);
	if (r < 0)
		goto fail;
	r = identity_load(a->state_dir, &a->id);
	if (r < 0)
		goto fail;
	if (identity_enrolled(a->id))
		snprintf(a->enroll_state, sizeof(a->enroll_state), "enrolled");
	/* agent.conf wins; else what `wxguard enroll` recorded; else the [enroll] drop-in. */
	a->server_url = xstrdup(cfg->server_url ? cfg->server_url :
				a->id->server_url ? a->id->server_url : cfg->enroll_server);
	a->ca = xstrdup(cfg->ca ? cfg->ca : a->id->server_ca ? a->id->server_ca : cfg->enroll_ca);
	snprintf(path, sizeof(path), "%s/spool", a->state_dir);
	r = spool_open(path, &(struct spool_limits){ .max_records = cfg->spool_max_events,
						     .max_bytes = cfg->spool_max_bytes }, &a->spool);
	if (r < 0)
		goto fail;
	snprintf(a->chain_path, sizeof(a->chain_path), "%s/%s", a->state_dir, REPORT_STATE_FILE);
	snprintf(a->last_path, sizeof(a->last_path), "%s/%s", a->state_dir, REPORT_LAST_FILE);
	r = report_chain_load(a->chain_path, &a->chain);
	if (r < 0)
		goto fail;
	last = json_load_file(a->last_path, 0, NULL);
	if (last) {
		a->last_sent = json_incref(json_object_get(last, "report"));
		a->last_sent_time = (time_t)json_integer_value(json_object_get(last, "sent"));
		a->last_accepted_time = (time_t)json_integer_value(json_object_get(last, "accepted"));
		snprintf(a->last_result, sizeof(a->last_result), "%s",
			 json_string_value(json_object_get(last, "result")) ?: "");
		json_decref(last);
	}
	if (identity_boot_id(a->root, &a->boot_id) < 0)
		a->boot_id = NULL;
	if (report_self_sha256(a->agent_sha) < 0)
		snprintf(a->agent_sha, sizeof(a->agent_sha), "%s", REPORT_ZERO_HASH);
	if (a->server_url) {
		r = uplink_new(e, &(struct uplink_opts){ .base_url = a->server_url, .ca = a->ca,
			       .pin_sha256 = a->pin, .proxy = a->proxy }, &a->uplink);
		if (r < 0)
			goto fail;
	}
	r = add_timer(a, &a->report_timer, on_report_timer);
	if (r >= 0)
		r = add_timer(a, &a->events_timer, on_events_timer);
	if (r >= 0)
		r = add_timer(a, &a->enroll_timer, on_enroll_timer);
	if (r < 0)
		goto fail;
	if (identity_enrolled(a->id)) {
		if (a->uplink) {
			arm(a, a->report_timer, a->opts.first_report_usec);
			spool_get_stats(a->spool, &st);
			if (st.depth > 0)
				arm(a, a->events_timer, 0);
		}
	} else if (a->uplink && a->token)
		arm(a, a->enroll_timer, 0);
	*ret = a;
	return 0;
fail:
	attest_free(a);
	return r;
}

/* ---- status ---- */

static json_t *status_common(const struct identity *id, const char *server)
{
	return json_pack("{s:b, s:s?, s:s?, s:b, s:s}", "enrolled", identity_enrolled(id), "device_id",
			 id->device_id, "server", server, "approved", id->approved, "public_key",
			 id->public_key_b64);
}

int attest_status_json(struct attest *a, json_t **ret)
{
	struct spool_stats st;
	uint64_t now = now_usec(a);
	json_t *o;

	spool_get_stats(a->spool, &st);
	o = status_common(a->id, a->server_url);
	if (!o)
		return -ENOMEM;
	json_object_set_new(o, "enrollment", json_pack("{s:s, s:s}", "state", a->enroll_state, "error", a->enroll_error));
	json_object_set_new(o, "report", json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I}",
		"seq", (json_int_t)a->chain.seq, "last_result", a->last_result, "last_error", a->last_error,
		"last_sent", (json_int_t)a->last_sent_time, "last_accepted", (json_int_t)a->last_accepted_time,
		"next_in_s", (json_int_t)(armed(a->report_timer) && a->next_report_usec > now ?
					   (a->next_report_usec - now) / USEC_PER_SEC : 0),
		"interval_s", (json_int_t)(a->pol_interval ? a->pol_interval :
					    a->server_interval ? a->server_interval : DEFAULT_INTERVAL_S)));
	json_object_set(o, "last_report", a->last_sent ? a->last_sent : json_null());
	json_object_set_new(o, "spool", json_pack("{s:I, s:I, s:I, s:I}", "depth", (json_int_t)st.depth, "bytes",
		(json_int_t)st.bytes, "evicted", (json_int_t)st.evicted, "corrupt", (json_int_t)st.corrupt));
	json_object_set_new(o, "events", json_pack("{s:I, s:I, s:I, s:s, s:I}", "sent", (json_int_t)a->events_sent,
		"duplicates", (json_int_t)a->events_dup, "rejected", (json_int_t)a->events_rejected,
		"last_error", a->events_error, "retry_attempt", (json_int_t)a->events_attempt));
	json_object_set_new(o, "watcher", a->have_watcher ?
		json_pack("{s:s, s:s, s:I, s:I, s:I}", "state", a->w_state, "enforcement", a->w_enf, "events",
			  (json_int_t)a->w_events, "drops", (json_int_t)a->w_drops, "kills", (json_int_t)a->w_kills) :
		json_null());
	{
		char cur[HASH_SHA256_HEX] = "";

		policy_fetch_current_sha256(a->policy_dir, cur);
		json_object_set_new(o, "policy", json_pack("{s:s?, s:s?, s:s}", "server_sha256", cur[0] ? cur : NULL,
			"wanted_sha256", a->policy_want[0] ? a->policy_want : NULL, "last_error", a->policy_error));
	}
	if (a->uplink) {
		struct uplink_info ui;

		uplink_get_info(a->uplink, &ui);
		json_object_set_new(o, "uplink", json_pack("{s:s, s:I, s:b, s:I, s:s}", "isolation",
			ui.isolation == UPLINK_ISOLATION_CHILD ? "child" : "none", "child_pid", (json_int_t)ui.child_pid,
			"child_ready", ui.child_ready, "child_starts", (json_int_t)ui.child_starts,
			"last_error", ui.last_error));
	}
	*ret = o;
	return 0;
}

int attest_status_read(const struct agent_config *cfg, json_t **ret)
{
	struct identity *id = NULL;
	struct report_chain chain;
	struct spool_stats st = { 0 };
	char path[PATH_MAX];
	json_t *o, *last;
	int r;

	/* Never create a key from a status command: only read an existing state directory. */
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, IDENTITY_KEY_FILE);
	if (access(path, R_OK) < 0)
		return -errno;
	r = identity_load(cfg->state_dir, &id);
	if (r < 0)
		return r;
	o = status_common(id, cfg->server_url ? cfg->server_url : id->server_url);
	if (!o) {
		identity_free(id);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, REPORT_STATE_FILE);
	if (report_chain_load(path, &chain) == 0)
		json_object_set_new(o, "report", json_pack("{s:I}", "seq", (json_int_t)chain.seq));
	report_chain_clear(&chain);
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, REPORT_LAST_FILE);
	last = json_load_file(path, 0, NULL);
	json_object_set(o, "last_report", last ? json_object_get(last, "report") : json_null());
	if (last) {
		json_t *rep = json_object_get(o, "report");

		if (rep) {
			json_object_set(rep, "last_result", json_object_get(last, "result"));
			json_object_set(rep, "last_sent", json_object_get(last, "sent"));
			json_object_set(rep, "last_accepted", json_object_get(last, "accepted"));
		}
	}
	json_decref(last);
	snprintf(path, sizeof(path), "%s/spool", cfg->state_dir);
	spool_stat_dir(path, &st);
	json_object_set_new(o, "spool", json_pack("{s:I, s:I, s:I, s:I}", "depth", (json_int_t)st.depth, "bytes",
		(json_int_t)st.bytes, "evicted", (json_int_t)st.evicted, "corrupt", (json_int_t)st.corrupt));
	identity_free(id);
	*ret = o;
	return 0;
}
