/* Data-driven posture-check cases: see check_case.h for the case format. */
#include "testlib.h"
#include "check_case.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/sysroot.h"
#include "common/fileio.h"
#include "common/strv.h"

#define CASE_MAX_LINES 256

struct case_line {
	char section[16];
	char key[128];
	char op[3]; /* "=", "~", "!~" */
	char value[512];
	unsigned lineno;
};

struct case_info {
	const struct check_case_suite *suite;
	char dir[PATH_MAX];
	char test_name[320];
};

/* snprintf for paths: a truncated path fails the test. */
__attribute__((format(printf, 3, 4))) static void case_path(char *buf, size_t size, const char *fmt,
							    ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < size);
}

bool check_case_bool(const char *v)
{
	return strcmp(v, "true") == 0 || strcmp(v, "yes") == 0 || strcmp(v, "on") == 0 ||
	       strcmp(v, "1") == 0;
}

static int case_parse(const char *path, struct case_line *lines, size_t max, size_t *ret_n)
{
	char buf[1024], section[16] = "";
	unsigned lineno = 0;
	size_t n = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return -errno;
	while (fgets(buf, sizeof(buf), f)) {
		char *l = str_strip(buf), *k, *op;
		struct case_line *cl;
		size_t kl;

		lineno++;
		if (!*l || *l == '#')
			continue;
		if (*l == '[') {
			char *e = strchr(l, ']');

			if (!e || (size_t)(e - l - 1) >= sizeof(section))
				goto bad;
			snprintf(section, sizeof(section), "%.*s", (int)(e - l - 1), l + 1);
			continue;
		}
		if (n >= max || !section[0])
			goto bad;
		cl = &lines[n];
		memset(cl, 0, sizeof(*cl));
		k = l;
		kl = strcspn(k, " \t=~!");
		op = k + kl;
		while (*op == ' ' || *op == '\t')
			op++;
		if (op[0] == '!' && op[1] == '~')
			snprintf(cl->op, sizeof(cl->op), "!~");
		else if (op[0] == '=' || op[0] == '~')
			snprintf(cl->op, sizeof(cl->op), "%c", op[0]);
		else
			goto bad;
		if (kl == 0 || kl >= sizeof(cl->key))
			goto bad;
		snprintf(cl->key, sizeof(cl->key), "%.*s", (int)kl, k);
		snprintf(cl->value, sizeof(cl->value), "%s", op + strlen(cl->op));
		str_strip(cl->value);
		snprintf(cl->section, sizeof(cl->section), "%s", section);
		cl->lineno = lineno;
		n++;
	}
	fclose(f);
	*ret_n = n;
	return 0;
bad:
	fclose(f);
	print_error("%s:%u: cannot parse\n", path, lineno);
	return -EBADMSG;
}

/* "1795176000", or "+3d" / "-90m" / "-10" relative to base. */
static bool case_time(const char *s, time_t base, time_t *ret)
{
	char *end;
	long long v = strtoll(s, &end, 10), mult = 1;

	if (end == s)
		return false;
	switch (*end) {
	case 0:
	case 's': mult = 1; break;
	case 'm': mult = 60; break;
	case 'h': mult = 3600; break;
	case 'd': mult = 86400; break;
	default: return false;
	}
	if (*end && end[1])
		return false;
	*ret = (s[0] == '+' || s[0] == '-') ? base + (time_t)(v * mult) : (time_t)v;
	return true;
}

