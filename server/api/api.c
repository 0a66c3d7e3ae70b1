/* The API's routing table: method and path to a handler (one file per resource). Admin paths
 * (/api/v1/admin/...) need the admin token before any route is looked at. */
#include "server/api/api_call.h"

#include <stdlib.h>
#include <string.h>

#define ADMIN "/api/v1/admin/"

struct api_route {
	const char *method;
	const char *path; /* a "*" matches one path segment, which the handler gets as c->id */
	int (*handle)(struct api_call *c);
};

static const struct api_route routes[] = {
	{ "POST", "/api/v1/report", api_report },
	{ "POST", "/api/v1/events", api_events },
	{ "POST", "/api/v1/enroll/challenge", api_enroll_challenge },
	{ "POST", "/api/v1/enroll", api_enroll },
	{ "GET", "/api/v1/policy", api_policy_get },
	{ "GET", "/metrics", api_metrics },
	{ "GET", "/", api_dashboard },
	{ "GET", "/dashboard", api_dashboard },
	{ "GET", ADMIN "summary", api_admin_summary },
	{ "GET", ADMIN "devices", api_admin_devices },
	{ "GET", ADMIN "devices/*", api_admin_device },
	{ "POST", ADMIN "devices/*/approve", api_admin_device_approve },
	{ "POST", ADMIN "devices/*/revoke", api_admin_device_revoke },
	{ "GET", ADMIN "tokens", api_admin_tokens },
	{ "POST", ADMIN "tokens", api_admin_token_create },
	{ "POST", ADMIN "tokens/*/revoke", api_admin_token_revoke },
	{ "GET", ADMIN "events", api_admin_events },
	{ "GET", ADMIN "alerts", api_admin_alerts },
	{ "POST", ADMIN "policy", api_admin_policy_put },
	{ "GET", ADMIN "policy", api_admin_policy_get },
};

/* Does path match pattern? A "*" matches one segment (no '/', may be empty): as the last
 * segment in place, before more of the path copied into c->id_buf (at most 79 bytes). */
static bool route_match(const char *pattern, const char *path, struct api_call *c)
{
	while (*pattern) {
		if (*pattern == '*') {
			size_t n = strcspn(path, "/");

			pattern++;
			if (!*pattern) {
				if (path[n])
					return false;
				c->id = path;
				return true;
			}
			if (n >= sizeof(c->id_buf))
				return false;
			memcpy(c->id_buf, path, n);
			c->id_buf[n] = 0;
			c->id = c->id_buf;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return !*path;
}

static const struct api_route *route_find(struct api_call *c)
{
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++)
		if (strcmp(routes[i].method, c->rq->method) == 0 &&
		    route_match(routes[i].path, c->rq->path, c))
			return &routes[i];
	return NULL;
}

int api_handle(struct srv *s, struct store *st, const struct api_request *rq,
	       struct api_response *rs, long long now)
{
	struct api_call c = { .s = s, .st = st, .rq = rq, .rs = rs, .now = now };
	const char *p = rq->path, *m = rq->method;
	bool admin = strncmp(p, ADMIN, strlen(ADMIN)) == 0;
	const struct api_route *rt;
	int r;

	memset(rs, 0, sizeof(*rs));
	atomic_fetch_add(&s->m.http_requests, 1);
	if (admin && !api_admin_ok(s, rq))
		r = api_reply_error(rs, SRV_UNAUTHORIZED,
				    "admin API needs Authorization: Bearer <admin token>", NULL);
	else if ((rt = route_find(&c)))
		r = rt->handle(&c);
	else if (admin)
		r = api_reply_error(rs, SRV_NOT_FOUND, "no such admin endpoint", NULL);
	else if (strncmp(p, "/api/", 5) == 0 && strcmp(m, "POST") != 0 && strcmp(m, "GET") != 0)
		r = api_reply_error(rs, SRV_METHOD, "method not allowed", NULL);
	else
		r = api_reply_error(rs, SRV_NOT_FOUND, "no such endpoint", NULL);
	if (rs->status >= 400)
		atomic_fetch_add(&s->m.http_errors, 1);
	if (rs->status == 503)
		api_count_unavailable(s, p);
	return r;
}

void api_count_unavailable(struct srv *s, const char *path)
{
	if (strcmp(path, "/api/v1/report") == 0)
		atomic_fetch_add(&s->m.reports_refused[SRV_UNAVAILABLE], 1);
	else if (strcmp(path, "/api/v1/events") == 0)
		atomic_fetch_add(&s->m.events_refused[SRV_UNAVAILABLE], 1);
	else if (strcmp(path, "/api/v1/enroll") == 0)
		atomic_fetch_add(&s->m.enrolls_refused[SRV_UNAVAILABLE], 1);
}
