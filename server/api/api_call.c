/* The API's shared parts: replies, the signed-request and device preludes, request readers. */
#include "server/api/api_call.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/canon.h"
#include "common/hash.h"
#include "common/sign.h"
#include "server/alerts.h"

/* ---- replies ---- */

int api_reply_json(struct api_response *rs, int status, json_t *j)
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

int api_reply_error(struct api_response *rs, enum srv_reason why, const char *message,
		    json_t *extra)
{
	json_t *j = json_pack("{s:s, s:s}", "error", srv_reason_code(why), "message", message);

	if (j && extra)
		json_object_update(j, extra);
	json_decref(extra);
	return api_reply_json(rs, srv_reason_status(why), j);
}

int api_reply_db(struct api_call *c, int r, const char *what)
{
	srv_db_error(c->s, c->st, r, what);
	return api_reply_error(c->rs, SRV_UNAVAILABLE, "database unavailable, retry later", NULL);
}

/* A report or batch signed with the device's key failed verification: a cloned identity or
 * tampering. One alert per device, reason and hour. */
static void verify_alert(struct api_call *c, enum srv_reason why, const char *msg,
			 const struct store_device *d)
{
	char text[4096], key[128];

	snprintf(text, sizeof(text),
		 "Report from device %s (%s) failed verification: %s (%s). A cloned device "
		 "identity or "
		 "tampering is possible: check the device and revoke it if in doubt. / 设备 %s "
		 "的报告验证失败 (%s)：可能是设备身份被克隆或报告被篡改，请检查设备，必要时吊销。",
		 d->hostname, d->id, srv_reason_code(why), msg, d->hostname, srv_reason_code(why));
	snprintf(key, sizeof(key), "verify:%s:%s:%lld", d->id, srv_reason_code(why), c->now / 3600);
	alert_raise(c->s, c->st, c->now, d->id, ALERT_VERIFY, "high", text, key);
}

int api_refuse(struct api_call *c, const struct api_endpoint *ep, enum srv_reason why,
	       const char *msg, json_t *extra, const struct store_device *d)
{
	if (ep->refused)
		atomic_fetch_add(&ep->refused[why], 1);
	if (ep->alert && d &&
	    (why == SRV_BAD_SIGNATURE || why == SRV_REPLAY || why == SRV_BAD_NONCE))
		verify_alert(c, why, msg, d);
	return api_reply_error(c->rs, why, msg, extra);
}

int api_admin_result(struct api_call *c, int r, json_t *j, const char *what)
{
	if (r == -ENOENT)
		return api_reply_error(c->rs, SRV_NOT_FOUND, "no such object", NULL);
	if (r == -EINVAL)
		return api_reply_error(c->rs, SRV_MALFORMED, "invalid parameters", NULL);
	if (r < 0)
		return api_reply_db(c, r, what);
	srv_db_ok(c->s);
	return api_reply_json(c->rs, 200, j);
}

int api_admin_list(struct api_call *c,
		   int (*list)(struct store *st, const char *device_id, long long limit,
			       json_t **ret),
		   const char *what)
{
	long long limit = api_query_int(c->rq->query, "limit", 100, 10000);
	char dev[80] = "";
	bool have = api_query_get(c->rq->query, "device", dev, sizeof(dev));
	json_t *j = NULL;
	int r;

	r = list(c->st, have ? dev : NULL, limit, &j);
	return api_admin_result(c, r, j, what);
}

/* ---- the signed-request prelude ---- */

static json_t *parse_body(const struct api_request *rq, struct api_response *rs)
{
	json_error_t err;
	json_t *j;
	char msg[256];

	j = json_loadb(rq->body ? rq->body : "", rq->body_len, JSON_REJECT_DUPLICATES, &err);
	if (!j) {
		snprintf(msg, sizeof(msg), "invalid JSON at line %d column %d: %s", err.line,
			 err.column, err.text);
		api_reply_error(rs, SRV_MALFORMED, msg, NULL);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		api_reply_error(rs, SRV_MALFORMED, "body must be a JSON object", NULL);
		return NULL;
	}
	return j;
}

