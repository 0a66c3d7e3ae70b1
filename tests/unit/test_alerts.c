/* server/alerts.c without a database: the injection alert's text (injector and target by their
 * Windows names, docs/alerts.md), device text cleaned for the WeCom robot's markdown, the
 * robot's payload. The alerts' life (store, rate limit, API) is tests/unit/test_server_verify.c.
 */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/alerts.h"

/* An inject event as the agent writes it (docs/events.md), with the names of a Wine injector
 * and target; action "kill" or "none" (audit mode). */
static json_t *wine_inject_event(const char *action)
{
	return json_pack(
		"{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i, s:s, "
		"s:s, "
		"s:s, s:I}, s:{s:i, s:i, s:s, s:s, s:s}, s:{s:s, s:s}}",
		"v", 1, "ts", "2026-12-03T10:00:00.000000Z", "type", "inject", "mode",
		strcmp(action, "none") == 0 ? "audit" : "enforce", "rule", "client.injection",
		"reason", "ptrace", "verdict", "deny", "action", action, "request", "pokedata",
		"client", "wecom", "process", "pid", 123, "tid", 124, "ppid", 1, "uid", 1000,
		"comm", "injector.exe", "exe", "injector.exe", "windows_path",
		"C:\\users\\bob\\Desktop\\injector.exe", "start_ns", (json_int_t)1000, "target",
		"pid", 456, "tid", 457, "comm", "WXWork.exe", "exe", "WXWork.exe", "windows_path",
		"C:\\Program Files (x86)\\WXWork\\WXWork.exe", "message", "en",
		"Blocked injector.exe tampering with the chat client (pokedata on WeCom, pid 456).",
		"zh", "已阻止 injector.exe 篡改聊天客户端 (pokedata on WeCom, pid 456)。");
}

static void message_of(const json_t *ev, const char *host, char *text, size_t len)
{
	struct alert_event a;

	assert_true(alert_event_classify(ev, &a));
	assert_string_equal(a.rule, ALERT_INJECTION);
	assert_string_equal(a.severity, "critical");
	alert_event_message(ev, &a, host, "dev-1", text, len);
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("\"%s\" not in \"%s\"", needle, text);
}

static void test_alerts_wine_injection_names_injector_and_target_in_both_languages(void **state)
{
	json_t *ev = wine_inject_event("kill");
	char text[4096];

	(void)state;
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, "Device host-a (dev-1): injector.exe (pid 123, uid 1000, "
			      "C:\\users\\bob\\Desktop\\injector.exe) tried to inject into "
			      "WXWork.exe (pid 456, C:\\Program Files (x86)\\WXWork\\WXWork.exe): "
			      "blocked (rule client.injection, reason ptrace, request pokedata, "
			      "action kill). Blocked injector.exe tampering");
	assert_contains(text, "investigate injector.exe.");
	assert_contains(text,
			"设备 host-a（dev-1）：injector.exe（pid 123, uid 1000, "
			"C:\\users\\bob\\Desktop\\injector.exe）试图注入 WXWork.exe（pid 456, "
			"C:\\Program Files (x86)\\WXWork\\WXWork.exe）：已阻止（规则 "
			"client.injection，原因 ptrace，请求 pokedata）。已阻止 injector.exe");
	assert_null(strstr(text, "injection into the WeCom client"));
	json_decref(ev);

	/* audit mode: seen, not stopped */
	ev = wine_inject_event("none");
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, "\\WXWork\\WXWork.exe): not stopped (rule client.injection");
	assert_contains(text, "：未阻止（规则");
	json_decref(ev);

	/* a native injector (gdb) and a target named by the exe alone, or by its path alone */
	ev = wine_inject_event("kill");
	json_object_set_new(ev, "process",
			    json_pack("{s:i, s:i, s:s}", "pid", 77, "uid", 1000, "comm", "gdb"));
	json_object_del(json_object_get(ev, "target"), "exe");
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, ": gdb (pid 77, uid 1000) tried to inject into WXWork.exe (pid 456, "
			      "C:\\Program Files (x86)\\WXWork\\WXWork.exe)");
	assert_contains(text, "：gdb（pid 77, uid 1000）试图注入 WXWork.exe（");
	json_decref(ev);

	/* the target exited before the agent looked: a comm-only target still names it */
	ev = wine_inject_event("kill");
	json_object_set_new(
		ev, "target",
		json_pack("{s:i, s:i, s:s}", "pid", 456, "tid", 456, "comm", "WXWork.exe"));
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, "tried to inject into WXWork.exe (pid 456): blocked");
	json_decref(ev);
}

