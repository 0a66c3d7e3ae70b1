/* common/policy/policy.c: loading, defaults, overrides, diagnostics, the digest, the shipped files.
 *
 * Data-driven cases (adding one needs no C):
 *   tests/data/policy/good/NAME.ini   must load without a diagnostic. An optional NAME.expect
 *       lists "section.key = value" lines that must appear in the effective policy
 *       (policy_format(), lists joined with ", "), or "!section.key" for a key that must be unset.
 *   tests/data/policy/bad/NAME.ini    must be refused with -EBADMSG. NAME.expect lists every
 *       expected diagnostic, in order, one per line, as a substring of
 *       "file:line: [section] key: message"; the number of diagnostics must match. */
#include "testlib.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fnmatch.h>

#include "common/policy/policy.h"
#include "common/policy/policy_internal.h"
#include "common/fileio.h"
#include "common/hash.h"

static const char *src_dir(void)
{
	static char dir[PATH_MAX];
	const char *s = getenv("WXG_SRCDIR");

	if (!dir[0]) {
		if (s)
			snprintf(dir, sizeof(dir), "%s", s);
		else
			assert_non_null(getcwd(dir, sizeof(dir)));
	}
	return dir;
}

static char *slurp(const char *path)
{
	char *buf = NULL;

	if (read_full_file(path, 4u << 20, &buf, NULL) < 0)
		fail_msg("cannot read %s", path);
	return buf;
}

/* Sorted names in dir ending in suffix. */
static void list_names(const char *dir, const char *suffix, struct strv *out)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		fail_msg("cannot open %s", dir);
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && str_endswith(de->d_name, suffix))
			assert_int_equal(strv_push(out, de->d_name), 0);
	closedir(d);
	for (size_t i = 0; i + 1 < out->n; i++) /* few names: a bubble sort will do */
		for (size_t j = 0; j + 1 < out->n - i; j++)
			if (strcmp(out->v[j], out->v[j + 1]) > 0) {
				char *t = out->v[j];

				out->v[j] = out->v[j + 1];
				out->v[j + 1] = t;
			}
}

/* The lines of a .expect file, without comments and blank lines. */
static void expect_lines(const char *path, struct strv *out)
{
	char *text = slurp(path), *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
		if (l[0] != '#' && l[0] != 0)
			assert_int_equal(strv_push(out, l), 0);
	free(text);
}

/* policy_format() text as "section.key = value" lines, repeated (list) keys joined. */
static void flatten(const struct policy *p, struct strv *out)
{
	char *text = NULL, *save = NULL, sec[256] = "", last[512] = "";

	assert_int_equal(policy_format(p, &text), 0);
	for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char key[512], *eq;
		const char *val;

		if (l[0] == ';')
			continue;
		if (l[0] == '[') {
			snprintf(sec, sizeof(sec), "%.*s", (int)strcspn(l + 1, "]"), l + 1);
			continue;
		}
		eq = strchr(l, '=');
		assert_non_null(eq);
		snprintf(key, sizeof(key), "%s.%.*s", sec,
			 (int)(eq - l > 0 && eq[-1] == ' ' ? eq - l - 1 : eq - l), l);
		val = eq[1] == ' ' ? eq + 2 : eq + 1;
		if (strcmp(key, last) == 0 && out->n) {
			char *joined;

			assert_true(asprintf(&joined, "%s, %s", out->v[out->n - 1], val) > 0);
			free(out->v[out->n - 1]);
			out->v[out->n - 1] = joined;
			continue;
		}
		snprintf(last, sizeof(last), "%s", key);
		if (*val) {
			char *line;

			assert_true(asprintf(&line, "%s = %s", key, val) > 0);
			assert_int_equal(strv_push_take(out, line), 0);
		} else {
			char *line;

			assert_true(asprintf(&line, "%s =", key) > 0);
			assert_int_equal(strv_push_take(out, line), 0);
		}
	}
	free(text);
}

static void print_diags(const char *what, const struct policy_diags *d)
{
	char line[1024];

	for (size_t i = 0; i < d->n; i++) {
		policy_diag_format(&d->v[i], line, sizeof(line));
		print_message("%s: diag %zu: %s\n", what, i, line);
	}
}

static struct policy *load_ok(const char *path)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;
	int r = policy_load(path, &p, &d);

	if (r != 0 || d.n) {
		print_diags(path, &d);
		fail_msg("%s: policy_load() = %d (%s)", path, r, strerror(-r));
	}
	policy_diags_clear(&d);
	return p;
}

static struct policy *load_buf_ok(const char *text)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;
	int r = policy_load_buffer("test.ini", text, strlen(text), &p, &d);

	if (r != 0 || d.n) {
		print_diags(text, &d);
		fail_msg("policy_load_buffer() = %d for:\n%s", r, text);
	}
	return p;
}