void check_case_copy_tree(const char *src, const char *dst)
{
	struct dirent *de;
	DIR *d = opendir(src);

	assert_non_null(d);
	assert_int_equal(mkdir_p(dst, 0755), 0);
	while ((de = readdir(d))) {
		char s[PATH_MAX], t[PATH_MAX], link[PATH_MAX];
		struct stat st;
		ssize_t n;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		case_path(s, sizeof(s), "%s/%s", src, de->d_name);
		case_path(t, sizeof(t), "%s/%s", dst, de->d_name);
		assert_int_equal(lstat(s, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			check_case_copy_tree(s, t);
		} else if (S_ISLNK(st.st_mode)) {
			n = readlink(s, link, sizeof(link) - 1);
			assert_true(n > 0);
			link[n] = 0;
			assert_int_equal(symlink(link, t), 0);
		} else {
			char *data = NULL;
			size_t len = 0;
			int fd;

			assert_int_equal(read_full_file(s, 64u * 1024 * 1024, &data, &len), 0);
			fd = open(t, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0755);
			assert_true(fd >= 0);
			assert_int_equal(write(fd, data, len), (ssize_t)len);
			close(fd);
			free(data);
		}
	}
	closedir(d);
}

/* One step of [setup] or [then]; false if the key is not a step. */
static bool case_step(const struct case_info *ci, const struct case_line *cl, const char *root,
		      time_t *now)
{
	char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct timespec ts[2] = { { 0 } };
	time_t t;

	if (strcmp(cl->key, "now") == 0) {
		if (!case_time(cl->value, strcmp(cl->section, "then") == 0 ? *now : CHECK_CASE_NOW,
			       now))
			fail_msg("%s/case:%u: bad time '%s'", ci->dir, cl->lineno, cl->value);
		return true;
	}
	if (strcmp(cl->key, "mtime") == 0) {
		if (sscanf(cl->value, "%4095s %4095s", a, b) != 2 || !case_time(b, *now, &t))
			fail_msg("%s/case:%u: want: mtime = <path> <time>", ci->dir, cl->lineno);
		case_path(path, sizeof(path), "%s%s", root, a);
		ts[0].tv_sec = ts[1].tv_sec = t;
		if (utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW) < 0)
			fail_msg("%s/case:%u: mtime %s: %s", ci->dir, cl->lineno, path,
				 strerror(errno));
		return true;
	}
	if (strcmp(cl->key, "remove") == 0) {
		case_path(path, sizeof(path), "%s%s", root, cl->value);
		if (unlink(path) < 0)
			fail_msg("%s/case:%u: remove %s: %s", ci->dir, cl->lineno, path,
				 strerror(errno));
		return true;
	}
	if (strcmp(cl->key, "copy") == 0) {
		char *data = NULL;
		size_t len = 0;

		if (sscanf(cl->value, "%4095s %4095s", a, b) != 2)
			fail_msg("%s/case:%u: want: copy = <case file> <root path>", ci->dir,
				 cl->lineno);
		case_path(path, sizeof(path), "%s/%s", ci->dir, a);
		assert_int_equal(read_full_file(path, 64u * 1024 * 1024, &data, &len), 0);
		case_path(path, sizeof(path), "%s%s", root, b);
		assert_int_equal(write_file_atomic(path, data, len, 0644), 0);
		free(data);
		return true;
	}
	return false;
}

static void case_print_result(const struct check_result *r)
{
	print_message(
		"    status=%s\n    summary: %s\n    summary_zh: %s\n    fix: %s\n    fix_zh: %s\n",
		check_status_to_string(r->status), r->summary_en ? r->summary_en : "(null)",
		r->summary_zh ? r->summary_zh : "(null)", r->fix_en ? r->fix_en : "(none)",
		r->fix_zh ? r->fix_zh : "(none)");
	for (size_t i = 0; i < r->n_evidence; i++)
		print_message("    evidence.%s = %s\n", r->evidence[i].key, r->evidence[i].value);
	for (size_t i = 0; i < r->changes.n; i++)
		print_message("    change: %s\n", r->changes.v[i]);
}

/* have (not NULL) against one expectation's operator and value. */
static bool case_match(const struct case_line *cl, const char *want, const char *have)
{
	if (strcmp(cl->op, "=") == 0)
		return strcmp(have, want) == 0;
	if (strcmp(cl->op, "~") == 0)
		return strstr(have, want) != NULL;
	return strstr(have, want) == NULL;
}

/* One of several values (the change lines): "=" and "~" want some value to match, "!~" wants
 * none to contain the text; (absent) wants no value at all. */
static bool case_match_any(const struct case_line *cl, const char *const *have, size_t n)
{
	bool all = strcmp(cl->op, "!~") == 0;

	if (strcmp(cl->value, "(absent)") == 0 || strcmp(cl->value, "(none)") == 0)
		return n == 0;
	for (size_t i = 0; i < n; i++)
		if (case_match(cl, cl->value, have[i]) != all)
			return !all;
	return all;
}

/* file:/PATH: the file under root against the expectation ("\n" in the text is a newline). */
static bool case_expect_file(const struct case_info *ci, const struct case_line *cl,
			     const char *root)
{
	char path[PATH_MAX], want[sizeof(cl->value)], *w = want, *content = NULL;
	bool ok;

	case_path(path, sizeof(path), "%s%s", root, cl->key + strlen("file:"));
	if (strcmp(cl->value, "(absent)") == 0)
		return access(path, F_OK) != 0;
	for (const char *c = cl->value; *c; c++) {
		if (c[0] == '\\' && c[1] == 'n') {
			*w++ = '\n';
			c++;
		} else {
			*w++ = *c;
		}
	}
	*w = 0;
	ok = read_full_file(path, 1024 * 1024, &content, NULL) == 0 &&
	     case_match(cl, want, content);
	if (!ok)
		print_error("%s/case:%u: %s is:\n%s\n", ci->dir, cl->lineno, path,
			    content ? content : "(unreadable)");
	free(content);
	return ok;
}

