/* Request handlers: enrollment, reports, events, policy, admin, metrics, dashboard. */
#include "server/api.h"

#include <errno.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/b64.h"
#include "common/canon.h"
#include "common/hash.h"
#include "common/sign.h"
#include "common/hex.h"
#include "server/alerts.h"
#include "server/dashboard.h"
#include "server/store/store.h"

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* ---- replies ---- */

static int reply_json(struct api_response *rs, int status, json_t *j)
{
	rs->status = status;
	rs->content_type = "application/json";
	rs->body = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	if (!rs->body) {
		rs->status = 500;
		rs->body = strdup("{\"error\":\"internal\",\"message\":\"out of memory\"}");
		if (!rs->body)
			return -ENOMEM;
	}
	rs->body_len = strlen(rs->body);
	return 0;
}

/* extra (may be NULL) is merged into the error object. */
static int reply_error(struct api_response *rs, enum srv_reason why, const char *message, json_t *extra)
{
	json_t *j = json_pack("{s:s, s:s}", "error", srv_reason_code(why), "message", message);

	if (j && extra)
		json_object_update(j, extra);
	json_decref(extra);
	return reply_json(rs, srv_reason_status(why), j);
}

static int reply_db(struct srv *s, struct store *st, struct api_response *rs, int r, const char *what)
{
	srv_db_error(s, st, r, what);
	return reply_error(rs, SRV_UNAVAILABLE, "database unavailable, retry later", NULL);
}

/* ---- parsing helpers ---- */

static json_t *parse_body(const struct api_request *rq, struct api_response *rs)
{
	json_error_t err;
	json_t *j;
	char msg[256];

	j = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", err.line, err.column, err.text);
		reply_error(rs, SRV_MALFORMED, msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		reply_error(rs, SRV_MALFORMED, "body must be a JSON object", NULL);
		return NULL;
	}
	return j;
}

static const char *get_str(const json_t *o, const char *key, size_t maxlen)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v && strlen(v) <= maxlen ? v : NULL;
}

static bool get_int(const json_t *o, const char *key, long long *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*ret = json_integer_value(v);
	return true;
}

/* Parse {"<member>": {...}, "signature": "..."}: the signed object and its canonical bytes. */
static enum srv_reason parse_envelope(json_t *body, const char *member, json_t **obj, const char **sig,
				      char **canon, size_t *canon_len, const char **why)
{
	int r;

	*obj = json_object_get(body, member);
	*sig = json_string_value(json_object_get(body, "signature"));
	if (!json_is_object(*obj)) {
		*why = "the signed object is missing";
		return SRV_MALFORMED;
	}
	if (!*sig) {
		*why = "signature is missing";
		return SRV_MALFORMED;
	}
	r = canon_dump(*obj, canon, canon_len);
	if (r == -EINVAL) {
		*why = "real numbers are not allowed in signed objects";
		return SRV_MALFORMED;
	}
	if (r < 0) {
		*why = "the signed object is too deep";
		return SRV_MALFORMED;
	}
	return SRV_OK;
}

/* The stored form of {"report": ..., "signature": ...}: json_dumps(body, CANON_FLAGS), built
 * from the canonical bytes already made for the signature check instead of serializing the
 * whole body a second time (the signature is base64: nothing to escape). */
