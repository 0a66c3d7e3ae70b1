/* agent/config: agent.conf and its drop-ins. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attest/config.h"

static void test_config_missing_file_gives_defaults(void **state)
{
	struct agent_config *c;

	assert_int_equal(agent_config_load("/nonexistent/agent.conf", &c, NULL), 0);
	assert_null(c->server_url);
	assert_string_equal(c->state_dir, AGENT_STATE_DIR_DEFAULT);
	assert_string_equal(c->policy_dir, AGENT_POLICY_DIR_DEFAULT);
	assert_int_equal(c->report_jitter, AGENT_REPORT_JITTER_DEFAULT);
	assert_int_equal(c->spool_max_events, AGENT_SPOOL_MAX_EVENTS_DEFAULT);
	assert_null(agent_config_server_url(c));
	agent_config_free(c);
}

static void test_config_all_keys_and_dropin_override(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], p2[PATH_MAX];
	struct agent_config *c;

	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	wxg_test_write(path, "[server]\nurl = https://wxg.example.com\nca = /etc/wxguard/ca.pem\n"
			     "pin_sha256 = sha256//AAAA\nproxy = http://proxy:3128\n"
			     "[agent]\nstate_dir = /var/lib/wxg\npolicy_dir = "
			     "/etc/wxg/policy.d\nreport_jitter = 20%\n"
			     "[spool]\nmax_events = 500\nmax_bytes = 2M\n");
	snprintf(p2, sizeof(p2), "%s/agent.conf.d/10-enroll.conf", dir);
	wxg_test_write(
		p2,
		"[enroll]\nserver = https://enroll.example.com\ntoken = tok123\nca = /x/ca.pem\n");
	snprintf(p2, sizeof(p2), "%s/agent.conf.d/20-jitter.conf", dir);
	wxg_test_write(p2, "[agent]\nreport_jitter = 5\n");
	snprintf(p2, sizeof(p2), "%s/agent.conf.d/README", dir);
	wxg_test_write(p2, "not a conf file: ignored\n");

	assert_int_equal(agent_config_load(path, &c, NULL), 0);
	assert_string_equal(c->server_url, "https://wxg.example.com");
	assert_string_equal(c->ca, "/etc/wxguard/ca.pem");
	assert_string_equal(c->pin_sha256, "sha256//AAAA");
	assert_string_equal(c->proxy, "http://proxy:3128");
	assert_string_equal(c->state_dir, "/var/lib/wxg");
	assert_string_equal(c->policy_dir, "/etc/wxg/policy.d");
	assert_int_equal(c->report_jitter, 5);
	assert_int_equal(c->spool_max_events, 500);
	assert_int_equal(c->spool_max_bytes, 2 * 1024 * 1024);
	assert_string_equal(c->enroll_token, "tok123");
	/* [server] wins over [enroll] for the URL and CA. */
	assert_string_equal(agent_config_server_url(c), "https://wxg.example.com");
	assert_string_equal(agent_config_ca(c), "/etc/wxguard/ca.pem");
	assert_int_equal(c->sources.n, 3);
	agent_config_free(c);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_config_enroll_dropin_alone_supplies_server(void **state)
{
	struct agent_config *c;

	assert_int_equal(agent_config_load_buffer(
				 "x.conf",
				 "[enroll]\nserver=https://e.example\ntoken=t\nca=/ca.pem\n", &c,
				 NULL),
			 0);
	assert_string_equal(agent_config_server_url(c), "https://e.example");
	assert_string_equal(agent_config_ca(c), "/ca.pem");
	agent_config_free(c);
}

static void expect_error(const char *text, unsigned line, const char *needle)
{
	struct agent_config_error err = { 0 };
	struct agent_config *c = NULL;

	assert_int_equal(agent_config_load_buffer("t.conf", text, &c, &err), -EBADMSG);
	assert_null(c);
	assert_string_equal(err.file, "t.conf");
	assert_int_equal(err.line, line);
	if (!strstr(err.message, needle))
		fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static void test_config_unknown_keys_and_bad_values_are_errors(void **state)
{
	expect_error("[server]\nurl=https://x\nfoo=bar\n", 3, "unknown key");
	expect_error("[nope]\nx=1\n", 2, "unknown section");
	expect_error("[server]\nurl=ftp://x\n", 2, "not an http(s) URL");
	expect_error("[agent]\nreport_jitter=60\n", 2, "0..50");
	expect_error("[agent]\nstate_dir=relative\n", 2, "absolute");
	expect_error("[spool]\nmax_bytes=12Q\n", 2, "max_bytes");
	expect_error("[server]\npin_sha256=abcd\n", 2, "sha256//");
	expect_error("[server\nurl=https://x\n", 1, "syntax");
}

static void test_config_bad_dropin_fails_whole_load(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], p2[PATH_MAX];
	struct agent_config_error err = { 0 };
	struct agent_config *c;

	snprintf(path, sizeof(path), "%s/agent.conf", dir);
	wxg_test_write(path, "[server]\nurl = https://wxg.example.com\n");
	snprintf(p2, sizeof(p2), "%s/agent.conf.d/50-bad.conf", dir);
	wxg_test_write(p2, "[enroll]\ntokn = x\n");
	assert_int_equal(agent_config_load(path, &c, &err), -EBADMSG);
	assert_string_equal(err.file, p2);
	assert_int_equal(err.line, 2);
	wxg_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_missing_file_gives_defaults),
		cmocka_unit_test(test_config_all_keys_and_dropin_override),
		cmocka_unit_test(test_config_enroll_dropin_alone_supplies_server),
		cmocka_unit_test(test_config_unknown_keys_and_bad_values_are_errors),
		cmocka_unit_test(test_config_bad_dropin_fails_whole_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
