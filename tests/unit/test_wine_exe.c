/* agent/host/wine_exe.c: which .exe a Wine process runs, and what it is.
 *
 * Data-driven: one file per case in tests/data/wine_exe/NAME.case, a test named
 * test_wine_exe_NAME. The case's tree is built in a fresh temporary directory, used as the
 * sysroot (absolute symlinks in it point inside it, as they would on a real system):
 *
 *   # what the case proves
 *   [tree]
 *   prefix /home/u/.wine          a Wine prefix: dosdevices/c: -> ../drive_c, dosdevices/z: -> /,
 *                                 drive_c/windows/system32/
 *   file /path/WXWork.exe         a file (content "MZ"), parents created
 *   dir /path                     a directory
 *   link /path -> target          a symbolic link, target as written
 *   [argv]
 *   /usr/lib/wine/wine64          one argument per line, verbatim (spaces, backslashes)
 *   C:\Program Files\WXWork\WXWork.exe
 *   [ctx]
 *   cwd = /home/u                 the process's cwd, HOME, WINEPREFIX (each optional)
 *   home = /home/u
 *   wineprefix = /home/u/.wine
 *   [expect]
 *   path = /home/u/.wine/drive_c/Program Files/WXWork/WXWork.exe    (or: error = ENOENT)
 *   index = 1                     optional: wine_exe_program_arg()'s index, and
 *   unix = yes                    whether it is a Unix path (start /unix)
 *
 * Lines starting with '#' are comments in every section. Identity (sha256, version resource,
 * family) runs on the PE fixtures of tests/data/pe and on the mingw-built programs of
 * tests/wine (skipped with a message without x86_64-w64-mingw32-gcc, failed instead when
 * WXGUARD_REQUIRE_WINE=1). WXG_CASE_VERBOSE=1 prints every case's result. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/host/sysroot.h"
#include "agent/host/wine_exe.h"
#include "common/fileio.h"
#include "common/hash.h"

#define ARGV_MAX 64

static const struct {
	const char *name;
	int err;
} errs[] = {
	{ "ENOENT", ENOENT },   { "ENODEV", ENODEV },
	{ "EXDEV", EXDEV },     { "EOPNOTSUPP", EOPNOTSUPP },
	{ "ELOOP", ELOOP },     { "ENOTDIR", ENOTDIR },
	{ "EISDIR", EISDIR },   { "ENAMETOOLONG", ENAMETOOLONG },
	{ "EINVAL", EINVAL },   { "ENOEXEC", ENOEXEC },
	{ "ENODATA", ENODATA }, { "EBADMSG", EBADMSG },
};

static const char *err_name(int r)
{
	static char buf[32];

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (-r == errs[i].err)
			return errs[i].name;
	snprintf(buf, sizeof(buf), "%d", r);
	return buf;
}

static int err_code(const char *s)
{
	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (strcmp(s, errs[i].name) == 0)
			return -errs[i].err;
	fail_msg("unknown error name %s", s);
	return 0;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static void under(const char *root, const char *p, char *out, size_t size)
{
	if (p[0] != '/')
		fail_msg("tree path %s is not absolute", p);
	snprintf(out, size, "%s%s", root, p);
}

static void make_parent(const char *path)
{
	char dir[PATH_MAX], *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = 0;
	assert_int_equal(mkdir_p(dir, 0755), 0);
}

static void make_link(const char *root, const char *p, const char *target)
{
	char path[PATH_MAX];

	under(root, p, path, sizeof(path));
	make_parent(path);
	if (symlink(target, path) < 0)
		fail_msg("symlink %s -> %s: %s", path, target, strerror(errno));
}

static void make_prefix(const char *root, const char *p)
{
	char path[PATH_MAX], sub[PATH_MAX + 64];

	under(root, p, path, sizeof(path));
	snprintf(sub, sizeof(sub), "%s/drive_c/windows/system32", path);
	assert_int_equal(mkdir_p(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/dosdevices/c:", p);
	make_link(root, sub, "../drive_c");
	snprintf(sub, sizeof(sub), "%s/dosdevices/z:", p);
	make_link(root, sub, "/");
}

static void tree_line(const char *root, const char *where, char *l)
{
	char path[PATH_MAX], *arrow;

	if (strncmp(l, "prefix ", 7) == 0) {
		make_prefix(root, trim(l + 7));
	} else if (strncmp(l, "file ", 5) == 0) {
		under(root, trim(l + 5), path, sizeof(path));
		wxg_test_write(path, "MZ");
	} else if (strncmp(l, "dir ", 4) == 0) {
		under(root, trim(l + 4), path, sizeof(path));
		assert_int_equal(mkdir_p(path, 0755), 0);
	} else if (strncmp(l, "link ", 5) == 0 && (arrow = strstr(l, " -> "))) {
		*arrow = 0;
		make_link(root, trim(l + 5), trim(arrow + 4));
	} else {
		fail_msg("%s: bad tree line '%s'", where, l);
	}
}

struct parsed {
	char *argv[ARGV_MAX];
	size_t argc;
	char *cwd, *home, *wineprefix, *want_path, *want_index, *want_unix;
	int want_err;
};

static void parsed_clear(struct parsed *p)
{
	for (size_t i = 0; i < p->argc; i++)
		free(p->argv[i]);
	free(p->cwd);
	free(p->home);
	free(p->wineprefix);
	free(p->want_path);
	free(p->want_index);
	free(p->want_unix);
}

static void parse_case(const struct wxg_test_case *c, const char *root, struct parsed *p)
{
	char line[4096], section[16] = "", where[1200];
	unsigned lineno = 0;
	FILE *f = fopen(c->path, "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *l, *eq, **slot = NULL;

		lineno++;
		snprintf(where, sizeof(where), "%s:%u", c->path, lineno);
		line[strcspn(line, "\n")] = 0;
		if (line[0] == '#')
			continue;
		if (line[0] == '[') {
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(line + 1, "]"),
				 line + 1);
			continue;
		}
		if (strcmp(section, "argv") == 0) {
			if (p->argc == ARGV_MAX)
				fail_msg("%s: too many arguments", where);
			p->argv[p->argc++] = strdup(line);
			continue;
		}
		l = trim(line);
		if (!*l)
			continue;
		if (strcmp(section, "tree") == 0) {
			tree_line(root, where, l);
			continue;
		}
		eq = strchr(l, '=');
		if (!eq)
			fail_msg("%s: key = value expected", where);
		*eq = 0;
		l = trim(l);
		if (strcmp(section, "ctx") == 0) {
			slot = strcmp(l, "cwd") == 0          ? &p->cwd
			       : strcmp(l, "home") == 0       ? &p->home
			       : strcmp(l, "wineprefix") == 0 ? &p->wineprefix
							      : NULL;
		} else if (strcmp(section, "expect") == 0) {
			if (strcmp(l, "error") == 0) {
				p->want_err = err_code(trim(eq + 1));
				continue;
			}
			slot = strcmp(l, "path") == 0    ? &p->want_path
			       : strcmp(l, "index") == 0 ? &p->want_index
			       : strcmp(l, "unix") == 0  ? &p->want_unix
							 : NULL;
		}
		if (!slot)
			fail_msg("%s: unknown key '%s' in [%s]", where, l, section);
		*slot = strdup(trim(eq + 1));
	}
	fclose(f);
	if (!p->want_path == !p->want_err)
		fail_msg("%s: [expect] needs exactly one of path and error", c->path);
}

static void case_test(void **state)
{
	const struct wxg_test_case *c = *state;
	struct parsed p = { 0 };
	struct sysroot *sr = NULL;
	char *root = wxg_test_mkdtemp(), got[PATH_MAX] = "(untouched)";
	struct wine_exe_ctx ctx;
	int r;

	parse_case(c, root, &p);
	ctx = (struct wine_exe_ctx){ .argv = (const char *const *)p.argv,
				     .argc = p.argc,
				     .cwd = p.cwd,
				     .home = p.home,
				     .wineprefix = p.wineprefix };
	assert_int_equal(sysroot_new(root, &sr), 0);
	r = wine_exe_resolve(sr, &ctx, got, sizeof(got));
	if (getenv("WXG_CASE_VERBOSE"))
		fprintf(stderr, "%s: %s\n", c->name, r < 0 ? err_name(r) : got);
	if (p.want_err && r != p.want_err)
		fail_msg("%s: got %s (%s), expected %s", c->name, r < 0 ? err_name(r) : "a path",
			 got, err_name(p.want_err));
	if (p.want_err)
		assert_string_equal(got, "(untouched)");
	if (p.want_path && (r < 0 || strcmp(got, p.want_path) != 0))
		fail_msg("%s: got %s, expected %s", c->name, r < 0 ? err_name(r) : got,
			 p.want_path);
	if (p.want_index || p.want_unix) {
		size_t index = 99;
		bool unix_path = false;

		assert_int_equal(wine_exe_program_arg(&ctx, &index, &unix_path), 0);
		if (p.want_index && index != strtoul(p.want_index, NULL, 10))
			fail_msg("%s: program argument %zu, expected %s", c->name, index,
				 p.want_index);
		if (p.want_unix && unix_path != (strcmp(p.want_unix, "yes") == 0))
			fail_msg("%s: unix %d, expected %s", c->name, unix_path, p.want_unix);
	}
	sysroot_free(sr);
	parsed_clear(&p);
	wxg_test_rmtree(root);
	free(root);
}

/* ---- hostile input the case files cannot express ----------------------------------------------
 */