static char *envelope_text(const json_t *body, const char *canon, size_t clen, const char *sig)
{
	static const char head[] = "{\"report\":", mid[] = ",\"signature\":\"", tail[] = "\"}";
	size_t slen = strlen(sig), n = 0;
	char *out;

	if (json_object_size(body) != 2 || strspn(sig, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != slen)
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
	memcpy(out + n, tail, sizeof(tail));   /* with the NUL */
	return out;
}

/* ---- enrollment ---- */

static void challenge_mac(struct srv *s, const char *msg, char hex[65])
{
	unsigned char mac[32];
	unsigned len = sizeof(mac);

	HMAC(EVP_sha256(), s->enroll_secret, sizeof(s->enroll_secret), (const unsigned char *)msg, strlen(msg),
	     mac, &len);
	hash_to_hex(mac, 32, hex);
}

int api_challenge_make(struct srv *s, long long now, char *out, size_t outlen)
{
	char rnd[33], msg[96], mac[65];

	srv_random_hex(rnd, 16);
	snprintf(msg, sizeof(msg), "wxguard-enroll-v1:%lld.%s", now + s->cfg.challenge_ttl, rnd);
	challenge_mac(s, msg, mac);
	if ((size_t)snprintf(out, outlen, "%lld.%s.%s", now + s->cfg.challenge_ttl, rnd, mac) >= outlen)
		return -ENOBUFS;
	return 0;
}

int api_challenge_check(struct srv *s, const char *challenge, long long now)
{
	char msg[96], mac[65], rnd[33];
	const char *dot1, *dot2;
	long long exp;
	char *end;

	if (!challenge || strlen(challenge) > 120)
		return -EINVAL;
	dot1 = strchr(challenge, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || dot2 - dot1 - 1 != 32 || strlen(dot2 + 1) != 64)
		return -EINVAL;
	exp = strtoll(challenge, &end, 10);
	if (end != dot1)
		return -EINVAL;
	memcpy(rnd, dot1 + 1, 32);
	rnd[32] = 0;
	snprintf(msg, sizeof(msg), "wxguard-enroll-v1:%lld.%s", exp, rnd);
	challenge_mac(s, msg, mac);
	if (CRYPTO_memcmp(mac, dot2 + 1, 64) != 0)
		return -EINVAL;
	if (exp < now)
		return -ETIMEDOUT;
	return 0;
}

static long long current_interval(struct srv *s, struct store *st, char *sha, size_t shalen)
{
	json_t *p;
	long long iv = s->cfg.report_interval;

	if (sha)
		sha[0] = 0;
	if (store_policy_current(st, &p) == 0) {
		json_t *v = json_object_get(p, "report_interval");

		if (json_is_integer(v) && json_integer_value(v) > 0)
			iv = json_integer_value(v);
		if (sha)
			snprintf(sha, shalen, "%s", json_string_value(json_object_get(p, "sha256")) ?: "");
		json_decref(p);
	}
	return iv;
}

static int handle_challenge(struct srv *s, struct api_response *rs, long long now)
{
	char c[160];

	if (api_challenge_make(s, now, c, sizeof(c)) < 0)
		return reply_error(rs, SRV_UNAVAILABLE, "cannot make a challenge", NULL);
	return reply_json(rs, 200, json_pack("{s:s, s:I}", "challenge", c, "expires",
					     (json_int_t)(now + s->cfg.challenge_ttl)));
}

static int enroll_refuse(struct srv *s, struct api_response *rs, enum srv_reason why, const char *msg)
{
	atomic_fetch_add(&s->m.enrolls_refused[why], 1);
	return reply_error(rs, why, msg, NULL);
}

static int handle_enroll(struct srv *s, struct store *st, const struct api_request *rq, struct api_response *rs,
			 long long now)
{
	struct store_device d = { 0 };
	json_t *body, *en, *facts;
	const char *sig, *why = NULL, *token, *pub, *challenge, *host;
	char *canon = NULL, *facts_txt = NULL, tok_sha[65], token_id[17];
	size_t clen;
	bool hold;
	enum srv_reason rr;
	int r;

	body = parse_body(rq, rs);
	if (!body) {
		atomic_fetch_add(&s->m.enrolls_refused[SRV_MALFORMED], 1);
		return 0;
	}
	rr = parse_envelope(body, "enroll", &en, &sig, &canon, &clen, &why);
	if (rr != SRV_OK) {
		r = enroll_refuse(s, rs, rr, why);
		goto out;
	}
	token = get_str(en, "token", 256);
	pub = get_str(en, "public_key", 64);
	challenge = get_str(en, "challenge", 200);
	facts = json_object_get(en, "facts");
	if (!token || !pub || !challenge || (facts && !json_is_object(facts))) {
		r = enroll_refuse(s, rs, SRV_MALFORMED, "enroll needs token, challenge, public_key and facts");
		goto out;
	}
	r = sign_verify_b64(pub, canon, clen, sig);
	if (r == -EINVAL) {
		r = enroll_refuse(s, rs, SRV_MALFORMED, "public_key is not a base64 Ed25519 key");
		goto out;
	}
	if (r < 0) {
		r = enroll_refuse(s, rs, SRV_BAD_SIGNATURE, "signature does not verify with public_key");
		goto out;
	}
	r = api_challenge_check(s, challenge, now);
	if (r < 0) {
		r = enroll_refuse(s, rs, SRV_BAD_CHALLENGE, r == -ETIMEDOUT ? "challenge expired: ask for a new one"
									 : "challenge is not one this server made");
		goto out;
	}
	hash_sha256_buf(token, strlen(token), tok_sha);
	host = facts ? get_str(facts, "hostname", 255) : NULL;
	facts_txt = facts ? json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	srv_uuid(d.id);
	snprintf(d.public_key, sizeof(d.public_key), "%s", pub);
	snprintf(d.hostname, sizeof(d.hostname), "%s", host ? host : "");
	d.last_seq = -1;
	snprintf(d.last_hash, sizeof(d.last_hash), "%s", zero_hash);
	srv_random_b64(16, d.nonce, sizeof(d.nonce));
	d.report_interval = current_interval(s, st, NULL, 0);

	r = store_begin(st);
	if (r < 0) {
		r = reply_db(s, st, rs, r, "enroll");
		goto out;
	}
	r = store_token_consume(st, tok_sha, now, token_id, &hold);
	if (r == -EACCES) {
		store_rollback(st);
		r = enroll_refuse(s, rs, SRV_BAD_TOKEN, "enrollment token unknown, revoked, expired or used up");
		goto out;
	}
	if (r == 0) {
		snprintf(d.status, sizeof(d.status), "%s", hold ? "pending" : "approved");
		r = store_device_create(st, &d, token_id, facts_txt, now);
	}
	if (r == -EEXIST) {
		store_rollback(st);
		r = enroll_refuse(s, rs, SRV_CONFLICT, "this public key is already enrolled");
		goto out;
	}
	if (r == 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		r = reply_db(s, st, rs, r, "enroll");
		goto out;
	}
	srv_db_ok(s);
	atomic_fetch_add(&s->m.enrolls_accepted, 1);
	r = reply_json(rs, 200, json_pack("{s:s, s:s, s:s, s:I, s:b}", "device_id", d.id, "nonce", d.nonce,
					  "server_public_key", s->public_key_b64, "report_interval",
					  (json_int_t)d.report_interval, "approved", !hold));
out:
	free(canon);
	free(facts_txt);
	json_decref(body);
	return r;
}

/* ---- reports ---- */

static int report_refuse(struct srv *s, struct store *st, struct api_response *rs, enum srv_reason why,
			 const char *msg, json_t *extra, const struct store_device *d, long long now)
{
	atomic_fetch_add(&s->m.reports_refused[why], 1);
	if (d && (why == SRV_BAD_SIGNATURE || why == SRV_REPLAY || why == SRV_BAD_NONCE)) {
		char text[4096], key[128];

		snprintf(text, sizeof(text),
			 "Report from device %s (%s) failed verification: %s (%s). A cloned device identity or "
			 "tampering is possible: check the device and revoke it if in doubt. / 设备 %s 的报告验证失败 (%s)：可能是设备身份被克隆或报告被篡改，请检查设备，必要时吊销。",
			 d->hostname, d->id, srv_reason_code(why), msg, d->hostname, srv_reason_code(why));
		snprintf(key, sizeof(key), "verify:%s:%s:%lld", d->id, srv_reason_code(why), now / 3600);
		alert_raise(s, st, now, d->id, ALERT_VERIFY, "high", text, key);
	}
	return reply_error(rs, why, msg, extra);
}

static int handle_report(struct srv *s, struct store *st, const struct api_request *rq, struct api_response *rs,
			 long long now)
{
	struct store_device d;
	struct store_report_ctx ctx;
	struct store_report rp = { 0 };
	json_t *body, *rep, *checks, *c, *summary = NULL;
	const char *sig, *why = NULL, *dev_id, *nonce, *prev;
	char *canon = NULL, *env_txt = NULL, *sum_txt = NULL, hash[65], new_nonce[32], fail_buf[1024] = "";
	long long seq, t, interval;
	size_t clen, i;
	enum srv_reason rr;
	int r, prev_comp;

	body = parse_body(rq, rs);
	if (!body) {
		atomic_fetch_add(&s->m.reports_refused[SRV_MALFORMED], 1);
		return 0;
	}
	rr = parse_envelope(body, "report", &rep, &sig, &canon, &clen, &why);
	if (rr != SRV_OK) {
		r = report_refuse(s, st, rs, rr, why, NULL, NULL, now);
		goto out;
	}
	dev_id = get_str(rep, "device_id", 64);
	nonce = get_str(rep, "nonce", 64);
	prev = get_str(rep, "prev_hash", 64);
	checks = json_object_get(rep, "checks");
	if (!dev_id || !nonce || !hex_is_sha256(prev) || !get_int(rep, "seq", &seq) || seq < 0 || !get_int(rep, "time", &t) ||
	    !json_is_array(checks)) {
		r = report_refuse(s, st, rs, SRV_MALFORMED,
				  "report needs device_id, seq (>= 0), time, nonce, prev_hash and checks[]", NULL, NULL, now);
		goto out;
	}
	summary = json_object();
	json_array_foreach(checks, i, c) {
		const char *id = get_str(c, "id", 64), *status = get_str(c, "status", 32);

		if (!id || !status) {
			r = report_refuse(s, st, rs, SRV_MALFORMED, "every check needs an id and a status", NULL, NULL, now);
			goto out;
		}
		json_object_set_new(summary, id, json_string(status));
		if (strcmp(status, "fail") == 0 && strlen(fail_buf) + strlen(id) + 2 < sizeof(fail_buf)) {
			if (fail_buf[0])
				strcat(fail_buf, ",");
			strcat(fail_buf, id);
		}
	}

	r = store_device_get_for_report(st, dev_id, &d, &ctx);
	if (r == -ENOENT) {
		r = report_refuse(s, st, rs, SRV_UNKNOWN_DEVICE, "device is not enrolled: enroll again", NULL, NULL, now);
		goto out;
	}
	if (r < 0) {
		r = reply_db(s, st, rs, r, "report");
		goto out;
	}
	r = sign_verify_b64(d.public_key, canon, clen, sig);
	if (r < 0) {
		r = report_refuse(s, st, rs, SRV_BAD_SIGNATURE, "signature does not verify with the enrolled key",
				  NULL, &d, now);
		goto out;
	}
	/* From here the sender holds the device key: refusals may carry the current nonce. */
	if (strcmp(d.status, "revoked") == 0) {
		r = report_refuse(s, st, rs, SRV_REVOKED, "device was revoked by an administrator", NULL, NULL, now);
		goto out;
	}
	if (strcmp(d.status, "approved") != 0) {
		r = report_refuse(s, st, rs, SRV_NOT_APPROVED, "device waits for approval by an administrator",
				  json_pack("{s:s}", "nonce", d.nonce), NULL, now);
		goto out;
	}
	hash_sha256_buf(canon, clen, hash);
	if (seq <= d.last_seq) {
		/* An identical resend of the last accepted report (its reply was lost) is harmless. */
		bool dup = seq == d.last_seq && strcmp(hash, d.last_hash) == 0;

		r = report_refuse(s, st, rs, SRV_REPLAY, "seq is not greater than the last accepted report",
				  json_pack("{s:s, s:I, s:b}", "nonce", d.nonce, "last_seq", (json_int_t)d.last_seq,
					    "duplicate", dup), dup ? NULL : &d, now);
		goto out;
	}
	if (strcmp(nonce, d.nonce) != 0) {
		r = report_refuse(s, st, rs, SRV_BAD_NONCE, "nonce is not the one from the server's last reply",
				  json_pack("{s:s}", "nonce", d.nonce), &d, now);
		goto out;
	}
	if (t > now + s->cfg.max_skew || t < now - s->cfg.max_skew) {
		r = report_refuse(s, st, rs, SRV_CLOCK_SKEW, "report time is too far from the server's clock",
				  json_pack("{s:s, s:I}", "nonce", d.nonce, "server_time", (json_int_t)now), NULL, now);
		goto out;
	}

	prev_comp = ctx.compliant;
	env_txt = envelope_text(body, canon, clen, sig);
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
	rp.policy_sha256 = get_str(json_object_get(rep, "policy"), "sha256", 64);
	rp.agent_version = get_str(json_object_get(rep, "agent"), "version", 64);
	if (!env_txt || !sum_txt) {
		r = reply_error(rs, SRV_UNAVAILABLE, "out of memory", NULL);
		goto out;
	}
	r = store_report_accept(st, &d, &rp);
	if (r == -ESTALE || r == -EEXIST) {
		r = report_refuse(s, st, rs, SRV_REPLAY, "another report for this device was accepted concurrently",
				  NULL, NULL, now);
		goto out;
	}
	if (r < 0) {
		r = reply_db(s, st, rs, r, "report");
		goto out;
	}
	srv_db_ok(s);
	atomic_fetch_add(&s->m.reports_accepted, 1);

	if (rp.chain_gap) {
		char text[4096], key[128];

		atomic_fetch_add(&s->m.chain_gaps, 1);
		snprintf(text, sizeof(text),
			 "Device %s (%s): report seq %lld does not follow the last accepted report (seq %lld): reports "
			 "are missing. Check whether the agent was stopped or its state reset. / 设备 %s 的报告链不连续（缺少报告），请检查代理是否被停止或状态被重置。",
			 d.hostname, d.id, seq, d.last_seq, d.hostname);
		snprintf(key, sizeof(key), "chain:%s:%lld", d.id, seq);
		alert_raise(s, st, now, d.id, ALERT_CHAIN_GAP, "medium", text, key);
	}
	if (!rp.compliant && prev_comp != 0) {
		char text[4096], key[128];

		snprintf(text, sizeof(text),
			 "Device %s (%s) turned noncompliant: failing checks %s. Ask the user to fix them (wxguard "
			 "check shows how). / 设备 %s 变为不合规，未通过的检查：%s。请让用户修复（wxguard check 会给出方法）。",
			 d.hostname, d.id, fail_buf, d.hostname, fail_buf);
		snprintf(key, sizeof(key), "noncompliant:%s:%lld", d.id, seq);
		alert_raise(s, st, now, d.id, ALERT_NONCOMPLIANT, "high", text, key);
	}
	interval = ctx.policy_interval > 0 ? ctx.policy_interval : s->cfg.report_interval;
	{
		json_t *j = json_pack("{s:s, s:s, s:I, s:b}", "status", "accepted", "nonce", new_nonce, "report_interval",
				      (json_int_t)interval, "chain_gap", rp.chain_gap);

		json_object_set_new(j, "policy_sha256", ctx.policy_sha256[0] ? json_string(ctx.policy_sha256) : json_null());
		r = reply_json(rs, 200, j);
	}
out:
	free(canon);
	free(env_txt);
	free(sum_txt);
	json_decref(summary);
	json_decref(body);
	return r;
}

/* ---- events ---- */

/* The event's time: integer "time" (unix seconds), else "ts" as the watcher writes it
 * (docs/events.md: RFC 3339 UTC, "2026-11-22T06:38:06.989903Z"). */
static bool event_time(const json_t *ev, long long *ret)
{
	const char *ts = json_string_value(json_object_get(ev, "ts"));
	struct tm tm = { 0 };
	const char *rest;

	if (get_int(ev, "time", ret))
		return true;
	if (!ts || !(rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm)))
		return false;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return false;
	*ret = (long long)timegm(&tm);
	return true;
}

