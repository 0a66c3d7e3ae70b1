/* The HTTP API as plain functions: a parsed request in, a status and body out. http.c is the
 * only caller in production; unit tests and the fuzz target call api_handle() directly.
 *
 *   POST /api/v1/enroll/challenge, /api/v1/enroll, /api/v1/report, /api/v1/events
 *   GET  /api/v1/policy                     (X-Wxguard-Device)
 *   GET  /metrics                           (Prometheus text)
 *   GET  /, /dashboard                      (the embedded dashboard)
 *   /api/v1/admin/...                       (Authorization: Bearer <admin token>), see
 *                                           docs/server.md */
#pragma once
#include <stddef.h>
#include <jansson.h>

#include "server/srv.h"

struct store;

struct api_request {
	const char *method;        /* "GET", "POST", ... */
	const char *path;          /* without the query */
	const char *query;         /* after '?', or NULL */
	const char *authorization; /* header value or NULL */
	const char *device;        /* X-Wxguard-Device or NULL */
	const char *body;
	size_t body_len;
};

struct api_response {
	int status;
	const char *content_type; /* static */
	char *body;               /* malloc'd */
	size_t body_len;
};

/* Always fills rs (free rs->body with free()). Returns 0, or -ENOMEM when even the error
 * reply could not be built. now: unix seconds. */
int api_handle(struct srv *s, struct store *st, const struct api_request *rq,
	       struct api_response *rs, long long now);

/* Shared with the CLI (server/cli/). */
int api_token_create(struct srv *s, struct store *st, long long uses, long long ttl, bool hold,
		     long long now, json_t **ret);
/* Sign and store a policy text (INI); name/version/report_interval come from its [policy]. */
int api_policy_upload(struct srv *s, struct store *st, const char *text, size_t len, long long now,
		      json_t **ret);
/* Make an enrollment challenge / check one (stateless: HMAC of expiry and a random part). */
int api_challenge_make(struct srv *s, long long now, char *out, size_t outlen);
int api_challenge_check(struct srv *s, const char *challenge, long long now);
/* Count a 503 (database unavailable) for the endpoint at path in its refusal counter. */
void api_count_unavailable(struct srv *s, const char *path);
