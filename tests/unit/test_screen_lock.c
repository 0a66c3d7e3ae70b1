/* screen_lock check. Most tests are data-driven: every directory tests/data/screenlock/<case>/
 * with a root/ tree and an expect file is one test, named test_screenlock_<case> ('-' → '_'),
 * run on a temporary copy of root/ so remediation can write. Adding a case needs no C.
 *
 * expect file, one directive a line ('#' comments):
 *   policy.required=true|false            default true
 *   policy.max_idle_seconds=N             default 600 (policy/default.ini)
 *   policy.max_lock_delay_seconds=N       default 5
 *   policy.remediate=true|false           default false
 *   mode=audit|enforce                    ctx.remediate (default audit)
 *   status=pass|fail|unknown|not_applicable|...
 *   evidence KEY=VALUE                    some evidence entry KEY has exactly VALUE
 *   evidence~ KEY=TEXT                    some evidence entry KEY contains TEXT
 *   noevidence KEY                        no evidence entry KEY
 *   summary_en~TEXT  summary_zh~TEXT  fix_en~TEXT  fix_zh~TEXT   contains TEXT
 *   nofix                                 no fix text
 *   changes=N                             remediation changes recorded
 *   change~TEXT                           some change line contains TEXT
 *   file /ABS/PATH~TEXT                   the file (under the copied root) contains TEXT ("\n" = newline)
 *   nofile /ABS/PATH                      the file does not exist
 *   rerun_changes=N                       run again on the same root: N changes (idempotence)
 */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/checks/check.h"
#include "agent/checks/screen_lock/screen_lock.h"
#include "agent/host/sysroot.h"
#include "common/fileio.h"

/* ---- copying a fixture tree ---- */

static const char *copy_src, *copy_dst;

static int copy_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	char dst[PATH_MAX], *data = NULL;
	size_t len = 0;

	(void)ftw;
	snprintf(dst, sizeof(dst), "%s%s", copy_dst, p + strlen(copy_src));
	if (flag == FTW_D)
		return mkdir_p(dst, st->st_mode & 07777) < 0 ? -1 : 0;
	if (flag != FTW_F)
		return 0;
	if (read_full_file(p, 64u * 1024 * 1024, &data, &len) < 0)
		return -1;
	if (write_file_atomic(dst, data, len, st->st_mode & 07777) < 0) {
		free(data);
		return -1;
	}
	free(data);
	return 0;
}

static void copy_tree(const char *src, const char *dst)
{
	copy_src = src;
	copy_dst = dst;
	assert_int_equal(nftw(src, copy_cb, 16, FTW_PHYS), 0);
}

/* ---- running a case ---- */

struct expect_ctx {
	struct policy policy;
	bool enforce;
};

static bool evidence_has(const struct check_result *r, const char *key, const char *val, bool sub)
{
	for (size_t i = 0; i < r->n_evidence; i++)
		if (strcmp(r->evidence[i].key, key) == 0 &&
		    (sub ? strstr(r->evidence[i].value, val) != NULL : strcmp(r->evidence[i].value, val) == 0))
			return true;
	return false;
}

static void dump_result(const char *name, const struct check_result *r)
{
	fprintf(stderr, "--- case %s: status=%s\n  en: %s\n  zh: %s\n", name,
		check_status_to_string(r->status), r->summary_en ? r->summary_en : "(null)",
		r->summary_zh ? r->summary_zh : "(null)");
	if (r->fix_en)
		fprintf(stderr, "  fix_en: %s\n  fix_zh: %s\n", r->fix_en, r->fix_zh ? r->fix_zh : "(null)");
	for (size_t i = 0; i < r->n_evidence; i++)
		fprintf(stderr, "  evidence %s=%s\n", r->evidence[i].key, r->evidence[i].value);
	for (size_t i = 0; i < r->changes.n; i++)
		fprintf(stderr, "  change %s\n", r->changes.v[i]);
}