/* Load text; it must be refused with exactly one diagnostic containing want. */
static void assert_refused(const char *text, const char *want)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;
	char line[1024];
	int r = policy_load_buffer("t.ini", text, strlen(text), &p, &d);

	if (r != -EBADMSG || d.n != 1) {
		print_diags(text, &d);
		fail_msg("want one diag with '%s', got r=%d and %zu diags for:\n%s", want, r, d.n,
			 text);
	}
	assert_null(p);
	policy_diag_format(&d.v[0], line, sizeof(line));
	if (!strstr(line, want))
		fail_msg("diag '%s' does not contain '%s'", line, want);
	policy_diags_clear(&d);
}

/* ---- data-driven cases ---- */

static void test_policy_good_cases_load_and_match_expect(void **state)
{
	struct strv names = { 0 };
	const char *dir = wxg_test_data("policy/good");

	list_names(dir, ".ini", &names);
	assert_true(names.n >= 4);
	for (size_t i = 0; i < names.n; i++) {
		char path[PATH_MAX], exp[PATH_MAX];
		struct strv flat = { 0 }, want = { 0 };
		struct policy *p;

		snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
		snprintf(exp, sizeof(exp), "%.*s.expect", (int)(strlen(path) - 4), path);
		p = load_ok(path);
		flatten(p, &flat);
		if (access(exp, R_OK) == 0)
			expect_lines(exp, &want);
		for (size_t j = 0; j < want.n; j++) {
			const char *w = want.v[j];

			if (w[0] == '!') {
				size_t n = strlen(w + 1);

				for (size_t k = 0; k < flat.n; k++)
					if (strncmp(flat.v[k], w + 1, n) == 0 &&
					    flat.v[k][n] == ' ')
						fail_msg("%s: %s should be unset, got '%s'",
							 names.v[i], w + 1, flat.v[k]);
			} else if (!strv_contains(&flat, w)) {
				for (size_t k = 0; k < flat.n; k++)
					print_message("  have: %s\n", flat.v[k]);
				fail_msg("%s: expected '%s'", names.v[i], w);
			}
		}
		strv_clear(&flat);
		strv_clear(&want);
		policy_free(p);
	}
	strv_clear(&names);
}

static void test_policy_bad_cases_report_every_expected_diag(void **state)
{
	struct strv names = { 0 };
	const char *dir = wxg_test_data("policy/bad");

	list_names(dir, ".ini", &names);
	assert_true(names.n >= 20);
	for (size_t i = 0; i < names.n; i++) {
		char path[PATH_MAX], exp[PATH_MAX], line[1024];
		struct policy_diags d = { 0 };
		struct strv want = { 0 };
		struct policy *p = (struct policy *)&want; /* must stay untouched */
		int r;

		snprintf(path, sizeof(path), "%s/%s", dir, names.v[i]);
		snprintf(exp, sizeof(exp), "%.*s.expect", (int)(strlen(path) - 4), path);
		if (access(exp, R_OK) != 0)
			fail_msg("%s has no .expect file", names.v[i]);
		expect_lines(exp, &want);
		assert_true(want.n > 0);
		r = policy_load(path, &p, &d);
		if (r != -EBADMSG || d.n != want.n) {
			print_diags(names.v[i], &d);
			fail_msg("%s: r=%d, %zu diags, expected -EBADMSG and %zu", names.v[i], r,
				 d.n, want.n);
		}
		assert_ptr_equal(p, (struct policy *)&want);
		for (size_t j = 0; j < d.n; j++) {
			assert_non_null(d.v[j].file);
			assert_non_null(d.v[j].message);
			assert_true(strstr(d.v[j].file, names.v[i]) != NULL);
			policy_diag_format(&d.v[j], line, sizeof(line));
			if (!strstr(line, want.v[j])) {
				print_diags(names.v[i], &d);
				fail_msg("%s: diag %zu is '%s', expected it to contain '%s'",
					 names.v[i], j, line, want.v[j]);
			}
		}
		policy_diags_clear(&d);
		strv_clear(&want);
	}
	strv_clear(&names);
}

/* ---- defaults, values ---- */