/* Compare one [expect] or [again] line; returns false (after printing why) on mismatch. */
static bool case_expect(const struct case_info *ci, const struct case_line *cl,
			const struct check_result *r, const char *root)
{
	const char *have;
	char count[32];
	size_t n = 0;
	bool ok;

	if (str_startswith(cl->key, "file:")) {
		ok = case_expect_file(ci, cl, root);
		have = "(the file)";
		goto done;
	}
	if (strcmp(cl->key, "change") == 0) {
		n = r->changes.n;
		ok = case_match_any(cl, (const char *const *)r->changes.v, n);
		have = n ? r->changes.v[0] : NULL;
		goto done;
	}
	if (strcmp(cl->key, "status") == 0)
		have = check_status_to_string(r->status);
	else if (strcmp(cl->key, "summary") == 0)
		have = r->summary_en;
	else if (strcmp(cl->key, "summary_zh") == 0)
		have = r->summary_zh;
	else if (strcmp(cl->key, "fix") == 0)
		have = r->fix_en;
	else if (strcmp(cl->key, "fix_zh") == 0)
		have = r->fix_zh;
	else if (strcmp(cl->key, "changes") == 0) {
		snprintf(count, sizeof(count), "%zu", r->changes.n);
		have = count;
	} else if (str_startswith(cl->key, "evidence."))
		have = check_result_get(r, cl->key + strlen("evidence."));
	else {
		print_error("%s/case:%u: unknown expectation '%s'\n", ci->dir, cl->lineno, cl->key);
		return false;
	}
	if (strcmp(cl->value, "(absent)") == 0 || strcmp(cl->value, "(none)") == 0)
		ok = have == NULL;
	else
		ok = have && case_match(cl, cl->value, have);
done:
	if (!ok)
		print_error("%s/case:%u: expected %s %s '%s', have '%s'%s\n", ci->dir, cl->lineno,
			    cl->key, cl->op, cl->value, have ? have : "(absent)",
			    n > 1 ? " and more" : "");
	return ok;
}

/* Every line of one expectation section against r; the result is printed on a mismatch. */
static bool case_expect_section(const struct case_info *ci, const struct case_line *lines, size_t n,
				const char *section, const struct check_result *r, const char *root)
{
	bool ok = true;

	for (size_t i = 0; i < n; i++)
		if (strcmp(lines[i].section, section) == 0 && !case_expect(ci, &lines[i], r, root))
			ok = false;
	if (!ok || getenv("WXG_CASE_VERBOSE")) {
		print_message("    [%s]\n", section);
		case_print_result(r);
	}
	return ok;
}

/* A [policy] line: mode is the policy mode (and ctx.remediate, as the agent sets it), the
 * rest is the suite's. */
static void case_policy(const struct case_info *ci, const struct case_line *cl, struct policy *pol,
			struct check_ctx *ctx)
{
	if (strcmp(cl->key, "mode") == 0) {
		if (strcmp(cl->value, "enforce") == 0)
			pol->mode = POLICY_MODE_ENFORCE;
		else if (strcmp(cl->value, "audit") == 0)
			pol->mode = POLICY_MODE_AUDIT;
		else
			fail_msg("%s/case:%u: want: mode = audit|enforce", ci->dir, cl->lineno);
		ctx->remediate = pol->mode == POLICY_MODE_ENFORCE;
	} else if (!ci->suite->policy(pol, cl->key, cl->value)) {
		fail_msg("%s/case:%u: unknown policy key '%s'", ci->dir, cl->lineno, cl->key);
	}
}

