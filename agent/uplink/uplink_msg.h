/* Messages between the agent and its uplink child (agent/uplink/uplink.h, docs/attestation.md).
 * They travel over the channel (agent/uplink/uplink_chan.h).
 *
 * Payload: fields in a fixed order per type: u32 / i32 little-endian, and byte strings as u32
 * length + bytes + a NUL (checked). Text fields must not contain NUL; request fields are checked
 * further (method, path, header syntax) so the child never hands libcurl something the parent
 * API would have refused. Trailing bytes are an error. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/uplink/uplink.h"

#define UPLINK_MSG_MAX (16u * 1024 * 1024) /* one logical message */
#define UPLINK_MSG_MAX_HEADERS 32
#define UPLINK_MSG_MAX_TEXT 4096 /* path, one header, URL, pin, proxy, error text */
#define UPLINK_MSG_MAX_CA (1024u * 1024)

enum uplink_msg_type {
	UPLINK_MSG_INIT = 1,   /* parent -> child, once: the configuration */
	UPLINK_MSG_READY = 2,  /* child -> parent, once: privileges dropped, serving */
	UPLINK_MSG_REQ = 3,    /* parent -> child */
	UPLINK_MSG_CANCEL = 4, /* parent -> child: forget request id (no RESP follows) */
	UPLINK_MSG_RESP = 5,   /* child -> parent */
	UPLINK_MSG_ERROR = 6,  /* child -> parent: a message from the parent was refused */
};

/* ---- decoded messages (pointers into the payload buffer) ---- */
enum uplink_init_flags {
	UPLINK_INIT_DROP = 1,
	UPLINK_INIT_HAS_CA_PEM = 2
};

struct uplink_msg_init {
	uint32_t flags;
	uint32_t uid, gid; /* with UPLINK_INIT_DROP */
	uint32_t timeout_s;
	const char *base_url;
	const char *ca;     /* file, "" if none */
	const char *ca_pem; /* with UPLINK_INIT_HAS_CA_PEM */
	size_t ca_pem_len;
	const char *pin;   /* "" if none */
	const char *proxy; /* "" if none */
};

struct uplink_msg_ready {
	uint32_t uid, gid;
};

struct uplink_msg_req {
	const char *method, *path;
	const char *headers[UPLINK_MSG_MAX_HEADERS + 1]; /* NULL-terminated */
	const char *body;                                /* NULL: none */
	size_t len;
	uint32_t kind; /* enum uplink_reply_kind: how the child parses the reply */
};

struct uplink_msg_resp {
	int32_t err;    /* 0 or -errno (>= -4095) */
	int32_t status; /* 100..599 when err == 0, else 0 */
	const char *error;
	const char *body; /* NUL-terminated; "" with a typed reply */
	size_t len;
	bool has_reply; /* typed: reply.kind != RAW, err == 0 */
	struct uplink_reply reply;
};

/* Encoders: a malloc'd payload. */
int uplink_msg_encode_init(const struct uplink_msg_init *m, char **ret, size_t *ret_len);
int uplink_msg_encode_ready(const struct uplink_msg_ready *m, char **ret, size_t *ret_len);
int uplink_msg_encode_req(const struct uplink_msg_req *m, char **ret, size_t *ret_len);
int uplink_msg_encode_resp(const struct uplink_msg_resp *m, char **ret, size_t *ret_len);
int uplink_msg_encode_text(const char *text, char **ret, size_t *ret_len); /* ERROR */

/* Decoders: 0 or -EBADMSG; *why names the first problem (static text). */
int uplink_msg_decode_init(const char *p, size_t len, struct uplink_msg_init *m, const char **why);
int uplink_msg_decode_ready(const char *p, size_t len, struct uplink_msg_ready *m,
			    const char **why);
int uplink_msg_decode_req(const char *p, size_t len, struct uplink_msg_req *m, const char **why);
int uplink_msg_decode_resp(const char *p, size_t len, struct uplink_msg_resp *m, const char **why);
int uplink_msg_decode_text(const char *p, size_t len, const char **text, const char **why);

/* Encode m, then decode it into *out (pointers into *buf, free() it): what the parent would
 * receive from the child. The in-process uplink hands typed replies over through this, so both
 * modes go through the same checks. */
int uplink_msg_resp_roundtrip(const struct uplink_msg_resp *m, char **buf,
			      struct uplink_msg_resp *out, const char **why);