static void test_policy_defaults_are_the_documented_ones(void **state)
{
	struct policy *p = load_buf_ok("[policy]\nname = x\n");

	assert_string_equal(p->name, "x");
	assert_null(p->version);
	assert_int_equal(p->mode, POLICY_MODE_AUDIT);
	assert_int_equal(p->report_interval, 300);
	assert_int_equal(p->n_clients, 0);
	assert_int_equal(p->n_denies, 0);
	assert_true(p->screen_lock.required);
	assert_int_equal(p->screen_lock.max_idle_seconds, 600);
	assert_int_equal(p->screen_lock.max_lock_delay_seconds, 5);
	assert_false(p->screen_lock.remediate);
	assert_true(p->patches.required);
	assert_int_equal(p->patches.max_pending_security, 0);
	assert_int_equal(p->patches.max_list_age_days, 7);
	assert_null(p->patches.min_kernel);
	assert_int_equal(p->patches.reboot_required, POLICY_REBOOT_WARN);
	assert_int_equal(p->patches.cache_ttl_seconds, 3600);
	assert_true(p->antivirus.required);
	assert_int_equal(p->antivirus.products.n, 1);
	assert_string_equal(p->antivirus.products.v[0], "clamav");
	assert_int_equal(p->antivirus.process_names.n, 0);
	assert_int_equal(p->antivirus.max_signature_age_days, 7);
	assert_int_equal(p->device.disk_encryption, POLICY_DISK_WARN);
	assert_int_equal(p->device.min_ptrace_scope, 1);
	assert_int_equal(p->scan.home_dirs.n, 2);
	assert_string_equal(p->scan.home_dirs.v[0], "/home/*");
	assert_string_equal(p->scan.home_dirs.v[1], "/root");
	assert_int_equal(p->scan.max_depth, 4);
	assert_int_equal(p->scan.max_entries, 20000);
	assert_true(p->watch.notify);
	assert_true(p->watch.attachment_exec);
	assert_int_equal(p->sources.n, 1);
	assert_string_equal(p->sources.v[0], "test.ini");
	policy_free(p);

	/* a client's own defaults */
	p = load_buf_ok("[policy]\nname = x\n[client.c]\ncomm = c\n");
	assert_int_equal(p->n_clients, 1);
	assert_string_equal(p->clients[0].id, "c");
	assert_string_equal(p->clients[0].display_name, "c");
	assert_int_equal(p->clients[0].max_instances, 1);
	assert_null(p->clients[0].package);
	assert_null(p->clients[0].sha256);
	assert_null(p->clients[0].wine_prefix);
	assert_null(p->clients[0].wine_manifest);
	policy_free(p);
}

static void test_policy_every_enum_value_parses(void **state)
{
	static const struct {
		const char *sec, *key, *val;
		int want;
	} cases[] = {
		{ "policy", "mode", "audit", POLICY_MODE_AUDIT },
		{ "policy", "mode", "enforce", POLICY_MODE_ENFORCE },
		{ "policy", "mode", "Enforce", POLICY_MODE_ENFORCE },
		{ "device", "disk_encryption", "off", POLICY_DISK_OFF },
		{ "device", "disk_encryption", "warn", POLICY_DISK_WARN },
		{ "device", "disk_encryption", "require", POLICY_DISK_REQUIRE },
		{ "device", "disk_encryption", "REQUIRE", POLICY_DISK_REQUIRE },
		{ "patches", "reboot_required", "ignore", POLICY_REBOOT_IGNORE },
		{ "patches", "reboot_required", "warn", POLICY_REBOOT_WARN },
		{ "patches", "reboot_required", "fail", POLICY_REBOOT_FAIL },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct policy *p;
		int got;

		snprintf(text, sizeof(text), "[policy]\nname = x\n%s%s%s\n%s = %s\n",
			 strcmp(cases[i].sec, "policy") ? "[" : "",
			 strcmp(cases[i].sec, "policy") ? cases[i].sec : "",
			 strcmp(cases[i].sec, "policy") ? "]" : "", cases[i].key, cases[i].val);
		p = load_buf_ok(text);
		got = strcmp(cases[i].key, "mode") == 0 ? (int)p->mode
		      : strcmp(cases[i].key, "disk_encryption") == 0
			      ? (int)p->device.disk_encryption
			      : (int)p->patches.reboot_required;
		assert_int_equal(got, cases[i].want);
		policy_free(p);
	}
	assert_refused("[policy]\nname = x\nmode = audit-only\n",
		       ":3: [policy] mode: 'audit-only' is not allowed: use audit or enforce");
	assert_refused("[policy]\nname = x\n[device]\ndisk_encryption = luks\n",
		       "use off, warn or require");
	assert_refused("[policy]\nname = x\n[patches]\nreboot_required = no\n",
		       "use ignore, warn or fail");

	assert_string_equal(policy_mode_to_string(POLICY_MODE_AUDIT), "audit");
	assert_string_equal(policy_mode_to_string(POLICY_MODE_ENFORCE), "enforce");
	assert_string_equal(policy_mode_to_string((enum policy_mode)7), "unknown");
	assert_string_equal(policy_disk_encryption_to_string(POLICY_DISK_OFF), "off");
	assert_string_equal(policy_disk_encryption_to_string(POLICY_DISK_REQUIRE), "require");
	assert_string_equal(policy_reboot_to_string(POLICY_REBOOT_IGNORE), "ignore");
	assert_string_equal(policy_reboot_to_string(POLICY_REBOOT_FAIL), "fail");
}