static void test_wine_exe_bad_ctx_is_einval(void **state)
{
	const char *argv[] = { "wine64", "x.exe" }, *nul[] = { NULL };
	struct wine_exe_ctx ctx = { .argv = argv, .argc = 2, .home = "/home/u" };
	struct sysroot *sr = NULL;
	char buf[PATH_MAX] = "";
	size_t i;
	bool u;

	(void)state;
	assert_int_equal(sysroot_new("/nonexistent-wxg-root", &sr), 0);
	assert_int_equal(wine_exe_program_arg(NULL, &i, &u), -EINVAL);
	ctx.argc = 0;
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -EINVAL);
	ctx = (struct wine_exe_ctx){ .argv = nul, .argc = 1, .home = "/home/u" };
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -EINVAL);
	ctx = (struct wine_exe_ctx){ .argv = NULL, .argc = 3 };
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -EINVAL);
	/* A relative cwd is refused when the name needs it. */
	ctx = (struct wine_exe_ctx){ .argv = argv, .argc = 2, .cwd = "home/u", .home = "/home/u" };
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -EINVAL);
	/* argc larger than the vector's NULL end. */
	{
		const char *short_argv[] = { "wine64", NULL };

		ctx = (struct wine_exe_ctx){ .argv = short_argv, .argc = 50, .home = "/h" };
		assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ENODATA);
	}
	assert_string_equal(buf, "");
	sysroot_free(sr);
}

