/* wxguard-server token create [--uses N] [--expires 7d] [--hold] | list | revoke ID */
#include "server/cli/server_cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/store/store.h"

static int token_create(struct server_cli *c, json_t **j)
{
	char tb[64];
	int r;

	r = api_token_create(&c->s, c->st, c->uses, c->ttl, c->hold, c->now, j);
	if (r == -EINVAL) {
		log_error("token create: --uses and --expires must be positive");
		return r;
	}
	if (r < 0)
		return r;
	if (c->json)
		server_cli_print_json(*j);
	else
		printf("%s\n# id %s, %lld use(s), expires %s%s\n", server_cli_str(*j, "token"),
		       server_cli_str(*j, "id"), c->uses,
		       server_cli_time(json_object_get(*j, "expires"), tb, sizeof(tb)),
		       c->hold ? ", devices wait for approval" : "");
	return 0;
}

static int token_list(struct server_cli *c, json_t **j)
{
	char tb[64];
	json_t *v;
	size_t i;
	int r;

	r = store_token_list(c->st, j);
	if (r < 0)
		return r;
	if (c->json) {
		server_cli_print_json(*j);
		return 0;
	}
	printf("%-16s %5s %5s %-16s %-5s %s\n", "ID", "LEFT", "USES", "EXPIRES", "HOLD", "STATE");
	json_array_foreach (*j, i, v) {
		bool expired = json_integer_value(json_object_get(v, "expires")) <= c->now;

		printf("%-16s %5lld %5lld %-16s %-5s %s\n", server_cli_str(v, "id"),
		       (long long)json_integer_value(json_object_get(v, "uses_left")),
		       (long long)json_integer_value(json_object_get(v, "uses_total")),
		       server_cli_time(json_object_get(v, "expires"), tb, sizeof(tb)),
		       json_is_true(json_object_get(v, "hold")) ? "yes" : "no",
		       json_is_true(json_object_get(v, "revoked")) ? "revoked"
		       : expired                                   ? "expired"
								   : "active");
	}
	return 0;
}

static int token_revoke(struct server_cli *c, const char *id)
{
	int r;

	r = store_token_revoke(c->st, id);
	if (r == -ENOENT)
		log_error("token %s: no such token (wxguard-server token list)", id);
	else if (r == 0)
		printf("token %s revoked\n", id);
	return r;
}

int server_cli_token(struct server_cli *c)
{
	json_t *j = NULL;
	int r;

	if (strcmp(c->sub, "create") == 0)
		r = token_create(c, &j);
	else if (strcmp(c->sub, "list") == 0)
		r = token_list(c, &j);
	else if (strcmp(c->sub, "revoke") == 0 && c->arg)
		r = token_revoke(c, c->arg);
	else
		return SERVER_CLI_USAGE;
	json_decref(j);
	return server_cli_done(c, r);
}