static void test_policy_booleans_accept_all_spellings(void **state)
{
	static const char *const yes[] = { "yes", "true", "1", "on", "YES", "True", "ON" };
	static const char *const no[] = { "no", "false", "0", "off", "NO", "False", "Off" };
	char text[128];
	struct policy *p;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		snprintf(text, sizeof(text),
			 "[policy]\nname = x\n[screen_lock]\nremediate = %s\nrequired = %s\n",
			 yes[i], no[i]);
		p = load_buf_ok(text);
		assert_true(p->screen_lock.remediate);
		assert_false(p->screen_lock.required);
		policy_free(p);
	}
	assert_refused("[policy]\nname = x\n[watch]\nnotify = yes please\n",
		       "[watch] notify: 'yes please' is not a yes/no value");
}

static void test_policy_number_ranges_are_inclusive(void **state)
{
	struct policy *p = load_buf_ok(
		"[policy]\nname = x\nreport_interval = 10\n[device]\nmin_ptrace_scope = 3\n"
		"[client.c]\ncomm = c\nmax_instances = 1000\n[screen_lock]\nmax_idle_seconds = "
		"86400\n");

	assert_int_equal(p->report_interval, 10);
	assert_int_equal(p->device.min_ptrace_scope, 3);
	assert_int_equal(p->clients[0].max_instances, 1000);
	assert_int_equal(p->screen_lock.max_idle_seconds, 86400);
	policy_free(p);
	assert_refused("[policy]\nname = x\nreport_interval = 9\n",
		       "9 is out of range: write a whole number from 10 to 604800");
	assert_refused("[policy]\nname = x\n[client.c]\ncomm = c\nmax_instances = 1001\n",
		       "from 0 to 1000");
	assert_refused("[policy]\nname = x\nreport_interval = 4294967296\n", "out of range");
	assert_refused("[policy]\nname = x\nreport_interval = 3 00\n", "'3 00' is not a number");
}

static void test_policy_comm_is_at_most_15_bytes(void **state)
{
	struct policy *p = load_buf_ok("[policy]\nname = x\n[deny.d]\ncomm = 123456789012345\n");

	assert_string_equal(p->denies[0].comm.v[0], "123456789012345");
	policy_free(p);
	assert_refused("[policy]\nname = x\n[deny.d]\ncomm = 1234567890123456\n",
		       ":4: [deny.d] comm: '1234567890123456' is longer than 15 bytes");
	/* 15 bytes of UTF-8 is 5 Chinese characters */
	p = load_buf_ok("[policy]\nname = x\n[deny.d]\ncomm = 企业微信版\n");
	policy_free(p);
	assert_refused("[policy]\nname = x\n[deny.d]\ncomm = 企业微信客户端\n",
		       "longer than 15 bytes");
}

static void test_policy_values_are_normalized(void **state)
{
	struct policy *p = load_buf_ok(
		"[policy]\nname = x\n[client.c]\ncomm = c\n"
		"sha256 = ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789\n"
		"wine_prefix = ~/.deepinwine/Deepin-WXWork//\n");

	assert_string_equal(p->clients[0].sha256,
			    "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	assert_string_equal(p->clients[0].wine_prefix, ".deepinwine/Deepin-WXWork");
	policy_free(p);
}

/* ---- lines: continuations, limits, many problems ---- */

static void test_policy_long_lists_continue_on_indented_lines(void **state)
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	struct policy *p;

	fputs("[policy]\nname = x\n[client.c]\ncomm = c\nlib_dirs = /d000\n", f);
	for (int i = 1; i < 100; i++)
		fprintf(f, "\t/d%03d,\n", i);
	fputs("argv = *\\a.exe\nargv = *\\b.exe\n", f);
	fclose(f);
	p = load_buf_ok(text);
	assert_int_equal(p->clients[0].lib_dirs.n, 100);
	assert_string_equal(p->clients[0].lib_dirs.v[99], "/d099");
	assert_int_equal(p->clients[0].argv.n, 2);
	assert_string_equal(p->clients[0].argv.v[1], "*\\b.exe");
	policy_free(p);
	free(text);
}

static void test_policy_line_limit_is_190_characters(void **state)
{
	char text[512], val[256];
	struct policy *p;

	val[0] = '/';
	memset(val + 1, 'a', 185);
	val[186] = 0; /* "exe=" + 186 = 190: fits; spaces around '=' and comments do not count */
	snprintf(text, sizeof(text), "[policy]\nname = x\n[client.c]\n  exe   =   %s   ; comment\n",
		 val);
	p = load_buf_ok(text);
	assert_int_equal(strlen(p->clients[0].exe.v[0]), 186);
	policy_free(p);
	strcat(val, "a");
	snprintf(text, sizeof(text), "[policy]\nname = x\n[client.c]\ncomm = c\nexe = %s\n", val);
	assert_refused(text,
		       "t.ini:5: [client.c] exe: line too long (191 characters, at most 190)");
	/* a line that fits can still hold a value too long for its key */
	memset(val, 'v', 182);
	val[182] = 0;
	snprintf(text, sizeof(text), "[policy]\nname = x\nversion=%s\n", val);
	assert_refused(text, "t.ini:3: [policy] version: longer than 160 bytes");
}