static int events_refuse(struct srv *s, struct api_response *rs, enum srv_reason why, const char *msg)
{
	atomic_fetch_add(&s->m.events_refused[why], 1);
	return reply_error(rs, why, msg, NULL);
}

#define MAX_EVENTS_PER_BATCH 1000

static int handle_events(struct srv *s, struct store *st, const struct api_request *rq, struct api_response *rs,
			 long long now)
{
	struct store_device d;
	json_t *body, *batch, *events, *ev, *alerts = NULL;
	const char *sig, *why = NULL, *dev_id;
	char *canon = NULL;
	size_t clen, i;
	long long accepted = 0, dups = 0;
	enum srv_reason rr;
	int r;

	body = parse_body(rq, rs);
	if (!body) {
		atomic_fetch_add(&s->m.events_refused[SRV_MALFORMED], 1);
		return 0;
	}
	rr = parse_envelope(body, "batch", &batch, &sig, &canon, &clen, &why);
	if (rr != SRV_OK) {
		r = events_refuse(s, rs, rr, why);
		goto out;
	}
	dev_id = get_str(batch, "device_id", 64);
	events = json_object_get(batch, "events");
	if (!dev_id || !json_is_array(events) || json_array_size(events) > MAX_EVENTS_PER_BATCH) {
		r = events_refuse(s, rs, SRV_MALFORMED, "batch needs device_id and events[] (at most 1000)");
		goto out;
	}
	json_array_foreach(events, i, ev) {
		long long et;

		if (!get_str(ev, "uuid", 64) || !get_str(ev, "type", 64) || !event_time(ev, &et)) {
			r = events_refuse(s, rs, SRV_MALFORMED,
					  "every event needs uuid, type and time (integer) or ts (RFC 3339)");
			goto out;
		}
	}
	r = store_device_get(st, dev_id, &d);
	if (r == -ENOENT) {
		r = events_refuse(s, rs, SRV_UNKNOWN_DEVICE, "device is not enrolled");
		goto out;
	}
	if (r < 0) {
		r = reply_db(s, st, rs, r, "events");
		goto out;
	}
	if (sign_verify_b64(d.public_key, canon, clen, sig) < 0) {
		r = events_refuse(s, rs, SRV_BAD_SIGNATURE, "signature does not verify with the enrolled key");
		goto out;
	}
	if (strcmp(d.status, "revoked") == 0) {
		r = events_refuse(s, rs, SRV_REVOKED, "device was revoked by an administrator");
		goto out;
	}
	if (strcmp(d.status, "approved") != 0) {
		r = events_refuse(s, rs, SRV_NOT_APPROVED, "device waits for approval by an administrator");
		goto out;
	}
	alerts = json_array();
	r = store_begin(st);
	for (i = 0; r >= 0 && i < json_array_size(events); i++) {
		char *txt;
		long long et = 0;

		ev = json_array_get(events, i);
		event_time(ev, &et);
		txt = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
		if (!txt) {
			r = -ENOMEM;
			break;
		}
		r = store_event_insert(st, d.id, get_str(ev, "uuid", 64), et, now, get_str(ev, "type", 64), txt);
		free(txt);
		if (r == 1) {
			struct alert_event ae;

			accepted++;
			if (alert_event_classify(ev, &ae))
				json_array_append(alerts, ev);
		} else if (r == 0) {
			dups++;
		}
	}
	if (r >= 0)
		r = store_commit(st);
	if (r < 0) {
		store_rollback(st);
		r = reply_db(s, st, rs, r, "events");
		goto out;
	}
	srv_db_ok(s);
	atomic_fetch_add(&s->m.events_accepted, (unsigned long long)accepted);
	atomic_fetch_add(&s->m.events_duplicate, (unsigned long long)dups);
	json_array_foreach(alerts, i, ev) {
		struct alert_event ae;
		char text[4096], key[160];

		alert_event_classify(ev, &ae);
		alert_event_message(ev, &ae, d.hostname, d.id, text, sizeof(text));
		alert_event_key(ev, &ae, d.id, now, key, sizeof(key));
		alert_raise(s, st, now, d.id, ae.rule, ae.severity, text, key);
	}
	r = reply_json(rs, 200, json_pack("{s:I, s:I}", "accepted", (json_int_t)accepted, "duplicates", (json_int_t)dups));
out:
	json_decref(alerts);
	free(canon);
	json_decref(body);
	return r;
}

