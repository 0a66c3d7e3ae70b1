/* Typed replies (agent/uplink/uplink_reply.h). The uplink child (or the engine in process)
 * parses the server's JSON reply here and keeps only well-formed, length-checked fields; the
 * parent re-checks them with uplink_reply_check() when it decodes the RESP message
 * (agent/uplink/uplink_msg.c) and never sees the body. */
#include "agent/uplink/uplink_reply.h"

#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/uplink/uplink_internal.h"
#include "agent/uplink/uplink_msg.h"
#include "common/b64.h"
#include "common/hex.h"

/* ---- field syntax (shared by both sides) ---- */

static bool utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned n, c;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			n = 1, c = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			n = 2, c = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			n = 3, c = *p & 0x07;
		else
			return false;
		p++;
		for (unsigned i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
			c = c << 6 | (*p & 0x3f);
		}
		if ((n == 1 && c < 0x80) || (n == 2 && c < 0x800) || (n == 3 && c < 0x10000) ||
		    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
	}
	return true;
}

/* No C0 controls or DEL, valid UTF-8, at most max bytes. */
static bool printable(const char *s, size_t max)
{
	size_t n = 0;

	for (const char *p = s; *p; p++, n++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return false;
	return n <= max && utf8_ok(s);
}

static bool charset(const char *s, size_t min, size_t max, const char *extra, bool upper,
		    bool digits)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++) {
		char c = *s;

		if ((c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') ||
		    (digits && c >= '0' && c <= '9'))
			continue;
		if (!strchr(extra, c) || !c)
			return false;
	}
	return true;
}

static bool is_code(const char *s)
{
	return charset(s, 1, UPLINK_REPLY_MAX_ERROR, "_", false, true);
}
static bool is_word(const char *s)
{
	return charset(s, 1, 64, "_", false, false);
}
static bool is_id(const char *s)
{
	return charset(s, 1, UPLINK_REPLY_MAX_ID, "._:-", true, true);
}

static bool is_challenge(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > UPLINK_REPLY_MAX_CHALLENGE)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

static bool is_b64_exact(const char *s, size_t bytes)
{
	unsigned char buf[64];

	return bytes <= sizeof(buf) && strlen(s) == B64_ENCODED_LEN(bytes) &&
	       b64_decode_exact(s, buf, bytes) == 0;
}

static bool is_nonce(const char *s)
{
	unsigned char *d = NULL;
	size_t n = strlen(s), dl = 0;
	bool ok;

	if (n < B64_ENCODED_LEN(UPLINK_REPLY_NONCE_MIN) ||
	    n > B64_ENCODED_LEN(UPLINK_REPLY_NONCE_MAX))
		return false;
	if (b64_decode(s, &d, &dl) < 0)
		return false; /* bad encoding, or out of memory: not accepted either way */
	ok = dl >= UPLINK_REPLY_NONCE_MIN && dl <= UPLINK_REPLY_NONCE_MAX;
	free(d);
	return ok;
}

/* ---- the check ---- */

#define CHECK(cond, text)                \
	do {                             \
		if (!(cond)) {           \
			*why = (text);   \
			return -EBADMSG; \
		}                        \
	} while (0)

static bool empty(const char *s)
{
	return !s || !*s;
}