static void test_policy_collects_every_problem_up_to_a_cap(void **state)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	char line[256];

	fputs("[policy]\nname = x\n[screen_lock]\n", f);
	for (int i = 0; i < 10; i++)
		fprintf(f, "bogus%d = 1\n", i);
	fclose(f);
	assert_int_equal(policy_load_buffer("t.ini", text, size, &p, &d), -EBADMSG);
	assert_int_equal(d.n, 10);
	policy_diag_format(&d.v[9], line, sizeof(line));
	assert_non_null(strstr(line, "t.ini:13: [screen_lock] bogus9: unknown key"));
	policy_diags_clear(&d);
	free(text);

	/* thousands of bad lines: the list stops at POLICY_DIAGS_MAX, plus one that says so */
	text = NULL;
	f = open_memstream(&text, &size);
	fputs("[policy]\nname = x\n", f);
	for (int i = 0; i < 5000; i++)
		fputs("what is this\n", f);
	fclose(f);
	assert_int_equal(policy_load_buffer("t.ini", text, size, &p, &d), -EBADMSG);
	assert_int_equal(d.n, POLICY_DIAGS_MAX + 1);
	assert_non_null(strstr(d.v[POLICY_DIAGS_MAX].message, "too many problems"));
	policy_diags_clear(&d);
	/* without a diags list the answer is the same */
	assert_int_equal(policy_load_buffer("t.ini", text, size, &p, NULL), -EBADMSG);
	assert_null(p);
	free(text);
}

static void test_policy_buffer_edge_cases(void **state)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;
	static const char nul[] = "[policy]\nname = x\0y\n";
	char *big;

	/* an embedded NUL is a diagnostic, not a silent truncation */
	assert_int_equal(policy_load_buffer(NULL, nul, sizeof(nul) - 1, &p, &d), -EBADMSG);
	assert_int_equal(d.n, 2); /* the NUL line, then the name it hid */
	assert_string_equal(d.v[0].file, "<buffer>");
	assert_int_equal(d.v[0].line, 2);
	policy_diags_clear(&d);
	/* nothing at all */
	assert_int_equal(policy_load_buffer("e", NULL, 0, &p, &d), -EBADMSG);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].key, "name");
	policy_diags_clear(&d);
	/* too large */
	big = calloc(1, POLICY_FILE_MAX + 2);
	assert_non_null(big);
	memset(big, '\n', POLICY_FILE_MAX + 1);
	assert_int_equal(policy_load_buffer("big", big, POLICY_FILE_MAX + 1, &p, &d), -EFBIG);
	assert_int_equal(d.n, 1);
	policy_diags_clear(&d);
	free(big);
	assert_null(p);
}

/* ---- files and directories ---- */

static void test_policy_directory_later_files_override_keys(void **state)
{
	const char *dir = wxg_test_data("policy/dir");
	struct policy *p = load_ok(dir);
	char *a, *b, *cat, hex[HASH_SHA256_HEX];

	assert_int_equal(p->sources.n, 2); /* README, .hidden.ini, *.ini.off, sub.ini/ ignored */
	assert_true(str_endswith(p->sources.v[0], "/10-base.ini"));
	assert_true(str_endswith(p->sources.v[1], "/20-override.ini"));
	assert_string_equal(p->name, "dir-test");
	assert_string_equal(p->version, "1");
	assert_int_equal(p->mode, POLICY_MODE_ENFORCE);
	/* [client.wecom] repeated in 20-override.ini: only the keys it sets change */
	assert_int_equal(p->n_clients, 1);
	assert_string_equal(p->clients[0].display_name, "WeCom");
	assert_string_equal(p->clients[0].comm.v[0], "WXWork.exe");
	assert_string_equal(p->clients[0].package, "com.qq.weixin.work.deepin");
	assert_int_equal(p->clients[0].max_instances, 2);
	/* a list is replaced as a whole */
	assert_int_equal(p->clients[0].lib_dirs.n, 1);
	assert_string_equal(p->clients[0].lib_dirs.v[0], "/opt/apps/com.qq.weixin.work.deepin");
	assert_int_equal(p->scan.home_dirs.n, 1);
	assert_string_equal(p->scan.home_dirs.v[0], "/home/*");
	/* new sections add, in file order */
	assert_int_equal(p->n_denies, 2);
	assert_string_equal(p->denies[0].id, "electronic-wechat");
	assert_string_equal(p->denies[1].id, "wine-wechat");
	assert_int_equal(p->screen_lock.max_idle_seconds, 300);
	assert_int_equal(p->screen_lock.max_lock_delay_seconds, 10);
	/* the digest covers both files, in order */
	a = slurp(p->sources.v[0]);
	b = slurp(p->sources.v[1]);
	assert_true(asprintf(&cat, "%s%s", a, b) > 0);
	assert_int_equal(hash_sha256_buf(cat, strlen(cat), hex), 0);
	assert_string_equal(p->sha256, hex);
	free(a);
	free(b);
	free(cat);
	policy_free(p);
}

