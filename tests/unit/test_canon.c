/* common/canon: canonical JSON bytes for signatures. */
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/canon.h"

static void expect_canon(const char *in, const char *want)
{
	json_error_t err;
	json_t *j = json_loads(in, JSON_DECODE_ANY, &err);
	char *out = NULL;
	size_t len = 0;

	assert_non_null(j);
	assert_int_equal(canon_dump(j, &out, &len), 0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
	json_decref(j);
}

static void test_canon_sorts_keys_and_compacts(void **state)
{
	expect_canon(
		"{ \"b\" : 1,\n \"a\": {\"z\": [1, 2, {\"y\": null, \"x\": true}], \"c\": \"s\"} }",
		"{\"a\":{\"c\":\"s\",\"z\":[1,2,{\"x\":true,\"y\":null}]},\"b\":1}");
}

static void test_canon_escapes_non_ascii(void **state)
{
	expect_canon("{\"h\": \"企业微信é\"}", "{\"h\":\"\\u4F01\\u4E1A\\u5FAE\\u4FE1\\u00E9\"}");
}

static void test_canon_key_order_and_whitespace_do_not_matter(void **state)
{
	json_t *a = json_loads("{\"x\":1,\"y\":[\"a\",\"b\"]}", 0, NULL);
	json_t *b = json_loads("{ \"y\" : [ \"a\" , \"b\" ] , \"x\" : 1 }", 0, NULL);
	char ha[HASH_SHA256_HEX], hb[HASH_SHA256_HEX];

	assert_int_equal(canon_sha256(a, ha), 0);
	assert_int_equal(canon_sha256(b, hb), 0);
	assert_string_equal(ha, hb);
	assert_int_equal(strlen(ha), 64);
	json_decref(a);
	json_decref(b);
}

static void test_canon_refuses_real_anywhere(void **state)
{
	const char *cases[] = { "1.5", "{\"a\":1.0}", "[1,[2,{\"b\":[3e2]}]]" };
	char *out = (char *)0x1;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = json_loads(cases[i], JSON_DECODE_ANY, NULL);

		assert_non_null(j);
		assert_int_equal(canon_dump(j, &out, NULL), -EINVAL);
		assert_ptr_equal(out, (char *)0x1); /* untouched on failure */
		json_decref(j);
	}
}

static void test_canon_refuses_too_deep(void **state)
{
	json_t *root = json_array(), *cur = root;
	char *out;

	for (int i = 0; i < CANON_MAX_DEPTH + 2; i++) {
		json_t *n = json_array();

		json_array_append_new(cur, n);
		cur = n;
	}
	assert_int_equal(canon_dump(root, &out, NULL), -ELOOP);
	assert_int_equal(canon_dump(NULL, &out, NULL), -EINVAL);
	json_decref(root);
}

static void test_canon_integers_are_exact(void **state)
{
	expect_canon("{\"seq\": 9007199254740993, \"neg\": -1}",
		     "{\"neg\":-1,\"seq\":9007199254740993}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_canon_sorts_keys_and_compacts),
		cmocka_unit_test(test_canon_escapes_non_ascii),
		cmocka_unit_test(test_canon_key_order_and_whitespace_do_not_matter),
		cmocka_unit_test(test_canon_refuses_real_anywhere),
		cmocka_unit_test(test_canon_refuses_too_deep),
		cmocka_unit_test(test_canon_integers_are_exact),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