static void test_alerts_injection_hostile_names_are_escaped_and_bounded(void **state)
{
	static const char hostile[] = "C:\\x\n](http://evil.example/a)\r\n# H ";
	json_t *ev = wine_inject_event("kill"), *proc, *tgt, *alert;
	char text[4096], *big = malloc(5001), *payload, *body;
	char run[200];

	(void)state;
	assert_non_null(big);
	memset(big, 'A', 5000);
	big[5000] = 0;
	memcpy(big, hostile, strlen(hostile));
	memcpy(big + 4990, "中中.exe", 10); /* a cut in the middle would split one */
	proc = json_object_get(ev, "process");
	tgt = json_object_get(ev, "target");
	json_object_set_new(proc, "windows_path", json_string(big));
	json_object_del(proc, "exe");
	json_object_set_new(proc, "comm", json_string("evil\n](http://evil)"));
	json_object_set_new(tgt, "exe", json_string("<font color=\"info\">ok</font>`x`**b**&lt;"));
	json_object_set_new(tgt, "windows_path", json_string(big));
	json_object_set_new(ev, "request", json_string("[click](https://evil.example)"));
	message_of(ev, "host\n### pwned [x](http://e)", text, sizeof(text));

	/* one line, no markdown a robot would render, no clickable URL */
	assert_null(strchr(text, '\n'));
	assert_null(strchr(text, '\r'));
	for (const char *c = "[]<>`*&"; *c; c++)
		if (strchr(text, *c))
			fail_msg("'%c' in \"%s\"", *c, text);
	assert_null(strstr(text, "://"));
	assert_contains(text, "Device host ### pwned ［x］(http：//e) (dev-1): ");
	assert_contains(text, "＜font color=\"info\"＞ok＜/font＞｀x｀＊＊b＊＊＆lt;");
	assert_contains(text, "request ［click］(https：//evil.example)");
	/* the injector's path is cut (180 bytes of it), the basename still taken from the end */
	memset(run, 'A', sizeof(run) - 1);
	run[sizeof(run) - 1] = 0;
	assert_null(strstr(text, run));
	assert_contains(text, "C:\\x ］(http：//evil.example/a)  # H AAAA");
	assert_true(strlen(text) < 3000);
	{
		json_t *j = json_string(text); /* valid UTF-8: jansson refuses anything else */

		assert_non_null(j);
		json_decref(j);
	}

	/* the robot's payload: valid JSON, the message on its own lines, nothing rendered */
	alert = json_pack("{s:s, s:s, s:s, s:I, s:s}", "rule", ALERT_INJECTION, "severity",
			  "critical", "device_id", "dev-1", "created", (json_int_t)1764756000,
			  "message", text);
	payload = alert_wecom_payload(alert);
	assert_non_null(payload);
	{
		json_t *p = json_loads(payload, 0, NULL);
		const char *content = json_string_value(
			json_object_get(json_object_get(p, "markdown"), "content"));

		assert_non_null(content);
		body = strstr(content, "\n\n");
		assert_non_null(body);
		assert_null(strchr(body + 2, '\n'));
		assert_null(strstr(body, "]("));
		assert_contains(body, "tried to inject into ＜font");
		json_decref(p);
	}
	free(payload);
	json_decref(alert);
	json_decref(ev);
	free(big);
}

static void test_alerts_wecom_payload_cleans_any_message_and_cuts_utf8_whole(void **state)
{
	json_t *alert = json_pack("{s:s, s:s, s:s, s:I, s:s}", "rule", "noncompliant", "severity",
				  "high", "device_id", "dev-1", "created", (json_int_t)1764756000,
				  "message", "Device h\n> [x](http://e) <b>b</b> is noncompliant");
	char *payload, *big;
	json_t *p;

	(void)state;
	payload = alert_wecom_payload(alert);
	assert_non_null(payload);
	p = json_loads(payload, 0, NULL);
	assert_contains(
		json_string_value(json_object_get(json_object_get(p, "markdown"), "content")),
		"\n\nDevice h ＞ ［x］(http：//e) ＜b＞b＜/b＞ is noncompliant");
	json_decref(p);
	free(payload);

	/* 2000 three-byte characters: over the robot's 4096 bytes, cut before a whole one */
	big = malloc(6001);
	assert_non_null(big);
	for (int i = 0; i < 2000; i++)
		memcpy(big + 3 * i, "中", 3);
	big[6000] = 0;
	json_object_set_new(alert, "message", json_string(big));
	payload = alert_wecom_payload(alert);
	assert_non_null(payload); /* NULL if the cut had left invalid UTF-8 */
	p = json_loads(payload, 0, NULL);
	assert_true(strlen(json_string_value(
			    json_object_get(json_object_get(p, "markdown"), "content"))) <= 4000);
	json_decref(p);
	free(payload);
	free(big);
	json_decref(alert);
}