static void test_policy_directory_diags_name_the_file(void **state)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;

	assert_int_equal(policy_load(wxg_test_data("policy/dir-bad"), &p, &d), -EBADMSG);
	assert_int_equal(d.n, 2);
	assert_true(str_endswith(d.v[0].file, "/20-broken.ini"));
	assert_int_equal(d.v[0].line, 3);
	assert_string_equal(d.v[0].section, "client.a");
	assert_string_equal(d.v[0].key, "max_instances");
	/* repeating a section inside one file is an error even if an earlier file had it */
	assert_int_equal(d.v[1].line, 4);
	assert_non_null(strstr(d.v[1].message, "first at line 2"));
	policy_diags_clear(&d);
	assert_null(p);
}

static void test_policy_missing_and_empty_paths_are_enoent(void **state)
{
	struct policy_diags d = { 0 };
	struct policy *p = NULL;
	char *tmp = wxg_test_mkdtemp(), path[PATH_MAX];

	assert_int_equal(policy_load("/nonexistent/wxguard.ini", &p, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, "/nonexistent/wxguard.ini");
	policy_diags_clear(&d);
	assert_int_equal(policy_load("/nonexistent/wxguard.ini", &p, NULL), -ENOENT);

	snprintf(path, sizeof(path), "%s/README", tmp);
	wxg_test_write(path, "no ini files here\n");
	assert_int_equal(policy_load(tmp, &p, &d), -ENOENT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].file, tmp);
	assert_non_null(strstr(d.v[0].message, "no *.ini files"));
	policy_diags_clear(&d);
	assert_null(p);
	wxg_test_rmtree(tmp);
	free(tmp);
}

static void test_policy_sha256_follows_the_bytes(void **state)
{
	static const char v1[] = "[policy]\nname = x\n; comment one\n";
	static const char v2[] = "[policy]\nname = x\n; comment two\n";
	char *tmp = wxg_test_mkdtemp(), path[PATH_MAX], hex[HASH_SHA256_HEX],
	     first[HASH_SHA256_HEX];
	struct policy *p, *q;

	snprintf(path, sizeof(path), "%s/p.ini", tmp);
	wxg_test_write(path, v1);
	p = load_ok(path);
	assert_int_equal(hash_sha256_buf(v1, strlen(v1), hex), 0);
	assert_string_equal(p->sha256, hex); /* equals `sha256sum p.ini` */
	snprintf(first, sizeof(first), "%s", p->sha256);
	q = load_buf_ok(v1);
	assert_string_equal(q->sha256, first); /* same bytes from memory, same digest */
	policy_free(q);
	policy_free(p);

	wxg_test_write(path, v2); /* a comment changed: the policy did not, the digest does */
	p = load_ok(path);
	assert_string_not_equal(p->sha256, first);
	assert_int_equal(hash_sha256_buf(v2, strlen(v2), hex), 0);
	assert_string_equal(p->sha256, hex);
	policy_free(p);
	wxg_test_rmtree(tmp);
	free(tmp);
}

/* ---- the shipped policies ---- */

static void load_tree_ok(const char *dir, unsigned *count)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	assert_non_null(d);
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		assert_true(snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) <
			    (int)sizeof(path));
		assert_int_equal(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode) || str_endswith(path, ".ini")) {
			policy_free(load_ok(path)); /* a directory is one policy */
			(*count)++;
		}
	}
	closedir(d);
}

static void test_policy_shipped_default_and_examples_load_cleanly(void **state)
{
	char path[PATH_MAX];
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/policy/default.ini", src_dir());
	policy_free(load_ok(path));
	snprintf(path, sizeof(path), "%s/policy/examples", src_dir());
	load_tree_ok(path, &n);
	assert_true(n >= 3); /* enforce-strict.ini, wechat-only.ini, policy.d/ */

	snprintf(path, sizeof(path), "%s/policy/examples/enforce-strict.ini", src_dir());
	{
		struct policy *p = load_ok(path);

		assert_int_equal(p->mode, POLICY_MODE_ENFORCE);
		assert_true(p->screen_lock.remediate);
		assert_int_equal(p->device.disk_encryption, POLICY_DISK_REQUIRE);
		policy_free(p);
	}
	snprintf(path, sizeof(path), "%s/policy/examples/policy.d", src_dir());
	{
		struct policy *p = load_ok(path);

		assert_int_equal(p->sources.n, 2);
		assert_int_equal(p->mode, POLICY_MODE_ENFORCE); /* 50-site.ini overrides */
		assert_int_equal(p->clients[0].max_instances, 2);
		assert_true(p->clients[0].comm.n > 0); /* kept from 10-base.ini */
		policy_free(p);
	}
}

