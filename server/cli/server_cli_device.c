/* wxguard-server device list | show ID | approve ID | revoke ID */
#include "server/cli/server_cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "server/store/store.h"

static int device_list(struct server_cli *c, json_t **j)
{
	char tb[64];
	json_t *v;
	size_t i;
	int r;

	r = store_device_list(c->st, c->now, c->s.cfg.stale_grace, j);
	if (r < 0)
		return r;
	if (c->json) {
		server_cli_print_json(*j);
		return 0;
	}
	printf("%-36s %-20s %-14s %-8s %-16s %-14s %s\n", "ID", "HOSTNAME", "STATE", "SEQ",
	       "LAST REPORT", "WATCHER", "FAILING");
	json_array_foreach (*j, i, v) {
		const json_t *w = json_object_get(v, "watcher");
		char wst[32];

		/* the watcher's state, with a "!" when its policy enforces and it does not */
		snprintf(wst, sizeof(wst), "%s%s", server_cli_str(w, "state"),
			 json_is_true(json_object_get(v, "not_enforcing")) ? "!" : "");
		printf("%-36s %-20s %-14s %-8lld %-16s %-14s %s\n", server_cli_str(v, "id"),
		       server_cli_str(v, "hostname"), server_cli_str(v, "state"),
		       (long long)json_integer_value(json_object_get(v, "last_seq")),
		       server_cli_time(json_object_get(v, "last_report"), tb, sizeof(tb)),
		       wst[0] ? wst : "-", server_cli_str(v, "failing"));
	}
	return 0;
}

static int device_show(struct server_cli *c, const char *id, json_t **j)
{
	int r;

	r = store_device_detail(c->st, id, c->now, c->s.cfg.stale_grace, j);
	if (r == 0)
		server_cli_print_json(*j);
	else if (r == -ENOENT)
		log_error("device %s: no such device (wxguard-server device list)", id);
	return r;
}

static int device_set_status(struct server_cli *c, const char *id, const char *status)
{
	int r;

	r = store_device_set_status(c->st, id, status);
	if (r == -ENOENT)
		log_error("device %s: no such device (wxguard-server device list)", id);
	else if (r == 0)
		printf("device %s %s\n", id, status);
	return r;
}

int server_cli_device(struct server_cli *c)
{
	json_t *j = NULL;
	int r;

	if (strcmp(c->sub, "list") == 0)
		r = device_list(c, &j);
	else if (strcmp(c->sub, "show") == 0 && c->arg)
		r = device_show(c, c->arg, &j);
	else if (strcmp(c->sub, "approve") == 0 && c->arg)
		r = device_set_status(c, c->arg, "approved");
	else if (strcmp(c->sub, "revoke") == 0 && c->arg)
		r = device_set_status(c, c->arg, "revoked");
	else
		return SERVER_CLI_USAGE;
	json_decref(j);
	return server_cli_done(c, r);
}