static void test_wine_exe_prefix_default_and_wineprefix(void **state)
{
	struct wine_exe_ctx ctx = { .home = "/home/u/" };
	char buf[PATH_MAX], small[8];

	(void)state;
	assert_int_equal(wine_exe_prefix(&ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.wine");
	ctx.wineprefix = "/home/u/.deepinwine/Deepin-WXWork//";
	assert_int_equal(wine_exe_prefix(&ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.deepinwine/Deepin-WXWork");
	ctx.wineprefix = ".wine";
	assert_int_equal(wine_exe_prefix(&ctx, buf, sizeof(buf)), -EINVAL);
	ctx.wineprefix = "";
	assert_int_equal(wine_exe_prefix(&ctx, buf, sizeof(buf)), -EINVAL);
	ctx = (struct wine_exe_ctx){ .home = "/" };
	assert_int_equal(wine_exe_prefix(&ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/.wine");
	ctx = (struct wine_exe_ctx){ .home = NULL };
	assert_int_equal(wine_exe_prefix(&ctx, buf, sizeof(buf)), -EINVAL);
	ctx = (struct wine_exe_ctx){ .home = "/home/someone" };
	assert_int_equal(wine_exe_prefix(&ctx, small, sizeof(small)), -ENAMETOOLONG);
}

/* An argument longer than a Windows command line, a path longer than PATH_MAX, a name longer
 * than NAME_MAX, a buffer too small: -ENAMETOOLONG, never a cut path. */
static void test_wine_exe_huge_args_are_enametoolong(void **state)
{
	char *root = wxg_test_mkdtemp(), *huge = malloc(WINE_EXE_ARG_MAX + 2), *deep,
	     buf[PATH_MAX] = "", tiny[8] = "";
	const char *argv[] = { "/usr/lib/wine/wine64", NULL };
	struct wine_exe_ctx ctx = { .argv = argv, .argc = 2, .cwd = "/", .home = "/home/u" };
	struct sysroot *sr = NULL;
	size_t n = 0;

	(void)state;
	make_prefix(root, "/home/u/.wine");
	assert_int_equal(sysroot_new(root, &sr), 0);
	memset(huge, 'a', WINE_EXE_ARG_MAX + 1);
	huge[WINE_EXE_ARG_MAX + 1] = 0;
	argv[1] = huge;
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ENAMETOOLONG);
	/* In range for Windows, too long for Linux: C:\aaa...\aaa... */
	deep = malloc(WINE_EXE_ARG_MAX);
	n += (size_t)sprintf(deep, "C:");
	while (n + 200 < WINE_EXE_ARG_MAX - 1) {
		deep[n++] = '\\';
		memset(deep + n, 'b', 190);
		n += 190;
	}
	deep[n] = 0;
	argv[1] = deep;
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ENOENT);
	memset(huge, 'c', 300); /* one component over NAME_MAX */
	memcpy(huge, "C:\\", 3);
	huge[300] = 0;
	argv[1] = huge;
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ENAMETOOLONG);
	assert_string_equal(buf, "");
	/* The answer does not fit the caller's buffer. */
	{
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "%s/home/u/.wine/drive_c/windows/system32/notepad.exe",
			 root);
		wxg_test_write(p, "MZ");
	}
	argv[1] = "notepad";
	assert_int_equal(wine_exe_resolve(sr, &ctx, tiny, sizeof(tiny)), -ENAMETOOLONG);
	assert_string_equal(tiny, "");
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.wine/drive_c/windows/system32/notepad.exe");
	sysroot_free(sr);
	free(huge);
	free(deep);
	wxg_test_rmtree(root);
	free(root);
}

/* A link to itself, a two-link cycle, a chain of 41 links: -ELOOP. A chain of 40 resolves. */
static void test_wine_exe_symlink_loops_are_eloop(void **state)
{
	char *root = wxg_test_mkdtemp(), buf[PATH_MAX], link[PATH_MAX], target[PATH_MAX];
	const char *argv[] = { "wine64", NULL };
	struct wine_exe_ctx ctx = { .argv = argv, .argc = 2, .cwd = "/", .home = "/home/u" };
	struct sysroot *sr = NULL;

	(void)state;
	make_prefix(root, "/home/u/.wine");
	make_link(root, "/home/u/.wine/drive_c/self.exe", "self.exe");
	make_link(root, "/home/u/.wine/drive_c/a", "b");
	make_link(root, "/home/u/.wine/drive_c/b", "/home/u/.wine/drive_c/a");
	make_link(root, "/home/u/.wine/dosdevices/e:", "e:");
	for (int i = 0; i < 41; i++) {
		snprintf(link, sizeof(link), "/home/u/.wine/drive_c/chain/l%d", i);
		snprintf(target, sizeof(target), "l%d", i + 1);
		make_link(root, link, target);
	}
	snprintf(link, sizeof(link), "%s/home/u/.wine/drive_c/chain/l41", root);
	wxg_test_write(link, "MZ");
	assert_int_equal(sysroot_new(root, &sr), 0);
	argv[1] = "C:\\self.exe";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ELOOP);
	argv[1] = "C:\\a\\x.exe";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ELOOP);
	argv[1] = "E:\\x.exe";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ELOOP);
	/* C: itself is one link: l0 then takes 41 more. */
	argv[1] = "C:\\chain\\l0";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), -ELOOP);
	argv[1] = "C:\\chain\\l2";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.wine/drive_c/chain/l41");
	sysroot_free(sr);
	wxg_test_rmtree(root);
	free(root);
}