static void run_check(const char *root, struct policy *p, bool enforce, struct check_result *r)
{
	const struct check_def *def = check_def_find("screen_lock");
	struct sysroot *sr = NULL;
	struct check_ctx ctx = { 0 };

	assert_non_null(def);
	assert_int_equal(sysroot_new(root, &sr), 0);
	ctx.policy = p;
	ctx.root = sr;
	ctx.remediate = enforce;
	ctx.now = 1700000000;
	check_run_one(def, &ctx, r);
	sysroot_free(sr);
}

static bool parse_bool(const char *v)
{
	return strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "1") == 0;
}

static void run_case(void **state)
{
	const char *name = *state;
	char expect_path[PATH_MAX], src_root[PATH_MAX], *text = NULL, *save = NULL, *tmp;
	struct check_result r = { 0 };
	struct policy p = { 0 };
	bool enforce = false, ok = true;
	int rerun = -1;

	snprintf(expect_path, sizeof(expect_path), "%s", wxg_test_data("screenlock/%s/expect", name));
	snprintf(src_root, sizeof(src_root), "%s", wxg_test_data("screenlock/%s/root", name));
	assert_int_equal(read_full_file(expect_path, 1024 * 1024, &text, NULL), 0);

	p.screen_lock.required = true;
	p.screen_lock.max_idle_seconds = 600;   /* as policy/default.ini */
	p.screen_lock.max_lock_delay_seconds = 5;
	/* First pass: the inputs. */
	{
		char *copy = strdup(text), *s2 = NULL;

		assert_non_null(copy);
		for (char *l = strtok_r(copy, "\n", &s2); l; l = strtok_r(NULL, "\n", &s2)) {
			if (str_startswith(l, "policy.required="))
				p.screen_lock.required = parse_bool(strchr(l, '=') + 1);
			else if (str_startswith(l, "policy.max_idle_seconds="))
				p.screen_lock.max_idle_seconds = (unsigned)atoi(strchr(l, '=') + 1);
			else if (str_startswith(l, "policy.max_lock_delay_seconds="))
				p.screen_lock.max_lock_delay_seconds = (unsigned)atoi(strchr(l, '=') + 1);
			else if (str_startswith(l, "policy.remediate="))
				p.screen_lock.remediate = parse_bool(strchr(l, '=') + 1);
			else if (str_startswith(l, "mode="))
				enforce = strcmp(strchr(l, '=') + 1, "enforce") == 0;
			else if (str_startswith(l, "rerun_changes="))
				rerun = atoi(strchr(l, '=') + 1);
		}
		free(copy);
	}
	p.mode = enforce ? POLICY_MODE_ENFORCE : POLICY_MODE_AUDIT;

	tmp = wxg_test_mkdtemp();
	if (access(src_root, F_OK) == 0)
		copy_tree(src_root, tmp);
	run_check(tmp, &p, enforce, &r);

	/* Second pass: the expectations. */
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *v, path[PATH_MAX];
		bool good = true;

		l = str_strip(l);
		if (!*l || *l == '#' || str_startswith(l, "policy.") || str_startswith(l, "mode=") ||
		    str_startswith(l, "rerun_changes="))
			continue;
		if (str_startswith(l, "status=")) {
			good = strcmp(check_status_to_string(r.status), l + 7) == 0;
		} else if (str_startswith(l, "evidence~ ") || str_startswith(l, "evidence ")) {
			bool sub = l[8] == '~';
			char *kv = l + (sub ? 10 : 9);

			v = strchr(kv, '=');
			assert_non_null(v);
			*v++ = 0;
			good = evidence_has(&r, kv, v, sub);
			v[-1] = '=';
		} else if (str_startswith(l, "noevidence ")) {
			good = check_result_get(&r, l + 11) == NULL;
		} else if (str_startswith(l, "summary_en~")) {
			good = r.summary_en && strstr(r.summary_en, l + 11);
		} else if (str_startswith(l, "summary_zh~")) {
			good = r.summary_zh && strstr(r.summary_zh, l + 11);
		} else if (str_startswith(l, "fix_en~")) {
			good = r.fix_en && strstr(r.fix_en, l + 7);
		} else if (str_startswith(l, "fix_zh~")) {
			good = r.fix_zh && strstr(r.fix_zh, l + 7);
		} else if (strcmp(l, "nofix") == 0) {
			good = !r.fix_en && !r.fix_zh;
		} else if (str_startswith(l, "changes=")) {
			good = r.changes.n == (size_t)atoi(l + 8);
		} else if (str_startswith(l, "change~")) {
			good = false;
			for (size_t i = 0; i < r.changes.n; i++)
				good = good || strstr(r.changes.v[i], l + 7);
		} else if (str_startswith(l, "file ")) {
			char *content = NULL;

			char want[1024], *w = want;

			v = strchr(l + 5, '~');
			assert_non_null(v);
			snprintf(path, sizeof(path), "%s%.*s", tmp, (int)(v - (l + 5)), l + 5);
			/* "\n" in TEXT stands for a newline. */
			for (const char *c = v + 1; *c && w < want + sizeof(want) - 1; c++) {
				if (c[0] == '\\' && c[1] == 'n') {
					*w++ = '\n';
					c++;
				} else {
					*w++ = *c;
				}
			}
			*w = 0;
			good = read_full_file(path, 1024 * 1024, &content, NULL) == 0 && strstr(content, want);
			if (!good && content)
				fprintf(stderr, "  %s is:\n%s\n", path, content);
			free(content);
		} else if (str_startswith(l, "nofile ")) {
			snprintf(path, sizeof(path), "%s%s", tmp, l + 7);
			good = access(path, F_OK) != 0;
		} else {
			fail_msg("%s: unknown expect directive: %s", name, l);
		}
		if (!good) {
			fprintf(stderr, "case %s: expectation not met: %s\n", name, l);
			ok = false;
		}
	}
	if (!ok || getenv("WXG_TEST_VERBOSE"))
		dump_result(name, &r);

	if (ok && rerun >= 0) {
		struct check_result r2 = { 0 };

		run_check(tmp, &p, enforce, &r2);
		if (r2.changes.n != (size_t)rerun) {
			fprintf(stderr, "case %s: second run made %zu changes, expected %d\n", name,
				r2.changes.n, rerun);
			dump_result(name, &r2);
			ok = false;
		}
		check_result_clear(&r2);
	}

	check_result_clear(&r);
	free(text);
	wxg_test_rmtree(tmp);
	free(tmp);
	if (!ok)
		fail_msg("case %s failed (details above)", name);
}

