/* The dashboard: the page itself (server/dashboard.c) and the summary it shows. */
#include "server/api/api_call.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "server/dashboard.h"

int api_dashboard(struct api_call *c)
{
	struct api_response *rs = c->rs;

	rs->status = 200;
	rs->content_type = "text/html; charset=utf-8";
	rs->body_len = dashboard_html_len();
	rs->body = malloc(rs->body_len + 1);
	if (!rs->body)
		return -ENOMEM;
	memcpy(rs->body, dashboard_html(), rs->body_len);
	rs->body[rs->body_len] = 0;
	return 0;
}

/* GET /api/v1/admin/summary?hours=24 */
int api_admin_summary(struct api_call *c)
{
	json_t *j = NULL;
	int r;

	r = store_summary(c->st, c->now, c->s->cfg.stale_grace,
			  api_query_int(c->rq->query, "hours", 24, 24 * 90), &j);
	if (j)
		json_object_set_new(j, "server_public_key", json_string(c->s->public_key_b64));
	return api_admin_result(c, r, j, "summary");
}
