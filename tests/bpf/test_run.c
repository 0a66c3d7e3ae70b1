/* `wxguard run` as a process: JSON lines on stdout, SIGHUP reload (a broken policy is refused
 * and the old one stays), the published status, desktop notifications through --notify-cmd,
 * the degraded mode. Root and BTF required. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#include <jansson.h>

#include "agent/watch/watch.h"
#include "common/fileio.h"

extern char **environ;

struct agent {
	pid_t pid;
	int out; /* read end of its stdout */
	char buf[1 << 16];
	size_t len;
};

static char dir[256], policy[PATH_MAX], status[PATH_MAX], denied[PATH_MAX], notes[PATH_MAX];
static char backend_arg[64]; /* --backend=NAME from WXG_TEST_BACKEND, or "" */

static const char *bin(const char *rel)
{
	static char b[2][PATH_MAX];
	static unsigned i;
	char *p = b[i++ % 2];
	const char *bd = wxg_test_build_dir();

	if (bd[0] == '/')
		snprintf(p, PATH_MAX, "%s/%s", bd, rel);
	else
		snprintf(p, PATH_MAX, "%s/%s/%s", getenv("WXG_SRCDIR") ? getenv("WXG_SRCDIR") : ".",
			 bd, rel);
	return p;
}

static void write_policy(const char *mode)
{
	char text[1024];

	snprintf(text, sizeof(text),
		 "[policy]\nname = wxgt-run\nversion = 1\nmode = %s\n\n"
		 "[deny.wxgt-denied]\ncomm = wxgt-denied\n\n[watch]\nnotify = yes\n",
		 mode);
	wxg_test_write(policy, text);
}

