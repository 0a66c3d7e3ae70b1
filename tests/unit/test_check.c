#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/checks/check.h"
#include "agent/cli/check_output.h"

static int run_broken(struct check_ctx *ctx, struct check_result *r)
{
	return -EACCES;
}

static int run_two_users(struct check_ctx *ctx, struct check_result *r)
{
	check_result_set(r, CHECK_FAIL, "%d of %d users unlocked", "%d/%d 个用户未锁屏", 1, 2);
	check_result_add(r, "user", "%s", "alice");
	check_result_add(r, "user", "%s", "bob");
	check_result_add(r, "idle_seconds", "%u", 0u);
	check_result_fix(r, "Turn on the screen lock.", "请开启锁屏。");
	check_result_changed(r, "wrote %s", "/etc/dconf/db/local.d/00-wxguard");
	return 0;
}

static void test_check_negative_return_becomes_error_with_errno(void **state)
{
	const struct check_def def = { "fake", "Fake", "假", run_broken };
	struct check_ctx ctx = { 0 };
	struct check_result r;

	check_run_one(&def, &ctx, &r);
	assert_int_equal(r.status, CHECK_ERROR);
	assert_string_equal(check_result_get(&r, "errno"), "13");
	assert_non_null(strstr(r.summary_en, "Permission denied"));
	assert_non_null(r.summary_zh);
	check_result_clear(&r);
}

static void test_check_summary_in_both_languages(void **state)
{
	const struct check_def def = { "screen_lock", "t", "t", run_two_users };
	struct check_ctx ctx = { 0 };
	struct check_result r;

	check_run_one(&def, &ctx, &r);
	assert_int_equal(r.status, CHECK_FAIL);
	assert_string_equal(r.summary_en, "1 of 2 users unlocked");
	assert_string_equal(r.summary_zh, "1/2 个用户未锁屏");
	assert_string_equal(check_result_get(&r, "user"), "alice");
	assert_int_equal(r.changes.n, 1);
	check_result_clear(&r);
}

static void test_check_worst_status_order(void **state)
{
	assert_int_equal(check_status_worst(CHECK_PASS, CHECK_WARN), CHECK_WARN);
	assert_int_equal(check_status_worst(CHECK_UNKNOWN, CHECK_WARN), CHECK_UNKNOWN);
	assert_int_equal(check_status_worst(CHECK_ERROR, CHECK_UNKNOWN), CHECK_ERROR);
	assert_int_equal(check_status_worst(CHECK_ERROR, CHECK_FAIL), CHECK_FAIL);
	assert_int_equal(check_status_worst(CHECK_NOT_APPLICABLE, CHECK_PASS), CHECK_PASS);
	assert_int_equal(check_status_from_string("not_applicable"), CHECK_NOT_APPLICABLE);
	assert_int_equal(check_status_from_string("bogus"), -EINVAL);
	assert_string_equal(check_status_to_string(CHECK_UNKNOWN), "unknown");
}

static void test_check_unknown_is_never_labelled_fail(void **state)
{
	assert_string_equal(check_status_label(CHECK_UNKNOWN, false), "UNKNOWN");
	assert_string_equal(check_status_label(CHECK_UNKNOWN, true), "未知");
	assert_string_not_equal(check_status_label(CHECK_UNKNOWN, true),
				check_status_label(CHECK_FAIL, true));
}

static void fake_report(struct check_report *rep, struct check_result *res)
{
	const struct check_def def = { "screen_lock", "t", "t", run_two_users };
	struct check_ctx ctx = { 0 };

	check_run_one(&def, &ctx, res);
	*rep = (struct check_report){
		.results = res, .n_results = 1, .overall = CHECK_FAIL, .time = 0
	};
}

static void test_check_json_document_shape(void **state)
{
	struct policy pol = { .name = "default", .version = "3", .mode = POLICY_MODE_ENFORCE };
	struct check_report rep;
	struct check_result res;
	json_t *doc, *c, *users;

	fake_report(&rep, &res);
	assert_int_equal(check_output_json(&rep, &pol, "laptop", &doc), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")), "wxguard.check/1");
	assert_string_equal(json_string_value(json_object_get(doc, "overall")), "fail");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(doc, "policy"), "mode")),
		"enforce");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "counts"), "fail")), 1);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(doc, "counts"), "pass")), 0);
	c = json_array_get(json_object_get(doc, "checks"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "id")), "screen_lock");
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "summary"), "zh")),
			    "1/2 个用户未锁屏");
	assert_string_equal(json_string_value(json_object_get(json_object_get(c, "title"), "en")),
			    "Screen lock");
	users = json_object_get(json_object_get(c, "evidence"), "user");
	assert_true(json_is_array(users));
	assert_int_equal(json_array_size(users), 2);
	assert_string_equal(json_string_value(json_array_get(users, 1)), "bob");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(c, "evidence"), "idle_seconds")),
		"0");
	assert_int_equal(json_array_size(json_object_get(c, "changes")), 1);
	json_decref(doc);
	check_result_clear(&res);
}

static void test_check_table_in_chinese_and_english(void **state)
{
	struct policy pol = { .name = "default", .version = "3" };
	struct check_report rep;
	struct check_result res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	fake_report(&rep, &res);
	f = open_memstream(&buf, &len);
	assert_int_equal(check_output_table(f, &rep, &pol, true, false), 0);
	fclose(f);
	assert_non_null(strstr(buf, "不合规"));
	assert_non_null(strstr(buf, "修复: 请开启锁屏。"));
	assert_non_null(strstr(buf, "已修改: wrote /etc/dconf/db/local.d/00-wxguard"));
	free(buf);

	f = open_memstream(&buf, &len);
	assert_int_equal(check_output_table(f, &rep, &pol, false, false), 0);
	fclose(f);
	assert_non_null(strstr(buf, "screen_lock             FAIL     1 of 2 users unlocked"));
	assert_non_null(strstr(buf, "fix: Turn on the screen lock."));
	assert_non_null(strstr(buf, "Overall: FAIL (1 fail"));
	free(buf);
	check_result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_negative_return_becomes_error_with_errno),
		cmocka_unit_test(test_check_summary_in_both_languages),
		cmocka_unit_test(test_check_worst_status_order),
		cmocka_unit_test(test_check_unknown_is_never_labelled_fail),
		cmocka_unit_test(test_check_json_document_shape),
		cmocka_unit_test(test_check_table_in_chinese_and_english),
	};
	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