/* ---- policy ---- */

struct policy_meta {
	char name[128], version[64];
	long long interval;
};

static int policy_ini(void *user, const char *section, const char *name, const char *value)
{
	struct policy_meta *m = user;

	if (strcmp(section, "policy") != 0)
		return 1;
	if (strcmp(name, "name") == 0)
		snprintf(m->name, sizeof(m->name), "%s", value);
	else if (strcmp(name, "version") == 0)
		snprintf(m->version, sizeof(m->version), "%s", value);
	else if (strcmp(name, "report_interval") == 0)
		srv_parse_duration(value, &m->interval);
	return 1;
}

int api_policy_upload(struct srv *s, struct store *st, const char *text, size_t len, long long now, json_t **ret)
{
	struct policy_meta m = { .interval = 0 };
	char sha[65], *sig = NULL, *copy;
	int r;

	if (len == 0 || memchr(text, 0, len))
		return -EINVAL;
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	r = ini_parse_string(copy, policy_ini, &m);
	if (r != 0) {
		free(copy);
		return r > 0 ? r : -EINVAL;   /* positive: the bad line */
	}
	hash_sha256_buf(text, len, sha);
	r = sign_data_b64(s->key, text, len, &sig);
	if (r == 0)
		r = store_policy_put(st, sha, m.name, m.version, copy, sig, m.interval, now);
	if (r == 0)
		*ret = json_pack("{s:s, s:s, s:s, s:s}", "name", m.name, "version", m.version, "sha256", sha,
				 "signature", sig);
	free(sig);
	free(copy);
	return r;
}