static void case_test(void **state)
{
	const struct case_info *ci = *state;
	const struct check_def *def = check_def_find(ci->suite->check_id);
	struct case_line *lines = calloc(CASE_MAX_LINES, sizeof(*lines));
	char path[PATH_MAX], root[PATH_MAX], cache[PATH_MAX], *tmp;
	struct check_result res = { 0 };
	struct policy pol = { 0 };
	struct sysroot *sr = NULL;
	struct check_ctx ctx = { 0 };
	struct stat st;
	bool then = false, again = false, ok;
	time_t now = CHECK_CASE_NOW;
	size_t n = 0;

	assert_non_null(def);
	assert_non_null(lines);
	case_path(path, sizeof(path), "%s/case", ci->dir);
	assert_int_equal(case_parse(path, lines, CASE_MAX_LINES, &n), 0);

	tmp = wxg_test_mkdtemp();
	case_path(root, sizeof(root), "%s/root", tmp);
	case_path(cache, sizeof(cache), "%s/cache", tmp);
	case_path(path, sizeof(path), "%s/root", ci->dir);
	if (stat(path, &st) == 0)
		check_case_copy_tree(path, root);
	else
		assert_int_equal(mkdir_p(root, 0755), 0);

	for (size_t i = 0; i < n; i++) {
		const struct case_line *cl = &lines[i];

		if (strcmp(cl->section, "policy") == 0) {
			case_policy(ci, cl, &pol, &ctx);
		} else if (strcmp(cl->section, "setup") == 0) {
			if (strcmp(cl->key, "cache") == 0)
				ctx.cache_dir = check_case_bool(cl->value) ? cache : NULL;
			else if (!case_step(ci, cl, root, &now))
				fail_msg("%s/case:%u: unknown setup key '%s'", ci->dir, cl->lineno,
					 cl->key);
		} else if (strcmp(cl->section, "then") == 0) {
			then = true;
		} else if (strcmp(cl->section, "again") == 0) {
			again = true;
		} else if (strcmp(cl->section, "expect") != 0) {
			fail_msg("%s/case:%u: unknown section [%s]", ci->dir, cl->lineno,
				 cl->section);
		}
	}

	assert_int_equal(sysroot_new(root, &sr), 0);
	ctx.policy = &pol;
	ctx.root = sr;
	ctx.now = now;
	check_run_one(def, &ctx, &res);
	if (then) {
		check_result_clear(&res);
		for (size_t i = 0; i < n; i++)
			if (strcmp(lines[i].section, "then") == 0 &&
			    !case_step(ci, &lines[i], root, &now))
				fail_msg("%s/case:%u: unknown step '%s'", ci->dir, lines[i].lineno,
					 lines[i].key);
		ctx.now = now;
		check_run_one(def, &ctx, &res);
	}
	ok = case_expect_section(ci, lines, n, "expect", &res, root);
	if (ok && again) {
		check_result_clear(&res);
		check_run_one(def, &ctx, &res);
		ok = case_expect_section(ci, lines, n, "again", &res, root);
	}

	check_result_clear(&res);
	sysroot_free(sr);
	ci->suite->policy_clear(&pol);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(lines);
	if (!ok)
		fail_msg("case %s does not match its expectations", ci->test_name);
}

void check_case_run_real(const char *check_id, const struct policy *pol, struct check_result *r)
{
	const struct check_def *def = check_def_find(check_id);
	struct check_ctx ctx = { .policy = pol };
	struct sysroot *sr = NULL;

	assert_non_null(def);
	assert_int_equal(sysroot_new("/", &sr), 0);
	ctx.root = sr;
	check_run_one(def, &ctx, r);
	sysroot_free(sr);
}

static int case_cmp(const void *a, const void *b)
{
	return strcmp(((const struct case_info *)a)->test_name,
		      ((const struct case_info *)b)->test_name);
}

/* Run extra (hand-written tests) plus one test per case directory of the suite. */
int check_case_run_suite(const struct check_case_suite *suite, const struct CMUnitTest *extra,
			 size_t n_extra)
{
	struct case_info *cases = NULL;
	struct CMUnitTest *tests;
	char dir[PATH_MAX], group[128];
	struct dirent *de;
	size_t n = 0, cap = 0;
	DIR *d;
	int r;

	case_path(dir, sizeof(dir), "%s/%s", wxg_test_data_dir(), suite->name);
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d))) {
			char p[PATH_MAX];
			struct stat st;

			if (de->d_name[0] == '.')
				continue;
			case_path(p, sizeof(p), "%s/%s/case", dir, de->d_name);
			if (stat(p, &st) < 0)
				continue;
			if (n == cap) {
				cap = cap ? cap * 2 : 32;
				cases = realloc(cases, cap * sizeof(*cases));
				if (!cases)
					return 1;
			}
			memset(&cases[n], 0, sizeof(cases[n]));
			cases[n].suite = suite;
			case_path(cases[n].dir, sizeof(cases[n].dir), "%s/%s", dir, de->d_name);
			case_path(cases[n].test_name, sizeof(cases[n].test_name), "test_%s_%s",
				  suite->name, de->d_name);
			n++;
		}
		closedir(d);
	}
	if (n)
		qsort(cases, n, sizeof(*cases), case_cmp);
	tests = calloc(n_extra + n + 1, sizeof(*tests));
	if (!tests) {
		free(cases);
		return 1;
	}
	for (size_t i = 0; i < n_extra; i++)
		tests[i] = extra[i];
	for (size_t i = 0; i < n; i++)
		tests[n_extra + i] = (struct CMUnitTest){ .name = cases[i].test_name,
							  .test_func = case_test,
							  .initial_state = &cases[i] };
	snprintf(group, sizeof(group), "test_%s", suite->name);
	r = _cmocka_run_group_tests(group, tests, n_extra + n, NULL, NULL);
	free(tests);
	free(cases);
	return r;
}
