/* screen_lock check: data-driven cases in tests/data/screen_lock/<case>/ (see
 * tests/lib/check_case.h), plus the parsers (desktop names, GVariant text, GVDB files). */
#include "testlib.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check_case.h"
#include "agent/checks/screen_lock/screen_lock.h"
#include "agent/host/sysroot.h"
#include "common/fileio.h"

/* The cases' [policy] keys: the [screen_lock] section of the policy. */
static bool policy_set(struct policy *p, const char *key, const char *value)
{
	struct policy_screen_lock *sl = &p->screen_lock;

	if (strcmp(key, "required") == 0)
		sl->required = check_case_bool(value);
	else if (strcmp(key, "max_idle_seconds") == 0)
		sl->max_idle_seconds = (unsigned)strtoul(value, NULL, 10);
	else if (strcmp(key, "max_lock_delay_seconds") == 0)
		sl->max_lock_delay_seconds = (unsigned)strtoul(value, NULL, 10);
	else if (strcmp(key, "remediate") == 0)
		sl->remediate = check_case_bool(value);
	else
		return false;
	return true;
}

static void test_screen_lock_desktop_names_map_to_desktops(void **state)
{
	(void)state;
	assert_int_equal(screen_lock_desktop_from_string("ubuntu:GNOME"), SCREENLOCK_DE_GNOME);
	assert_int_equal(screen_lock_desktop_from_string("GNOME-Flashback:GNOME"),
			 SCREENLOCK_DE_GNOME);
	assert_int_equal(screen_lock_desktop_from_string("X-Cinnamon"), SCREENLOCK_DE_CINNAMON);
	assert_int_equal(screen_lock_desktop_from_string("MATE"), SCREENLOCK_DE_MATE);
	assert_int_equal(screen_lock_desktop_from_string("UKUI"), SCREENLOCK_DE_UKUI);
	assert_int_equal(screen_lock_desktop_from_string("Deepin"), SCREENLOCK_DE_DEEPIN);
	assert_int_equal(screen_lock_desktop_from_string("KDE"), SCREENLOCK_DE_KDE);
	assert_int_equal(screen_lock_desktop_from_string("plasmawayland"), SCREENLOCK_DE_KDE);
	assert_int_equal(screen_lock_desktop_from_string("XFCE"), SCREENLOCK_DE_XFCE);
	assert_int_equal(screen_lock_desktop_from_string("xubuntu"), SCREENLOCK_DE_XFCE);
	assert_int_equal(screen_lock_desktop_from_string("ubuntu-xorg"), SCREENLOCK_DE_GNOME);
	assert_int_equal(screen_lock_desktop_from_string("ubuntukylin"), SCREENLOCK_DE_UKUI);
	assert_int_equal(screen_lock_desktop_from_string("lubuntu"), SCREENLOCK_DE_OTHER);
	assert_int_equal(screen_lock_desktop_from_string("LXQt"), SCREENLOCK_DE_OTHER);
	assert_int_equal(screen_lock_desktop_from_string("sway"), SCREENLOCK_DE_OTHER);
	assert_int_equal(screen_lock_desktop_from_string(""), SCREENLOCK_DE_OTHER);
	assert_int_equal(screen_lock_desktop_from_string(NULL), SCREENLOCK_DE_OTHER);
}