static int handle_policy(struct srv *s, struct store *st, const struct api_request *rq, struct api_response *rs)
{
	struct store_device d;
	json_t *p;
	int r;

	if (!rq->device)
		return reply_error(rs, SRV_MALFORMED, "X-Wxguard-Device header is missing", NULL);
	r = store_device_get(st, rq->device, &d);
	if (r == -ENOENT)
		return reply_error(rs, SRV_UNKNOWN_DEVICE, "device is not enrolled", NULL);
	if (r < 0)
		return reply_db(s, st, rs, r, "policy");
	if (strcmp(d.status, "revoked") == 0)
		return reply_error(rs, SRV_REVOKED, "device was revoked by an administrator", NULL);
	r = store_policy_current(st, &p);
	if (r == -ENOENT)
		return reply_error(rs, SRV_NOT_FOUND, "no policy uploaded yet (wxguard-server policy upload FILE)", NULL);
	if (r < 0)
		return reply_db(s, st, rs, r, "policy");
	json_object_del(p, "uploaded");
	return reply_json(rs, 200, p);
}

/* ---- admin ---- */

int api_token_create(struct srv *s, struct store *st, long long uses, long long ttl, bool hold, long long now,
		     json_t **ret)
{
	char id[17], secret[128], rnd[65], sha[65];
	int r;

	if (uses < 1 || ttl < 1)
		return -EINVAL;
	srv_random_hex(id, 8);
	srv_random_hex(rnd, 24);
	snprintf(secret, sizeof(secret), "wxe_%s_%s", id, rnd);
	hash_sha256_buf(secret, strlen(secret), sha);
	r = store_token_create(st, id, sha, uses, now + ttl, hold, now);
	if (r < 0)
		return r;
	*ret = json_pack("{s:s, s:s, s:I, s:I, s:b}", "id", id, "token", secret, "uses", (json_int_t)uses, "expires",
			 (json_int_t)(now + ttl), "hold", hold);
	return *ret ? 0 : -ENOMEM;
}

