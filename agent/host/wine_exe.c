/* Which .exe a Wine process runs (wine_exe.h): argv, cwd and prefix to a file. What the file is:
 * wine_exe_id.c. */
#include "agent/host/wine_exe.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/strv.h"
#include "common/path.h"

#define LINKS_MAX 40

/* ---- names ---------------------------------------------------------------------------------- */

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static bool ascii_caseeq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (ascii_lower((unsigned char)*a) != ascii_lower((unsigned char)*b))
			return false;
	return *a == *b;
}

static bool is_sep(char c)
{
	return c == '\\' || c == '/';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_loader_name(const char *arg)
{
	static const char *const pats[] = { "wine",     "wine32",   "wine64",      "wine-*",
					    "wine32-*", "wine64-*", "deepin-wine*" };
	const char *b = path_basename(arg);

	if (strchr(b, '.') || strchr(b, '\\'))
		return false;
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (fnmatch(pats[i], b, 0) == 0)
			return true;
	return false;
}

static bool is_shell_name(const char *arg)
{
	static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "mksh" };
	const char *b = path_basename(arg);

	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (strcmp(b, shells[i]) == 0)
			return true;
	return false;
}

/* ---- which argument names the program ---------------------------------------------------------
 */

enum how {
	HOW_LOADER, /* the loader's own lookup (and argv[0] of a running process) */
	HOW_START,  /* start.exe's search */
	HOW_UNIX,   /* a Unix path (start /unix) */
};

static int arg_at(const struct wine_exe_ctx *ctx, size_t i, const char **ret)
{
	const char *a = i < ctx->argc ? ctx->argv[i] : NULL;

	if (!a)
		return -ENODATA;
	if (strnlen(a, WINE_EXE_ARG_MAX + 1) > WINE_EXE_ARG_MAX)
		return -ENAMETOOLONG;
	*ret = a;
	return 0;
}

/* start.exe's options (programs/start in Wine), from argv[i] on. */
static int parse_start(const struct wine_exe_ctx *ctx, size_t i, size_t *ret_index,
		       enum how *ret_how)
{
	static const char *const flags[] = { "/b",        "/min",         "/max",
					     "/low",      "/normal",      "/high",
					     "/realtime", "/abovenormal", "/belownormal",
					     "/separate", "/shared",      "/w",
					     "/wait" };
	static const char *const with_arg[] = { "/node", "/affinity", "/machine" };
	bool title = false, unix_mode = false;
	const char *a;
	int r;

	for (;; i++) {
		bool known = false;

		r = arg_at(ctx, i, &a);
		if (r == -ENODATA)
			break; /* no program: start runs cmd.exe */
		if (r < 0)
			return r;
		if (!title && a[0] == '"') {
			title = true; /* a console title */
			continue;
		}
		if (a[0] != '/')
			break;
		if (a[1] == 'd' || a[1] == 'D') {
			if (!a[2] && ++i >= ctx->argc)
				return -EINVAL;
			continue;
		}
		if (a[1] == 'i' || a[1] == 'I')
			continue;
		for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]) && !known; k++)
			known = ascii_caseeq(a, flags[k]);
		if (known)
			continue;
		if (ascii_caseeq(a, "/?"))
			return -ENODATA; /* usage, nothing runs */
		for (size_t k = 0; k < sizeof(with_arg) / sizeof(with_arg[0]) && !known; k++)
			known = ascii_caseeq(a, with_arg[k]);
		if (known) {
			if (++i >= ctx->argc)
				return -EINVAL;
			continue;
		}
		if (ascii_caseeq(a, "/unix") || ascii_caseeq(a, "/progIDOpen")) {
			unix_mode = true;
			i += ascii_caseeq(a, "/unix") ? 1 : 2;
			if (i >= ctx->argc)
				return -EINVAL;
			break;
		}
		if (ascii_caseeq(a, "/exec")) {
			i++;
			break;
		}
		return -EINVAL; /* start prints its usage and exits */
	}
	if (i >= ctx->argc) {
		*ret_index = ctx->argc;
		*ret_how = HOW_START;
		return 0;
	}
	r = arg_at(ctx, i, &a);
	if (r < 0)
		return r == -ENODATA ? -EINVAL : r;
	*ret_index = i;
	*ret_how = unix_mode && a[0] == '/' ? HOW_UNIX : HOW_START;
	return 0;
}

