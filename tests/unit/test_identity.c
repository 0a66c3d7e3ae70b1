/* agent/identity: the device key, its enrollment record and the machine facts. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/attest/identity.h"
#include "common/sign.h"

static void test_identity_key_created_0600_and_reloaded_stable(void **state)
{
	char *dir = wxg_test_mkdtemp(), sub[PATH_MAX / 2], path[PATH_MAX];
	struct identity *a, *b;
	struct stat st;
	char *sig = NULL;

	snprintf(sub, sizeof(sub), "%s/var/lib/wxguard", dir);
	assert_int_equal(identity_load(sub, &a), 0);
	snprintf(path, sizeof(path), "%s/%s", sub, IDENTITY_KEY_FILE);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_false(identity_enrolled(a));
	assert_int_equal(strlen(a->public_key_b64), SIGN_PUBLIC_KEY_B64_LEN);

	assert_int_equal(identity_load(sub, &b), 0);
	assert_string_equal(a->public_key_b64, b->public_key_b64);
	/* The reloaded key signs what the first public key verifies. */
	assert_int_equal(sign_data_b64(b->key, "hello", 5, &sig), 0);
	assert_int_equal(sign_verify_b64(a->public_key_b64, "hello", 5, sig), 0);
	free(sig);
	identity_free(a);
	identity_free(b);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_identity_refuses_group_readable_key(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX];
	struct identity *a;

	assert_int_equal(identity_load(dir, &a), 0);
	identity_free(a);
	snprintf(path, sizeof(path), "%s/%s", dir, IDENTITY_KEY_FILE);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(identity_load(dir, &a), -EPERM);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_identity_enrollment_persisted(void **state)
{
	char *dir = wxg_test_mkdtemp();
	struct identity *a, *b;
	struct sign_key *srv;
	char *srv_pub;

	assert_int_equal(sign_key_generate(&srv), 0);
	assert_int_equal(sign_key_public_b64(srv, &srv_pub), 0);
	assert_int_equal(identity_load(dir, &a), 0);
	assert_int_equal(
		identity_set_enrollment(a, "dev-1", "https://s", NULL, "not-base64!", true),
		-EBADMSG);
	assert_false(identity_enrolled(a));
	assert_int_equal(identity_set_enrollment(a, "dev-1", "https://s", "/etc/wxguard/ca.pem",
						 srv_pub, false),
			 0);
	assert_true(identity_enrolled(a));
	assert_int_equal(identity_load(dir, &b), 0);
	assert_true(identity_enrolled(b));
	assert_string_equal(b->device_id, "dev-1");
	assert_string_equal(b->server_url, "https://s");
	assert_string_equal(b->server_public_key, srv_pub);
	assert_string_equal(b->server_ca, "/etc/wxguard/ca.pem");
	assert_false(b->approved);
	identity_free(a);
	identity_free(b);
	sign_key_free(srv);
	free(srv_pub);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_identity_facts_from_fixture_root(void **state)
{
	char *dir = wxg_test_mkdtemp(), p[PATH_MAX];
	struct sysroot *root;
	json_t *f;
	char *boot;

	snprintf(p, sizeof(p), "%s/etc/machine-id", dir);
	wxg_test_write(p, "0123456789abcdef0123456789abcdef\n");
	snprintf(p, sizeof(p), "%s/sys/class/dmi/id/product_uuid", dir);
	wxg_test_write(p, "4c4c4544-0042-3510-8052-b4c04f4e3732\n");
	snprintf(p, sizeof(p), "%s/proc/sys/kernel/hostname", dir);
	wxg_test_write(p, "laptop-42\n");
	snprintf(p, sizeof(p), "%s/proc/sys/kernel/osrelease", dir);
	wxg_test_write(p, "6.1.0-18-amd64\n");
	snprintf(p, sizeof(p), "%s/proc/sys/kernel/random/boot_id", dir);
	wxg_test_write(p, "9f6a1c3e-1111-2222-3333-444455556666\n");
	snprintf(p, sizeof(p), "%s/etc/os-release", dir);
	wxg_test_write(p, "NAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian "
			  "GNU/Linux 12 (bookworm)\"\n");

	assert_int_equal(sysroot_new(dir, &root), 0);
	assert_int_equal(identity_facts(root, &f), 0);
	assert_string_equal(json_string_value(json_object_get(f, "machine_id")),
			    "0123456789abcdef0123456789abcdef");
	assert_string_equal(json_string_value(json_object_get(f, "product_uuid")),
			    "4c4c4544-0042-3510-8052-b4c04f4e3732");
	/* Unreadable (here: absent) serial is empty, not an error. */
	assert_string_equal(json_string_value(json_object_get(f, "serial")), "");
	assert_string_equal(json_string_value(json_object_get(f, "hostname")), "laptop-42");
	assert_string_equal(json_string_value(json_object_get(f, "os")),
			    "Debian GNU/Linux 12 (bookworm)");
	assert_string_equal(json_string_value(json_object_get(f, "kernel")), "6.1.0-18-amd64");
	assert_string_equal(json_string_value(json_object_get(f, "agent_version")), WXG_VERSION);
	/* Exactly the documented facts (docs/privacy.md) and nothing else. */
	assert_int_equal(json_object_size(f), 7);
	assert_int_equal(identity_boot_id(root, &boot), 0);
	assert_string_equal(boot, "9f6a1c3e-1111-2222-3333-444455556666");
	free(boot);
	json_decref(f);
	sysroot_free(root);
	wxg_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity_key_created_0600_and_reloaded_stable),
		cmocka_unit_test(test_identity_refuses_group_readable_key),
		cmocka_unit_test(test_identity_enrollment_persisted),
		cmocka_unit_test(test_identity_facts_from_fixture_root),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