static void test_screen_lock_gvariant_text_numbers_parse(void **state)
{
	long v;

	(void)state;
	assert_int_equal(screen_lock_parse_gvariant_number("uint32 300\n", &v), 0);
	assert_int_equal(v, 300);
	assert_int_equal(screen_lock_parse_gvariant_number("  900 ", &v), 0);
	assert_int_equal(v, 900);
	assert_int_equal(screen_lock_parse_gvariant_number("@u 60", &v), 0);
	assert_int_equal(v, 60);
	assert_int_equal(screen_lock_parse_gvariant_number("int32 -1", &v), 0);
	assert_int_equal(v, -1);
	assert_int_equal(screen_lock_parse_gvariant_number("true", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(screen_lock_parse_gvariant_number("false\n", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(screen_lock_parse_gvariant_number("'blank-only'", &v), -EINVAL);
	assert_int_equal(screen_lock_parse_gvariant_number("uint32", &v), -EINVAL);
	assert_int_equal(screen_lock_parse_gvariant_number("300x", &v), -EINVAL);
	assert_int_equal(screen_lock_parse_gvariant_number("", &v), -EINVAL);
}

static void read_gvdb_fixture(char **data, size_t *len)
{
	assert_int_equal(
		read_full_file(wxg_test_data("screen_lock/gvdb/user"), 1024 * 1024, data, len), 0);
}

static void test_screen_lock_gvdb_reads_values_written_by_dconf(void **state)
{
	char *data = NULL;
	size_t len = 0;
	long v = -1;

	(void)state;
	read_gvdb_fixture(&data, &len);
	assert_int_equal(screen_lock_gvdb_lookup_number(
				 data, len, "/org/gnome/desktop/session/idle-delay", &v),
			 1);
	assert_int_equal(v, 600);
	assert_int_equal(screen_lock_gvdb_lookup_number(
				 data, len, "/org/gnome/desktop/screensaver/lock-enabled", &v),
			 1);
	assert_int_equal(v, 0);
	assert_int_equal(screen_lock_gvdb_lookup_number(
				 data, len, "/org/gnome/desktop/screensaver/lock-delay", &v),
			 1);
	assert_int_equal(v, 30);
	assert_int_equal(
		screen_lock_gvdb_lookup_number(data, len, "/org/ukui/screensaver/idle-delay", &v),
		1);
	assert_int_equal(v, -1);
	/* Absent keys, and prefixes of present ones, are not found. */
	assert_int_equal(
		screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/session/idle", &v),
		0);
	assert_int_equal(
		screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/session/", &v), 0);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/nope/idle-delay", &v), 0);
	free(data);
}

/* The user writes ~/.config/dconf/user: every truncation and byte flip must be survived
 * (ASan/UBSan builds check the bounds). */
static void test_screen_lock_gvdb_survives_truncated_and_corrupt_files(void **state)
{
	char *data = NULL, *copy;
	size_t len = 0;
	long v;

	(void)state;
	read_gvdb_fixture(&data, &len);
	for (size_t n = 0; n < len; n++) {
		copy = malloc(n ? n : 1);
		assert_non_null(copy);
		memcpy(copy, data, n);
		(void)screen_lock_gvdb_lookup_number(copy, n,
						     "/org/gnome/desktop/session/idle-delay", &v);
		free(copy);
	}
	copy = malloc(len);
	assert_non_null(copy);
	for (size_t i = 0; i < len; i++) {
		static const unsigned char flips[] = { 0xff, 0x80, 0x01, 0x00 };

		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(copy, data, len);
			copy[i] = (char)(f == 3 ? 0 : copy[i] ^ flips[f]);
			(void)screen_lock_gvdb_lookup_number(
				copy, len, "/org/gnome/desktop/session/idle-delay", &v);
		}
	}
	free(copy);
	assert_int_equal(
		screen_lock_gvdb_lookup_number("not a gvdb file at all, sorry", 29, "/a", &v),
		-EBADMSG);
	free(data);
}

static void test_screen_lock_missing_policy_is_not_applicable(void **state)
{
	struct check_result r = { 0 };
	struct sysroot *sr = NULL;
	struct check_ctx ctx = { 0 };

	(void)state;
	assert_int_equal(sysroot_new("/nonexistent-root", &sr), 0);
	ctx.root = sr;
	check_run_one(check_def_find("screen_lock"), &ctx, &r);
	assert_int_equal(r.status, CHECK_NOT_APPLICABLE);
	check_result_clear(&r);
	sysroot_free(sr);
}

int main(void)
{
	static const struct check_case_suite suite = {
		"screen_lock",
		"screen_lock",
		policy_set,
		policy_clear,
	};
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_screen_lock_desktop_names_map_to_desktops),
		cmocka_unit_test(test_screen_lock_gvariant_text_numbers_parse),
		cmocka_unit_test(test_screen_lock_gvdb_reads_values_written_by_dconf),
		cmocka_unit_test(test_screen_lock_gvdb_survives_truncated_and_corrupt_files),
		cmocka_unit_test(test_screen_lock_missing_policy_is_not_applicable),
	};

	return check_case_run_suite(&suite, extra, sizeof(extra) / sizeof(extra[0]));
}