static int program_arg(const struct wine_exe_ctx *ctx, size_t *ret_index, enum how *ret_how)
{
	const char *a;
	size_t i = 1;
	int r;

	if (!ctx || !ctx->argv || ctx->argc == 0)
		return -EINVAL;
	r = arg_at(ctx, 0, &a);
	if (r < 0)
		return r == -ENODATA ? -EINVAL : r;
	if (is_shell_name(a)) {
		/* A launcher script run by its shell: sh [-options] /usr/bin/wine ARGS. */
		for (;; i++) {
			r = arg_at(ctx, i, &a);
			if (r < 0)
				return r == -ENODATA ? -ENOEXEC : r;
			if (strcmp(a, "--") == 0) {
				i++;
				break;
			}
			if (a[0] != '-' && a[0] != '+')
				break;
			if (a[0] == '-' && a[1] != '-' && strchr(a, 'c'))
				return -ENOEXEC; /* sh -c: a command string, not a script */
		}
		r = arg_at(ctx, i, &a);
		if (r < 0)
			return r == -ENODATA ? -ENOEXEC : r;
		if (!is_loader_name(a))
			return -ENOEXEC;
		i++;
	} else if (!is_loader_name(a)) {
		*ret_index = 0; /* running: argv[0] is the Windows path */
		*ret_how = HOW_LOADER;
		return 0;
	}
	/* The preloader passes the loader's path on: wine64-preloader /usr/lib/wine/wine64 ... */
	for (;; i++) {
		r = arg_at(ctx, i, &a);
		if (r < 0)
			return r;
		if (!strchr(a, '/') || !is_loader_name(a))
			break;
	}
	if (strcmp(a, "--help") == 0 || strcmp(a, "--version") == 0)
		return -ENODATA;
	if (ascii_caseeq(a, "start") || ascii_caseeq(a, "start.exe"))
		return parse_start(ctx, i + 1, ret_index, ret_how);
	*ret_index = i;
	*ret_how = HOW_LOADER;
	return 0;
}

int wine_exe_program_arg(const struct wine_exe_ctx *ctx, size_t *ret_index, bool *ret_unix)
{
	enum how how;
	size_t i;
	int r = program_arg(ctx, &i, &how);

	if (r < 0)
		return r;
	*ret_index = i;
	*ret_unix = how == HOW_UNIX;
	return 0;
}

int wine_exe_prefix(const struct wine_exe_ctx *ctx, char *buf, size_t size)
{
	const char *src = ctx->wineprefix, *suffix = "";
	size_t len;
	int n;

	if (!src) {
		src = ctx->home;
		suffix = "/.wine";
	}
	if (!src || src[0] != '/')
		return -EINVAL;
	len = strnlen(src, PATH_MAX);
	while (len > 1 && src[len - 1] == '/')
		len--;
	if (len == 1 && suffix[0])
		len = 0; /* HOME=/ */
	n = snprintf(buf, size, "%.*s%s", (int)len, src, suffix);
	return n < 0 || (size_t)n >= size || len >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* ---- walking a path inside the sysroot --------------------------------------------------------
 */

struct walk {
	const struct sysroot *sr;
	unsigned links;
	mode_t mode;        /* of cur */
	size_t len;         /* of cur */
	char cur[PATH_MAX]; /* where the walk is: canonical, "" for "/" */
	/* Scratch, not kept across a symlink's walk. */
	char next[PATH_MAX];
	char name[NAME_MAX + 1];
};

static void walk_init(struct walk *w, const struct sysroot *sr)
{
	w->sr = sr;
	w->links = 0;
	w->mode = S_IFDIR;
	w->len = 0;
	w->cur[0] = 0;
}

static void walk_pop(struct walk *w)
{
	char *s = strrchr(w->cur, '/');

	w->len = s ? (size_t)(s - w->cur) : 0;
	w->cur[w->len] = 0;
	w->mode = S_IFDIR;
}

static int walk_path(struct walk *w, const char *path);

/* w->next = cur/name; -ENAMETOOLONG when it does not fit. */
static int walk_join(struct walk *w, const char *name)
{
	size_t n = strlen(name);

	if (n > NAME_MAX || w->len + 1 + n >= sizeof(w->next))
		return -ENAMETOOLONG;
	memcpy(w->next, w->cur, w->len);
	w->next[w->len] = '/';
	memcpy(w->next + w->len + 1, name, n + 1);
	return 0;
}

/* The entry of directory cur equal to name in ASCII case: the first in strcmp order. */
static int fold_lookup(struct walk *w, const char *name)
{
	struct strv names = { 0 };
	int r = sysroot_list_dir(w->sr, w->len ? w->cur : "/", NULL, NULL, &names);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < names.n && r < 0; i++)
		if (ascii_caseeq(names.v[i], name))
			r = walk_join(w, names.v[i]);
	strv_clear(&names);
	return r;
}

