/* wxguard-server alerts [--device ID] [--limit N]: alerts with their per-sink delivery state. */
#include "server/cli/server_cli.h"

#include <stdio.h>

#include "server/store/store.h"

static void print_alert(json_t *v, char *tb, size_t tblen)
{
	json_t *d, *err;
	size_t k;

	printf("%s %-8s %-20s %s%s", server_cli_time(json_object_get(v, "created"), tb, tblen),
	       server_cli_str(v, "severity"), server_cli_str(v, "rule"),
	       server_cli_str(v, "message"),
	       json_is_true(json_object_get(v, "suppressed")) ? " [rate limited]" : "");
	if (json_is_integer(json_object_get(v, "cleared")))
		printf(" [cleared %s]", server_cli_time(json_object_get(v, "cleared"), tb, tblen));
	putchar('\n');
	json_array_foreach (json_object_get(v, "deliveries"), k, d) {
		err = json_object_get(d, "last_error");
		printf("    -> %s: %s (%lld attempts)%s%s\n", server_cli_str(d, "sink"),
		       server_cli_str(d, "state"),
		       (long long)json_integer_value(json_object_get(d, "attempts")),
		       err && json_is_string(err) ? " " : "", json_string_value(err) ?: "");
	}
}

int server_cli_alerts(struct server_cli *c)
{
	if (*c->sub)
		return SERVER_CLI_USAGE;
	return server_cli_list(c, store_alerts_list, print_alert);
}
