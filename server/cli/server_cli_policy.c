/* wxguard-server policy upload FILE | show: upload signs the text with the server key. */
#include "server/cli/server_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/log.h"
#include "server/api/api.h"
#include "server/store/store.h"

static int policy_upload(struct server_cli *c, const char *path, json_t **j)
{
	char *text;
	size_t len;
	int r;

	r = read_full_file(path, 1024 * 1024, &text, &len);
	if (r < 0)
		return log_error_errno(r, "policy %s: cannot read it", path);
	r = api_policy_upload(&c->s, c->st, text, len, c->now, j);
	free(text);
	if (r > 0) {
		log_error("policy %s line %d: not valid INI; fix it (wxguard policy lint) and "
			  "upload again",
			  path, r);
		return -EINVAL;
	}
	if (r < 0)
		return r;
	if (c->json)
		server_cli_print_json(*j);
	else
		printf("policy %s %s uploaded, sha256 %s, signed with the server key\n",
		       server_cli_str(*j, "name"), server_cli_str(*j, "version"),
		       server_cli_str(*j, "sha256"));
	return 0;
}

static int policy_show(struct server_cli *c, json_t **j)
{
	int r;

	r = store_policy_current(c->st, j);
	if (r == 0)
		server_cli_print_json(*j);
	else if (r == -ENOENT)
		log_error("no policy uploaded yet (wxguard-server policy upload FILE)");
	return r;
}

int server_cli_policy(struct server_cli *c)
{
	json_t *j = NULL;
	int r;

	if (strcmp(c->sub, "upload") == 0 && c->arg)
		r = policy_upload(c, c->arg, &j);
	else if (strcmp(c->sub, "show") == 0)
		r = policy_show(c, &j);
	else
		return SERVER_CLI_USAGE;
	json_decref(j);
	return server_cli_done(c, r);
}
