/* Inside the uplink (agent/uplink/uplink.h); not for other modules. Calls go one way, down:
 *
 *   uplink.c          the public API: dispatches to the engine in process, or to the child
 *   uplink_child.c    the parent's side of the child (spawn, restart, requests)
 *   uplink_child_main.c  the child's process (privilege drop, then the engine): entered from
 *                     main(), never called by the parent side
 *   uplink_curl.c     the engine: libcurl multi on an sd-event loop (parent or child)
 *   uplink_msg.c      the typed, length-checked messages between parent and child
 *   uplink_chan.c     the channel the messages travel on (packets on a socketpair)
 *   uplink_reply.c    typed replies: the server's JSON parsed and checked
 *   privsep.c         the privilege drop
 * and below them common/ (url, retry, random, fileio, log). */
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
	const char *ca;     /* PEM file */
	const void *ca_pem; /* or the PEM itself (read before a privilege drop); wins */
	size_t ca_pem_len;
	const char *pin_sha256;
	const char *proxy;
	unsigned timeout_s;
};

int uplink_curl_new(sd_event *e, const struct uplink_curl_opts *o, struct uplink_curl **ret);
void uplink_curl_free(struct uplink_curl *c);
/* kind: RAW hands the body over as is; a typed kind is parsed (uplink_reply.h) and
 * handed over through uplink_msg_resp_roundtrip(), as the parent would receive it. */
int uplink_curl_request(struct uplink_curl *c, uint32_t kind, const char *method, const char *path,
			const char *const *headers, const char *body, size_t len, uplink_done_fn cb,
			void *userdata);
void uplink_curl_cancel(struct uplink_curl *c, void *userdata);
unsigned uplink_curl_in_flight(const struct uplink_curl *c);

/* ---- the child ---- */
struct uplink_child;

struct uplink_child_opts {
	const char *base_url;
	const char *ca;
	const char *pin_sha256;
	const char *proxy;
	unsigned timeout_s;
	const char *user; /* NULL: wxguard, _wxguard, nobody */
};

int uplink_child_new(sd_event *e, const struct uplink_child_opts *o, struct uplink_child **ret);
void uplink_child_free(struct uplink_child *c);
int uplink_child_request(struct uplink_child *c, uint32_t kind, const char *method,
			 const char *path, const char *const *headers, const char *body, size_t len,
			 uplink_done_fn cb, void *userdata);
void uplink_child_cancel(struct uplink_child *c, void *userdata);
unsigned uplink_child_in_flight(const struct uplink_child *c);
void uplink_child_get_info(const struct uplink_child *c, struct uplink_info *ret);