static bool admin_ok(struct srv *s, const struct api_request *rq)
{
	char sha[65];
	const char *a = rq->authorization;

	if (!a || strncmp(a, "Bearer ", 7) != 0)
		return false;
	hash_sha256_buf(a + 7, strlen(a + 7), sha);
	return CRYPTO_memcmp(sha, s->admin_sha256, 64) == 0;
}

/* Value of key in a query string into out (no %-decoding beyond %XX). */
static bool query_get(const char *q, const char *key, char *out, size_t outlen)
{
	size_t kl = strlen(key);

	while (q && *q) {
		const char *amp = strchr(q, '&'), *end = amp ? amp : q + strlen(q);

		if ((size_t)(end - q) > kl && strncmp(q, key, kl) == 0 && q[kl] == '=') {
			size_t o = 0;

			for (const char *p = q + kl + 1; p < end && o + 1 < outlen; p++) {
				unsigned x;

				if (*p == '%' && end - p >= 3 && sscanf(p + 1, "%2x", &x) == 1) {
					out[o++] = (char)x;
					p += 2;
				} else {
					out[o++] = *p == '+' ? ' ' : *p;
				}
			}
			out[o] = 0;
			return true;
		}
		q = amp ? amp + 1 : NULL;
	}
	return false;
}

static long long query_int(const char *q, const char *key, long long dflt, long long max)
{
	char buf[32];
	long long v;

	if (!query_get(q, key, buf, sizeof(buf)))
		return dflt;
	v = atoll(buf);
	return v < 1 ? dflt : v > max ? max : v;
}

