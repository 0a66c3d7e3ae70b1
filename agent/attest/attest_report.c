/* Reports (agent/attest/attest_internal.h): build, sign and send one; the server's reply moves
 * the chain (agent/attest/report.h) and may name a policy to fetch (agent/attest/policy_fetch.h).
 */
#include "agent/attest/attest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attest/identity.h"
#include "agent/attest/policy_fetch.h"
#include "agent/attest/spool.h"
#include "agent/uplink/uplink.h"
#include "common/sign.h"

/* ---- the policy a reply names ---- */

static void on_policy(void *userdata, int r, const char *detail, const char *path)
{
	struct attest *a = userdata;

	policy_fetch_free(a->fetch);
	a->fetch = NULL;
	if (r < 0) {
		snprintf(a->policy_error, sizeof(a->policy_error), "%s",
			 detail ? detail : strerror(-r));
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
	r = policy_fetch_start(
		a->uplink,
		&(struct policy_fetch_opts){ .policy_dir = a->policy_dir,
					     .state_dir = a->state_dir,
					     .device_id = a->id->device_id,
					     .server_public_key = a->id->server_public_key,
					     .want_sha256 = want },
		on_policy, a, &a->fetch);
	if (r < 0)
		snprintf(a->policy_error, sizeof(a->policy_error), "cannot start: %s",
			 strerror(-r));
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
	const char *nonce = y && y->nonce[0] ? y->nonce : NULL,
		   *code = y && y->error[0] ? y->error : NULL;
	uint64_t delay;

	if (!resp->err && resp->status == 200 && !(y && y->valid)) {
		/* Accepted, but the reply is unusable (no nonce, bad fields): like a server error.
		 */
		snprintf(a->last_result, sizeof(a->last_result), "bad_reply");
		snprintf(a->last_error, sizeof(a->last_error),
			 "HTTP 200 with a malformed reply: %.200s", y ? y->invalid : "no reply");
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
			snprintf(a->last_error, sizeof(a->last_error),
				 "HTTP %ld: %.160s (server's last seq %lld%s)", resp->status,
				 y->message, (long long)y->last_seq,
				 y->duplicate ? ", duplicate" : "");
		else
			snprintf(a->last_error, sizeof(a->last_error), "HTTP %ld: %.200s",
				 resp->status, y ? y->message : "");
		if (nonce) {
			report_chain_set_nonce(&a->chain, nonce);
			report_chain_save(a->chain_path, &a->chain);
		}
		/* A stale nonce, a clock or sequence problem: try again soon with what the server
		 * said. The device's standing (unknown, revoked, not approved): the normal
		 * interval. */
		if (code && (!strcmp(code, "bad_nonce") || !strcmp(code, "replay") ||
			     !strcmp(code, "clock_skew") || !strcmp(code, "bad_signature") ||
			     !strcmp(code, "malformed")))
			delay = backoff(a, &a->report_attempt);
		else
			delay = interval_usec(a);
	} else {
		snprintf(a->last_result, sizeof(a->last_result), "%s",
			 resp->err ? "unreachable" : "server_error");
		if (resp->err)
			snprintf(a->last_error, sizeof(a->last_error), "%s", resp->error);
		else
			snprintf(a->last_error, sizeof(a->last_error), "HTTP %ld", resp->status);
		delay = backoff(a, &a->report_attempt);
	}
	json_decref(a->report_in_flight);
	a->report_in_flight = NULL;
	attest_status_save_last(a);
	if (a->report_pending) {
		a->report_pending = false;
		if (a->report_attempt == 0)
			delay = 0;
	}
	arm(a, a->report_timer, delay);
}

static void send_report(struct attest *a)
{
	struct report_watcher w = { .state = a->w_state,
				    .enforcement = a->w_enf,
				    .events = a->w_events,
				    .drops = a->w_drops,
				    .kills = a->w_kills,
				    .ladder = &a->w_ladder };
	struct policy pol = { 0 };
	struct spool_stats st;
	json_t *rep = NULL, *env = NULL;
	const char *step;
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
	if (r < 0) {
		step = "cannot take the next seq";
		goto fail;
	}
	if (a->have_policy) {
		pol.name = a->pol_name;
		pol.version = a->pol_version;
		pol.mode = a->pol_mode;
		memcpy(pol.sha256, a->pol_sha, sizeof(pol.sha256));
	}
	spool_get_stats(a->spool, &st);
	r = report_build(&(struct report_input){ .device_id = a->id->device_id,
						 .seq = seq,
						 .boot_id = a->boot_id,
						 .time = time(NULL),
						 .nonce = a->chain.nonce,
						 .prev_hash = a->chain.prev_hash,
						 .agent_version = WXG_VERSION,
						 .agent_sha256 = a->agent_sha,
						 .policy = a->have_policy ? &pol : NULL,
						 .checks_json = a->checks,
						 .watcher = a->have_watcher ? &w : NULL,
						 .spool_depth = st.depth,
						 .spool_evicted = st.evicted },
			 &rep);
	if (r < 0) {
		step = "cannot build the report";
		goto fail;
	}
	r = sign_envelope(a->id->key, "report", rep, &env);
	if (r < 0) {
		step = "cannot sign the report";
		goto fail;
	}
	text = json_dumps(env, JSON_COMPACT);
	if (!text) {
		r = -ENOMEM;
		step = "cannot serialize the report";
		goto fail;
	}
	r = uplink_request_typed(a->uplink, UPLINK_REPLY_REPORT, "POST", "/api/v1/report", NULL,
				 text, strlen(text), on_report_reply, a);
	if (r < 0) {
		step = "cannot send the report";
		goto fail;
	}
	a->report_in_flight = rep;
	json_decref(a->last_sent);
	a->last_sent = env;
	a->last_sent_time = time(NULL);
	snprintf(a->last_result, sizeof(a->last_result), "sending");
	attest_status_save_last(a);
	free(text);
	return;
fail:
	snprintf(a->last_result, sizeof(a->last_result), "not_sent");
	snprintf(a->last_error, sizeof(a->last_error), "%s: %s", step, strerror(-r));
	json_decref(rep);
	json_decref(env);
	free(text);
	arm(a, a->report_timer, backoff(a, &a->report_attempt));
}

int attest_report_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
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