/* {"<member>": {...}, "signature": "..."}: the signed object and its canonical bytes. */
static enum srv_reason parse_envelope(struct api_signed *sr, const char *member, const char **why)
{
	int r;

	sr->obj = json_object_get(sr->body, member);
	sr->sig = json_string_value(json_object_get(sr->body, "signature"));
	if (!json_is_object(sr->obj)) {
		*why = "the signed object is missing";
		return SRV_MALFORMED;
	}
	if (!sr->sig) {
		*why = "signature is missing";
		return SRV_MALFORMED;
	}
	r = canon_dump(sr->obj, &sr->canon, &sr->canon_len);
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

bool api_signed_open(struct api_call *c, const struct api_endpoint *ep, struct api_signed *sr)
{
	const char *why = NULL;
	enum srv_reason rr;

	memset(sr, 0, sizeof(*sr));
	sr->body = parse_body(c->rq, c->rs);
	if (!sr->body) {
		atomic_fetch_add(&ep->refused[SRV_MALFORMED], 1);
		return false;
	}
	rr = parse_envelope(sr, ep->member, &why);
	if (rr != SRV_OK) {
		api_refuse(c, ep, rr, why, NULL, NULL);
		return false;
	}
	return true;
}

void api_signed_close(struct api_signed *sr)
{
	free(sr->canon);
	json_decref(sr->body);
	memset(sr, 0, sizeof(*sr));
}

/* ---- the device prelude ---- */

bool api_device_find(struct api_call *c, const struct api_endpoint *ep, const char *id,
		     struct store_device *d, struct store_report_ctx *ctx)
{
	int r;

	r = ctx ? store_device_get_for_report(c->st, id, d, ctx) : store_device_get(c->st, id, d);
	if (r == -ENOENT) {
		api_refuse(c, ep, SRV_UNKNOWN_DEVICE, ep->unknown, NULL, NULL);
		return false;
	}
	if (r < 0) {
		api_reply_db(c, r, ep->what);
		return false;
	}
	return true;
}

bool api_device_auth(struct api_call *c, const struct api_endpoint *ep, const struct api_signed *sr,
		     const char *id, struct store_device *d, struct store_report_ctx *ctx)
{
	if (!api_device_find(c, ep, id, d, ctx))
		return false;
	if (sign_verify_b64(d->public_key, sr->canon, sr->canon_len, sr->sig) < 0) {
		api_refuse(c, ep, SRV_BAD_SIGNATURE,
			   "signature does not verify with the enrolled key", NULL, d);
		return false;
	}
	/* From here the sender holds the device key: refusals may carry the current nonce. */
	if (strcmp(d->status, "revoked") == 0) {
		api_refuse(c, ep, SRV_REVOKED, "device was revoked by an administrator", NULL,
			   NULL);
		return false;
	}
	if (strcmp(d->status, "approved") != 0) {
		api_refuse(c, ep, SRV_NOT_APPROVED, "device waits for approval by an administrator",
			   ep->nonce ? json_pack("{s:s}", "nonce", d->nonce) : NULL, NULL);
		return false;
	}
	return true;
}

/* ---- reading requests ---- */

const char *api_json_str(const json_t *o, const char *key, size_t maxlen)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v && strlen(v) <= maxlen ? v : NULL;
}

bool api_json_int(const json_t *o, const char *key, long long *ret)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v))
		return false;
	*ret = json_integer_value(v);
	return true;
}

bool api_query_get(const char *q, const char *key, char *out, size_t outlen)
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

long long api_query_int(const char *q, const char *key, long long dflt, long long max)
{
	char buf[32];
	long long v;

	if (!api_query_get(q, key, buf, sizeof(buf)))
		return dflt;
	v = atoll(buf);
	return v < 1 ? dflt : v > max ? max : v;
}

bool api_admin_ok(struct srv *s, const struct api_request *rq)
{
	char sha[65];
	const char *a = rq->authorization;

	if (!a || strncmp(a, "Bearer ", 7) != 0)
		return false;
	hash_sha256_buf(a + 7, strlen(a + 7), sha);
	return CRYPTO_memcmp(sha, s->admin_sha256, 64) == 0;
}