static int admin_result(struct srv *s, struct store *st, struct api_response *rs, int r, json_t *j, const char *what)
{
	if (r == -ENOENT)
		return reply_error(rs, SRV_NOT_FOUND, "no such object", NULL);
	if (r == -EINVAL)
		return reply_error(rs, SRV_MALFORMED, "invalid parameters", NULL);
	if (r < 0)
		return reply_db(s, st, rs, r, what);
	srv_db_ok(s);
	return reply_json(rs, 200, j);
}

static int handle_admin(struct srv *s, struct store *st, const struct api_request *rq, struct api_response *rs,
			long long now)
{
	const char *p = rq->path + strlen("/api/v1/admin/");
	bool get = strcmp(rq->method, "GET") == 0, post = strcmp(rq->method, "POST") == 0;
	long long limit = query_int(rq->query, "limit", 100, 10000);
	char dev[80] = "", id[80];
	json_t *j = NULL;
	int r;

	if (!admin_ok(s, rq))
		return reply_error(rs, SRV_UNAUTHORIZED, "admin API needs Authorization: Bearer <admin token>", NULL);
	if (get && strcmp(p, "summary") == 0) {
		r = store_summary(st, now, s->cfg.stale_grace, query_int(rq->query, "hours", 24, 24 * 90), &j);
		if (j)
			json_object_set_new(j, "server_public_key", json_string(s->public_key_b64));
		return admin_result(s, st, rs, r, j, "summary");
	}
	if (get && strcmp(p, "devices") == 0) {
		r = store_device_list(st, now, s->cfg.stale_grace, &j);
		return admin_result(s, st, rs, r, j, "device list");
	}
	if (strncmp(p, "devices/", 8) == 0) {
		const char *rest = p + 8, *slash = strchr(rest, '/');

		if (!slash && get) {
			r = store_device_detail(st, rest, now, s->cfg.stale_grace, &j);
			return admin_result(s, st, rs, r, j, "device detail");
		}
		if (slash && post && (size_t)(slash - rest) < sizeof(id)) {
			snprintf(id, sizeof(id), "%.*s", (int)(slash - rest), rest);
			if (strcmp(slash, "/approve") == 0 || strcmp(slash, "/revoke") == 0) {
				const char *status = slash[1] == 'a' ? "approved" : "revoked";

				r = store_device_set_status(st, id, status);
				return admin_result(s, st, rs, r, json_pack("{s:s, s:s}", "id", id, "status", status),
						    "device status");
			}
		}
	}
	if (strcmp(p, "tokens") == 0 && get) {
		r = store_token_list(st, &j);
		return admin_result(s, st, rs, r, j, "token list");
	}
	if (strcmp(p, "tokens") == 0 && post) {
		json_t *b = rq->body_len ? json_loadb(rq->body, rq->body_len, 0, NULL) : json_object();
		long long uses = 1, ttl = 7 * 86400;
		json_t *e;

		if (!json_is_object(b)) {
			json_decref(b);
			return reply_error(rs, SRV_MALFORMED, "body: {\"uses\": N, \"expires\": \"7d\", \"hold\": false}", NULL);
		}
		get_int(b, "uses", &uses);
		e = json_object_get(b, "expires");
		if (json_is_integer(e))
			ttl = json_integer_value(e);
		else if (json_is_string(e) && srv_parse_duration(json_string_value(e), &ttl) < 0)
			ttl = -1;
		r = api_token_create(s, st, uses, ttl, json_is_true(json_object_get(b, "hold")), now, &j);
		json_decref(b);
		return admin_result(s, st, rs, r, j, "token create");
	}
	if (strncmp(p, "tokens/", 7) == 0 && post) {
		const char *rest = p + 7, *slash = strchr(rest, '/');

		if (slash && strcmp(slash, "/revoke") == 0 && (size_t)(slash - rest) < sizeof(id)) {
			snprintf(id, sizeof(id), "%.*s", (int)(slash - rest), rest);
			r = store_token_revoke(st, id);
			return admin_result(s, st, rs, r, json_pack("{s:s, s:b}", "id", id, "revoked", 1), "token revoke");
		}
	}
	if (strcmp(p, "events") == 0 && get) {
		bool have = query_get(rq->query, "device", dev, sizeof(dev));

		r = store_events_list(st, have ? dev : NULL, limit, &j);
		return admin_result(s, st, rs, r, j, "events");
	}
	if (strcmp(p, "alerts") == 0 && get) {
		bool have = query_get(rq->query, "device", dev, sizeof(dev));

		r = store_alerts_list(st, have ? dev : NULL, limit, &j);
		return admin_result(s, st, rs, r, j, "alerts");
	}
	if (strcmp(p, "policy") == 0 && post) {
		r = api_policy_upload(s, st, rq->body ? rq->body : "", rq->body_len, now, &j);
		if (r > 0 || r == -EINVAL)
			return reply_error(rs, SRV_MALFORMED, "policy is not a valid INI text", NULL);
		return admin_result(s, st, rs, r, j, "policy upload");
	}
	if (strcmp(p, "policy") == 0 && get) {
		r = store_policy_current(st, &j);
		return admin_result(s, st, rs, r, j, "policy");
	}
	return reply_error(rs, SRV_NOT_FOUND, "no such admin endpoint", NULL);
}