static const struct policy_client *find_client(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->n_clients; i++)
		if (strcmp(p->clients[i].id, id) == 0)
			return &p->clients[i];
	return NULL;
}

static const struct policy_deny *find_deny(const struct policy *p, const char *id)
{
	for (size_t i = 0; i < p->n_denies; i++)
		if (strcmp(p->denies[i].id, id) == 0)
			return &p->denies[i];
	return NULL;
}

static void test_policy_default_ini_has_the_product_rules(void **state)
{
	char path[PATH_MAX];
	const struct policy_client *wecom, *wechat;
	const struct policy_deny *d;
	struct policy *p;

	snprintf(path, sizeof(path), "%s/policy/default.ini", src_dir());
	p = load_ok(path);
	assert_int_equal(p->mode, POLICY_MODE_AUDIT);
	wecom = find_client(p, "wecom");
	assert_non_null(wecom);
	assert_true(strv_contains(&wecom->comm, "WXWork.exe"));
	assert_string_equal(wecom->package, "com.qq.weixin.work.deepin");
	assert_string_equal(wecom->wine_prefix, ".deepinwine/Deepin-WXWork");
	assert_true(strv_fnmatch_any(&wecom->argv, "C:\\Program Files\\WXWork\\WXWork.exe",
				     FNM_NOESCAPE) >= 0);
	assert_true(strv_fnmatch_any(&wecom->exe,
				     "/opt/apps/com.qq.weixin.work.deepin/files/run.sh",
				     FNM_NOESCAPE) >= 0);
	assert_true(policy_lib_dir_match(
		&wecom->lib_dirs, "/home/alice",
		"/home/alice/.deepinwine/Deepin-WXWork/drive_c/windows/system32/kernel32.dll"));
	assert_true(policy_lib_dir_match(&wecom->lib_dirs, "/home/alice",
					 "/opt/deepin-wine6-stable/lib/wine/ntdll.so"));
	assert_true(policy_lib_dir_match(&wecom->lib_dirs, "/home/alice",
					 "/usr/lib/x86_64-linux-gnu/libc.so.6"));
	assert_false(
		policy_lib_dir_match(&wecom->lib_dirs, "/home/alice", "/usr/local/lib/libhook.so"));
	assert_false(policy_lib_dir_match(&wecom->lib_dirs, "/home/alice",
					  "/home/alice/Downloads/inject.dll"));
	wechat = find_client(p, "wechat");
	assert_non_null(wechat);
	assert_true(strv_contains(&wechat->comm, "wechat"));
	assert_true(strv_fnmatch_any(&wechat->exe, "/opt/wechat/wechat", FNM_NOESCAPE) >= 0);
	assert_string_equal(wechat->package, "wechat");
	assert_null(wechat->wine_prefix);

	d = find_deny(p, "electronic-wechat");
	assert_non_null(d);
	assert_true(strv_contains(&d->packages, "electronic-wechat"));
	d = find_deny(p, "wechat-uos");
	assert_non_null(d);
	assert_true(strv_contains(&d->comm, "weixin"));
	assert_true(strv_contains(&d->packages, "wechat-uos"));
	d = find_deny(p, "wine-wechat");
	assert_non_null(d);
	assert_true(strv_contains(&d->comm, "WeChat.exe"));
	assert_true(strv_contains(&d->comm, "Weixin.exe"));
	assert_true(strv_fnmatch_any(&d->argv, "C:\\Program Files\\Tencent\\WeChat\\WeChat.exe",
				     FNM_NOESCAPE) >= 0);
	/* no deny entry may catch the approved clients' own names or binaries */
	for (size_t i = 0; i < p->n_denies; i++) {
		assert_false(strv_contains(&p->denies[i].comm, "WXWork.exe"));
		assert_false(strv_contains(&p->denies[i].comm, "wechat"));
		assert_true(strv_fnmatch_any(&p->denies[i].exe, "/opt/wechat/wechat",
					     FNM_NOESCAPE) < 0);
		assert_true(strv_fnmatch_any(&p->denies[i].argv,
					     "C:\\Program Files\\WXWork\\WXWork.exe",
					     FNM_NOESCAPE | FNM_CASEFOLD) < 0);
	}
	policy_free(p);
}

/* ---- output ---- */

/* policy_format() text without its leading comments (digest, sources). */
static char *format_body(const struct policy *p)
{
	char *text, *body;

	assert_int_equal(policy_format(p, &text), 0);
	body = strdup(strstr(text, "\n[policy]"));
	free(text);
	return body;
}

static void roundtrip(const char *what, struct policy *p)
{
	char *one = format_body(p), *two;
	struct policy *q;

	q = load_buf_ok(one);
	two = format_body(q);
	if (strcmp(one, two) != 0)
		fail_msg("%s: format -> load -> format differs:\n%s\n----\n%s", what, one, two);
	free(one);
	free(two);
	policy_free(q);
	policy_free(p);
}

