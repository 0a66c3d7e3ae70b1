/* wxguard-server events [--device ID] [--limit N]: watcher events, newest first. */
#include "server/cli/server_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/store/store.h"

/* One watcher event (docs/events.md): time, host, rule/reason, verdict/action, what was seen
 * (the agent's message in the user's language, else the process). Old-style events without a
 * rule show their type. */
static void print_event(json_t *v, char *tb, size_t tblen)
{
	json_t *e = json_object_get(v, "event"), *msg = json_object_get(e, "message");
	const char *lang = getenv("LANG"), *text;
	char what[96], rr[160];

	text = json_string_value(
		json_object_get(msg, lang && strncmp(lang, "zh", 2) == 0 ? "zh" : "en"));
	snprintf(what, sizeof(what), "%s", server_cli_str(json_object_get(e, "process"), "comm"));
	if (strcmp(what, "-") == 0)
		snprintf(what, sizeof(what), "%s", server_cli_str(e, "comm"));
	if (json_is_string(json_object_get(e, "rule")))
		snprintf(rr, sizeof(rr), "%s/%s", server_cli_str(e, "rule"),
			 server_cli_str(e, "reason"));
	else
		snprintf(rr, sizeof(rr), "%s", server_cli_str(v, "type"));
	printf("%s %-20s %-32s %-4s %-9s %s\n",
	       server_cli_time(json_object_get(v, "time"), tb, tblen),
	       server_cli_str(v, "hostname"), rr, server_cli_str(e, "verdict"),
	       server_cli_str(e, "action"), text && *text ? text : what);
}

int server_cli_events(struct server_cli *c)
{
	if (*c->sub)
		return SERVER_CLI_USAGE;
	return server_cli_list(c, store_events_list, print_event);
}