/* One step down to name (not "", "." or ".."), following a symlink there. */
static int walk_step(struct walk *w, const char *name, bool fold, bool want_dir)
{
	struct stat st;
	char *target;
	int r;

	if (!S_ISDIR(w->mode))
		return -ENOTDIR;
	r = walk_join(w, name);
	if (r < 0)
		return r;
	r = sysroot_lstat(w->sr, w->next, &st);
	if (r == -ENOENT && fold) {
		r = fold_lookup(w, name);
		if (r == 0)
			r = sysroot_lstat(w->sr, w->next, &st);
	}
	if (r < 0)
		return r;
	if (!S_ISLNK(st.st_mode)) {
		w->len = strlen(w->next);
		memcpy(w->cur, w->next, w->len + 1);
		w->mode = st.st_mode;
		return want_dir && !S_ISDIR(st.st_mode) ? -ENOTDIR : 0;
	}
	if (++w->links > LINKS_MAX)
		return -ELOOP;
	target = malloc(PATH_MAX);
	if (!target)
		return -ENOMEM;
	r = sysroot_readlink(w->sr, w->next, target, PATH_MAX);
	if (r == 0) {
		if (target[0] == '/') {
			w->len = 0;
			w->cur[0] = 0;
		}
		r = walk_path(w, target);
	}
	free(target);
	if (r == 0 && want_dir && !S_ISDIR(w->mode))
		r = -ENOTDIR;
	return r;
}

/* A Unix path (the prefix, the cwd, a link's target) as the kernel walks it: names exact, ".."
 * the parent of where the walk is. An absolute path is walked from where the walk is. */
static int walk_path(struct walk *w, const char *path)
{
	for (const char *s = path; *s;) {
		size_t n = strcspn(s, "/");
		const char *next = s + n + strspn(s + n, "/");
		int r;

		if (n == 0 || (n == 1 && s[0] == '.')) {
			if (n && !S_ISDIR(w->mode))
				return -ENOTDIR;
		} else if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (!S_ISDIR(w->mode))
				return -ENOTDIR;
			walk_pop(w);
		} else {
			if (n > NAME_MAX)
				return -ENAMETOOLONG;
			memcpy(w->name, s, n);
			w->name[n] = 0;
			r = walk_step(w, w->name, false, *next != 0);
			if (r < 0)
				return r;
		}
		s = next;
	}
	return 0;
}

/* ---- Windows names, taken lexically -----------------------------------------------------------
 */

struct lex {
	char *buf;
	char **v;
	bool *fold;
	size_t n;
};

static void lex_clear(struct lex *l)
{
	free(l->buf);
	free(l->v);
	free(l->fold);
	*l = (struct lex){ 0 };
}

/* Split s (in l->buf) at separators ('/', and '\' when win) onto l: "." dropped, ".." taking
 * the last component off (-EXDEV when there is none), with trim the last component's trailing
 * dots and spaces dropped. */
static int lex_split(struct lex *l, char *s, bool win, bool fold, bool trim)
{
	while (*s) {
		size_t n = 0;
		char *c;

		while (*s == '/' || (win && *s == '\\'))
			s++;
		c = s;
		while (c[n] && c[n] != '/' && !(win && c[n] == '\\'))
			n++;
		s = c + n + (c[n] != 0);
		c[n] = 0;
		if (trim && !*s && strcmp(c, ".") != 0 && strcmp(c, "..") != 0)
			while (n > 0 && (c[n - 1] == '.' || c[n - 1] == ' '))
				c[--n] = 0;
		if (n == 0 || strcmp(c, ".") == 0)
			continue;
		if (strcmp(c, "..") == 0) {
			if (l->n == 0)
				return -EXDEV;
			l->n--;
			continue;
		}
		l->v[l->n] = c;
		l->fold[l->n++] = fold;
	}
	return 0;
}