/* ---- hand-written tests ---- */

static void test_screenlock_desktop_names_map_to_desktops(void **state)
{
	(void)state;
	assert_int_equal(screen_lock_desktop_from_string("ubuntu:GNOME"), SCREENLOCK_DE_GNOME);
	assert_int_equal(screen_lock_desktop_from_string("GNOME-Flashback:GNOME"), SCREENLOCK_DE_GNOME);
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

static void test_screenlock_gvariant_text_numbers_parse(void **state)
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
	assert_int_equal(read_full_file(wxg_test_data("screenlock/gvdb/user"), 1024 * 1024, data, len), 0);
}

static void test_screenlock_gvdb_reads_values_written_by_dconf(void **state)
{
	char *data = NULL;
	size_t len = 0;
	long v = -1;

	(void)state;
	read_gvdb_fixture(&data, &len);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/session/idle-delay", &v), 1);
	assert_int_equal(v, 600);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/screensaver/lock-enabled", &v), 1);
	assert_int_equal(v, 0);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/screensaver/lock-delay", &v), 1);
	assert_int_equal(v, 30);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/org/ukui/screensaver/idle-delay", &v), 1);
	assert_int_equal(v, -1);
	/* Absent keys, and prefixes of present ones, are not found. */
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/session/idle", &v), 0);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/org/gnome/desktop/session/", &v), 0);
	assert_int_equal(screen_lock_gvdb_lookup_number(data, len, "/nope/idle-delay", &v), 0);
	free(data);
}