int uplink_reply_check(const struct uplink_reply *r, long status, const char **why)
{
	bool ok2xx = status >= 200 && status < 300;
	uint32_t k = r->kind;
	const char *strs[] = { r->error,         r->message,   r->nonce,     r->status,
			       r->policy_sha256, r->challenge, r->device_id, r->server_public_key,
			       r->name,          r->version,   r->sha256,    r->text,
			       r->signature,     r->invalid };

	CHECK(k >= 1 && k <= UPLINK_REPLY_KIND_MAX, "reply: unknown kind");
	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		CHECK(strs[i], "reply: missing string");
	if (!r->valid) {
		CHECK(printable(r->invalid, 256) && *r->invalid, "reply: invalid without a reason");
		for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]) - 1; i++)
			CHECK(!*strs[i], "reply: fields in an invalid reply");
		CHECK(r->last_seq == -1 && !r->duplicate && !r->server_time &&
			      !r->report_interval && !r->chain_gap && !r->accepted &&
			      !r->duplicates && !r->expires && !r->approved && !r->text_len,
		      "reply: fields in an invalid reply");
		return 0;
	}
	CHECK(!*r->invalid, "reply: valid with a reason");
	/* any kind */
	CHECK(empty(r->error) || is_code(r->error), "reply: bad error code");
	CHECK(printable(r->message, UPLINK_REPLY_MAX_MESSAGE), "reply: bad message");
	CHECK(empty(r->nonce) || is_nonce(r->nonce), "reply: bad nonce");
	CHECK(r->last_seq >= -1, "reply: bad last_seq");
	CHECK(r->server_time >= 0, "reply: bad server_time");
	CHECK(r->report_interval <= UPLINK_REPLY_MAX_INTERVAL, "reply: bad report_interval");
	/* report */
	CHECK(empty(r->status) || is_word(r->status), "reply: bad status");
	CHECK(empty(r->policy_sha256) || hex_is_sha256(r->policy_sha256),
	      "reply: bad policy_sha256");
	CHECK(k == UPLINK_REPLY_REPORT || (!*r->status && !*r->policy_sha256 && !r->chain_gap),
	      "reply: report fields in another reply");
	CHECK(k != UPLINK_REPLY_REPORT || !ok2xx || *r->nonce,
	      "reply: accepted report without a nonce");
	CHECK(k == UPLINK_REPLY_REPORT || k == UPLINK_REPLY_ENROLL || !r->report_interval,
	      "reply: report_interval in another reply");
	/* events */
	CHECK(k == UPLINK_REPLY_EVENTS || (!r->accepted && !r->duplicates),
	      "reply: events fields in another reply");
	/* challenge */
	CHECK(empty(r->challenge) || is_challenge(r->challenge), "reply: bad challenge");
	CHECK(r->expires >= 0, "reply: bad expires");
	CHECK(k == UPLINK_REPLY_CHALLENGE || (!*r->challenge && !r->expires),
	      "reply: challenge fields in another reply");
	CHECK(k != UPLINK_REPLY_CHALLENGE || !ok2xx || *r->challenge, "reply: challenge missing");
	/* enroll */
	CHECK(empty(r->device_id) || is_id(r->device_id), "reply: bad device_id");
	CHECK(empty(r->server_public_key) || is_b64_exact(r->server_public_key, 32),
	      "reply: bad server_public_key");
	CHECK(k == UPLINK_REPLY_ENROLL ||
		      (!*r->device_id && !*r->server_public_key && !r->approved),
	      "reply: enroll fields in another reply");
	CHECK(k != UPLINK_REPLY_ENROLL || !ok2xx || (*r->device_id && *r->server_public_key),
	      "reply: enrollment without device_id or server_public_key");
	/* policy */
	CHECK(printable(r->name, UPLINK_REPLY_MAX_NAME) &&
		      printable(r->version, UPLINK_REPLY_MAX_NAME),
	      "reply: bad policy name or version");
	CHECK(empty(r->sha256) || hex_is_sha256(r->sha256), "reply: bad sha256");
	CHECK(r->text_len <= UPLINK_MAX_RESPONSE && strlen(r->text) == r->text_len,
	      "reply: bad policy text");
	CHECK(empty(r->signature) || is_b64_exact(r->signature, 64), "reply: bad signature");
	CHECK(k == UPLINK_REPLY_POLICY ||
		      (!*r->name && !*r->version && !*r->sha256 && !r->text_len && !*r->signature),
	      "reply: policy fields in another reply");
	CHECK(k != UPLINK_REPLY_POLICY || !ok2xx || (*r->sha256 && *r->signature),
	      "reply: policy without sha256, text or signature");
	return 0;
}

/* ---- the parser (child side) ---- */

struct parse {
	json_t *o;
	const char *why;
};

