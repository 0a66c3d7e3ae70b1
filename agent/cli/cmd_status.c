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

#include "agent/attest/attest.h"
#include "agent/cli/cmd.h"
#include "agent/attest/config.h"
#include "common/i18n.h"
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

static json_t *status_from_state(const char *config)
{
	struct agent_config *cfg = NULL;
	json_t *a = NULL;

	if (agent_config_load(config, &cfg, NULL) < 0)
		return NULL;
	if (attest_status_read(cfg, &a) < 0)
		a = NULL;
	agent_config_free(cfg);
	return a;
}

static void print_time(const char *label, long long t)
{
	char buf[64];
	struct tm tm;
	time_t tt = (time_t)t;

	if (t <= 0) {
		printf("%s -", label);
		return;
	}
	localtime_r(&tt, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm);
	printf("%s %s", label, buf);
}

/* Enrollment, the last report, the spool: what leaves this laptop and whether it arrived. */
static void print_attestation(const json_t *a, bool zh)
{
	const json_t *rep, *sp, *up;

	if (!a) {
		printf("%-14s %s\n", zh ? "服务器:" : "server:",
		       zh ? "未配置（事件仅保存在本机）"
			  : "not configured (events stay on this machine)");
		return;
	}
	rep = json_object_get(a, "report");
	sp = json_object_get(a, "spool");
	up = json_object_get(a, "uplink");
	printf("%-14s %s, %s %s%s\n", zh ? "服务器:" : "server:", s_(a, "server"),
	       json_is_true(json_object_get(a, "enrolled"))
		       ? (zh ? "已注册为设备" : "enrolled as device")
		       : (zh ? "未注册" : "not enrolled"),
	       s_(a, "device_id"),
	       json_is_false(json_object_get(a, "approved"))
		       ? (zh ? "（待批准）" : " (awaiting approval)")
		       : "");
	if (rep) {
		printf("%-14s seq %lld, %s", zh ? "上次报告:" : "last report:", i_(rep, "seq"),
		       *s_(rep, "last_result") ? s_(rep, "last_result") : "-");
		print_time(zh ? ", 发送于" : ", sent", i_(rep, "last_sent"));
		print_time(zh ? ", 接受于" : ", accepted", i_(rep, "last_accepted"));
		if (*s_(rep, "last_error"))
			printf(", %s", s_(rep, "last_error"));
		putchar('\n');
	}
	if (sp)
		printf("%-14s %lld %s, %lld %s\n", zh ? "事件队列:" : "spool:", i_(sp, "depth"),
		       zh ? "个事件待发送" : "events waiting", i_(sp, "evicted"),
		       zh ? "个因空间不足被丢弃" : "evicted for space");
	if (up)
		printf("%-14s %s, pid %lld\n", zh ? "上传进程:" : "uplink:",
		       strcmp(s_(up, "isolation"), "child") == 0
			       ? (zh ? "独立低权限进程" : "unprivileged child")
			       : (zh ? "进程内" : "in-process"),
		       i_(up, "child_pid"));
	printf("%-14s wxguard status --report\n", zh ? "报告内容:" : "what was sent:");
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "status-file", required_argument, NULL, 's' },
					      { "report", no_argument, NULL, 'r' },
					      { "config", required_argument, NULL, 'c' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	const char *path = STATUS_FILE_DEFAULT, *config = NULL;
	bool show_report = false;
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
		case 'r': show_report = true; break;
		case 'c': config = optarg; break;
		case 'h':
			printf("usage: wxguard status [--json] [--report] [--status-file PATH] "
			       "[--config PATH]\n"
			       "  --report   print the last attestation report exactly as it was "
			       "sent\n");
			return WXG_EXIT_OK;
		default: return WXG_EXIT_USAGE;
		}
	}
	doc = json_load_file(path, 0, &err);
	if (!doc && (show_report || json)) {
		/* The daemon is not running: what the state directory says. */
		json_t *a = status_from_state(config);

		if (a) {
			doc = json_pack("{s:s, s:o}", "phase", "stopped", "attestation", a);
		}
	}
	if (doc && show_report) {
		json_t *rep = json_object_get(json_object_get(doc, "attestation"), "last_report");

		if (!rep || json_is_null(rep)) {
			fprintf(stderr,
				zh ? "尚未发送任何报告。\n" : "No report has been sent yet.\n");
			json_decref(doc);
			return WXG_EXIT_FAIL;
		}
		json_dumpf(rep, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(doc);
		return WXG_EXIT_OK;
	}
	if (!doc) {
		fprintf(stderr,
			zh ? "wxguard 守护进程未运行（没有 %s）。请运行：sudo systemctl start "
			     "wxguard\n"
			   : "wxguard run is not running (no %s). Start it: sudo systemctl start "
			     "wxguard\n",
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
	printf("%-14s %s %s (%s), %s\n", zh ? "策略:" : "policy:", s_(pol, "name"),
	       s_(pol, "version"), s_(doc, "policy_path"), s_(pol, "sha256"));
	printf("%-14s execs %lld, events %lld, drops %lld, kills %lld (+%lld user), lsm denies "
	       "%lld\n",
	       zh ? "计数:" : "counters:", i_(c, "execs"), i_(c, "events"), i_(c, "drops"),
	       i_(c, "kills"), i_(c, "user_kills"), i_(c, "lsm_denies"));
	if (json_object_get(doc, "posture"))
		printf("%-14s %s\n", zh ? "安全基线:" : "posture:",
		       s_(json_object_get(doc, "posture"), "overall"));
	print_attestation(json_object_get(doc, "attestation"), zh);
	printf("%-14s pid %d, %s\n", zh ? "进程:" : "agent:", (int)pid, s_(doc, "version"));
	json_decref(doc);
	return alive ? WXG_EXIT_OK : WXG_EXIT_FAIL;
}