static void agent_start(struct agent *a, const char *extra)
{
	char notify_cmd[PATH_MAX + 32];
	int pipefd[2];
	posix_spawn_file_actions_t fa;
	char *argv[] = { (char *)bin("wxguard"),
			 "run",
			 "--policy",
			 policy,
			 "--status-file",
			 status,
			 "--no-posture",
			 "--no-proc-scan",
			 "--notify-cmd",
			 notify_cmd,
			 (char *)extra,
			 NULL,
			 NULL };

	/* after extra (NULL ends the list there when there is none) */
	if (backend_arg[0]) {
		if (extra)
			argv[11] = backend_arg;
		else
			argv[10] = backend_arg;
	}

	snprintf(notify_cmd, sizeof(notify_cmd), "%s/notify.sh", dir);
	assert_int_equal(pipe2(pipefd, O_CLOEXEC), 0);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	unlink(status);
	assert_int_equal(posix_spawn(&a->pid, argv[0], &fa, NULL, argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	a->out = pipefd[0];
	a->len = 0;
	/* up to 15 s: under emulation (the kernel matrix, TCG) the agent's start takes seconds */
	for (int i = 0; i < 1500 && access(status, F_OK) != 0; i++)
		usleep(10000);
	assert_int_equal(access(status, F_OK), 0);
}

/* Wait up to 3 s for a stdout line containing needle. */
static bool agent_saw(struct agent *a, const char *needle)
{
	for (int i = 0; i < 300; i++) {
		struct pollfd p = { .fd = a->out, .events = POLLIN };
		ssize_t n;

		a->buf[a->len] = 0;
		if (strstr(a->buf, needle))
			return true;
		if (poll(&p, 1, 10) > 0) {
			n = read(a->out, a->buf + a->len, sizeof(a->buf) - 1 - a->len);
			if (n > 0)
				a->len += n;
		}
	}
	return false;
}

/* SIGTERM: the agent must exit 0. */
static void agent_stop(struct agent *a)
{
	int st;

	kill(a->pid, SIGTERM);
	assert_int_equal(waitpid(a->pid, &st, 0), a->pid);
	close(a->out);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

/* Skips (or fails, WXGUARD_REQUIRE_BPF=1) without root and BPF; else an agent in enforce mode. */
static bool agent_start_enforcing(struct agent *a)
{
	if (!wxg_test_require_root_bpf())
		return false;
	write_policy("enforce");
	agent_start(a, NULL);
	return true;
}

/* The published status document has this state and enforcement; the caller json_decref()s. */
static json_t *expect_status(const char *state, const char *enforcement)
{
	json_error_t err;
	json_t *doc = json_load_file(status, 0, &err);

	assert_non_null(doc);
	assert_string_equal(json_string_value(json_object_get(doc, "state")), state);
	assert_string_equal(json_string_value(json_object_get(doc, "enforcement")), enforcement);
	return doc;
}

/* Stopped before its first instruction: killed, or (BPF LSM) its execve refused. */
static bool stopped(int st)
{
	return (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) ||
	       (WIFEXITED(st) && WEXITSTATUS(st) == WXG_TEST_EXIT_REFUSED);
}

static bool exited_ok(int st)
{
	return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int run_denied(void)
{
	pid_t pid;
	int st;
	char *argv[] = { denied, NULL };

	pid = wxg_test_spawn(denied, argv, environ);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	print_message("denied stand-in: status 0x%x\n", st);
	return st;
}

/* `enforcement` in the status: the exec decision's backend in status's words. */
static const char *expected_enforcement(void)
{
	const char *tb = wxg_test_backend();
	struct watch_probe pr;

	if (!tb) {
		assert_int_equal(watch_probe(&pr), 0);
		tb = wxg_test_bpf_lsm_active()             ? "lsm"
		     : pr.available[WATCH_BACKEND_TRACING] ? "tracing"
							   : "raw_tp";
	}
	return strcmp(tb, "raw_tp") == 0 ? "signal" : tb;
}

static int setup(void **state)
{
	char *t;

	(void)state;
	if (wxg_test_backend())
		snprintf(backend_arg, sizeof(backend_arg), "--backend=%s", wxg_test_backend());
	if (geteuid() != 0)
		return 0;
	t = wxg_test_mkdtemp();
	snprintf(dir, sizeof(dir), "%s", t);
	free(t);
	snprintf(policy, sizeof(policy), "%s/policy.ini", dir);
	snprintf(status, sizeof(status), "%s/run/status.json", dir);
	snprintf(denied, sizeof(denied), "%s/wxgt-denied", dir);
	snprintf(notes, sizeof(notes), "%s/notes", dir);
	{
		char *data = NULL, sh[PATH_MAX * 2];
		size_t len;

		assert_int_equal(
			read_full_file(bin("tests/standins/wxgt_client"), 64 << 20, &data, &len),
			0);
		assert_int_equal(write_file_atomic(denied, data, len, 0755), 0);
		free(data);
		snprintf(sh, sizeof(sh), "#!/bin/sh\necho \"$@\" >> %s\n", notes);
		snprintf(policy, sizeof(policy), "%s/notify.sh", dir);
		wxg_test_write(policy, sh);
		chmod(policy, 0755);
		snprintf(policy, sizeof(policy), "%s/policy.ini", dir);
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (dir[0])
		wxg_test_rmtree(dir);
	return 0;
}

static void test_run_kills_reports_notifies_and_keeps_old_policy_on_broken_reload(void **state)
{
	struct agent a = {};
	char *data = NULL;

	(void)state;
	if (!agent_start_enforcing(&a))
		return;
	assert_true(agent_saw(&a, "\"rule\":\"watch.start\""));
	assert_true(stopped(run_denied()));
	assert_true(agent_saw(&a, "\"rule\":\"client.denied\""));
	for (int i = 0; i < 200 && access(notes, F_OK) != 0; i++)
		usleep(10000);
	assert_int_equal(read_full_file(notes, 65536, &data, NULL), 0);
	assert_non_null(strstr(data, "client.denied"));
	free(data);

	/* A broken policy on SIGHUP is refused; enforcement goes on. */
	wxg_test_write(policy, "[policy]\nmode = sometimes\n");
	kill(a.pid, SIGHUP);
	assert_true(agent_saw(&a, "\"result\":\"refused\""));
	assert_true(stopped(run_denied()));

	/* A good one is applied: audit mode lets it run. */
	write_policy("audit");
	kill(a.pid, SIGHUP);
	assert_true(agent_saw(&a, "\"result\":\"applied\""));
	assert_true(exited_ok(run_denied()));

	agent_stop(&a);
}

static void test_run_status_and_degraded_mode(void **state)
{
	struct agent a = {};
	json_t *doc;

	(void)state;
	if (!agent_start_enforcing(&a))
		return;
	/* The exec decision's rung: the one forced, else the best the kernel offers (the BPF
	 * LSM exactly where it is active). */
	doc = expect_status("running", expected_enforcement());
	assert_string_equal(json_string_value(json_object_get(doc, "mode")), "enforce");
	assert_non_null(json_object_get(json_object_get(doc, "counters"), "drops"));
	json_decref(doc);
	agent_stop(&a);

	/* Without BPF: says so, stays up, reports posture only; nothing is killed. */
	agent_start(&a, "--no-bpf");
	assert_true(agent_saw(&a, "\"result\":\"posture_only\""));
	json_decref(expect_status("posture_only", "none"));
	assert_true(exited_ok(run_denied()));
	agent_stop(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_run_kills_reports_notifies_and_keeps_old_policy_on_broken_reload),
		cmocka_unit_test(test_run_status_and_degraded_mode),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