/* ---- dispatch ---- */

int api_handle(struct srv *s, struct store *st, const struct api_request *rq, struct api_response *rs,
	       long long now)
{
	const char *p = rq->path;
	bool post = strcmp(rq->method, "POST") == 0, get = strcmp(rq->method, "GET") == 0;
	int r;

	memset(rs, 0, sizeof(*rs));
	atomic_fetch_add(&s->m.http_requests, 1);
	if (strcmp(p, "/api/v1/report") == 0 && post)
		r = handle_report(s, st, rq, rs, now);
	else if (strcmp(p, "/api/v1/events") == 0 && post)
		r = handle_events(s, st, rq, rs, now);
	else if (strcmp(p, "/api/v1/enroll/challenge") == 0 && post)
		r = handle_challenge(s, rs, now);
	else if (strcmp(p, "/api/v1/enroll") == 0 && post)
		r = handle_enroll(s, st, rq, rs, now);
	else if (strcmp(p, "/api/v1/policy") == 0 && get)
		r = handle_policy(s, st, rq, rs);
	else if (strncmp(p, "/api/v1/admin/", 14) == 0)
		r = handle_admin(s, st, rq, rs, now);
	else if (strcmp(p, "/metrics") == 0 && get) {
		char *m;

		if (!s->cfg.metrics_public && !admin_ok(s, rq))
			r = reply_error(rs, SRV_UNAUTHORIZED, "metrics need the admin token", NULL);
		else if ((r = srv_metrics_render(s, st, now, &m)) == 0) {
			rs->status = 200;
			rs->content_type = "text/plain; version=0.0.4";
			rs->body = m;
			rs->body_len = strlen(m);
		} else
			r = reply_error(rs, SRV_UNAVAILABLE, "cannot render metrics", NULL);
	} else if ((strcmp(p, "/") == 0 || strcmp(p, "/dashboard") == 0) && get) {
		rs->status = 200;
		rs->content_type = "text/html; charset=utf-8";
		rs->body_len = dashboard_html_len();
		rs->body = malloc(rs->body_len + 1);
		if (!rs->body)
			return -ENOMEM;
		memcpy(rs->body, dashboard_html(), rs->body_len);
		rs->body[rs->body_len] = 0;
		r = 0;
	} else if (strncmp(p, "/api/", 5) == 0 && !post && !get)
		r = reply_error(rs, SRV_METHOD, "method not allowed", NULL);
	else
		r = reply_error(rs, SRV_NOT_FOUND, "no such endpoint", NULL);
	if (rs->status >= 400)
		atomic_fetch_add(&s->m.http_errors, 1);
	if (rs->status == 503)
		api_count_unavailable(s, p);
	return r;
}

void api_count_unavailable(struct srv *s, const char *path)
{
	if (strcmp(path, "/api/v1/report") == 0)
		atomic_fetch_add(&s->m.reports_refused[SRV_UNAVAILABLE], 1);
	else if (strcmp(path, "/api/v1/events") == 0)
		atomic_fetch_add(&s->m.events_refused[SRV_UNAVAILABLE], 1);
	else if (strcmp(path, "/api/v1/enroll") == 0)
		atomic_fetch_add(&s->m.enrolls_refused[SRV_UNAVAILABLE], 1);
}
