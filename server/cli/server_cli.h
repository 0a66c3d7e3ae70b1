/* wxguard-server's commands (server/main.c holds the table): one file per command, what they
 * share in server_cli.c. Every command but serve works on the database directly, like the
 * admin API. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#include "server/srv.h"

/* A command's return: 0, -errno (exit 1), or this: the words were wrong, print the usage. */
#define SERVER_CLI_USAGE 2

struct server_cli {
	struct srv s;               /* configuration and keys, loaded */
	struct store *st;           /* the database, open; a command may close it (NULL) */
	const char *sub, *arg;      /* the words after the command ("" / NULL when absent) */
	bool json;                  /* --json */
	bool hold;                  /* --hold */
	const char *device;         /* --device ID or NULL */
	long long uses, ttl, limit; /* --uses, --expires, --limit */
	long long now;
};

int server_cli_serve(struct server_cli *c);  /* server_cli_serve.c */
int server_cli_init(struct server_cli *c);   /* server_cli_init.c */
int server_cli_token(struct server_cli *c);  /* server_cli_token.c */
int server_cli_device(struct server_cli *c); /* server_cli_device.c */
int server_cli_events(struct server_cli *c); /* server_cli_events.c */
int server_cli_alerts(struct server_cli *c); /* server_cli_alerts.c */
int server_cli_policy(struct server_cli *c); /* server_cli_policy.c */

/* ---- shared (server_cli.c) ---- */
/* A command's end: r, with the database's message logged for an error other than -ENOENT and
 * -EINVAL (those the command explained). */
int server_cli_done(struct server_cli *c, int r);
/* events, alerts: list (store_events_list, store_alerts_list) for --device and --limit, as
 * JSON or one print() per row. */
int server_cli_list(struct server_cli *c,
		    int (*list)(struct store *st, const char *device_id, long long limit,
				json_t **ret),
		    void (*print)(json_t *row, char *tb, size_t tblen));
/* Use or generate the TLS files (serve, init); logs what went wrong. */
int server_cli_tls(struct server_cli *c);
void server_cli_print_json(const json_t *j);
/* Unix seconds as local "YYYY-MM-DD HH:MM" in buf, "-" when unset. */
const char *server_cli_time(json_t *v, char *buf, size_t len);
/* A string member, "-" when missing or empty. */
const char *server_cli_str(const json_t *o, const char *k);