static const char *str_member(struct parse *p, const char *key, bool (*ok)(const char *),
			      const char *why)
{
	json_t *v = json_object_get(p->o, key);

	if (p->why || !v || json_is_null(v))
		return "";
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v) ||
	    (ok && !ok(json_string_value(v)))) {
		p->why = why;
		return "";
	}
	return json_string_value(v);
}

static int64_t int_member(struct parse *p, const char *key, int64_t min, int64_t max,
			  int64_t absent, const char *why)
{
	json_t *v = json_object_get(p->o, key);

	if (p->why || !v || json_is_null(v))
		return absent;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
		p->why = why;
		return absent;
	}
	return json_integer_value(v);
}

static bool bool_member(struct parse *p, const char *key, const char *why)
{
	json_t *v = json_object_get(p->o, key);

	if (p->why || !v || json_is_null(v))
		return false;
	if (!json_is_boolean(v)) {
		p->why = why;
		return false;
	}
	return json_is_true(v);
}

static bool name_ok(const char *s)
{
	return printable(s, UPLINK_REPLY_MAX_NAME);
}
static bool sig_ok(const char *s)
{
	return is_b64_exact(s, 64);
}
static bool key_ok(const char *s)
{
	return is_b64_exact(s, 32);
}

/* The server's message, for people: cut to size at a character boundary, controls as spaces. */
static void copy_message(struct parse *p, struct uplink_reply_buf *b)
{
	const char *m = str_member(p, "message", utf8_ok, "member message is not a string");
	size_t n = strlen(m);

	if (n > UPLINK_REPLY_MAX_MESSAGE) {
		n = UPLINK_REPLY_MAX_MESSAGE;
		while (n > 0 && ((unsigned char)m[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(b->message, m, n);
	b->message[n] = 0;
	for (char *c = b->message; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';
}

static void reply_empty(struct uplink_reply *r, uint32_t kind)
{
	*r = (struct uplink_reply){ .kind = kind,
				    .invalid = "",
				    .error = "",
				    .message = "",
				    .nonce = "",
				    .last_seq = -1,
				    .status = "",
				    .policy_sha256 = "",
				    .challenge = "",
				    .device_id = "",
				    .server_public_key = "",
				    .name = "",
				    .version = "",
				    .sha256 = "",
				    .text = "",
				    .signature = "" };
}

int uplink_reply_parse(uint32_t kind, long status, const char *body, size_t len,
		       struct uplink_reply *r, struct uplink_reply_buf *b)
{
	struct parse p = { 0 };
	const char *why;
	json_t *text;

	*b = (struct uplink_reply_buf){ 0 };
	reply_empty(r, kind);
	if (kind < 1 || kind > UPLINK_REPLY_KIND_MAX) {
		r->invalid = "unknown reply kind";
		return 0;
	}
	b->json = json_loadb(body ? body : "", len, JSON_REJECT_DUPLICATES, NULL);
	p.o = b->json;
	if (!json_is_object(p.o)) {
		r->invalid = "reply is not a JSON object";
		goto invalid;
	}
	r->error = str_member(&p, "error", is_code, "member error is not an error code");
	copy_message(&p, b);
	r->message = b->message;
	r->nonce = str_member(&p, "nonce", is_nonce, "member nonce is not base64 of 8..64 bytes");
	r->last_seq = int_member(&p, "last_seq", 0, INT64_MAX, -1,
				 "member last_seq is not an integer >= 0");
	r->duplicate = bool_member(&p, "duplicate", "member duplicate is not a boolean");
	r->server_time = int_member(&p, "server_time", 0, INT64_MAX, 0,
				    "member server_time is not an integer >= 0");
	switch (kind) {
	case UPLINK_REPLY_REPORT:
		r->status = str_member(&p, "status", is_word, "member status is not a word");
		r->policy_sha256 = str_member(&p, "policy_sha256", hex_is_sha256,
					      "member policy_sha256 is not 64 hex digits");
		r->report_interval = (uint32_t)int_member(&p, "report_interval", 1,
							  UPLINK_REPLY_MAX_INTERVAL, 0,
							  "member report_interval out of range");
		r->chain_gap = bool_member(&p, "chain_gap", "member chain_gap is not a boolean");
		break;
	case UPLINK_REPLY_EVENTS:
		r->accepted = (uint32_t)int_member(&p, "accepted", 0, UINT32_MAX, 0,
						   "member accepted out of range");
		r->duplicates = (uint32_t)int_member(&p, "duplicates", 0, UINT32_MAX, 0,
						     "member duplicates out of range");
		break;
	case UPLINK_REPLY_CHALLENGE:
		r->challenge = str_member(&p, "challenge", is_challenge,
					  "member challenge is not printable ASCII");
		r->expires = int_member(&p, "expires", 0, INT64_MAX, 0,
					"member expires is not an integer >= 0");
		break;
	case UPLINK_REPLY_ENROLL:
		r->device_id = str_member(&p, "device_id", is_id,
					  "member device_id is not an identifier");
		r->server_public_key = str_member(
			&p, "server_public_key", key_ok,
			"member server_public_key is not base64 of 32 bytes");
		r->report_interval = (uint32_t)int_member(&p, "report_interval", 1,
							  UPLINK_REPLY_MAX_INTERVAL, 0,
							  "member report_interval out of range");
		r->approved = bool_member(&p, "approved", "member approved is not a boolean");
		break;
	case UPLINK_REPLY_POLICY:
		r->name = str_member(&p, "name", name_ok, "member name is not printable");
		r->version = str_member(&p, "version", name_ok, "member version is not printable");
		r->sha256 = str_member(&p, "sha256", hex_is_sha256,
				       "member sha256 is not 64 hex digits");
		r->signature = str_member(&p, "signature", sig_ok,
					  "member signature is not base64 of 64 bytes");
		text = json_object_get(p.o, "text");
		if (!p.why && status >= 200 && status < 300 && !json_is_string(text))
			p.why = "member text is missing";
		if (!p.why && text && !json_is_null(text)) {
			if (!json_is_string(text) ||
			    strlen(json_string_value(text)) != json_string_length(text))
				p.why = "member text is not a string";
			else {
				r->text = json_string_value(text);
				r->text_len = json_string_length(text);
			}
		}
		break;
	}
	if (p.why) {
		r->invalid = p.why;
		goto invalid;
	}
	r->valid = true;
	if (uplink_reply_check(r, status, &why) < 0) {
		r->invalid = why; /* a required member is missing */
		goto invalid;
	}
	return 0;
invalid:
	why = r->invalid;
	reply_empty(r, kind); /* valid = false */
	r->invalid = why;
	b->message[0] = 0;
	return 0;
}

void uplink_reply_buf_clear(struct uplink_reply_buf *b)
{
	if (!b)
		return;
	json_decref(b->json);
	b->json = NULL;
}

/* ---- a finished request as the RESP message (child, and the engine in process) ---- */

void uplink_reply_make_resp(uint32_t kind, const struct uplink_response *resp,
			    struct uplink_msg_resp *m, struct uplink_reply_buf *b)
{
	*b = (struct uplink_reply_buf){ 0 };
	*m = (struct uplink_msg_resp){ .err = resp->err,
				       .status = resp->err ? 0 : (int32_t)resp->status,
				       .error = resp->error ? resp->error : "",
				       .body = resp->body ? resp->body : "",
				       .len = resp->body ? resp->len : 0 };
	if (m->err == 0 && (resp->status < 100 || resp->status > 599))
		*m = (struct uplink_msg_resp){ .err = -EPROTO,
					       .error = "the server sent no valid HTTP status",
					       .body = "" };
	if (m->err > 0 || m->err < -4095)
		m->err = -EIO;
	if (strlen(m->error) > 1000 || !printable(m->error, 1000))
		m->error = "transport error (message too long or not printable)";
	if (m->err || kind == UPLINK_REPLY_RAW)
		return;
	/* Typed: the body stays here; only its checked fields travel. A reply that cannot be parsed
	 * (out of memory) is "invalid" like any other. */
	uplink_reply_parse(kind, m->status, m->body, m->len, &m->reply, b);
	m->has_reply = true;
	m->body = "";
	m->len = 0;
}
