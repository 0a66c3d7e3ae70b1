#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/host/passwd.h"

#define PASSWD_TEXT                                       \
	"root:x:0:0:root:/root:/bin/bash\n"               \
	"\n"                                              \
	"broken line without fields\n"                    \
	"baduid:x:12abc:100::/home/baduid:/bin/sh\n"      \
	"alice:x:1000:1000::/home/alice:/bin/bash\n"      \
	"nohome:x:1001:1001:No Home::/usr/sbin/nologin\n" \
	"alice2:x:1000:1000::/home/alice2:/bin/bash\n"    \
	"short:x:1002:1002\n"

struct fixture {
	char *dir;
	struct sysroot *sr;
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char p[PATH_MAX];

	assert_non_null(fx);
	fx->dir = wxg_test_mkdtemp();
	snprintf(p, sizeof(p), "%s/etc/passwd", fx->dir);
	wxg_test_write(p, PASSWD_TEXT);
	assert_int_equal(sysroot_new(fx->dir, &fx->sr), 0);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	sysroot_free(fx->sr);
	wxg_test_rmtree(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

static void test_passwd_lookup_uid_gives_name_and_home(void **state)
{
	struct fixture *fx = *state;
	char *name = NULL, *home = NULL;

	assert_int_equal(passwd_lookup_uid(fx->sr, 1000, &name, &home), 0);
	assert_string_equal(name, "alice"); /* the first line for the uid wins */
	assert_string_equal(home, "/home/alice");
	free(name);
	free(home);
	assert_int_equal(passwd_lookup_uid(fx->sr, 0, NULL, &home), 0);
	assert_string_equal(home, "/root");
	free(home);
	assert_int_equal(passwd_lookup_uid(fx->sr, 1001, &name, &home), 0);
	assert_string_equal(name, "nohome");
	assert_string_equal(home, "");
	free(name);
	free(home);
	assert_int_equal(passwd_lookup_uid(fx->sr, 0, NULL, NULL), 0);
}

static void test_passwd_lookup_uid_unknown_or_malformed_is_enoent(void **state)
{
	struct fixture *fx = *state;
	char *name = NULL;

	assert_int_equal(passwd_lookup_uid(fx->sr, 4242, &name, NULL), -ENOENT);
	assert_null(name);
	assert_int_equal(passwd_lookup_uid(fx->sr, 12, &name, NULL), -ENOENT);   /* "12abc" */
	assert_int_equal(passwd_lookup_uid(fx->sr, 1002, &name, NULL), -ENOENT); /* four fields */
	assert_null(name);
}

static void test_passwd_lookup_name_gives_uid_and_home(void **state)
{
	struct fixture *fx = *state;
	char *home = NULL;
	uid_t uid = 0;

	assert_int_equal(passwd_lookup_name(fx->sr, "alice2", &uid, &home), 0);
	assert_int_equal(uid, 1000);
	assert_string_equal(home, "/home/alice2");
	free(home);
	assert_int_equal(passwd_lookup_name(fx->sr, "root", &uid, NULL), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(passwd_lookup_name(fx->sr, "mallory", &uid, &home), -ENOENT);
	assert_int_equal(passwd_lookup_name(fx->sr, "baduid", &uid, &home), -ENOENT);
}

struct collect {
	char names[8][32];
	uid_t uids[8];
	size_t n, stop_after;
};

static int collect_cb(const struct passwd_entry *e, void *userdata)
{
	struct collect *c = userdata;

	assert_true(c->n < 8);
	snprintf(c->names[c->n], sizeof(c->names[0]), "%s", e->name);
	c->uids[c->n++] = e->uid;
	return c->stop_after && c->n == c->stop_after ? 7 : 0;
}

static void test_passwd_foreach_walks_well_formed_lines_in_order(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };

	assert_int_equal(passwd_foreach(fx->sr, collect_cb, &c), 0);
	assert_int_equal(c.n, 4);
	assert_string_equal(c.names[0], "root");
	assert_string_equal(c.names[1], "alice");
	assert_string_equal(c.names[2], "nohome");
	assert_string_equal(c.names[3], "alice2");
	assert_int_equal(c.uids[2], 1001);

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	assert_int_equal(passwd_foreach(fx->sr, collect_cb, &c), 7); /* cb's value stops it */
	assert_int_equal(c.n, 2);
}

static void test_passwd_missing_file_is_an_error(void **state)
{
	char *dir = wxg_test_mkdtemp();
	struct sysroot *sr;
	struct collect c = { 0 };

	assert_int_equal(sysroot_new(dir, &sr), 0);
	assert_int_equal(passwd_lookup_uid(sr, 0, NULL, NULL), -ENOENT);
	assert_int_equal(passwd_foreach(sr, collect_cb, &c), -ENOENT);
	assert_int_equal(c.n, 0);
	sysroot_free(sr);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_passwd_parse_uid(void **state)
{
	uid_t uid = 7;

	assert_true(passwd_parse_uid("1000", &uid));
	assert_int_equal(uid, 1000);
	assert_true(passwd_parse_uid("42 \n", &uid));
	assert_int_equal(uid, 42);
	assert_false(passwd_parse_uid("", &uid));
	assert_false(passwd_parse_uid(NULL, &uid));
	assert_false(passwd_parse_uid("-1", &uid));
	assert_false(passwd_parse_uid("12abc", &uid));
	assert_false(passwd_parse_uid("4294967295", &uid));
	assert_int_equal(uid, 42);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_passwd_lookup_uid_gives_name_and_home, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_passwd_lookup_uid_unknown_or_malformed_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_passwd_lookup_name_gives_uid_and_home, setup,
						teardown),
		cmocka_unit_test_setup_teardown(
			test_passwd_foreach_walks_well_formed_lines_in_order, setup, teardown),
		cmocka_unit_test(test_passwd_missing_file_is_an_error),
		cmocka_unit_test(test_passwd_parse_uid),
	};
	return cmocka_run_group_tests_name("passwd", tests, NULL, NULL);
}
