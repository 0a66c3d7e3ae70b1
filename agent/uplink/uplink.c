#include "agent/uplink/uplink.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/uplink/uplink_internal.h"
#include "common/url.h"

struct uplink {
	struct uplink_curl *curl;   /* isolation none */
	struct uplink_child *child; /* isolation child */
};

static enum uplink_isolation resolve_isolation(enum uplink_isolation i)
{
	if (i != UPLINK_ISOLATION_AUTO)
		return i;
	return geteuid() == 0 ? UPLINK_ISOLATION_CHILD : UPLINK_ISOLATION_NONE;
}

int uplink_new(sd_event *e, const struct uplink_opts *o, struct uplink **ret)
{
	struct uplink *u;
	int r;

	r = url_check_server(o->base_url);
	if (r < 0)
		return r;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	if (resolve_isolation(o->isolation) == UPLINK_ISOLATION_CHILD)
		r = uplink_child_new(e,
				     &(struct uplink_child_opts){ .base_url = o->base_url,
								  .ca = o->ca,
								  .pin_sha256 = o->pin_sha256,
								  .proxy = o->proxy,
								  .timeout_s = o->timeout_s,
								  .user = o->user },
				     &u->child);
	else
		r = uplink_curl_new(e,
				    &(struct uplink_curl_opts){ .base_url = o->base_url,
								.ca = o->ca,
								.pin_sha256 = o->pin_sha256,
								.proxy = o->proxy,
								.timeout_s = o->timeout_s },
				    &u->curl);
	if (r < 0) {
		free(u);
		return r;
	}
	*ret = u;
	return 0;
}

void uplink_free(struct uplink *u)
{
	if (!u)
		return;
	uplink_curl_free(u->curl);
	uplink_child_free(u->child);
	free(u);
}

int uplink_request_typed(struct uplink *u, enum uplink_reply_kind kind, const char *method,
			 const char *path, const char *const *headers, const char *body, size_t len,
			 uplink_done_fn cb, void *userdata)
{
	if (!method || !path || path[0] != '/')
		return -EINVAL;
	if (body && strcmp(method, "GET") == 0)
		return -EINVAL;
	if ((unsigned)kind > UPLINK_REPLY_KIND_MAX)
		return -EINVAL;
	if (u->child)
		return uplink_child_request(u->child, kind, method, path, headers, body, len, cb,
					    userdata);
	return uplink_curl_request(u->curl, kind, method, path, headers, body, len, cb, userdata);
}

int uplink_request(struct uplink *u, const char *method, const char *path,
		   const char *const *headers, const char *body, size_t len, uplink_done_fn cb,
		   void *userdata)
{
	return uplink_request_typed(u, UPLINK_REPLY_RAW, method, path, headers, body, len, cb,
				    userdata);
}

unsigned uplink_in_flight(const struct uplink *u)
{
	return u->child ? uplink_child_in_flight(u->child) : uplink_curl_in_flight(u->curl);
}

void uplink_cancel(struct uplink *u, void *userdata)
{
	if (u->child)
		uplink_child_cancel(u->child, userdata);
	else
		uplink_curl_cancel(u->curl, userdata);
}

void uplink_get_info(const struct uplink *u, struct uplink_info *ret)
{
	if (u->child) {
		uplink_child_get_info(u->child, ret);
		return;
	}
	*ret = (struct uplink_info){ .isolation = UPLINK_ISOLATION_NONE, .last_error = "" };
}