/* ---- identity ----------------------------------------------------------------------------------
 */

static void identify_data(const char *name, struct wine_exe_id *id, int want)
{
	struct sysroot *sr = NULL;
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s", wxg_test_data("pe/%s", name));
	assert_int_equal(sysroot_new("/", &sr), 0);
	assert_int_equal(wine_exe_identify(sr, path, id), want);
	sysroot_free(sr);
}

static void test_wine_exe_identify_pe_fixtures(void **state)
{
	struct wine_exe_id id = { 0 }, untouched = { .size = 7 };
	char hex[HASH_SHA256_HEX];
	struct stat st;

	(void)state;
	identify_data("wechat.exe", &id, 0);
	assert_int_equal(hash_sha256_file(wxg_test_data("pe/wechat.exe"), hex), 0);
	assert_string_equal(id.sha256, hex);
	assert_int_equal(stat(wxg_test_data("pe/wechat.exe"), &st), 0);
	assert_int_equal(id.size, (uint64_t)st.st_size);
	assert_int_equal(id.ino, st.st_ino);
	assert_true(id.has_version);
	assert_string_equal(id.version.company_name, "Tencent");
	assert_string_equal(id.version.product_name, "Weixin");
	assert_int_equal(wine_exe_family(&id), WINE_EXE_WECHAT);
	assert_true(wine_exe_is_tencent(&id));
	wine_exe_id_clear(&id);

	identify_data("wxwork-pe32.exe", &id, 0);
	assert_int_equal(wine_exe_family(&id), WINE_EXE_WECOM);
	assert_string_equal(wine_exe_family_to_string(wine_exe_family(&id)), "wecom");
	wine_exe_id_clear(&id);

	/* A PE without a version resource is a PE: identified, no strings, no family. */
	identify_data("no-version.exe", &id, 0);
	assert_false(id.has_version);
	assert_null(id.version.company_name);
	assert_int_equal(strlen(id.sha256), 64);
	assert_int_equal(wine_exe_family(&id), WINE_EXE_OTHER);
	assert_false(wine_exe_is_tencent(&id));
	wine_exe_id_clear(&id);

	/* Not PE, truncated, malformed: an error and *ret untouched. */
	identify_data("not-pe.exe", &untouched, -ENOEXEC);
	identify_data("bad-truncated.exe", &untouched, -EBADMSG);
	identify_data("bad-name-loop.exe", &untouched, -EBADMSG);
	assert_int_equal(untouched.size, 7);
	assert_null(untouched.version.company_name);
	wine_exe_id_clear(NULL);
}

