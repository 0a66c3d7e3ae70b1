/* What the API's handlers share (server/api/ only): one call's context, replies, and the two
 * preludes every signed device request goes through, written once:
 *   api_signed_open()  the body is a JSON object {"<member>": {...}, "signature": "..."}
 *                      and the member has a canonical form (what the signature covers);
 *   api_device_auth()  the device is enrolled, the signature verifies with its key, it is
 *                      neither revoked nor waiting for approval.
 * A prelude that fails has answered the request (counted by reason) and returns false. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "server/api/api.h"
#include "server/store/store.h"

struct api_call {
	struct srv *s;
	struct store *st;
	const struct api_request *rq;
	struct api_response *rs;
	long long now;
	const char *id; /* the path segment a route's "*" matched */
	char id_buf[80];
};

/* How one device endpoint refuses: its counters, its words. */
struct api_endpoint {
	const char *member;     /* the signed object: "enroll", "report", "batch" */
	const char *what;       /* names the request in database error logs */
	atomic_ullong *refused; /* refusals by reason (NULL: not counted) */
	const char *unknown;    /* the message for a device that is not enrolled */
	bool nonce;             /* a not_approved refusal carries the device's nonce */
	bool alert;             /* bad signature, replay, bad nonce raise verification_failed */
};

struct api_signed {
	json_t *body;    /* the request */
	json_t *obj;     /* body[member] (borrowed) */
	const char *sig; /* body.signature (borrowed) */
	char *canon;     /* canonical bytes of obj: what the signature covers */
	size_t canon_len;
};

/* ---- replies: always fill c->rs; 0, or -ENOMEM when even the error reply failed ---- */
int api_reply_json(struct api_response *rs, int status, json_t *j); /* steals j */
/* extra (may be NULL, stolen) is merged into the error object. */
int api_reply_error(struct api_response *rs, enum srv_reason why, const char *message,
		    json_t *extra);
/* 503: the database failed during what (logged once per outage, counted). */
int api_reply_db(struct api_call *c, int r, const char *what);
/* Count the refusal in ep, raise the verification alert for d (may be NULL) when ep says so,
 * answer it. */
int api_refuse(struct api_call *c, const struct api_endpoint *ep, enum srv_reason why,
	       const char *msg, json_t *extra, const struct store_device *d);
/* Admin answers: -ENOENT 404, -EINVAL 400, other errors 503, else 200 with j. */
int api_admin_result(struct api_call *c, int r, json_t *j, const char *what);
/* GET ...?device=ID&limit=100: list (store_events_list, store_alerts_list), answered. */
int api_admin_list(struct api_call *c,
		   int (*list)(struct store *st, const char *device_id, long long limit,
			       json_t **ret),
		   const char *what);

/* ---- the preludes ---- */
bool api_signed_open(struct api_call *c, const struct api_endpoint *ep, struct api_signed *sr);
void api_signed_close(struct api_signed *sr);
/* Look the device up (ctx non-NULL: with what a report needs, store_device_get_for_report). */
bool api_device_find(struct api_call *c, const struct api_endpoint *ep, const char *id,
		     struct store_device *d, struct store_report_ctx *ctx);
bool api_device_auth(struct api_call *c, const struct api_endpoint *ep, const struct api_signed *sr,
		     const char *id, struct store_device *d, struct store_report_ctx *ctx);

/* ---- reading requests ---- */
/* A non-empty string member of at most maxlen bytes, else NULL. */
const char *api_json_str(const json_t *o, const char *key, size_t maxlen);
bool api_json_int(const json_t *o, const char *key, long long *ret);
/* Value of key in a query string into out (%XX and '+' decoded). */
bool api_query_get(const char *q, const char *key, char *out, size_t outlen);
/* A positive integer from the query: dflt when absent or < 1, at most max. */
long long api_query_int(const char *q, const char *key, long long dflt, long long max);
/* Authorization: Bearer <the admin token>? */
bool api_admin_ok(struct srv *s, const struct api_request *rq);

/* ---- the handlers (one file per resource), routed by api.c ---- */
int api_enroll_challenge(struct api_call *c); /* api_enroll.c */
int api_enroll(struct api_call *c);
int api_report(struct api_call *c); /* api_reports.c */
int api_events(struct api_call *c); /* api_events.c */
int api_admin_events(struct api_call *c);
int api_policy_get(struct api_call *c); /* api_policy.c */
int api_admin_policy_get(struct api_call *c);
int api_admin_policy_put(struct api_call *c);
int api_admin_devices(struct api_call *c); /* api_devices.c */
int api_admin_device(struct api_call *c);
int api_admin_device_approve(struct api_call *c);
int api_admin_device_revoke(struct api_call *c);
int api_admin_tokens(struct api_call *c); /* api_tokens.c */
int api_admin_token_create(struct api_call *c);
int api_admin_token_revoke(struct api_call *c);
int api_admin_alerts(struct api_call *c); /* api_alerts.c */
int api_dashboard(struct api_call *c);    /* api_dashboard.c */
int api_admin_summary(struct api_call *c);
int api_metrics(struct api_call *c); /* api_metrics.c */