static void test_alerts_injection_from_older_agents_still_alerts(void **state)
{
	json_t *ev = wine_inject_event("kill");
	char text[4096];

	(void)state;
	/* an agent before the names: target {pid, tid} only, process without windows_path */
	json_object_set_new(ev, "target", json_pack("{s:i, s:i}", "pid", 456, "tid", 456));
	json_object_del(json_object_get(ev, "process"), "windows_path");
	json_object_del(json_object_get(ev, "process"), "exe");
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, "Device host-a (dev-1): injection into the WeCom client (rule "
			      "client.injection, reason ptrace: pokedata, action kill; process "
			      "injector.exe pid 123 uid 1000)");
	assert_contains(text, "企业微信客户端遭注入");
	json_decref(ev);

	/* no target at all (a plugin), and the oldest agents' type names */
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:s}}", "type", "open", "rule",
		       "client.plugins", "reason", "library", "verdict", "deny", "action", "none",
		       "library", "/tmp/libhook.so", "process", "pid", 9, "comm", "wecom");
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, "injection into the WeCom client (rule client.plugins, reason "
			      "library: /tmp/libhook.so");
	json_decref(ev);
	ev = json_pack("{s:s, s:s, s:i}", "type", "ptrace.injection", "comm", "gdb", "pid", 5);
	message_of(ev, "", text, sizeof(text));
	assert_contains(text, "Device - (dev-1): injection into the WeCom client (rule "
			      "ptrace.injection");
	json_decref(ev);
}

/* A Wine start stopped at exec (a program the manifest does not list): the alert names the
 * Windows program, not only the loader; a DLL refused in the client's prefix names the DLL and
 * the process it was loaded into. */
static void test_alerts_wine_start_and_dll_name_the_windows_side(void **state)
{
	struct alert_event a;
	char text[4096];
	json_t *ev;

	(void)state;
	ev = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:s}, s:{s:s}}", "type",
		       "exec", "rule", "client.approved", "reason", "wine", "verdict", "deny",
		       "action", "kill_user", "client", "wecom", "wine_exe",
		       "C:\\users\\bob\\Downloads\\inject.exe", "process", "pid", 12, "uid", 1000,
		       "comm", "wine64", "exe", "path", "/usr/lib/wine/wine64");
	assert_true(alert_event_classify(ev, &a));
	assert_string_equal(a.rule, ALERT_CLIENT_UNAPPROVED);
	alert_event_message(ev, &a, "host-a", "dev-1", text, sizeof(text));
	assert_contains(text, "blocked unapproved client wecom (rule client.approved, reason wine, "
			      "action kill_user; process wine64 pid 12 uid 1000, Windows program "
			      "C:\\users\\bob\\Downloads\\inject.exe)");
	json_decref(ev);

	ev = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:s, s:s}}", "type", "open", "rule",
		"client.plugins", "reason", "library", "verdict", "deny", "action", "kill",
		"client", "wecom", "library",
		"/home/bob/.deepinwine/Deepin-WXWork/drive_c/Program Files/WXWork/version.dll",
		"process", "pid", 34, "comm", "WXWork.exe", "windows_path",
		"C:\\Program Files\\WXWork\\WXWork.exe");
	message_of(ev, "host-a", text, sizeof(text));
	assert_contains(text, "injection into the WeCom client (rule client.plugins, reason "
			      "library: /home/bob/.deepinwine/Deepin-WXWork/drive_c/Program "
			      "Files/WXWork/version.dll, action kill; process WXWork.exe pid 34)");
	json_decref(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_alerts_wine_injection_names_injector_and_target_in_both_languages),
		cmocka_unit_test(test_alerts_injection_hostile_names_are_escaped_and_bounded),
		cmocka_unit_test(test_alerts_wecom_payload_cleans_any_message_and_cuts_utf8_whole),
		cmocka_unit_test(test_alerts_injection_from_older_agents_still_alerts),
		cmocka_unit_test(test_alerts_wine_start_and_dll_name_the_windows_side),
	};
	return cmocka_run_group_tests_name("alerts", tests, NULL, NULL);
}
