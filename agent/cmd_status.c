/* `wxguard status`: what the running `wxguard run` published in /run/wxguard/status.json
 * (written atomically every few seconds): state, mode, enforcement, counters. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent/cmd.h"
#include "agent/i18n.h"
#include "common/fileio.h"

#define STATUS_FILE_DEFAULT "/run/wxguard/status.json"

static const char *s_(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v ? v : "";
}

static long long i_(const json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "status-file", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *path = STATUS_FILE_DEFAULT;
	json_t *doc, *c, *pol;
	json_error_t err;
	bool json = false, alive, zh = i18n_zh();
	int ch;
	pid_t pid;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (ch) {
		case 'j': json = true; break;
		case 's': path = optarg; break;
		case 'h':
			printf("usage: wxguard status [--json] [--status-file PATH]\n");
			return WXG_EXIT_OK;
		default:
			return WXG_EXIT_USAGE;
		}
	}
	doc = json_load_file(path, 0, &err);
	if (!doc) {
		fprintf(stderr, zh ? "wxguard 守护进程未运行（没有 %s）。请运行：sudo systemctl start wxguard\n"
				   : "wxguard run is not running (no %s). Start it: sudo systemctl start wxguard\n",
			path);
		return WXG_EXIT_FAIL;
	}
	pid = i_(doc, "pid");
	alive = pid > 0 && kill(pid, 0) == 0 && strcmp(s_(doc, "phase"), "stopped") != 0;
	if (!alive)
		json_object_set_new(doc, "phase", json_string("stopped"));
	if (json) {
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(doc);
		return alive ? WXG_EXIT_OK : WXG_EXIT_FAIL;
	}
	c = json_object_get(doc, "counters");
	pol = json_object_get(doc, "policy");
	printf("%-14s %s%s\n", zh ? "状态:" : "state:", alive ? s_(doc, "state") : "stopped",
	       alive ? "" : (zh ? "（未运行）" : " (not running)"));
	if (*s_(doc, "reason"))
		printf("%-14s %s\n", zh ? "原因:" : "reason:", s_(doc, "reason"));
	printf("%-14s %s\n", zh ? "模式:" : "mode:", s_(doc, "mode"));
	printf("%-14s %s\n", zh ? "执行方式:" : "enforcement:", s_(doc, "enforcement"));
	printf("%-14s %s %s (%s), %s\n", zh ? "策略:" : "policy:", s_(pol, "name"), s_(pol, "version"),
	       s_(doc, "policy_path"), s_(pol, "sha256"));
	printf("%-14s execs %lld, events %lld, drops %lld, kills %lld (+%lld user), lsm denies %lld\n",
	       zh ? "计数:" : "counters:", i_(c, "execs"), i_(c, "events"), i_(c, "drops"),
	       i_(c, "kills"), i_(c, "user_kills"), i_(c, "lsm_denies"));
	if (json_object_get(doc, "posture"))
		printf("%-14s %s\n", zh ? "安全基线:" : "posture:",
		       s_(json_object_get(doc, "posture"), "overall"));
	printf("%-14s pid %d, %s\n", zh ? "进程:" : "agent:", (int)pid, s_(doc, "version"));
	json_decref(doc);
	return alive ? WXG_EXIT_OK : WXG_EXIT_FAIL;
}
