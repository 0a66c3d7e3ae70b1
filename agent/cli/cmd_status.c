/* `wxguard status`: what the running `wxguard run` published in /run/wxguard/status.json
 * (written atomically every few seconds): first the one-line summary (what is enforced, why not
 * more, what to do: agent/watch/watch_summary.h, in the user's language), then state, mode,
 * enforcement, decisions, counters. */
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
#include "agent/watch/watch_summary.h"
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

/* The watcher's state as status.json has it: false when it has no decisions (an older agent). */
static bool state_from_json(const json_t *doc, struct watch_state *s)
{
	const json_t *dec = json_object_get(doc, "decisions");

	memset(s, 0, sizeof(*s));
	if (!json_is_object(dec))
		return false;
	for (int st = WATCH_STATE_RUNNING; st <= WATCH_STATE_POSTURE_ONLY; st++)
		if (strcmp(s_(doc, "state"), watch_run_state_to_string(st)) == 0)
			s->state = st;
	snprintf(s->reason, sizeof(s->reason), "%s", s_(doc, "reason"));
	snprintf(s->kernel, sizeof(s->kernel), "%s", s_(doc, "kernel"));
	snprintf(s->btf, sizeof(s->btf), "%s", s_(doc, "btf"));
	for (int d = 0; d < WATCH_DEC_MAX; d++) {
		const json_t *o = json_object_get(dec, watch_decision_to_string(d));
		enum watch_backend b = WATCH_BACKEND_NONE;

		watch_backend_from_string(s_(o, "backend"), &b);
		s->decisions[d].backend = b;
		for (int e = WATCH_EFFECT_NONE; e <= WATCH_EFFECT_REFUSED; e++)
			if (strcmp(s_(o, "effect"), watch_effect_to_string(e)) == 0)
				s->decisions[d].effect = e;
	}
	return true;
}

/* The first line: what is enforced, why not more, what to do; "" when the agent did not say. */
static void summary_line(const json_t *doc, bool zh, char *buf, size_t size)
{
	struct watch_state s;

	if (state_from_json(doc, &s))
		watch_summary_format(&s, zh, buf, size);
	else
		snprintf(buf, size, "%s", s_(doc, "summary"));
}

static void print_decisions(const json_t *doc, bool zh)
{
	const json_t *dec = json_object_get(doc, "decisions");

	if (!json_is_object(dec))
		return;
	printf("%-14s", zh ? "各项决策:" : "decisions:");
	for (int d = 0; d < WATCH_DEC_MAX; d++) {
		const json_t *o = json_object_get(dec, watch_decision_to_string(d));

		printf("%s %s %s/%s", d ? "," : "", watch_decision_to_string(d), s_(o, "backend"),
		       s_(o, "effect"));
	}
	putchar('\n');
	if (*s_(doc, "kernel"))
		printf("%-14s %s, BTF %s\n", zh ? "内核:" : "kernel:", s_(doc, "kernel"),
		       *s_(doc, "btf") ? s_(doc, "btf") : (zh ? "无" : "none"));
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
	char line[768];
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
		char zh_line[768];

		if (alive && json_object_get(doc, "decisions")) {
			summary_line(doc, true, zh_line, sizeof(zh_line));
			json_object_set_new(doc, "summary_zh", json_string(zh_line));
		}
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
		putchar('\n');
		json_decref(doc);
		return alive ? WXG_EXIT_OK : WXG_EXIT_FAIL;
	}
	c = json_object_get(doc, "counters");
	pol = json_object_get(doc, "policy");
	summary_line(doc, zh, line, sizeof(line));
	if (!alive)
		printf("%s\n",
		       zh ? "wxguard 未运行：不会阻止任何程序。请运行：sudo systemctl start wxguard"
			  : "wxguard is not running: nothing is blocked. Start it: sudo "
			    "systemctl start wxguard");
	else if (line[0])
		printf("%s\n", line);
	/* The line says what happens in enforce mode; in audit mode nothing is stopped yet. */
	if (alive && strcmp(s_(doc, "mode"), "audit") == 0 &&
	    strcmp(s_(doc, "state"), "posture_only") != 0)
		printf("%s\n",
		       zh ? "审计模式：违规只报告、不阻止；策略改为 mode = enforce 后才会阻止。"
			  : "audit mode: offences are reported, not blocked, until the policy "
			    "says mode = enforce.");
	printf("%-14s %s%s\n", zh ? "状态:" : "state:", alive ? s_(doc, "state") : "stopped",
	       alive ? "" : (zh ? "（未运行）" : " (not running)"));
	if (*s_(doc, "reason"))
		printf("%-14s %s\n", zh ? "原因:" : "reason:", s_(doc, "reason"));
	printf("%-14s %s\n", zh ? "模式:" : "mode:", s_(doc, "mode"));
	printf("%-14s %s\n", zh ? "执行方式:" : "enforcement:", s_(doc, "enforcement"));
	print_decisions(doc, zh);
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
