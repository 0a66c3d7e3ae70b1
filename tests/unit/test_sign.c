/* common/sign (Ed25519) and common/b64. */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/b64.h"
#include "common/canon.h"
#include "common/sign.h"

static void test_b64_rfc4648_vectors(void **state)
{
	const char *in[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	const char *out[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy" };

	for (size_t i = 0; i < 7; i++) {
		char *e;
		unsigned char *d;
		size_t n;

		assert_int_equal(b64_encode(in[i], strlen(in[i]), &e), 0);
		assert_string_equal(e, out[i]);
		assert_int_equal(b64_decode(e, &d, &n), 0);
		assert_int_equal(n, strlen(in[i]));
		assert_memory_equal(d, in[i], n);
		free(e);
		free(d);
	}
}

static void test_b64_decode_is_strict(void **state)
{
	const char *bad[] = { "Zg=",    "Zg",   "Z===",     "Zh==", "Zm9=", "Zm 9v",
			      "Zm9v\n", "=Zm9", "Zg==Zm9v", "Zm9-", "Zm9_" };
	unsigned char *d;
	size_t n;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(b64_decode(bad[i], &d, &n), -EINVAL);
}

static void test_b64_decode_exact_checks_length(void **state)
{
	unsigned char buf[4] = { 0 };

	assert_int_equal(b64_decode_exact("Zm9v", buf, 3), 0);
	assert_memory_equal(buf, "foo", 3);
	assert_int_equal(b64_decode_exact("Zm9v", buf, 4), -EINVAL);
	assert_int_equal(b64_decode_exact("Zm8=", buf, 3), -EINVAL);
}

static void test_sign_roundtrip_and_tamper(void **state)
{
	struct sign_key *k;
	unsigned char sig[SIGN_SIGNATURE_LEN], pub[SIGN_PUBLIC_KEY_LEN];
	char *pubb, *sigb;
	const char msg[] = "{\"a\":1}";

	assert_int_equal(sign_key_generate(&k), 0);
	assert_int_equal(sign_key_public_raw(k, pub), 0);
	assert_int_equal(sign_data(k, msg, strlen(msg), sig), 0);
	assert_int_equal(sign_verify(pub, msg, strlen(msg), sig), 0);
	assert_int_equal(sign_verify(pub, "{\"a\":2}", 7, sig), -EBADMSG);
	sig[10] ^= 1;
	assert_int_equal(sign_verify(pub, msg, strlen(msg), sig), -EBADMSG);

	assert_int_equal(sign_key_public_b64(k, &pubb), 0);
	assert_int_equal(strlen(pubb), SIGN_PUBLIC_KEY_B64_LEN);
	assert_int_equal(sign_data_b64(k, msg, strlen(msg), &sigb), 0);
	assert_int_equal(strlen(sigb), SIGN_SIGNATURE_B64_LEN);
	assert_int_equal(sign_verify_b64(pubb, msg, strlen(msg), sigb), 0);
	assert_int_equal(sign_verify_b64(pubb, msg, strlen(msg), "AAAA"), -EBADMSG);
	assert_int_equal(sign_verify_b64("nope", msg, strlen(msg), sigb), -EINVAL);
	free(pubb);
	free(sigb);
	sign_key_free(k);
	sign_key_free(NULL);
}

static void test_sign_other_key_fails(void **state)
{
	struct sign_key *a, *b;
	char *pubb, *sig;

	assert_int_equal(sign_key_generate(&a), 0);
	assert_int_equal(sign_key_generate(&b), 0);
	assert_int_equal(sign_key_public_b64(b, &pubb), 0);
	assert_int_equal(sign_data_b64(a, "x", 1, &sig), 0);
	assert_int_equal(sign_verify_b64(pubb, "x", 1, sig), -EBADMSG);
	free(pubb);
	free(sig);
	sign_key_free(a);
	sign_key_free(b);
}

static void test_sign_save_load_mode_0600(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[512];
	struct sign_key *k, *l, *m;
	char *pa, *pb, *pc;
	struct stat st;

	snprintf(path, sizeof(path), "%s/key.pem", dir);
	assert_int_equal(sign_key_load(path, &l), -ENOENT);
	assert_int_equal(sign_key_generate(&k), 0);
	assert_int_equal(sign_key_save(k, path), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sign_key_load(path, &l), 0);
	assert_int_equal(sign_key_load_or_create(path, &m), 0);
	assert_int_equal(sign_key_public_b64(k, &pa), 0);
	assert_int_equal(sign_key_public_b64(l, &pb), 0);
	assert_int_equal(sign_key_public_b64(m, &pc), 0);
	assert_string_equal(pa, pb);
	assert_string_equal(pa, pc);
	/* group-readable private key: refused */
	assert_int_equal(chmod(path, 0640), 0);
	sign_key_free(m);
	assert_int_equal(sign_key_load(path, &m), -EPERM);
	/* not a key */
	wxg_test_write(path, "hello");
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(sign_key_load(path, &m), -EBADMSG);
	free(pa);
	free(pb);
	free(pc);
	sign_key_free(k);
	sign_key_free(l);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_sign_json_ignores_key_order_not_content(void **state)
{
	struct sign_key *k;
	json_t *a = json_loads("{\"seq\":1,\"device_id\":\"d\"}", 0, NULL);
	json_t *b = json_loads("{ \"device_id\" : \"d\", \"seq\" : 1 }", 0, NULL);
	json_t *c = json_loads("{\"seq\":2,\"device_id\":\"d\"}", 0, NULL);
	json_t *r = json_loads("{\"seq\":1.5}", 0, NULL);
	json_t *env;
	char *pub, *sig;

	assert_int_equal(sign_key_generate(&k), 0);
	assert_int_equal(sign_key_public_b64(k, &pub), 0);
	assert_int_equal(sign_json_b64(k, a, &sig), 0);
	assert_int_equal(sign_verify_json_b64(pub, b, sig), 0);
	assert_int_equal(sign_verify_json_b64(pub, c, sig), -EBADMSG);
	assert_int_equal(sign_verify_json_b64(pub, r, sig), -EBADMSG);
	free(sig);
	assert_int_equal(sign_json_b64(k, r, &sig), -EINVAL);

	assert_int_equal(sign_envelope(k, "report", a, &env), 0);
	assert_ptr_equal(json_object_get(env, "report"), a);
	assert_int_equal(
		sign_verify_json_b64(pub, b, json_string_value(json_object_get(env, "signature"))),
		0);
	json_decref(env);
	free(pub);
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(r);
	sign_key_free(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64_rfc4648_vectors),
		cmocka_unit_test(test_b64_decode_is_strict),
		cmocka_unit_test(test_b64_decode_exact_checks_length),
		cmocka_unit_test(test_sign_roundtrip_and_tamper),
		cmocka_unit_test(test_sign_other_key_fails),
		cmocka_unit_test(test_sign_save_load_mode_0600),
		cmocka_unit_test(test_sign_json_ignores_key_order_not_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