static void test_policy_format_reloads_to_the_same_policy(void **state)
{
	struct strv names = { 0 };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/policy/default.ini", src_dir());
	roundtrip(path, load_ok(path));
	snprintf(path, sizeof(path), "%s/policy/examples/policy.d", src_dir());
	roundtrip(path, load_ok(path));
	list_names(wxg_test_data("policy/good"), ".ini", &names);
	for (size_t i = 0; i < names.n; i++) {
		snprintf(path, sizeof(path), "%s/%s", wxg_test_data("policy/good"), names.v[i]);
		roundtrip(path, load_ok(path));
	}
	strv_clear(&names);
}

static void test_policy_diag_format_shapes(void **state)
{
	struct policy_diag d = { .file = "a.ini",
				 .line = 7,
				 .section = "screen_lock",
				 .key = "max_idle_seconds",
				 .message = "bad" };
	char buf[128];

	policy_diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "a.ini:7: [screen_lock] max_idle_seconds: bad");
	d.key = NULL;
	policy_diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "a.ini:7: [screen_lock] bad");
	d.section = NULL;
	d.line = 0;
	policy_diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "a.ini: bad");
	d.file = NULL;
	policy_diag_format(&d, buf, sizeof(buf));
	assert_string_equal(buf, "<policy>: bad");
	d = (struct policy_diag){
		.file = "a.ini", .line = 12345, .section = "s", .key = "k", .message = "m"
	};
	policy_diag_format(&d, buf, 8); /* truncates, stays terminated */
	assert_string_equal(buf, "a.ini:1");
}

static void test_policy_lib_dir_match_covers_trees(void **state)
{
	struct strv dirs = { 0 };

	assert_int_equal(strv_split(&dirs,
				    "/usr/lib, /opt/deepin-wine*, /opt/a/, ~/.wine/drive_c/windows",
				    ","),
			 0);
	assert_true(policy_lib_dir_match(&dirs, NULL,
					 "/usr/lib/x86_64-linux-gnu/gtk-3.0/modules/libx.so"));
	assert_false(policy_lib_dir_match(&dirs, NULL, "/usr/lib"));
	assert_false(policy_lib_dir_match(&dirs, NULL, "/usr/libexec/x.so"));
	assert_true(policy_lib_dir_match(&dirs, NULL, "/opt/deepin-wine8-stable/lib/wine/x.so"));
	assert_true(policy_lib_dir_match(&dirs, NULL, "/opt/a/b.so"));
	assert_true(policy_lib_dir_match(&dirs, "/home/al",
					 "/home/al/.wine/drive_c/windows/system32/x.dll"));
	assert_true(
		policy_lib_dir_match(&dirs, "/home/al/", "/home/al/.wine/drive_c/windows/x.dll"));
	assert_false(
		policy_lib_dir_match(&dirs, "/home/bo", "/home/al/.wine/drive_c/windows/x.dll"));
	assert_false(policy_lib_dir_match(&dirs, NULL, "/home/al/.wine/drive_c/windows/x.dll"));
	assert_false(policy_lib_dir_match(&dirs, "/home/al", "/home/al/.wine/drive_c/users/x.dll"));
	assert_false(policy_lib_dir_match(NULL, NULL, "/usr/lib/x"));
	strv_clear(&dirs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_policy_good_cases_load_and_match_expect),
		cmocka_unit_test(test_policy_bad_cases_report_every_expected_diag),
		cmocka_unit_test(test_policy_defaults_are_the_documented_ones),
		cmocka_unit_test(test_policy_every_enum_value_parses),
		cmocka_unit_test(test_policy_booleans_accept_all_spellings),
		cmocka_unit_test(test_policy_number_ranges_are_inclusive),
		cmocka_unit_test(test_policy_comm_is_at_most_15_bytes),
		cmocka_unit_test(test_policy_values_are_normalized),
		cmocka_unit_test(test_policy_long_lists_continue_on_indented_lines),
		cmocka_unit_test(test_policy_line_limit_is_190_characters),
		cmocka_unit_test(test_policy_collects_every_problem_up_to_a_cap),
		cmocka_unit_test(test_policy_buffer_edge_cases),
		cmocka_unit_test(test_policy_directory_later_files_override_keys),
		cmocka_unit_test(test_policy_directory_diags_name_the_file),
		cmocka_unit_test(test_policy_missing_and_empty_paths_are_enoent),
		cmocka_unit_test(test_policy_sha256_follows_the_bytes),
		cmocka_unit_test(test_policy_shipped_default_and_examples_load_cleanly),
		cmocka_unit_test(test_policy_default_ini_has_the_product_rules),
		cmocka_unit_test(test_policy_format_reloads_to_the_same_policy),
		cmocka_unit_test(test_policy_diag_format_shapes),
		cmocka_unit_test(test_policy_lib_dir_match_covers_trees),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