/* base (a canonical Unix path, names exact) then rel (a Windows name, names folded). */
static int lex_build(struct lex *l, const char *base, const char *rel)
{
	size_t bl = strlen(base), rl = strlen(rel), max = (bl + rl) / 2 + 2;
	int r;

	l->buf = malloc(bl + rl + 2);
	l->v = calloc(max, sizeof(*l->v));
	l->fold = calloc(max, sizeof(*l->fold));
	if (!l->buf || !l->v || !l->fold)
		return -ENOMEM;
	memcpy(l->buf, base, bl + 1);
	memcpy(l->buf + bl + 1, rel, rl + 1);
	r = lex_split(l, l->buf, false, false, false);
	return r < 0 ? r : lex_split(l, l->buf + bl + 1, true, true, true);
}

static int walk_lex(struct walk *w, const struct lex *l)
{
	for (size_t i = 0; i < l->n; i++) {
		int r = walk_step(w, l->v[i], l->fold[i], i + 1 < l->n);

		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- resolving ------------------------------------------------------------------------------ */

struct res {
	const struct sysroot *sr;
	const char *cwd;
	int prefix_r; /* wine_exe_prefix()'s result */
	char prefix[PATH_MAX];
};

/* Walk to the root of drive letter d: <prefix>/dosdevices/<d>:. */
static int walk_drive(const struct res *rs, char d, struct walk *w)
{
	char dev[3] = { (char)ascii_lower((unsigned char)d), ':', 0 };
	int r;

	if (rs->prefix_r < 0)
		return rs->prefix_r;
	walk_init(w, rs->sr);
	r = walk_path(w, rs->prefix);
	if (r == 0)
		r = walk_step(w, "dosdevices", false, true);
	if (r == 0)
		r = walk_step(w, dev, false, true);
	return r == -ENOENT ? -ENODEV : r;
}

static int walk_cwd(const struct res *rs, struct walk *w)
{
	int r;

	if (!rs->cwd || rs->cwd[0] != '/')
		return -EINVAL;
	walk_init(w, rs->sr);
	r = walk_path(w, rs->cwd);
	return r == 0 && !S_ISDIR(w->mode) ? -ENOTDIR : r;
}

/* The drive the cwd lies on (the one whose root is its longest prefix), for "\x.exe". */
static int cwd_drive(const struct res *rs, struct walk *w, char *ret)
{
	char cwd[PATH_MAX];
	size_t best = 0;
	int r = walk_cwd(rs, w);

	if (r < 0)
		return r;
	memcpy(cwd, w->cur, w->len + 1);
	*ret = 0;
	for (char d = 'a'; d <= 'z'; d++) {
		if (walk_drive(rs, d, w) < 0 || strncmp(cwd, w->cur, w->len) != 0 ||
		    (cwd[w->len] && cwd[w->len] != '/'))
			continue;
		if (!*ret || w->len > best) {
			*ret = d;
			best = w->len;
		}
	}
	return *ret ? 0 : -ENODEV;
}

/* Walk to the Windows name: a drive path, \\?\ forms, a path rooted on the cwd's drive, or a
 * name relative to the cwd. */
static int walk_win(const struct res *rs, const char *name, struct walk *w)
{
	struct lex l = { 0 };
	char drive = 0, base[PATH_MAX] = "";
	int r;

	if (name[0] == '\\' && (name[1] == '\\' || name[1] == '?') && name[2] == '?' &&
	    name[3] == '\\') {
		name += 4; /* \\?\ and \??\: NT names */
		if (strncasecmp(name, "unix", 4) == 0 && is_sep(name[4])) {
			char *u = strdup(name + 4);

			if (!u)
				return -ENOMEM;
			for (char *p = u; *p; p++)
				if (*p == '\\')
					*p = '/';
			walk_init(w, rs->sr);
			r = walk_path(w, u);
			free(u);
			return r;
		}
		if (!is_alpha(name[0]) || name[1] != ':')
			return -EOPNOTSUPP; /* \\?\UNC\, \??\Volume{...} */
	}
	if (is_sep(name[0]) && is_sep(name[1]))
		return -EOPNOTSUPP; /* \\server\share, \\.\device */
	if (is_alpha(name[0]) && name[1] == ':') {
		drive = name[0];
		name += 2;
	} else if (is_sep(name[0])) {
		r = cwd_drive(rs, w, &drive);
		if (r < 0)
			return r;
	}
	if (drive) {
		r = walk_drive(rs, drive, w);
	} else {
		r = walk_cwd(rs, w);
		if (r == 0) {
			memcpy(base, w->cur, w->len + 1);
			walk_init(w, rs->sr);
		}
	}
	if (r < 0)
		return r;
	r = lex_build(&l, base, name);
	if (r == 0)
		r = walk_lex(w, &l);
	lex_clear(&l);
	return r;
}

static int finish(const struct walk *w, char *out, size_t size)
{
	const char *p = w->len ? w->cur : "/";

	if (S_ISDIR(w->mode))
		return -EISDIR;
	if (strlen(p) >= size)
		return -ENAMETOOLONG;
	memcpy(out, p, strlen(p) + 1);
	return 0;
}

/* A search miss, as opposed to an error worth reporting (a loop, a name too long). */
static bool missing(int r)
{
	return r == -ENOENT || r == -ENOTDIR || r == -ENODEV || r == -EISDIR;
}

static int try_name(const struct res *rs, const char *dir, const char *name, const char *ext,
		    struct walk *w, char *out, size_t size)
{
	char *p = NULL;
	int r;

	if (asprintf(&p, "%s%s%s%s", dir ? dir : "", dir ? "\\" : "", name, ext) < 0)
		return -ENOMEM;
	r = walk_win(rs, p, w);
	free(p);
	return r < 0 ? r : finish(w, out, size);
}

/* start.exe's search (cmd's rules): a name with a path as given, else in the cwd and Wine's
 * default PATH (the prefix's registry: system32, windows, wbem, WindowsPowershell\v1.0); the
 * name itself when it has an extension, then with .com and .exe (PATHEXT's first two). */
static int resolve_search(const struct res *rs, const char *name, struct walk *w, char *out,
			  size_t size)
{
	static const char *const path[] = { NULL, "C:\\windows\\system32", "C:\\windows",
					    "C:\\windows\\system32\\wbem",
					    "C:\\windows\\system32\\WindowsPowershell\\v1.0" };
	static const char *const exts[] = { ".com", ".exe" };
	bool has_path = strpbrk(name, "/\\:") != NULL;
	const char *last = name + strlen(name);
	int r;

	while (last > name && !is_sep(last[-1]) && last[-1] != ':')
		last--;
	for (size_t d = 0; d < (has_path ? 1 : sizeof(path) / sizeof(path[0])); d++) {
		if (strchr(last, '.')) {
			r = try_name(rs, path[d], name, "", w, out, size);
			if (!missing(r))
				return r;
		}
		for (size_t e = 0; e < sizeof(exts) / sizeof(exts[0]); e++) {
			r = try_name(rs, path[d], name, exts[e], w, out, size);
			if (!missing(r))
				return r;
		}
	}
	return -ENOENT;
}

/* The loader's lookup: an existing absolute Unix path; a name with a path exactly as given; a
 * bare name in the cwd, then (Wine falls back to start.exe /exec) start's search. */
static int resolve_loader(const struct res *rs, const char *name, struct walk *w, char *out,
			  size_t size)
{
	int r;

	if (name[0] == '/') {
		walk_init(w, rs->sr);
		r = walk_path(w, name);
		if (r == 0)
			return finish(w, out, size);
	}
	r = try_name(rs, NULL, name, "", w, out, size);
	if (strpbrk(name, "/\\") || (is_alpha(name[0]) && name[1] == ':') || !missing(r))
		return r;
	return resolve_search(rs, name, w, out, size);
}

int wine_exe_resolve(const struct sysroot *sr, const struct wine_exe_ctx *ctx, char *path,
		     size_t size)
{
	struct res *rs = NULL;
	struct walk *w = NULL;
	const char *name = "cmd.exe";
	enum how how;
	size_t i;
	int r;

	r = program_arg(ctx, &i, &how);
	if (r < 0)
		return r;
	if (i < ctx->argc)
		name = ctx->argv[i];
	if (!name[0])
		return -ENOENT;
	rs = calloc(1, sizeof(*rs));
	w = calloc(1, sizeof(*w));
	if (!rs || !w) {
		r = -ENOMEM;
		goto out;
	}
	rs->sr = sr;
	rs->cwd = ctx->cwd;
	rs->prefix_r = wine_exe_prefix(ctx, rs->prefix, sizeof(rs->prefix));
	switch (how) {
	case HOW_UNIX:
		walk_init(w, sr);
		r = walk_path(w, name);
		if (r == 0)
			r = finish(w, path, size);
		break;
	case HOW_START: r = resolve_search(rs, name, w, path, size); break;
	case HOW_LOADER: r = resolve_loader(rs, name, w, path, size); break;
	}
out:
	free(rs);
	free(w);
	return r;
}
