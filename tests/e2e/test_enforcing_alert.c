/* Degraded is loud, end to end: the agent's own report code (agent/attest, the uplink child)
 * against the real wxguard-server over loopback HTTPS, on SQLite and on PostgreSQL
 * (tests/e2e/server_pg.sh), with a loopback WeCom robot. A device whose policy is in enforce mode
 * reports its watcher running, then degraded (kernel 5.10 without BTF: fanotify, injection and
 * renames only reported), then running again: the not_enforcing alert is raised once, with what
 * is only reported and why, reaches WeCom once, and is cleared with an enforcing_restored notice
 * when the device recovers. */
#include "testlib.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/attest/attest.h"
#include "agent/attest/config.h"
#include "agent/watch/watch_summary.h"
#include "tests/lib/uplink_child_entry.h"
#include "webhook_receiver.h"

#define WECOM "/cgi-bin/webhook/send?key=e2e"

struct srv {
	char dir[PATH_MAX / 4];
	char conf[PATH_MAX / 2];
	char bin[PATH_MAX / 2];
	unsigned port;
	pid_t pid;
	struct webhook_receiver rv;
};

static char pgdir[256], pgurl[600]; /* the postgresql group's database */
static pid_t running_server;        /* killed by the group teardown if a test fails midway */

/* Run a server subcommand: its stdout as JSON (the caller decrefs), or NULL. */
static json_t *srv_json(struct srv *s, const char *args)
{
	char cmd[PATH_MAX * 2];
	json_t *j;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -c %s --json %s 2>>%s/cmd.log", s->bin, s->conf, args,
		 s->dir);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	j = json_loadf(p, 0, NULL);
	if (pclose(p) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* db: a store URL, "" for SQLite in the server's state directory. */
static void srv_start(struct srv *s, const char *db, const char *dir)
{
	char text[PATH_MAX * 2], log[PATH_MAX], sqlite[PATH_MAX];
	json_t *j;

	snprintf(s->dir, sizeof(s->dir), "%s/server", dir);
	snprintf(s->bin, sizeof(s->bin), "%s/wxguard-server", wxg_test_build_dir());
	{
		char *abs = realpath(s->bin, NULL);

		assert_non_null(abs);
		assert_true(strlen(abs) < sizeof(s->bin));
		memcpy(s->bin, abs, strlen(abs) + 1);
		free(abs);
	}
	webhook_receiver_start(&s->rv);
	s->port = wxg_test_free_port();
	snprintf(s->conf, sizeof(s->conf), "%s/server.conf", s->dir);
	snprintf(sqlite, sizeof(sqlite), "sqlite://%s/state/db.sqlite", s->dir);
	snprintf(text, sizeof(text),
		 "[server]\nlisten = 127.0.0.1\nport = %u\nstate_dir = %s/state\n"
		 "[database]\nurl = %s\n"
		 "[alerts]\nwecom_webhook = http://127.0.0.1:%d" WECOM "\n"
		 "retry_base = 1\nsweep_ms = 200\n",
		 s->port, s->dir, db[0] ? db : sqlite, s->rv.port);
	wxg_test_write(s->conf, text);
	j = srv_json(s, "init");
	json_decref(j);
	snprintf(log, sizeof(log), "%s/serve.log", s->dir);
	s->pid = fork();
	assert_true(s->pid >= 0);
	if (s->pid == 0) {
		FILE *f = freopen(log, "a", stderr);

		(void)f;
		execl(s->bin, s->bin, "-c", s->conf, "serve", (char *)NULL);
		_exit(127);
	}
	running_server = s->pid;
	for (int i = 0; i < 200 && !wxg_test_port_open(s->port); i++)
		usleep(50000);
	assert_true(wxg_test_port_open(s->port));
}

static void srv_stop(struct srv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
	running_server = 0;
	webhook_receiver_stop(&s->rv);
}

/* ---- the agent ---- */

static json_t *status(struct attest *a)
{
	json_t *st;

	assert_int_equal(attest_status_json(a, &st), 0);
	return st;
}

/* Send a report now and wait until the server accepted it. */
static void report_accepted(sd_event *e, struct attest *a)
{
	json_t *st = status(a);
	json_int_t seq0 = json_integer_value(json_object_get(json_object_get(st, "report"), "seq"));

	json_decref(st);
	for (int i = 0; i < 3000 && attest_report_now(a) == -ENOTCONN; i++)
		assert_true(sd_event_run(e, 10000) >= 0); /* enrolling */
	for (int i = 0; i < 3000; i++) {
		json_t *rep;
		bool done;

		assert_true(sd_event_run(e, 10000) >= 0);
		st = status(a);
		rep = json_object_get(st, "report");
		done = json_integer_value(json_object_get(rep, "seq")) > seq0 &&
		       strcmp(json_string_value(json_object_get(rep, "last_result")), "accepted") ==
			       0;
		json_decref(st);
		if (done)
			return;
	}
	fail_msg("report not accepted");
}

/* What the watcher says about itself, as watch_get_state() would: running with the BPF LSM, or
 * degraded on a 5.10 kernel without BTF (fanotify; injection and renames only reported). */
static void set_watcher(struct attest *a, bool running)
{
	struct watch_state ws = { .mode = POLICY_MODE_ENFORCE };

	snprintf(ws.kernel, sizeof(ws.kernel), "%s",
		 running ? "6.1.0-41-amd64" : "5.10.0-30-amd64");
	for (int d = 0; d < WATCH_DEC_MAX; d++)
		ws.decisions[d] = running ? (struct watch_decision_state){ WATCH_BACKEND_LSM,
									   WATCH_EFFECT_REFUSED }
					  : (struct watch_decision_state){ WATCH_BACKEND_FANOTIFY,
									   WATCH_EFFECT_REFUSED };
	if (running) {
		ws.state = WATCH_STATE_RUNNING;
		ws.enforcement = WATCH_ENF_LSM;
		snprintf(ws.btf, sizeof(ws.btf), "/sys/kernel/btf/vmlinux");
	} else {
		ws.state = WATCH_STATE_DEGRADED;
		ws.enforcement = WATCH_ENF_FANOTIFY;
		ws.decisions[WATCH_DEC_INJECTION].effect = WATCH_EFFECT_REPORTED;
		ws.decisions[WATCH_DEC_RENAMES].effect = WATCH_EFFECT_REPORTED;
		snprintf(ws.reason, sizeof(ws.reason), "no BTF for 5.10.0-30-amd64");
	}
	watch_state_summarize(&ws);
	attest_set_watcher_state(a, &ws);
}

/* The server's alerts of a rule: how many, how many cleared; *msg: the last one's message. */
static int alerts(struct srv *s, const char *rule, int *cleared, char *msg, size_t len)
{
	json_t *arr = srv_json(s, "--limit 1000 alerts"), *v;
	size_t i;
	int n = 0;

	assert_true(json_is_array(arr));
	*cleared = 0;
	json_array_foreach (arr, i, v) {
		if (strcmp(json_string_value(json_object_get(v, "rule")), rule) != 0)
			continue;
		n++;
		*cleared += json_is_integer(json_object_get(v, "cleared"));
		if (msg)
			snprintf(msg, len, "%s", json_string_value(json_object_get(v, "message")));
	}
	json_decref(arr);
	return n;
}

static void test_enforce_running_degraded_running_raises_once_and_clears(void **state)
{
	const char *db = *state;
	char *dir = wxg_test_mkdtemp(), text[PATH_MAX * 2], path[PATH_MAX], msg[4096], *wecom;
	const struct attest_opts fast = { .retry_base_usec = 50000,
					  .retry_max_usec = 500000,
					  .interval_usec = 3600ull * 1000000,
					  .first_report_usec = 100000,
					  .batch_delay_usec = 20000 };
	struct policy pol = { .name = "corp", .version = "3", .mode = POLICY_MODE_ENFORCE };
	struct srv s = { 0 };
	struct agent_config *cfg;
	struct attest *a;
	json_t *tok, *devs;
	sd_event *e;
	int cleared;

	srv_start(&s, db, dir);
	tok = srv_json(&s, "token create --uses 1");
	assert_non_null(json_string_value(json_object_get(tok, "token")));

	/* the agent: an [enroll] drop-in, a policy in enforce mode, the watcher running */
	snprintf(path, sizeof(path), "%s/agent.conf.d/10-enroll.conf", dir);
	snprintf(text, sizeof(text),
		 "[enroll]\nserver = https://127.0.0.1:%u\ntoken = %s\nca = %s/state/tls/ca.pem\n",
		 s.port, json_string_value(json_object_get(tok, "token")), s.dir);
	wxg_test_write(path, text);
	json_decref(tok);
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	snprintf(text, sizeof(text), "[agent]\nstate_dir = %s/agent\npolicy_dir = %s/policy.d\n",
		 dir, dir);
	wxg_test_write(path, text);
	assert_int_equal(agent_config_load(path, &cfg, NULL), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(attest_new_opts(e, cfg, &fast, &a), 0);
	memset(pol.sha256, 'a', 64);
	assert_int_equal(attest_on_checks(a, NULL, &pol), 0);
	set_watcher(a, true);
	report_accepted(e, a);
	assert_int_equal(alerts(&s, "not_enforcing", &cleared, NULL, 0), 0);

	/* degraded: one alert, with what is only reported and why; once to WeCom */
	set_watcher(a, false);
	report_accepted(e, a);
	report_accepted(e, a);
	assert_int_equal(alerts(&s, "not_enforcing", &cleared, msg, sizeof(msg)), 1);
	assert_int_equal(cleared, 0);
	assert_non_null(
		strstr(msg, "policy corp is in enforce mode but the agent is not enforcing"));
	assert_non_null(strstr(msg, "injection (fanotify), renames (fanotify)"));
	assert_non_null(strstr(msg, "kernel 5.10 has no BTF: enforcing with fanotify"));
	wecom = webhook_receiver_wait(&s.rv, WECOM, "not_enforcing", 15);
	assert_non_null(wecom);
	assert_non_null(strstr(wecom, "\"msgtype\":\"markdown\""));
	assert_non_null(strstr(wecom, "kernel 5.10 has no BTF"));
	free(wecom);
	devs = srv_json(&s, "device list");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(devs, 0), "watcher"), "state")),
			    "degraded");
	assert_true(json_is_true(json_object_get(json_array_get(devs, 0), "not_enforcing")));
	json_decref(devs);

	/* running again: cleared, one enforcing_restored notice to WeCom */
	set_watcher(a, true);
	report_accepted(e, a);
	report_accepted(e, a);
	assert_int_equal(alerts(&s, "not_enforcing", &cleared, NULL, 0), 1);
	assert_int_equal(cleared, 1);
	assert_int_equal(alerts(&s, "enforcing_restored", &cleared, msg, sizeof(msg)), 1);
	assert_non_null(strstr(msg, "is enforcing again"));
	wecom = webhook_receiver_wait(&s.rv, WECOM, "enforcing_restored", 15);
	assert_non_null(wecom);
	free(wecom);
	sleep(1); /* a few more sweeps: nothing goes out twice */
	assert_int_equal(webhook_receiver_count(&s.rv, WECOM, "alert: not_enforcing"), 1);
	assert_int_equal(webhook_receiver_count(&s.rv, WECOM, "alert: enforcing_restored"), 1);
	devs = srv_json(&s, "device list");
	assert_false(json_is_true(json_object_get(json_array_get(devs, 0), "not_enforcing")));
	json_decref(devs);

	attest_free(a);
	sd_event_unref(e);
	agent_config_free(cfg);
	srv_stop(&s);
	wxg_test_rmtree(dir);
	free(dir);
}

