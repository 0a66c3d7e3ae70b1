/* The attestation loop's facade (agent/attest/attest.h): life cycle, the agent's inputs (checks,
 * watcher state, policy hook) and enrollment. Reports, events and status are its parts
 * (agent/attest/attest_internal.h), which never call back into this file. */
#include "agent/attest/attest.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attest/attest_internal.h"
#include "agent/attest/enroll.h"
#include "agent/attest/identity.h"
#include "agent/attest/policy_fetch.h"
#include "agent/attest/report.h"
#include "agent/attest/spool.h"
#include "agent/host/sysroot.h"
#include "agent/uplink/uplink.h"

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
		char *n = p->name ? strdup(p->name) : NULL,
		     *v = p->version ? strdup(p->version) : NULL;

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
	snprintf(a->w_state, sizeof(a->w_state), "%s", watch_run_state_to_string(ws->state));
	snprintf(a->w_enf, sizeof(a->w_enf), "%s", watch_enforcement_to_string(ws->enforcement));
	a->w_events = ws->counters.events;
	a->w_drops = ws->counters.drops;
	a->w_kills = ws->counters.kills + ws->counters.user_kills;
	a->w_ladder = *ws;
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
		snprintf(a->enroll_error, sizeof(a->enroll_error), "%s%s%s", res->error,
			 res->message[0] ? ": " : "", res->message);
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
	r = enroll_start(a->uplink, a->id, a->root, a->token, a->server_url, a->ca, on_enrolled, a,
			 &a->enroll);
	if (r < 0) {
		snprintf(a->enroll_error, sizeof(a->enroll_error), "cannot start: %s",
			 strerror(-r));
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
	a->server_url = xstrdup(cfg->server_url     ? cfg->server_url
				: a->id->server_url ? a->id->server_url
						    : cfg->enroll_server);
	a->ca = xstrdup(cfg->ca ? cfg->ca : a->id->server_ca ? a->id->server_ca : cfg->enroll_ca);
	snprintf(path, sizeof(path), "%s/spool", a->state_dir);
	r = spool_open(path,
		       &(struct spool_limits){ .max_records = cfg->spool_max_events,
					       .max_bytes = cfg->spool_max_bytes },
		       &a->spool);
	if (r < 0)
		goto fail;
	snprintf(a->chain_path, sizeof(a->chain_path), "%s/%s", a->state_dir, REPORT_STATE_FILE);
	snprintf(a->last_path, sizeof(a->last_path), "%s/%s", a->state_dir, REPORT_LAST_FILE);
	r = report_chain_load(a->chain_path, &a->chain);
	if (r < 0)
		goto fail;
	attest_status_load_last(a);
	if (identity_boot_id(a->root, &a->boot_id) < 0)
		a->boot_id = NULL;
	if (report_self_sha256(a->agent_sha) < 0)
		snprintf(a->agent_sha, sizeof(a->agent_sha), "%s", REPORT_ZERO_HASH);
	if (a->server_url) {
		r = uplink_new(e,
			       &(struct uplink_opts){ .base_url = a->server_url,
						      .ca = a->ca,
						      .pin_sha256 = a->pin,
						      .proxy = a->proxy },
			       &a->uplink);
		if (r < 0)
			goto fail;
	}
	r = add_timer(a, &a->report_timer, attest_report_on_timer);
	if (r < 0)
		goto fail;
	r = add_timer(a, &a->events_timer, attest_events_on_timer);
	if (r < 0)
		goto fail;
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
