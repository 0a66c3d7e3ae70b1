/* The agent's attestation loop against the real wxguard-server (HTTPS, pinned CA, sqlite), on
 * loopback: enrollment from an [enroll] drop-in, signed reports accepted and chained, a server
 * policy distributed and applied, and the server stopped while the agent produces 1,000 events,
 * then started: every event arrives exactly once. */
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
#include <unistd.h>

#include "agent/attest/attest.h"
#include "agent/attest/config.h"
#include "agent/attest/policy_fetch.h"
#include "tests/lib/uplink_child_entry.h"
#include "common/fileio.h"

#define N_EVENTS 1000

struct srv {
	char dir[PATH_MAX / 4];
	char conf[PATH_MAX / 2];
	char bin[PATH_MAX / 2];
	unsigned port;
	pid_t pid;
};

static pid_t running_server; /* killed by the group teardown if a test fails midway */

static int teardown(void **state)
{
	if (running_server > 0) {
		kill(running_server, SIGTERM);
		waitpid(running_server, NULL, 0);
	}
	return 0;
}

/* Run a server subcommand, return its stdout (malloc'd) or NULL. */
static char *srv_cmd(struct srv *s, const char *args)
{
	char cmd[PATH_MAX * 2], *out = NULL;
	size_t cap = 0, len = 0;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -c %s %s 2>>%s/cmd.log", s->bin, s->conf, args, s->dir);
	p = popen(cmd, "r");
	if (!p)
		return NULL;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			out = realloc(out, cap);
		}
		size_t n = fread(out + len, 1, cap - len - 1, p);

		if (n == 0)
			break;
		len += n;
	}
	out[len] = 0;
	if (pclose(p) != 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void srv_start(struct srv *s)
{
	char log[PATH_MAX];

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
	if (s->pid <= 0)
		return;
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	s->pid = 0;
	running_server = 0;
}

static bool srv_setup(struct srv *s, const char *dir)
{
	char text[PATH_MAX * 2];
	char *out;

	snprintf(s->dir, sizeof(s->dir), "%s/server", dir);
	snprintf(s->bin, sizeof(s->bin), "%s/wxguard-server", wxg_test_build_dir());
	if (access(s->bin, X_OK) != 0)
		return false;
	{
		char *abs = realpath(s->bin, NULL);

		assert_non_null(abs);
		assert_true(strlen(abs) < sizeof(s->bin));
		memcpy(s->bin, abs, strlen(abs) + 1);
		free(abs);
	}
	s->port = wxg_test_free_port();
	snprintf(s->conf, sizeof(s->conf), "%s/server.conf", s->dir);
	snprintf(text, sizeof(text),
		 "[server]\nlisten = 127.0.0.1\nport = %u\nstate_dir = %s/state\n"
		 "[database]\nurl = sqlite://%s/state/db.sqlite\n",
		 s->port, s->dir, s->dir);
	wxg_test_write(s->conf, text);
	out = srv_cmd(s, "init");
	if (!out)
		return false;
	free(out);
	return true;
}

static void run_loop(sd_event *e, int iterations)
{
	for (int i = 0; i < iterations; i++)
		assert_true(sd_event_run(e, 10000) >= 0);
}

static json_t *status(struct attest *a)
{
	json_t *st;

	assert_int_equal(attest_status_json(a, &st), 0);
	return st;
}

static const char *report_result(struct attest *a, json_t **keep)
{
	*keep = status(a);
	return json_string_value(json_object_get(json_object_get(*keep, "report"), "last_result"));
}

static bool wait_accepted(sd_event *e, struct attest *a, int max_iter)
{
	for (int i = 0; i < max_iter; i++) {
		json_t *st;
		bool ok = strcmp(report_result(a, &st), "accepted") == 0;

		json_decref(st);
		if (ok)
			return true;
		run_loop(e, 1);
	}
	return false;
}

static void step(const char *what)
{
	static time_t t0;

	if (!t0)
		t0 = time(NULL);
	fprintf(stderr, "# %3lds %s\n", (long)(time(NULL) - t0), what);
}

static unsigned hooks;

static void on_policy(void *ud, const char *path)
{
	hooks++;
}

static void test_attest_real_server_enroll_report_policy_and_outage(void **state)
{
	char *dir = wxg_test_mkdtemp(), text[PATH_MAX * 2], path[PATH_MAX], *out;
	struct agent_config *cfg;
	struct attest *a;
	struct srv s = { 0 };
	json_t *tok, *st, *evs, *v;
	unsigned char *seen;
	size_t i;
	sd_event *e;
	const struct attest_opts fast = { .retry_base_usec = 50000,
					  .retry_max_usec = 500000,
					  .interval_usec = 3600ull * 1000000,
					  .first_report_usec = 100000,
					  .batch_delay_usec = 20000 };

	if (!srv_setup(&s, dir)) {
		wxg_test_rmtree(dir);
		free(dir);
		skip();
	}
	out = srv_cmd(&s, "--json token create --uses 2");
	assert_non_null(out);
	tok = json_loads(out, 0, NULL);
	free(out);
	assert_non_null(json_string_value(json_object_get(tok, "token")));
	srv_start(&s);
	step("server started");

	/* The agent: only an [enroll] drop-in, as fleet tooling would install it. */
	snprintf(path, sizeof(path), "%s/agent.conf.d/10-enroll.conf", dir);
	snprintf(text, sizeof(text),
		 "[enroll]\nserver = https://127.0.0.1:%u\ntoken = %s\nca = %s/state/tls/ca.pem\n",
		 s.port, json_string_value(json_object_get(tok, "token")), s.dir);
	wxg_test_write(path, text);
	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	snprintf(text, sizeof(text), "[agent]\nstate_dir = %s/agent\npolicy_dir = %s/policy.d\n",
		 dir, dir);
	wxg_test_write(path, text);
	json_decref(tok);
	assert_int_equal(agent_config_load(path, &cfg, NULL), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(attest_new_opts(e, cfg, &fast, &a), 0);
	attest_set_policy_hook(a, on_policy, NULL);
	if (!wait_accepted(e, a, 1500)) {
		char *s1 = json_dumps(st = status(a), JSON_INDENT(2));

		fail_msg("first report not accepted: %s", s1);
	}
	step("enrolled, first report accepted");
	/* Two more, chained. */
	for (int k = 0; k < 2; k++) {
		assert_int_equal(attest_report_now(a), 0);
		run_loop(e, 2);
		assert_true(wait_accepted(e, a, 1500));
	}

	/* A server policy: uploaded, announced in the next reply, fetched, verified, applied. */
	snprintf(path, sizeof(path), "%s/server-policy.ini", dir);
	wxg_test_write(
		path,
		"[policy]\nname = from-server\nversion = 9\nmode = audit\nreport_interval = 600\n");
	snprintf(text, sizeof(text), "policy upload %s", path);
	out = srv_cmd(&s, text);
	assert_non_null(out);
	free(out);
	assert_int_equal(attest_report_now(a), 0);
	for (int k = 0; k < 1500 && hooks == 0; k++)
		run_loop(e, 1);
	assert_int_equal(hooks, 1);
	snprintf(path, sizeof(path), "%s/policy.d/%s", dir, POLICY_FETCH_FILE);
	assert_int_equal(access(path, F_OK), 0);

	step("server policy applied");
	/* The outage: server stopped, 1,000 events, an agent restart in the middle. */
	srv_stop(&s);
	for (unsigned k = 0; k < N_EVENTS; k++) {
		json_t *ev = json_pack("{s:s, s:I, s:i, s:s}", "type", "client.blocked", "time",
				       (json_int_t)time(NULL), "n", k, "comm", "electronic-wecha");

		assert_int_equal(attest_on_event(a, ev), 0);
		json_decref(ev);
		if (k % 100 == 0)
			run_loop(e, 1);
		if (k == N_EVENTS / 2) {
			attest_free(a);
			assert_int_equal(attest_new_opts(e, cfg, &fast, &a), 0);
		}
	}
	step("1000 events spooled");
	run_loop(e, 20);
	st = status(a);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "spool"), "depth")),
			 N_EVENTS);
	json_decref(st);

	srv_start(&s);
	step("server restarted");
	for (int k = 0; k < 3000; k++) {
		json_int_t depth;

		st = status(a);
		depth = json_integer_value(json_object_get(json_object_get(st, "spool"), "depth"));
		json_decref(st);
		if (depth == 0)
			break;
		run_loop(e, 1);
	}
	st = status(a);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "spool"), "depth")),
			 0);
	json_decref(st);

	step("spool drained");
	/* Exactly once on the server. */
	out = srv_cmd(&s, "--json --limit 100000 events");
	assert_non_null(out);
	evs = json_loads(out, 0, NULL);
	free(out);
	assert_true(json_is_array(evs));
	seen = calloc(N_EVENTS, 1);
	json_array_foreach (evs, i, v) {
		json_t *ev = json_object_get(v, "event");
		json_int_t n = json_integer_value(json_object_get(ev ? ev : v, "n"));

		assert_true(n >= 0 && n < N_EVENTS);
		seen[n]++;
	}
	for (unsigned k = 0; k < N_EVENTS; k++)
		if (seen[k] != 1)
			fail_msg("event %u arrived %u times", k, seen[k]);
	assert_int_equal(json_array_size(evs), N_EVENTS);
	free(seen);
	json_decref(evs);

	attest_free(a);
	srv_stop(&s);
	sd_event_unref(e);
	agent_config_free(cfg);
	wxg_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attest_real_server_enroll_report_policy_and_outage),
	};

	uplink_child_entry(); /* when re-executed as the uplink child */
	return cmocka_run_group_tests(tests, NULL, teardown);
}
