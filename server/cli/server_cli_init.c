/* wxguard-server init: keys, TLS files, admin token and schema (all made by opening them), and
 * where they are. */
#include "server/cli/server_cli.h"

#include <stdio.h>

#include "server/store/store.h"

int server_cli_init(struct server_cli *c)
{
	const struct srv_config *cfg = &c->s.cfg;
	int r;

	r = server_cli_tls(c);
	if (r < 0)
		return r;
	printf("server key      %s\npublic key      %s\nadmin token     %s\nTLS certificate %s\n"
	       "TLS CA (pin it) %s\ndatabase        %s (%s)\n",
	       cfg->server_key, c->s.public_key_b64, cfg->admin_token_file, cfg->tls_cert,
	       cfg->tls_ca ? cfg->tls_ca : "(configured)", cfg->database, store_kind(c->st));
	return 0;
}