/* The user writes ~/.config/dconf/user: every truncation and byte flip must be survived
 * (ASan/UBSan builds check the bounds). */
static void test_screenlock_gvdb_survives_truncated_and_corrupt_files(void **state)
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
		(void)screen_lock_gvdb_lookup_number(copy, n, "/org/gnome/desktop/session/idle-delay", &v);
		free(copy);
	}
	copy = malloc(len);
	assert_non_null(copy);
	for (size_t i = 0; i < len; i++) {
		static const unsigned char flips[] = { 0xff, 0x80, 0x01, 0x00 };

		for (size_t f = 0; f < sizeof(flips); f++) {
			memcpy(copy, data, len);
			copy[i] = (char)(f == 3 ? 0 : copy[i] ^ flips[f]);
			(void)screen_lock_gvdb_lookup_number(copy, len, "/org/gnome/desktop/session/idle-delay", &v);
		}
	}
	free(copy);
	assert_int_equal(screen_lock_gvdb_lookup_number("not a gvdb file at all, sorry", 29, "/a", &v), -EBADMSG);
	free(data);
}

static void test_screenlock_missing_policy_is_not_applicable(void **state)
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

/* ---- discovery ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_screenlock_desktop_names_map_to_desktops),
		cmocka_unit_test(test_screenlock_gvariant_text_numbers_parse),
		cmocka_unit_test(test_screenlock_gvdb_reads_values_written_by_dconf),
		cmocka_unit_test(test_screenlock_gvdb_survives_truncated_and_corrupt_files),
		cmocka_unit_test(test_screenlock_missing_policy_is_not_applicable),
	};
	const size_t n_fixed = sizeof(fixed) / sizeof(fixed[0]);
	struct CMUnitTest *tests;
	char **cases = NULL, dir[PATH_MAX];
	size_t n_cases = 0;
	struct dirent *de;
	DIR *d;
	int rc;

	snprintf(dir, sizeof(dir), "%s", wxg_test_data("screenlock"));
	d = opendir(dir);
	if (!d) {
		fprintf(stderr, "cannot open %s (set WXG_SRCDIR)\n", dir);
		return 1;
	}
	while ((de = readdir(d))) {
		char p[PATH_MAX + 300];

		snprintf(p, sizeof(p), "%s/%s/expect", dir, de->d_name);
		if (de->d_name[0] == '.' || access(p, R_OK) != 0)
			continue;
		cases = realloc(cases, (n_cases + 1) * sizeof(*cases));
		if (!cases || !(cases[n_cases] = strdup(de->d_name)))
			return 1;
		n_cases++;
	}
	closedir(d);
	if (n_cases == 0) {
		fprintf(stderr, "no cases under %s\n", dir);
		return 1;
	}
	qsort(cases, n_cases, sizeof(*cases), cmp_names);

	tests = calloc(n_fixed + n_cases, sizeof(*tests));
	if (!tests)
		return 1;
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < n_cases; i++) {
		char *tname = NULL;

		if (asprintf(&tname, "test_screenlock_%s", cases[i]) < 0)
			return 1;
		for (char *c = tname; *c; c++)
			if (*c == '-')
				*c = '_';
		tests[n_fixed + i].name = tname;
		tests[n_fixed + i].test_func = run_case;
		tests[n_fixed + i].initial_state = cases[i];
	}
	rc = _cmocka_run_group_tests("test_screen_lock", tests, n_fixed + n_cases, NULL, NULL);
	for (size_t i = 0; i < n_cases; i++) {
		free((char *)tests[n_fixed + i].name);
		free(cases[i]);
	}
	free(tests);
	free(cases);
	return rc;
}
