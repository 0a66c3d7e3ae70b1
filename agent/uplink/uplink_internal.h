/* Inside the uplink (agent/uplink/uplink.h); not for other modules.
 *
 *   uplink.c          the public API: dispatches to the engine in process, or to the child
 *   uplink_curl.c     the engine: libcurl multi on an sd-event loop (parent or child)
 *   uplink_msg.c      the typed, length-checked messages between parent and child
 *   uplink_child.c    the parent's side of the child (spawn, restart, requests) and the
 *                     child's main loop (privilege drop, then the engine) */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "agent/uplink/uplink.h"

#define UPLINK_MAX_RESPONSE (8u * 1024 * 1024)

/* ---- the engine ---- */
struct uplink_curl;

struct uplink_curl_opts {
	const char *base_url;
	const char *ca;              /* PEM file */
	const void *ca_pem;          /* or the PEM itself (read before a privilege drop); wins */
	size_t ca_pem_len;
	const char *pin_sha256;
	const char *proxy;
	unsigned timeout_s;
};

int uplink_curl_new(sd_event *e, const struct uplink_curl_opts *o, struct uplink_curl **ret);
void uplink_curl_free(struct uplink_curl *c);
/* kind: RAW hands the body over as is; a typed kind goes through uplink_reply_deliver(). */
int uplink_curl_request(struct uplink_curl *c, uint32_t kind, const char *method, const char *path,
			const char *const *headers, const char *body, size_t len, uplink_done_fn cb,
			void *userdata);
void uplink_curl_cancel(struct uplink_curl *c, void *userdata);
unsigned uplink_curl_in_flight(const struct uplink_curl *c);

/* ---- typed replies (agent/uplink/uplink_reply.c) ---- */
struct uplink_msg_resp;
struct uplink_reply_buf;
/* The RESP for a finished request: transport fields normalized (status range, error text); for
 * a typed kind the body is parsed into m->reply (storage in b, uplink_reply_buf_clear()) and
 * not sent. */
void uplink_reply_make_resp(uint32_t kind, const struct uplink_response *resp, struct uplink_msg_resp *m,
			    struct uplink_reply_buf *b);
/* In process: the same, encoded and decoded as the parent would receive it, then cb. */
void uplink_reply_deliver(uint32_t kind, const struct uplink_response *resp, uplink_done_fn cb, void *userdata);

/* ---- the child ---- */
struct uplink_child;

struct uplink_child_opts {
	const char *base_url;
	const char *ca;
	const char *pin_sha256;
	const char *proxy;
	unsigned timeout_s;
	const char *user;            /* NULL: wxguard, _wxguard, nobody */
};

int uplink_child_new(sd_event *e, const struct uplink_child_opts *o, struct uplink_child **ret);
void uplink_child_free(struct uplink_child *c);
int uplink_child_request(struct uplink_child *c, uint32_t kind, const char *method, const char *path,
			 const char *const *headers, const char *body, size_t len, uplink_done_fn cb,
			 void *userdata);
void uplink_child_cancel(struct uplink_child *c, void *userdata);
unsigned uplink_child_in_flight(const struct uplink_child *c);
void uplink_child_get_info(const struct uplink_child *c, struct uplink_info *ret);
