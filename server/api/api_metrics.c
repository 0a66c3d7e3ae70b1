/* GET /metrics: Prometheus text (server/metrics.c renders it); needs the admin token unless
 * [server] metrics_public. */
#include "server/api/api_call.h"

#include <string.h>

#include "server/metrics.h"

int api_metrics(struct api_call *c)
{
	struct api_response *rs = c->rs;
	char *m;
	int r;

	if (!c->s->cfg.metrics_public && !api_admin_ok(c->s, c->rq))
		return api_reply_error(rs, SRV_UNAUTHORIZED, "metrics need the admin token", NULL);
	r = metrics_render(c->s, c->st, c->now, &m);
	if (r < 0)
		return api_reply_error(rs, SRV_UNAVAILABLE, "cannot render metrics", NULL);
	rs->status = 200;
	rs->content_type = "text/plain; version=0.0.4";
	rs->body = m;
	rs->body_len = strlen(m);
	return 0;
}
