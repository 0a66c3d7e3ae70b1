/* Typed replies (agent/uplink/uplink.h enum uplink_reply_kind, docs/attestation.md "Privilege
 * separation"): the server's JSON reply parsed where the HTTPS is spoken, and the check both
 * sides run on the typed fields. Calls nothing else in the uplink. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "agent/uplink/uplink.h"

struct uplink_msg_resp;

/* Storage behind a parsed reply's strings. */
struct json_t;
struct uplink_reply_buf {
	struct json_t *json;
	char message[UPLINK_REPLY_MAX_MESSAGE + 1];
};

/* Child side: parse the server's reply body as kind (kind != RAW). Never fails on bad input:
 * r->valid = false with r->invalid saying why. 0, or -ENOMEM. Free b with
 * uplink_reply_buf_clear() once r is not needed any more. */
int uplink_reply_parse(uint32_t kind, long status, const char *body, size_t len,
		       struct uplink_reply *r, struct uplink_reply_buf *b);
void uplink_reply_buf_clear(struct uplink_reply_buf *b);
/* Both sides: every field well-formed for its type, the kind's required members present on a
 * 2xx status, the other kinds' fields empty. 0 or -EBADMSG (*why). */
int uplink_reply_check(const struct uplink_reply *r, long status, const char **why);

/* The RESP for a finished request: transport fields normalized (status range, error text); for
 * a typed kind the body is parsed into m->reply (storage in b, uplink_reply_buf_clear()) and
 * not sent. */
void uplink_reply_make_resp(uint32_t kind, const struct uplink_response *resp,
			    struct uplink_msg_resp *m, struct uplink_reply_buf *b);
