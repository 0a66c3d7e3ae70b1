#include "agent/uplink/uplink_msg.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/uplink/uplink.h"
#include "agent/uplink/uplink_internal.h"
#include "agent/uplink/uplink_reply.h"
#include "common/buf.h"
#include "common/url.h"

/* ---- encoding ---- */

/* A payload being encoded: the first error sticks, the rest of the fields are skipped. */
struct enc {
	struct buf b;
	int err;
};

static void put(struct enc *b, const void *p, size_t n)
{
	if (b->err)
		return;
	if (b->b.len + n > UPLINK_MSG_MAX) {
		b->err = -EMSGSIZE;
		return;
	}
	b->err = buf_append(&b->b, p, n);
}

static void put_u32(struct enc *b, uint32_t v)
{
	unsigned char x[4] = { v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff };

	put(b, x, 4);
}

static void put_u64(struct enc *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

static void put_bytes(struct enc *b, const void *p, size_t n)
{
	if (n > UPLINK_MSG_MAX) {
		b->err = -EMSGSIZE;
		return;
	}
	put_u32(b, (uint32_t)n);
	put(b, p, n);
	put(b, "", 1);
}

static void put_str(struct enc *b, const char *s)
{
	s = s ? s : "";
	put_bytes(b, s, strlen(s));
}

static int finish(struct enc *b, char **ret, size_t *ret_len)
{
	size_t len = b->b.len;
	char *p;

	if (b->err) {
		buf_clear(&b->b);
		return b->err;
	}
	p = buf_steal(&b->b);
	if (!p)
		return -ENOMEM;
	*ret = p;
	*ret_len = len;
	return 0;
}

int uplink_msg_encode_init(const struct uplink_msg_init *m, char **ret, size_t *ret_len)
{
	struct enc b = { 0 };

	put_u32(&b, m->flags);
	put_u32(&b, m->uid);
	put_u32(&b, m->gid);
	put_u32(&b, m->timeout_s);
	put_str(&b, m->base_url);
	put_str(&b, m->ca);
	put_bytes(&b, m->ca_pem ? m->ca_pem : "", m->ca_pem ? m->ca_pem_len : 0);
	put_str(&b, m->pin);
	put_str(&b, m->proxy);
	return finish(&b, ret, ret_len);
}

int uplink_msg_encode_ready(const struct uplink_msg_ready *m, char **ret, size_t *ret_len)
{
	struct enc b = { 0 };

	put_u32(&b, m->uid);
	put_u32(&b, m->gid);
	return finish(&b, ret, ret_len);
}

int uplink_msg_encode_req(const struct uplink_msg_req *m, char **ret, size_t *ret_len)
{
	struct enc b = { 0 };
	uint32_t n = 0;

	while (m->headers[n])
		if (++n > UPLINK_MSG_MAX_HEADERS)
			return -E2BIG;
	put_str(&b, m->method);
	put_str(&b, m->path);
	put_u32(&b, n);
	for (uint32_t i = 0; i < n; i++)
		put_str(&b, m->headers[i]);
	put_u32(&b, m->body ? 1 : 0);
	put_bytes(&b, m->body ? m->body : "", m->body ? m->len : 0);
	put_u32(&b, m->kind);
	return finish(&b, ret, ret_len);
}

static void put_reply(struct enc *b, const struct uplink_reply *r)
{
	put_u32(b, r->valid);
	put_str(b, r->invalid);
	put_str(b, r->error);
	put_str(b, r->message);
	put_str(b, r->nonce);
	put_u64(b, (uint64_t)r->last_seq);
	put_u32(b, r->duplicate);
	put_u64(b, (uint64_t)r->server_time);
	put_str(b, r->status);
	put_str(b, r->policy_sha256);
	put_u32(b, r->report_interval);
	put_u32(b, r->chain_gap);
	put_u32(b, r->accepted);
	put_u32(b, r->duplicates);
	put_str(b, r->challenge);
	put_u64(b, (uint64_t)r->expires);
	put_str(b, r->device_id);
	put_str(b, r->server_public_key);
	put_u32(b, r->approved);
	put_str(b, r->name);
	put_str(b, r->version);
	put_str(b, r->sha256);
	put_bytes(b, r->text ? r->text : "", r->text ? r->text_len : 0);
	put_str(b, r->signature);
}

int uplink_msg_encode_resp(const struct uplink_msg_resp *m, char **ret, size_t *ret_len)
{
	struct enc b = { 0 };

	put_u32(&b, (uint32_t)m->err);
	put_u32(&b, (uint32_t)m->status);
	put_str(&b, m->error);
	put_bytes(&b, m->body ? m->body : "", m->body ? m->len : 0);
	put_u32(&b, m->has_reply ? m->reply.kind : 0);
	if (m->has_reply)
		put_reply(&b, &m->reply);
	return finish(&b, ret, ret_len);
}

int uplink_msg_encode_text(const char *text, char **ret, size_t *ret_len)
{
	struct enc b = { 0 };

	put_str(&b, text);
	return finish(&b, ret, ret_len);
}

/* ---- decoding ---- */

struct rd {
	const char *p;
	size_t len, off;
	const char *why;
};

static bool fail(struct rd *r, const char *why)
{
	if (!r->why)
		r->why = why;
	return false;
}

static bool get_u32(struct rd *r, uint32_t *v)
{
	const unsigned char *x;

	if (r->why)
		return false;
	if (r->len - r->off < 4)
		return fail(r, "message shorter than its fields");
	x = (const unsigned char *)r->p + r->off;
	*v = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
	r->off += 4;
	return true;
}

static bool get_u64(struct rd *r, uint64_t *v)
{
	uint32_t lo, hi;

	if (!get_u32(r, &lo) || !get_u32(r, &hi))
		return false;
	*v = (uint64_t)hi << 32 | lo;
	return true;
}

static bool get_bool(struct rd *r, bool *v)
{
	uint32_t x;

	if (!get_u32(r, &x))
		return false;
	if (x > 1)
		return fail(r, "boolean field not 0 or 1");
	*v = x;
	return true;
}

static bool get_bytes(struct rd *r, size_t max, const char **p, size_t *n)
{
	uint32_t l;

	if (!get_u32(r, &l))
		return false;
	if (l > max)
		return fail(r, "field longer than allowed");
	if (r->len - r->off < (size_t)l + 1)
		return fail(r, "field runs past the end of the message");
	if (r->p[r->off + l] != 0)
		return fail(r, "field not terminated");
	*p = r->p + r->off;
	*n = l;
	r->off += (size_t)l + 1;
	return true;
}

static bool get_str(struct rd *r, size_t max, const char **s)
{
	size_t n;

	if (!get_bytes(r, max, s, &n))
		return false;
	if (strlen(*s) != n)
		return fail(r, "text field contains NUL");
	return true;
}

static int done(struct rd *r, const char **why)
{
	if (!r->why && r->off != r->len)
		r->why = "trailing bytes after the last field";
	if (r->why) {
		if (why)
			*why = r->why;
		return -EBADMSG;
	}
	return 0;
}

static bool no_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

int uplink_msg_decode_init(const char *p, size_t len, struct uplink_msg_init *m, const char **why)
{
	struct rd r = { .p = p, .len = len };
	size_t n;

	*m = (struct uplink_msg_init){ 0 };
	if (get_u32(&r, &m->flags) && get_u32(&r, &m->uid) && get_u32(&r, &m->gid) &&
	    get_u32(&r, &m->timeout_s) && get_str(&r, UPLINK_MSG_MAX_TEXT, &m->base_url) &&
	    get_str(&r, UPLINK_MSG_MAX_TEXT, &m->ca) &&
	    get_bytes(&r, UPLINK_MSG_MAX_CA, &m->ca_pem, &n) &&
	    get_str(&r, UPLINK_MSG_MAX_TEXT, &m->pin) &&
	    get_str(&r, UPLINK_MSG_MAX_TEXT, &m->proxy)) {
		m->ca_pem_len = n;
		if (m->flags & ~(uint32_t)(UPLINK_INIT_DROP | UPLINK_INIT_HAS_CA_PEM))
			fail(&r, "unknown init flags");
		else if (url_check_server(m->base_url) < 0 || !no_ctl(m->base_url))
			fail(&r, "bad server URL");
		else if ((m->flags & UPLINK_INIT_DROP) && m->uid == 0)
			fail(&r, "asked to drop privileges to uid 0");
		else if (m->timeout_s > 3600)
			fail(&r, "timeout out of range");
	}
	if (!(m->flags & UPLINK_INIT_HAS_CA_PEM))
		m->ca_pem = NULL;
	return done(&r, why);
}

int uplink_msg_decode_ready(const char *p, size_t len, struct uplink_msg_ready *m, const char **why)
{
	struct rd r = { .p = p, .len = len };

	if (get_u32(&r, &m->uid))
		get_u32(&r, &m->gid);
	return done(&r, why);
}

static bool method_ok(const char *m)
{
	size_t n = strlen(m);

	if (n == 0 || n > 16)
		return false;
	for (; *m; m++)
		if (*m < 'A' || *m > 'Z')
			return false;
	return true;
}

static bool path_ok(const char *p)
{
	if (p[0] != '/')
		return false;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return false;
	return true;
}

int uplink_msg_decode_req(const char *p, size_t len, struct uplink_msg_req *m, const char **why)
{
	struct rd r = { .p = p, .len = len };
	uint32_t nh = 0, has_body = 0;
	size_t n = 0;

	*m = (struct uplink_msg_req){ 0 };
	if (!get_str(&r, 16, &m->method) || !get_str(&r, 2048, &m->path) || !get_u32(&r, &nh))
		return done(&r, why);
	if (!method_ok(m->method))
		fail(&r, "bad request method");
	else if (!path_ok(m->path))
		fail(&r, "bad request path");
	else if (nh > UPLINK_MSG_MAX_HEADERS)
		fail(&r, "too many request headers");
	for (uint32_t i = 0; i < nh && !r.why; i++) {
		if (!get_str(&r, UPLINK_MSG_MAX_TEXT, &m->headers[i]))
			break;
		if (!no_ctl(m->headers[i]) || !strchr(m->headers[i], ':') ||
		    m->headers[i][0] == ':')
			fail(&r, "bad request header");
	}
	if (get_u32(&r, &has_body) && get_bytes(&r, UPLINK_MSG_MAX - 64 * 1024, &m->body, &n) &&
	    get_u32(&r, &m->kind)) {
		if (has_body > 1)
			fail(&r, "bad body flag");
		else if (!has_body && n)
			fail(&r, "body bytes without a body");
		else if (!has_body)
			m->body = NULL;
		else if (strcmp(m->method, "GET") == 0)
			fail(&r, "GET with a body");
		if (m->kind > UPLINK_REPLY_KIND_MAX)
			fail(&r, "unknown reply kind");
		m->len = n;
	}
	return done(&r, why);
}

static bool get_reply(struct rd *r, struct uplink_reply *y)
{
	uint64_t last_seq, server_time, expires;

	return get_bool(r, &y->valid) && get_str(r, 256, &y->invalid) &&
	       get_str(r, UPLINK_REPLY_MAX_ERROR, &y->error) &&
	       get_str(r, UPLINK_REPLY_MAX_MESSAGE, &y->message) && get_str(r, 128, &y->nonce) &&
	       get_u64(r, &last_seq) && get_bool(r, &y->duplicate) && get_u64(r, &server_time) &&
	       get_str(r, 64, &y->status) && get_str(r, 64, &y->policy_sha256) &&
	       get_u32(r, &y->report_interval) && get_bool(r, &y->chain_gap) &&
	       get_u32(r, &y->accepted) && get_u32(r, &y->duplicates) &&
	       get_str(r, UPLINK_REPLY_MAX_CHALLENGE, &y->challenge) && get_u64(r, &expires) &&
	       get_str(r, UPLINK_REPLY_MAX_ID, &y->device_id) &&
	       get_str(r, 64, &y->server_public_key) && get_bool(r, &y->approved) &&
	       get_str(r, UPLINK_REPLY_MAX_NAME, &y->name) &&
	       get_str(r, UPLINK_REPLY_MAX_NAME, &y->version) && get_str(r, 64, &y->sha256) &&
	       get_bytes(r, UPLINK_MAX_RESPONSE, &y->text, &y->text_len) &&
	       get_str(r, 128, &y->signature) &&
	       ((y->last_seq = (int64_t)last_seq), (y->server_time = (int64_t)server_time),
		(y->expires = (int64_t)expires), true);
}

int uplink_msg_decode_resp(const char *p, size_t len, struct uplink_msg_resp *m, const char **why)
{
	struct rd r = { .p = p, .len = len };
	uint32_t err, status, kind;
	const char *w;

	*m = (struct uplink_msg_resp){ 0 };
	if (get_u32(&r, &err) && get_u32(&r, &status) && get_str(&r, 1024, &m->error) &&
	    get_bytes(&r, UPLINK_MAX_RESPONSE, &m->body, &m->len) && get_u32(&r, &kind)) {
		m->err = (int32_t)err;
		m->status = (int32_t)status;
		m->has_reply = kind != 0;
		m->reply.kind = kind;
		if (m->err > 0 || m->err < -4095)
			fail(&r, "error code out of range");
		else if (m->err == 0 && (m->status < 100 || m->status > 599))
			fail(&r, "HTTP status out of range");
		else if (m->err != 0 && m->status != 0)
			fail(&r, "HTTP status with a transport error");
		else if (kind > UPLINK_REPLY_KIND_MAX)
			fail(&r, "unknown reply kind");
		else if (kind && m->err != 0)
			fail(&r, "typed reply with a transport error");
		else if (kind && m->len != 0)
			fail(&r, "typed reply with a body");
		else if (kind && get_reply(&r, &m->reply) &&
			 uplink_reply_check(&m->reply, m->status, &w) < 0)
			fail(&r, w);
		if (r.why)
			m->has_reply = false;
	}
	return done(&r, why);
}

int uplink_msg_resp_roundtrip(const struct uplink_msg_resp *m, char **buf,
			      struct uplink_msg_resp *out, const char **why)
{
	size_t n;
	int r;

	*buf = NULL;
	r = uplink_msg_encode_resp(m, buf, &n);
	if (r < 0) {
		*why = "cannot encode the response";
		return r;
	}
	r = uplink_msg_decode_resp(*buf, n, out, why);
	if (r < 0) {
		free(*buf);
		*buf = NULL;
	}
	return r;
}

int uplink_msg_decode_text(const char *p, size_t len, const char **text, const char **why)
{
	struct rd r = { .p = p, .len = len };

	*text = NULL;
	get_str(&r, 1024, text);
	return done(&r, why);
}