static void test_wine_exe_identify_refuses_what_is_not_a_file(void **state)
{
	char *root = wxg_test_mkdtemp(), p[PATH_MAX];
	struct wine_exe_id id = { 0 };
	struct sysroot *sr = NULL;

	(void)state;
	assert_int_equal(sysroot_new(root, &sr), 0);
	snprintf(p, sizeof(p), "%s/fifo.exe", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	assert_int_equal(wine_exe_identify(sr, "/fifo.exe", &id), -ENOEXEC); /* never blocks */
	snprintf(p, sizeof(p), "%s/dir.exe", root);
	assert_int_equal(mkdir(p, 0755), 0);
	assert_int_equal(wine_exe_identify(sr, "/dir.exe", &id), -ENOEXEC);
	make_link(root, "/link.exe", "/dir.exe");
	assert_int_equal(wine_exe_identify(sr, "/link.exe", &id), -ELOOP);
	assert_int_equal(wine_exe_identify(sr, "/missing.exe", &id), -ENOENT);
	assert_int_equal(wine_exe_identify(sr, "relative.exe", &id), -EINVAL);
	snprintf(p, sizeof(p), "%s/empty.exe", root);
	wxg_test_write(p, "");
	assert_int_equal(wine_exe_identify(sr, "/empty.exe", &id), -ENOEXEC);
	assert_null(id.version.company_name);
	sysroot_free(sr);
	wxg_test_rmtree(root);
	free(root);
}

static enum wine_exe_family family_of(const char *company, const char *product,
				      const char *original, const char *description)
{
	struct wine_exe_id id = { .has_version = true };

	id.version.company_name = (char *)company;
	id.version.product_name = (char *)product;
	id.version.original_filename = (char *)original;
	id.version.file_description = (char *)description;
	return wine_exe_family(&id);
}

static void test_wine_exe_family_by_content(void **state)
{
	(void)state;
	assert_int_equal(family_of("Tencent", "Weixin", "Weixin.exe", "微信"), WINE_EXE_WECHAT);
	assert_int_equal(family_of("Tencent Technology(Shenzhen) Company Limited", "WeChat",
				   "WeChat.exe", NULL),
			 WINE_EXE_WECHAT);
	assert_int_equal(family_of("深圳市腾讯计算机系统有限公司", NULL, NULL, "微信"),
			 WINE_EXE_WECHAT);
	assert_int_equal(family_of("TENCENT", "wechat", NULL, NULL), WINE_EXE_WECHAT);
	assert_int_equal(family_of("Tencent", "WXWork", "WXWork.exe", "企业微信"), WINE_EXE_WECOM);
	assert_int_equal(family_of("Tencent", "WeCom", NULL, NULL), WINE_EXE_WECOM);
	assert_int_equal(family_of("Tencent", NULL, NULL, "企业微信"), WINE_EXE_WECOM);
	/* Both named: the denied family wins. */
	assert_int_equal(family_of("Tencent", "WXWork", "WeChat.exe", NULL), WINE_EXE_WECHAT);
	assert_int_equal(family_of("Tencent", "企业微信 微信", NULL, NULL), WINE_EXE_WECHAT);
	assert_int_equal(family_of("Tencent", "QQ", "QQ.exe", "QQ"), WINE_EXE_TENCENT);
	assert_true(wine_exe_is_tencent(
		&(struct wine_exe_id){ .version = { .company_name = (char *)"Tencent" } }));
	/* A name alone is not Tencent's. */
	assert_int_equal(family_of("Example Ltd", "WeChat Exporter", "WeChat.exe", "微信"),
			 WINE_EXE_OTHER);
	assert_int_equal(family_of(NULL, "Weixin", "WeChat.exe", NULL), WINE_EXE_OTHER);
	assert_int_equal(wine_exe_family(NULL), WINE_EXE_OTHER);
	assert_string_equal(wine_exe_family_to_string(WINE_EXE_OTHER), "other");
	assert_string_equal(wine_exe_family_to_string(WINE_EXE_TENCENT), "tencent");
	assert_string_equal(wine_exe_family_to_string(WINE_EXE_WECHAT), "wechat");
}

/* The mingw-built programs of tests/wine: the real toolchain's output. */
static bool have_mingw_programs(char *dir, size_t size)
{
	const char *req = getenv("WXGUARD_REQUIRE_WINE");
	char p[PATH_MAX + 32];

	snprintf(dir, size, "%s/tests/wine", wxg_test_build_dir());
	snprintf(p, sizeof(p), "%s/WeChat.exe", dir);
	if (access(p, R_OK) == 0)
		return true;
	if (req && strcmp(req, "1") == 0)
		fail_msg("%s missing but WXGUARD_REQUIRE_WINE=1 (packaging/deps.sh wine; make)", p);
	fprintf(stderr,
		"skipped: %s not built (no x86_64-w64-mingw32-gcc: "
		"packaging/deps.sh wine)\n",
		p);
	skip();
	return false;
}

static void copy_file(const char *from, const char *to)
{
	char *data = NULL;
	size_t len;

	assert_int_equal(read_full_file(from, 64u << 20, &data, &len), 0);
	make_parent(to);
	assert_int_equal(write_file_atomic(to, data, len, 0644), 0);
	free(data);
}

/* WeChat.exe renamed notepad.exe in Downloads, started there as `wine64 notepad`: the cwd
 * comes before system32 (as tests/wine runs it under real Wine) and it is still WeChat;
 * WXWork.exe under Program Files is WeCom; the helper and a DLL have no version resource; a
 * truncated copy is hostile. */
static void test_wine_exe_mingw_programs_resolved_and_identified(void **state)
{
	char dir[PATH_MAX], from[PATH_MAX + 64], to[PATH_MAX + 128], buf[PATH_MAX], *root;
	const char *argv[] = { "/usr/lib/wine/wine64", "notepad", NULL };
	struct wine_exe_ctx ctx = {
		.argv = argv, .argc = 2, .cwd = "/home/u/Downloads", .home = "/home/u"
	};
	struct wine_exe_id id = { 0 };
	struct sysroot *sr = NULL;
	char hex[HASH_SHA256_HEX];

	(void)state;
	if (!have_mingw_programs(dir, sizeof(dir)))
		return;
	root = wxg_test_mkdtemp();
	make_prefix(root, "/home/u/.wine");
	snprintf(to, sizeof(to), "%s/home/u/.wine/drive_c/windows/system32/notepad.exe", root);
	wxg_test_write(to, "MZ"); /* Wine's placeholder */
	snprintf(from, sizeof(from), "%s/WeChat.exe", dir);
	snprintf(to, sizeof(to), "%s/home/u/Downloads/notepad.exe", root);
	copy_file(from, to);
	snprintf(from, sizeof(from), "%s/WXWork.exe", dir);
	snprintf(to, sizeof(to), "%s/home/u/.wine/drive_c/Program Files/WXWork/WXWork.exe", root);
	copy_file(from, to);
	snprintf(from, sizeof(from), "%s/WXWorkWeb.exe", dir);
	snprintf(to, sizeof(to), "%s/home/u/.wine/drive_c/Program Files/WXWork/WXWorkWeb.exe",
		 root);
	copy_file(from, to);
	assert_int_equal(sysroot_new(root, &sr), 0);

	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/Downloads/notepad.exe");
	assert_int_equal(wine_exe_identify(sr, buf, &id), 0);
	snprintf(from, sizeof(from), "%s/WeChat.exe", dir);
	assert_int_equal(hash_sha256_file(from, hex), 0);
	assert_string_equal(id.sha256, hex);
	assert_string_equal(id.version.original_filename, "WeChat.exe");
	assert_int_equal(wine_exe_family(&id), WINE_EXE_WECHAT);
	wine_exe_id_clear(&id);

	argv[1] = "c:\\PROGRAM FILES\\wxwork\\wxwork.exe";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/home/u/.wine/drive_c/Program Files/WXWork/WXWork.exe");
	assert_int_equal(wine_exe_identify(sr, buf, &id), 0);
	assert_int_equal(wine_exe_family(&id), WINE_EXE_WECOM);
	assert_string_equal(id.version.file_version, "4.1.33.6009");
	wine_exe_id_clear(&id);

	/* The running helper, as /proc/PID/cmdline shows it. */
	argv[0] = "C:\\Program Files\\WXWork\\WXWorkWeb.exe";
	argv[1] = "--parent";
	assert_int_equal(wine_exe_resolve(sr, &ctx, buf, sizeof(buf)), 0);
	assert_int_equal(wine_exe_identify(sr, buf, &id), 0);
	assert_false(id.has_version);
	assert_int_equal(wine_exe_family(&id), WINE_EXE_OTHER);
	wine_exe_id_clear(&id);

	/* A DLL without a version resource, read through the real root. */
	{
		struct sysroot *real = NULL;
		char *data = NULL, *abs;
		size_t len;

		snprintf(from, sizeof(from), "%s/plugin.dll", dir);
		abs = realpath(from, NULL);
		assert_non_null(abs);
		assert_int_equal(sysroot_new("/", &real), 0);
		assert_int_equal(wine_exe_identify(real, abs, &id), 0);
		assert_false(id.has_version);
		wine_exe_id_clear(&id);
		sysroot_free(real);
		free(abs);
		/* A truncated copy of WeChat.exe: hostile, not a result. */
		snprintf(from, sizeof(from), "%s/WeChat.exe", dir);
		assert_int_equal(read_full_file(from, 64u << 20, &data, &len), 0);
		snprintf(to, sizeof(to), "%s/cut.exe", root);
		assert_int_equal(write_file_atomic(to, data, len * 2 / 3, 0644), 0);
		free(data);
		assert_int_equal(wine_exe_identify(sr, "/cut.exe", &id), -EBADMSG);
	}
	sysroot_free(sr);
	wxg_test_rmtree(root);
	free(root);
}

/* /proc/PID/maps as Wine 8.0 showed it for WXWork.exe (its headers and sections mapped from the
 * file), with DLLs, the heap and anonymous memory around it. */
static void test_wine_exe_mapped_names_the_image(void **state)
{
	static const char wxwork[] =
		"140000000-140001000 r--p 00000000 fd:01 11453719 /home/u/.wine/drive_c/Program "
		"Files/WXWork/WXWork.exe\n"
		"140001000-14000a000 r-xp 00000000 00:00 0 \n"
		"14000a000-14000c000 r--p 00008000 fd:01 11453719 /home/u/.wine/drive_c/Program "
		"Files/WXWork/WXWork.exe\n"
		"6ffffc000000-6ffffc010000 r--p 00000000 fd:01 2345 "
		"/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/kernel32.dll\n"
		"7f0000000000-7f0000021000 rw-p 00000000 00:00 0                          [heap]\n"
		"7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          "
		"[stack]\n";
	static const char data_exe[] =
		"180000000-180100000 r--p 00000000 fd:01 777 /home/u/.wine/drive_c/x/Other.EXE\n";
	char *root = wxg_test_mkdtemp(), p[PATH_MAX], buf[PATH_MAX] = "";
	struct sysroot *sr = NULL;
	dev_t dev = 0;
	ino_t ino = 0;
	char *both;

	(void)state;
	assert_int_equal(sysroot_new(root, &sr), 0);
	snprintf(p, sizeof(p), "%s/proc/100/maps", root);
	wxg_test_write(p, wxwork);
	assert_int_equal(wine_exe_mapped(sr, 100, buf, sizeof(buf), &dev, &ino), 0);
	assert_string_equal(buf, "/home/u/.wine/drive_c/Program Files/WXWork/WXWork.exe");
	assert_int_equal(ino, 11453719);
	assert_int_equal(major(dev), 0xfd);
	assert_int_equal(minor(dev), 1);
	assert_int_equal(wine_exe_mapped(sr, 100, buf, 8, NULL, NULL), -ENAMETOOLONG);

	/* Two different .exe files: ambiguous. */
	both = malloc(sizeof(wxwork) + sizeof(data_exe));
	snprintf(both, sizeof(wxwork) + sizeof(data_exe), "%s%s", wxwork, data_exe);
	snprintf(p, sizeof(p), "%s/proc/101/maps", root);
	wxg_test_write(p, both);
	free(both);
	assert_int_equal(wine_exe_mapped(sr, 101, buf, sizeof(buf), NULL, NULL), -ENOTUNIQ);

	/* Only DLLs and anonymous memory (not mapped yet); a deleted .exe is still named. */
	snprintf(p, sizeof(p), "%s/proc/102/maps", root);
	wxg_test_write(p, "7f0000000000-7f0000021000 rw-p 00000000 00:00 0   [heap]\n"
			  "6ffffc000000-6ffffc010000 r--p 00000000 fd:01 2345 /usr/lib/k.dll\n");
	assert_int_equal(wine_exe_mapped(sr, 102, buf, sizeof(buf), NULL, NULL), -ENOENT);
	snprintf(p, sizeof(p), "%s/proc/103/maps", root);
	wxg_test_write(p, "140000000-140001000 r--p 00000000 08:02 99 /tmp/a b/x.exe (deleted)\n");
	assert_int_equal(wine_exe_mapped(sr, 103, buf, sizeof(buf), NULL, &ino), 0);
	assert_string_equal(buf, "/tmp/a b/x.exe (deleted)");
	assert_int_equal(ino, 99);

	/* Not a maps file; no such process; a bad pid. */
	snprintf(p, sizeof(p), "%s/proc/104/maps", root);
	wxg_test_write(p, "MZ\x90\x00 garbage\n");
	assert_int_equal(wine_exe_mapped(sr, 104, buf, sizeof(buf), NULL, NULL), -EBADMSG);
	assert_int_equal(wine_exe_mapped(sr, 105, buf, sizeof(buf), NULL, NULL), -ENOENT);
	assert_int_equal(wine_exe_mapped(sr, 0, buf, sizeof(buf), NULL, NULL), -EINVAL);
	assert_string_equal(buf, "/tmp/a b/x.exe (deleted)");
	sysroot_free(sr);
	wxg_test_rmtree(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_wine_exe_bad_ctx_is_einval),
		cmocka_unit_test(test_wine_exe_prefix_default_and_wineprefix),
		cmocka_unit_test(test_wine_exe_huge_args_are_enametoolong),
		cmocka_unit_test(test_wine_exe_symlink_loops_are_eloop),
		cmocka_unit_test(test_wine_exe_identify_pe_fixtures),
		cmocka_unit_test(test_wine_exe_identify_refuses_what_is_not_a_file),
		cmocka_unit_test(test_wine_exe_family_by_content),
		cmocka_unit_test(test_wine_exe_mingw_programs_resolved_and_identified),
		cmocka_unit_test(test_wine_exe_mapped_names_the_image),
	};

	return wxg_test_run_case_dir("test_wine_exe", "wine_exe", 30, case_test, extra,
				     sizeof(extra) / sizeof(extra[0]));
}
