/* wxguard-server serve: the HTTPS server (API, dashboard, /metrics) and the alert worker, until
 * SIGINT or SIGTERM (server/server.c). */
#include "server/cli/server_cli.h"

#include "server/server.h"
#include "server/store/store.h"

int server_cli_serve(struct server_cli *c)
{
	int r;

	r = server_cli_tls(c);
	if (r < 0)
		return r;
	/* Each worker thread opens its own connection. */
	store_close(c->st);
	c->st = NULL;
	return server_serve(&c->s);
}
