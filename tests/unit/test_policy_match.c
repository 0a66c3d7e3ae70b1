/* common/policy/policy_match.c: which chat-client family a process belongs to. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "common/policy/policy_match.h"
#include "client_policy.h"

static void make_policy(struct policy *p)
{
	memset(p, 0, sizeof(*p));
	assert_true(client_policy_set(p, "client.wecom.comm", "WXWork.exe"));
	assert_true(client_policy_set(p, "client.wecom.exe", "/opt/deepin-wine*/bin/*"));
	assert_true(client_policy_set(p, "client.wecom.argv", "*\\WXWork.exe"));
	assert_true(client_policy_set(p, "client.wechat.comm", "wechat"));
	assert_true(client_policy_set(p, "client.wechat.exe", "/opt/wechat/*"));
	assert_true(client_policy_set(p, "deny.wine-wechat.comm", "WeChat.exe, Weixin.exe"));
	assert_true(client_policy_set(p, "deny.wine-wechat.argv", "*\\WeChat.exe"));
	assert_true(client_policy_set(p, "deny.ew.comm", "electronic-wech"));
	assert_true(client_policy_set(p, "deny.ew.exe", "/opt/wechat/electronic*"));
}

static void test_client_match_comm_is_exact(void **state)
{
	struct policy p;
	struct policy_match m;

	make_policy(&p);
	policy_match_process(&p, "WXWork.exe", NULL, NULL, 0, &m);
	assert_int_equal(m.kind, POLICY_MATCH_APPROVED);
	assert_string_equal(m.client->id, "wecom");
	assert_string_equal(m.field, "comm");
	assert_string_equal(m.pattern, "WXWork.exe");
	policy_match_process(&p, "wxwork.exe", NULL, NULL, 0, &m); /* comm is not case-folded */
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	policy_match_process(&p, "WXWork.ex", NULL, NULL, 0, &m); /* nor a prefix */
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	policy_match_process(&p, "wechat2", NULL, NULL, 0, &m);
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	assert_int_equal(policy_match_comm(&p, "wechat"), POLICY_MATCH_APPROVED);
	assert_int_equal(policy_match_comm(&p, "Weixin.exe"), POLICY_MATCH_DENIED);
	assert_int_equal(policy_match_comm(&p, "bash"), POLICY_MATCH_NONE);
	client_policy_clear(&p);
}

static void test_client_match_argv_windows_path_ignores_case(void **state)
{
	char *argv1[] = { "C:\\Program Files\\WXWork\\WXWork.exe", NULL };
	char *argv2[] = { "start.exe", "/unix", "c:\\program files\\wxwork\\wxwork.EXE", NULL };
	char *argv3[] = { "C:\\Program Files\\WXWork\\WXWork.exe.bak", NULL };
	struct policy p;
	struct policy_match m;

	make_policy(&p);
	policy_match_process(&p, "wine64-preload", NULL, argv1, 1, &m);
	assert_int_equal(m.kind, POLICY_MATCH_APPROVED);
	assert_string_equal(m.field, "argv");
	assert_string_equal(m.pattern, "*\\WXWork.exe");
	policy_match_process(&p, "start.exe", NULL, argv2, 3, &m);
	assert_int_equal(m.kind, POLICY_MATCH_APPROVED);
	assert_string_equal(m.client->id, "wecom");
	policy_match_process(&p, "x", NULL, argv3, 1, &m);
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	client_policy_clear(&p);
}

static void test_client_match_deny_wins(void **state)
{
	char *argv[] = { "C:\\Program Files\\Tencent\\WeChat\\WeChat.exe", NULL };
	struct policy p;
	struct policy_match m;

	make_policy(&p);
	/* the approved wecom exe glob matches the shared wine loader, the deny argv wins */
	policy_match_process(&p, "WeChat.exe", "/opt/deepin-wine6-stable/bin/wine64-preloader",
			     argv, 1, &m);
	assert_int_equal(m.kind, POLICY_MATCH_DENIED);
	assert_string_equal(m.deny->id, "wine-wechat");
	assert_null(m.client);
	/* an approved exe glob (/opt/wechat/ *) and a deny exe glob both match */
	policy_match_process(&p, "wechat", "/opt/wechat/electronic-wechat", NULL, 0, &m);
	assert_int_equal(m.kind, POLICY_MATCH_DENIED);
	assert_string_equal(m.deny->id, "ew");
	assert_string_equal(m.field, "exe");
	policy_match_process(&p, "wechat", "/opt/wechat/wechat", NULL, 0, &m);
	assert_int_equal(m.kind, POLICY_MATCH_APPROVED);
	assert_string_equal(m.client->id, "wechat");
	client_policy_clear(&p);
}

static void test_client_match_exe_is_case_sensitive_and_nothing_matches_nothing(void **state)
{
	char *empty[] = { "", NULL };
	struct policy p;
	struct policy_match m;

	make_policy(&p);
	policy_match_process(&p, NULL, "/OPT/WECHAT/wechat", NULL, 0, &m);
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	policy_match_process(&p, "", "", empty, 1, &m);
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	assert_null(m.field);
	policy_match_process(&p, NULL, NULL, NULL, 0, &m);
	assert_int_equal(m.kind, POLICY_MATCH_NONE);
	client_policy_clear(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_match_comm_is_exact),
		cmocka_unit_test(test_client_match_argv_windows_path_ignores_case),
		cmocka_unit_test(test_client_match_deny_wins),
		cmocka_unit_test(
			test_client_match_exe_is_case_sensitive_and_nothing_matches_nothing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