static int setup_sqlite(void **state)
{
	*state = (void *)"";
	return 0;
}

static int setup_pg(void **state)
{
	char cmd[1024], conninfo[512] = "";
	FILE *p;

	snprintf(pgdir, sizeof(pgdir), "/tmp/wxgpg-enf.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s/tests/e2e/server_pg.sh start %s",
		 getenv("WXG_SRCDIR") ? getenv("WXG_SRCDIR") : ".", pgdir);
	p = popen(cmd, "r");
	if (!p || !fgets(conninfo, sizeof(conninfo), p) || pclose(p) != 0) {
		fprintf(stderr, "cannot start PostgreSQL (%s)\n", cmd);
		return -1;
	}
	conninfo[strcspn(conninfo, "\n")] = 0;
	snprintf(pgurl, sizeof(pgurl), "pg:%s", conninfo);
	*state = pgurl;
	return 0;
}

static int teardown(void **state)
{
	char cmd[1024];

	if (running_server > 0) {
		kill(running_server, SIGTERM);
		waitpid(running_server, NULL, 0);
		running_server = 0;
	}
	if (pgdir[0]) {
		snprintf(cmd, sizeof(cmd), "%s/tests/e2e/server_pg.sh stop %s >/dev/null",
			 getenv("WXG_SRCDIR") ? getenv("WXG_SRCDIR") : ".", pgdir);
		if (system(cmd) != 0)
			fprintf(stderr, "pg stop failed\n");
		pgdir[0] = 0;
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_enforce_running_degraded_running_raises_once_and_clears),
	};
	int r;

	uplink_child_entry(); /* when re-executed as the uplink child */
	r = cmocka_run_group_tests_name("sqlite", tests, setup_sqlite, teardown);
	r += cmocka_run_group_tests_name("postgresql", tests, setup_pg, teardown);
	return r ? 1 : 0;
}
