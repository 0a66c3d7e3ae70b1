/* Attestation reports: verify (signature, seq, nonce, clock), accept with a compare-and-swap on
 * the device, raise chain-gap and noncompliance alerts, raise and clear not_enforcing.
 * docs/protocol.md. */
#include "server/api/api_call.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/canon.h"
#include "common/hash.h"
#include "common/hex.h"
#include "server/alerts.h"

/* The stored form of {"report": ..., "signature": ...}: json_dumps(body, CANON_FLAGS), built
 * from the canonical bytes already made for the signature check instead of serializing the
 * whole body a second time (the signature is base64: nothing to escape). */
static char *envelope_text(const json_t *body, const char *canon, size_t clen, const char *sig)
{
	static const char head[] = "{\"report\":", mid[] = ",\"signature\":\"", tail[] = "\"}";
	size_t slen = strlen(sig), n = 0;
	char *out;

	if (json_object_size(body) != 2 ||
	    strspn(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") !=
		    slen)
		return json_dumps(body, CANON_FLAGS);
	out = malloc(sizeof(head) + clen + sizeof(mid) + slen + sizeof(tail));
	if (!out)
		return NULL;
	memcpy(out, head, sizeof(head) - 1);
	n += sizeof(head) - 1;
	memcpy(out + n, canon, clen);
	n += clen;
	memcpy(out + n, mid, sizeof(mid) - 1);
	n += sizeof(mid) - 1;
	memcpy(out + n, sig, slen);
	n += slen;
	memcpy(out + n, tail, sizeof(tail)); /* with the NUL */
	return out;
}

/* Enforce mode without enforcing: raised once when a device turns so (the report that turns it,
 * de-duplicated by its seq), cleared with an enforcing_restored notice when a report says it
 * enforces again or the policy left enforce mode. Reports in between change nothing: the
 * previous report's state is in the device row, read before the compare-and-swap accepted
 * this one. */
static void enforcing_alerts(struct api_call *c, const struct store_device *d,
			     const struct store_report *rp, const json_t *rep,
			     const struct store_report_ctx *ctx)
{
	const json_t *w = json_object_get(rep, "watcher");
	char text[4096], key[128];
	int r;

	if (rp->not_enforcing && !ctx->not_enforcing) {
		alert_not_enforcing_message(
			w, api_json_str(json_object_get(rep, "policy"), "name", 64), d->hostname,
			d->id, text, sizeof(text));
		snprintf(key, sizeof(key), "not_enforcing:%s:%lld", d->id, rp->seq);
		alert_raise(c->s, c->st, c->now, d->id, ALERT_NOT_ENFORCING, "high", text, key);
	} else if (!rp->not_enforcing && ctx->not_enforcing) {
		r = store_alert_clear(c->st, d->id, ALERT_NOT_ENFORCING, c->now);
		if (r < 0) {
			srv_db_error(c->s, c->st, r, "alert clear");
			return;
		}
		alert_enforcing_restored_message(w, rp->policy_mode, d->hostname, d->id, text,
						 sizeof(text));
		snprintf(key, sizeof(key), "enforcing_restored:%s:%lld", d->id, rp->seq);
		alert_raise(c->s, c->st, c->now, d->id, ALERT_ENFORCING_RESTORED, "low", text, key);
	}
}

/* After an accepted report: a gap in the hash chain, a turn to noncompliant. */
static void report_alerts(struct api_call *c, const struct store_device *d,
			  const struct store_report *rp, int prev_comp)
{
	char text[4096], key[128];

	if (rp->chain_gap) {
		atomic_fetch_add(&c->s->m.chain_gaps, 1);
		snprintf(text, sizeof(text),
			 "Device %s (%s): report seq %lld does not follow the last accepted report "
			 "(seq %lld): reports "
			 "are missing. Check whether the agent was stopped or its state reset. / "
			 "设备 %s 的报告链不连续（缺少报告），请检查代理是否被停止或状态被重置。",
			 d->hostname, d->id, rp->seq, d->last_seq, d->hostname);
		snprintf(key, sizeof(key), "chain:%s:%lld", d->id, rp->seq);
		alert_raise(c->s, c->st, c->now, d->id, ALERT_CHAIN_GAP, "medium", text, key);
	}
	if (!rp->compliant && prev_comp != 0) {
		snprintf(text, sizeof(text),
			 "Device %s (%s) turned noncompliant: failing checks %s. Ask the user to "
			 "fix them (wxguard "
			 "check shows how). / 设备 %s "
			 "变为不合规，未通过的检查：%s。请让用户修复（wxguard check 会给出方法）。",
			 d->hostname, d->id, rp->failing, d->hostname, rp->failing);
		snprintf(key, sizeof(key), "noncompliant:%s:%lld", d->id, rp->seq);
		alert_raise(c->s, c->st, c->now, d->id, ALERT_NONCOMPLIANT, "high", text, key);
	}
}

int api_report(struct api_call *c)
{
	const struct api_endpoint ep = {
		.member = "report",
		.what = "report",
		.refused = c->s->m.reports_refused,
		.unknown = "device is not enrolled: enroll again",
		.nonce = true,
		.alert = true,
	};
	struct store_device d;
	struct store_report_ctx ctx;
	struct store_report rp = { 0 };
	struct api_signed sr;
	json_t *rep, *checks, *ch, *summary = NULL, *j;
	const char *dev_id, *nonce, *prev;
	char *env_txt = NULL, *sum_txt = NULL, *watcher_txt = NULL, hash[65], new_nonce[32],
	     fail_buf[1024] = "";
	long long seq, t, interval, now = c->now;
	size_t i;
	int r = 0;

	if (!api_signed_open(c, &ep, &sr))
		goto out;
	rep = sr.obj;
	dev_id = api_json_str(rep, "device_id", 64);
	nonce = api_json_str(rep, "nonce", 64);
	prev = api_json_str(rep, "prev_hash", 64);
	checks = json_object_get(rep, "checks");
	if (!dev_id || !nonce || !hex_is_sha256(prev) || !api_json_int(rep, "seq", &seq) ||
	    seq < 0 || !api_json_int(rep, "time", &t) || !json_is_array(checks)) {
		r = api_refuse(
			c, &ep, SRV_MALFORMED,
			"report needs device_id, seq (>= 0), time, nonce, prev_hash and checks[]",
			NULL, NULL);
		goto out;
	}
	summary = json_object();
	json_array_foreach (checks, i, ch) {
		const char *id = api_json_str(ch, "id", 64),
			   *status = api_json_str(ch, "status", 32);

		if (!id || !status) {
			r = api_refuse(c, &ep, SRV_MALFORMED,
				       "every check needs an id and a status", NULL, NULL);
			goto out;
		}
		json_object_set_new(summary, id, json_string(status));
		if (strcmp(status, "fail") == 0 &&
		    strlen(fail_buf) + strlen(id) + 2 < sizeof(fail_buf)) {
			if (fail_buf[0])
				strcat(fail_buf, ",");
			strcat(fail_buf, id);
		}
	}
	if (!api_device_auth(c, &ep, &sr, dev_id, &d, &ctx))
		goto out;
	hash_sha256_buf(sr.canon, sr.canon_len, hash);
	if (seq <= d.last_seq) {
		/* An identical resend of the last accepted report (its reply was lost) is harmless.
		 */
		bool dup = seq == d.last_seq && strcmp(hash, d.last_hash) == 0;

		r = api_refuse(c, &ep, SRV_REPLAY,
			       "seq is not greater than the last accepted report",
			       json_pack("{s:s, s:I, s:b}", "nonce", d.nonce, "last_seq",
					 (json_int_t)d.last_seq, "duplicate", dup),
			       dup ? NULL : &d);
		goto out;
	}
	if (strcmp(nonce, d.nonce) != 0) {
		r = api_refuse(c, &ep, SRV_BAD_NONCE,
			       "nonce is not the one from the server's last reply",
			       json_pack("{s:s}", "nonce", d.nonce), &d);
		goto out;
	}
	if (t > now + c->s->cfg.max_skew || t < now - c->s->cfg.max_skew) {
		r = api_refuse(
			c, &ep, SRV_CLOCK_SKEW, "report time is too far from the server's clock",
			json_pack("{s:s, s:I}", "nonce", d.nonce, "server_time", (json_int_t)now),
			NULL);
		goto out;
	}

	env_txt = envelope_text(sr.body, sr.canon, sr.canon_len, sr.sig);
	sum_txt = json_dumps(summary, CANON_FLAGS);
	srv_random_b64(16, new_nonce, sizeof(new_nonce));
	rp.seq = seq;
	rp.time = t;
	rp.received = now;
	rp.new_nonce = new_nonce;
	rp.hash = hash;
	rp.body = env_txt;
	rp.checks_json = sum_txt;
	rp.failing = fail_buf;
	rp.compliant = fail_buf[0] == 0;
	rp.chain_gap = strcmp(prev, d.last_hash) != 0;
	rp.policy_sha256 = api_json_str(json_object_get(rep, "policy"), "sha256", 64);
	rp.agent_version = api_json_str(json_object_get(rep, "agent"), "version", 64);
	rp.policy_mode = api_json_str(json_object_get(rep, "policy"), "mode", 16);
	rp.not_enforcing = alert_not_enforcing(rp.policy_mode, json_object_get(rep, "watcher"));
	/* The watcher as reported (docs/protocol.md), for the fleet view; a few hundred bytes. */
	if (json_is_object(json_object_get(rep, "watcher"))) {
		watcher_txt = json_dumps(json_object_get(rep, "watcher"), CANON_FLAGS);
		if (watcher_txt && strlen(watcher_txt) > 16384) {
			free(watcher_txt);
			watcher_txt = NULL;
		}
		rp.watcher_json = watcher_txt;
	}
	if (!env_txt || !sum_txt) {
		r = api_reply_error(c->rs, SRV_UNAVAILABLE, "out of memory", NULL);
		goto out;
	}
	r = store_report_accept(c->st, &d, &rp);
	if (r == -ESTALE || r == -EEXIST) {
		r = api_refuse(c, &ep, SRV_REPLAY,
			       "another report for this device was accepted concurrently", NULL,
			       NULL);
		goto out;
	}
	if (r < 0) {
		r = api_reply_db(c, r, "report");
		goto out;
	}
	srv_db_ok(c->s);
	atomic_fetch_add(&c->s->m.reports_accepted, 1);
	report_alerts(c, &d, &rp, ctx.compliant);
	enforcing_alerts(c, &d, &rp, rep, &ctx);
	interval = ctx.policy_interval > 0 ? ctx.policy_interval : c->s->cfg.report_interval;
	j = json_pack("{s:s, s:s, s:I, s:b}", "status", "accepted", "nonce", new_nonce,
		      "report_interval", (json_int_t)interval, "chain_gap", rp.chain_gap);
	json_object_set_new(j, "policy_sha256",
			    ctx.policy_sha256[0] ? json_string(ctx.policy_sha256) : json_null());
	r = api_reply_json(c->rs, 200, j);
out:
	free(env_txt);
	free(sum_txt);
	free(watcher_txt);
	json_decref(summary);
	api_signed_close(&sr);
	return r;
}
