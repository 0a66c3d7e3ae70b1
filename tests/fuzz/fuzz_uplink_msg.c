/* libFuzzer target for the messages between the agent and its uplink child
 * (agent/uplink/uplink_msg.c, agent/uplink/uplink_reply.c; docs/attestation.md "Privilege
 * separation"). The first byte picks the side: 'p'  the parent's decoders on a payload from the
 * child: RESP (with typed replies), READY, ERROR 'c'  the child's decoders on a payload from the
 * parent: INIT, REQ, CANCEL/ERROR text 's'  the channel: the rest is packets (u16 LE length +
 * bytes) sent over a SOCK_SEQPACKET socketpair and reassembled by uplink_chan_recv(); complete
 * messages are decoded as their type says 'j'  the child's JSON parser: byte 2 is the reply kind,
 * byte 3 picks the HTTP status, the rest is the server's body. Whatever the child makes of it must
 * be accepted by the parent's decoder (encode -> decode round trip), or the target aborts. else
 * every decoder on the whole input. Decoded strings are read to the end, so ASan sees any pointer
 * past the buffer. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/uplink/uplink.h"
#include "agent/uplink/uplink_internal.h"
#include "agent/uplink/uplink_chan.h"
#include "agent/uplink/uplink_msg.h"
#include "agent/uplink/uplink_reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void touch(const char *s)
{
	if (s)
		sink += strlen(s);
}

static void touch_bytes(const char *p, size_t n)
{
	for (size_t i = 0; p && i < n; i++)
		sink += (unsigned char)p[i];
}

static void touch_reply(const struct uplink_reply *y)
{
	const char *strs[] = { y->invalid,   y->error,     y->message,
			       y->nonce,     y->status,    y->policy_sha256,
			       y->challenge, y->device_id, y->server_public_key,
			       y->name,      y->version,   y->sha256,
			       y->signature };

	for (size_t i = 0; i < sizeof(strs) / sizeof(strs[0]); i++)
		touch(strs[i]);
	touch_bytes(y->text, y->text_len + 1);
}

/* Decoders need their payload NUL-terminated after len (as uplink_chan_recv delivers it). */
static char *copy(const uint8_t *d, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		abort();
	if (n)
		memcpy(p, d, n);
	p[n] = 0;
	return p;
}

static void parent_side(const char *p, size_t n)
{
	struct uplink_msg_resp rs;
	struct uplink_msg_ready rd;
	const char *why = NULL, *text;

	if (uplink_msg_decode_resp(p, n, &rs, &why) == 0) {
		touch(rs.error);
		touch_bytes(rs.body, rs.len + 1);
		if (rs.has_reply) {
			if (uplink_reply_check(&rs.reply, rs.status, &why) != 0)
				abort(); /* the decoder let through what the check refuses */
			touch_reply(&rs.reply);
		}
	} else if (!why)
		abort();
	why = NULL;
	if (uplink_msg_decode_ready(p, n, &rd, &why) != 0 && !why)
		abort();
	why = NULL;
	if (uplink_msg_decode_text(p, n, &text, &why) == 0)
		touch(text);
	else if (!why)
		abort();
}

static void child_side(const char *p, size_t n)
{
	struct uplink_msg_init in;
	struct uplink_msg_req rq;
	const char *why = NULL, *text;

	if (uplink_msg_decode_init(p, n, &in, &why) == 0) {
		touch(in.base_url);
		touch(in.ca);
		touch(in.pin);
		touch(in.proxy);
		touch_bytes(in.ca_pem, in.ca_pem ? in.ca_pem_len : 0);
	} else if (!why)
		abort();
	why = NULL;
	if (uplink_msg_decode_req(p, n, &rq, &why) == 0) {
		touch(rq.method);
		touch(rq.path);
		for (size_t i = 0; rq.headers[i]; i++)
			touch(rq.headers[i]);
		touch_bytes(rq.body, rq.body ? rq.len : 0);
		if (rq.method[0] == 0 || rq.path[0] != '/' || rq.kind > UPLINK_REPLY_KIND_MAX)
			abort();
	} else if (!why)
		abort();
	why = NULL;
	if (uplink_msg_decode_text(p, n, &text, &why) == 0)
		touch(text);
}

static void channel(const uint8_t *d, size_t n)
{
	struct uplink_chan *ch;
	struct uplink_msg m;
	const char *why;
	int sv[2], r;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return;
	if (uplink_chan_new(sv[0], &ch) < 0) {
		close(sv[0]);
		close(sv[1]);
		return;
	}
	while (n >= 2) {
		size_t len = (size_t)d[0] | (size_t)d[1] << 8;

		d += 2;
		n -= 2;
		if (len > n)
			len = n;
		if (send(sv[1], d, len, MSG_DONTWAIT) < 0 && errno != EAGAIN)
			break;
		d += len;
		n -= len;
		for (;;) {
			why = NULL;
			r = uplink_chan_recv(ch, &m, &why);
			if (r == -EBADMSG && !why)
				abort();
			if (r != 1)
				break;
			if (m.payload[m.len] != 0)
				abort();
			if (m.type == UPLINK_MSG_RESP || m.type == UPLINK_MSG_READY ||
			    m.type == UPLINK_MSG_ERROR)
				parent_side(m.payload, m.len);
			else
				child_side(m.payload, m.len);
			free(m.payload);
		}
	}
	close(sv[1]);
	uplink_chan_free(ch);
}

static void json_reply(const uint8_t *d, size_t n)
{
	static const long statuses[] = { 200, 201, 400, 401, 403, 404, 409,
					 413, 500, 503, 302, 99,  600, 0 };
	struct uplink_response raw = { 0 };
	struct uplink_reply_buf b;
	struct uplink_msg_resp m, out;
	const char *why = NULL;
	char *body, *buf = NULL;
	uint32_t kind;

	if (n < 2)
		return;
	kind = d[0] % (UPLINK_REPLY_KIND_MAX + 2); /* RAW and one unknown kind too */
	raw.status = statuses[d[1] % (sizeof(statuses) / sizeof(statuses[0]))];
	raw.err = d[1] == 0xff ? -ETIMEDOUT : 0;
	raw.error = raw.err ? "timed out" : "";
	body = copy(d + 2, n - 2);
	raw.body = body;
	raw.len = n - 2;
	uplink_reply_make_resp(kind, &raw, &m, &b);
	if (uplink_msg_resp_roundtrip(&m, &buf, &out, &why) != 0) {
		/* An unknown kind is refused by the parent; anything else the child builds must
		 * pass. */
		if (kind <= UPLINK_REPLY_KIND_MAX) {
			fprintf(stderr, "child's reply refused by the parent: %s\n", why);
			abort();
		}
	} else {
		if (out.has_reply)
			touch_reply(&out.reply);
		touch_bytes(out.body, out.len + 1);
	}
	free(buf);
	uplink_reply_buf_clear(&b);
	free(body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *p;

	if (size == 0)
		return 0;
	switch (data[0]) {
	case 'p':
		p = copy(data + 1, size - 1);
		parent_side(p, size - 1);
		free(p);
		break;
	case 'c':
		p = copy(data + 1, size - 1);
		child_side(p, size - 1);
		free(p);
		break;
	case 's': channel(data + 1, size - 1); break;
	case 'j': json_reply(data + 1, size - 1); break;
	default:
		p = copy(data, size);
		parent_side(p, size);
		child_side(p, size);
		free(p);
	}
	return 0;
}
