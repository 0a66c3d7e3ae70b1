/* client.plugins: no code injected into a running approved client (preload variables,
 * foreign or fileless mappings, patched or extra DLLs in its Wine prefix). docs/checks/client.md.
 */
#include "agent/checks/check.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "agent/checks/client/check_client.h"
#include "agent/host/manifest.h"
#include "agent/host/passwd.h"

#define MAPS_MAX (16u * 1024 * 1024)
#define MANIFEST_MAX (8u * 1024 * 1024)

/* DLL names Windows programs load from their own directory first: a copy next to the exe
 * is the classic proxy-DLL hook (multi-open and message-hook tools ship one of these). */
static const char *const proxy_dlls[] = {
	"version.dll",   "winmm.dll",   "winhttp.dll",  "wininet.dll", "dbghelp.dll",
	"dinput8.dll",   "d3d9.dll",    "d3d11.dll",    "dxgi.dll",    "ddraw.dll",
	"dsound.dll",    "msimg32.dll", "iphlpapi.dll", "userenv.dll", "wtsapi32.dll",
	"uxtheme.dll",   "dwmapi.dll",  "hid.dll",      "lpk.dll",     "usp10.dll",
	"cryptbase.dll", "secur32.dll", "winspool.drv", "mswsock.dll",
};

static const char *const leftover_suffixes[] = { ".dll.bak", ".exe.bak", ".orig" };

/* A client's manifest, loaded on first use. */
struct client_manifest {
	const struct policy_client *c;
	int err; /* 0 loaded, -errno could not (reported once) */
	struct manifest m;
};

/* The processes of one client run by one user: one Wine prefix to inspect. */
struct group {
	const struct policy_client *c;
	uid_t uid;
	char *home;           /* NULL when passwd does not know the user */
	struct strv exe_dirs; /* directories of the Windows executables (Wine) */
	unsigned n_procs;
};

struct plugins {
	const struct policy *pol;
	const struct sysroot *sr;
	struct pkgdb *db;
	struct check_client_findings f;
	struct client_manifest *manifests; /* one per client, loaded on first use */
	struct group *groups;
	size_t n_groups;
	struct strv seen; /* "<client>\t<path>" already reported */
	unsigned n_procs, n_maps, n_prefix_files;
	unsigned max_entries, n_entries;
};

/* ---- manifest ---- */

static const struct manifest *manifest_get(struct plugins *pl, const struct policy_client *c)
{
	size_t idx = (size_t)(c - pl->pol->clients);
	struct client_manifest *cm = &pl->manifests[idx];
	char *text = NULL;

	if (!c->wine_manifest)
		return NULL;
	if (cm->c)
		return cm->err ? NULL : &cm->m;
	cm->c = c;
	cm->err = sysroot_read_file(pl->sr, c->wine_manifest, MANIFEST_MAX, &text, NULL);
	if (cm->err == 0)
		cm->err = manifest_parse(text, &cm->m);
	if (cm->err == 0 && cm->m.n == 0)
		cm->err = -EBADMSG;
	free(text);
	if (cm->err) {
		check_client_finding(&pl->f, CHECK_UNKNOWN, "wine.manifest",
				     "client %s: cannot use %s: %s", c->id, c->wine_manifest,
				     cm->err == -EBADMSG ? "no sha256sum lines"
							 : strerror(-cm->err));
		return NULL;
	}
	return &cm->m;
}

static void manifests_free(struct plugins *pl)
{
	for (size_t i = 0; pl->manifests && i < pl->pol->n_clients; i++)
		manifest_clear(&pl->manifests[i].m);
	free(pl->manifests);
}

/* ---- helpers ---- */

/* Report a path once per client (many processes map the same library). */
static bool first_time(struct plugins *pl, const struct policy_client *c, char tag,
		       const char *what)
{
	char *k = NULL;

	if (asprintf(&k, "%c\t%s\t%s", tag, c->id, what) < 0)
		return true;
	if (strv_contains(&pl->seen, k)) {
		free(k);
		return false;
	}
	(void)strv_push_take(&pl->seen, k);
	return true;
}

static const char *prefix_rel(const char *prefix, const char *path)
{
	size_t l = strlen(prefix);

	if (strncmp(path, prefix, l) == 0 && path[l] == '/')
		return path + l + 1;
	return NULL;
}

static bool ends_with_ci(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

static bool filter_name_ci(const struct dirent *de, void *userdata)
{
	return strcasecmp(de->d_name, userdata) == 0;
}

/* Find path case-insensitively, component by component, as Wine does. */
static bool resolve_ci(const struct sysroot *sr, const char *path, char *out, size_t size)
{
	char cur[PATH_MAX] = "";
	const char *p = path;

	if (sysroot_exists(sr, path)) {
		snprintf(out, size, "%s", path);
		return true;
	}
	while (*p) {
		char comp[NAME_MAX + 1], next[PATH_MAX];
		size_t n;
		struct strv names = { 0 };

		while (*p == '/')
			p++;
		n = strcspn(p, "/");
		if (!n)
			break;
		if (n > NAME_MAX)
			return false;
		memcpy(comp, p, n);
		comp[n] = 0;
		p += n;
		snprintf(next, sizeof(next), "%s/%s", cur, comp);
		if (!sysroot_exists(sr, next)) {
			if (sysroot_list_dir(sr, cur[0] ? cur : "/", filter_name_ci, comp, &names) <
			    0)
				return false;
			if (!names.n)
				return false;
			snprintf(next, sizeof(next), "%s/%s", cur, names.v[0]);
			strv_clear(&names);
		}
		snprintf(cur, sizeof(cur), "%s", next);
	}
	snprintf(out, size, "%s", cur[0] ? cur : "/");
	return true;
}

/* Drop "." and "name/.." components, as the kernel would for real directories. */
static void path_normalize(char *path)
{
	char *out = path, *s = path;

	while (*s) {
		size_t n;

		while (*s == '/')
			s++;
		n = strcspn(s, "/");
		if (n == 0)
			break;
		if (n == 1 && s[0] == '.') {
			s += n;
			continue;
		}
		if (n == 2 && s[0] == '.' && s[1] == '.') {
			while (out > path && *--out != '/')
				;
			s += n;
			continue;
		}
		*out++ = '/';
		memmove(out, s, n);
		out += n;
		s += n;
	}
	if (out == path)
		*out++ = '/';
	*out = 0;
}

/* "C:\Program Files\WXWork\WXWork.exe" -> <prefix>/drive_c/Program Files/WXWork/WXWork.exe */
static bool windows_to_unix(const struct sysroot *sr, const char *prefix, const char *win,
			    char *out, size_t size)
{
	char dev[PATH_MAX], link[PATH_MAX], base[PATH_MAX], tmp[PATH_MAX];
	char letter;
	size_t o;
	int n;

	if (win[0] == '/')
		return resolve_ci(sr, win, out, size);
	if (!isalpha((unsigned char)win[0]) || win[1] != ':' || (win[2] != '\\' && win[2] != '/'))
		return false;
	letter = (char)tolower((unsigned char)win[0]);
	if (snprintf(dev, sizeof(dev), "%s/dosdevices/%c:", prefix, letter) >= (int)sizeof(dev))
		return false;
	if (sysroot_readlink(sr, dev, link, sizeof(link)) == 0) {
		if (link[0] == '/')
			n = snprintf(base, sizeof(base), "%s", strcmp(link, "/") == 0 ? "" : link);
		else
			n = snprintf(base, sizeof(base), "%s/dosdevices/%s", prefix, link);
	} else if (letter == 'c') {
		n = snprintf(base, sizeof(base), "%s/drive_c", prefix);
	} else if (letter == 'z') {
		n = snprintf(base, sizeof(base), "%s", "");
	} else {
		return false;
	}
	if (n < 0 || n >= (int)sizeof(base))
		return false;
	o = (size_t)snprintf(tmp, sizeof(tmp), "%s/", base);
	for (const char *s = win + 3; *s && o + 1 < sizeof(tmp); s++)
		tmp[o++] = *s == '\\' ? '/' : *s;
	tmp[o] = 0;
	path_normalize(tmp);
	return resolve_ci(sr, tmp, out, size);
}

static struct group *group_get(struct plugins *pl, const struct policy_client *c, uid_t uid)
{
	struct group *nv;

	for (size_t i = 0; i < pl->n_groups; i++)
		if (pl->groups[i].c == c && pl->groups[i].uid == uid)
			return &pl->groups[i];
	nv = realloc(pl->groups, (pl->n_groups + 1) * sizeof(*nv));
	if (!nv)
		return NULL;
	pl->groups = nv;
	memset(&nv[pl->n_groups], 0, sizeof(*nv));
	nv[pl->n_groups].c = c;
	nv[pl->n_groups].uid = uid;
	(void)passwd_lookup_uid(pl->sr, uid, NULL, &nv[pl->n_groups].home);
	return &pl->groups[pl->n_groups++];
}

static bool wine_prefix_path(const struct group *g, char *buf, size_t size)
{
	const char *rel = check_client_wine_prefix(g->c);

	if (!rel || !g->home)
		return false;
	return snprintf(buf, size, "%s%s%s", g->home, str_endswith(g->home, "/") ? "" : "/", rel) <
	       (int)size;
}

/* ---- environment ---- */

static void check_env(struct plugins *pl, const struct check_client_proc *cp, struct group *g,
		      const char *user)
{
	const struct policy_client *c = g->c;
	struct proc_info pe = { 0 };
	const char *v;
	char prefix[PATH_MAX];
	int pid = (int)cp->pi.pid, r;

	r = proc_read(pl->sr, cp->pi.pid, PROC_WANT_ENV, &pe);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		check_client_finding(&pl->f, CHECK_UNKNOWN, "plugins.env",
				     "pid %d (%s): cannot read environ: %s", pid, user,
				     strerror(-r));
		return;
	}
	if ((v = proc_getenv(&pe, "LD_PRELOAD")) && *v)
		check_client_finding(&pl->f, CHECK_FAIL, "plugins.env",
				     "pid %d (%s): LD_PRELOAD=%s", pid, user, v);
	if ((v = proc_getenv(&pe, "LD_AUDIT")) && *v)
		check_client_finding(&pl->f, CHECK_FAIL, "plugins.env", "pid %d (%s): LD_AUDIT=%s",
				     pid, user, v);
	if ((v = proc_getenv(&pe, "LD_LIBRARY_PATH")) && *v) {
		/* Launch scripts set it to the client's own directories: only others count. An
		 * empty element means the current directory. */
		const char *s = v;

		for (;;) {
			size_t n = strcspn(s, ":");
			char dir[PATH_MAX];

			snprintf(dir, sizeof(dir), "%.*s/", (int)n, s);
			if (n == 0 || dir[0] != '/' ||
			    !policy_lib_dir_match(&c->lib_dirs, g->home, dir)) {
				check_client_finding(
					&pl->f, CHECK_FAIL, "plugins.env",
					"pid %d (%s): LD_LIBRARY_PATH=%s names %s outside lib_dirs",
					pid, user, v, n ? dir : "the current directory");
				break;
			}
			if (!s[n])
				break;
			s += n + 1;
		}
	}
	if (c->wine_prefix && (v = proc_getenv(&pe, "WINEDLLOVERRIDES")) && *v) {
		/* "a,b=n,b;c=" : a mode with 'n' loads a native (file) DLL in place of Wine's own.
		 */
		char *copy = strdup(v), *save = NULL;

		for (char *e = copy ? strtok_r(copy, ";", &save) : NULL; e;
		     e = strtok_r(NULL, ";", &save)) {
			char *eq = strchr(e, '=');

			if (eq && strchr(eq + 1, 'n')) {
				check_client_finding(
					&pl->f, CHECK_FAIL, "plugins.env",
					"pid %d (%s): WINEDLLOVERRIDES=%s loads native DLLs (%.*s)",
					pid, user, v, (int)(eq - e), e);
				break;
			}
		}
		free(copy);
	}
	if (c->wine_prefix && (v = proc_getenv(&pe, "WINEPREFIX")) && *v &&
	    wine_prefix_path(g, prefix, sizeof(prefix))) {
		char want[PATH_MAX], have[PATH_MAX];

		snprintf(want, sizeof(want), "%s", prefix);
		snprintf(have, sizeof(have), "%s", v);
		while (strlen(have) > 1 && str_endswith(have, "/"))
			have[strlen(have) - 1] = 0;
		if (strcmp(want, have) != 0)
			check_client_finding(
				&pl->f, CHECK_FAIL, "plugins.wine_prefix",
				"pid %d (%s): runs in Wine prefix %s, the policy's is %s", pid,
				user, have, want);
	}
	proc_info_clear(&pe);
}

/* ---- mappings ---- */

static bool allowed_file(struct plugins *pl, const struct group *g, const char *path,
			 const char *prefix, const struct manifest *m, bool *in_manifest)
{
	const char *rel;

	*in_manifest = false;
	if (m && prefix[0] && (rel = prefix_rel(prefix, path))) {
		/* Inside the prefix with a manifest: the manifest is the list of what may load. */
		*in_manifest = manifest_find(m, rel) != NULL;
		return *in_manifest;
	}
	if (policy_lib_dir_match(&g->c->lib_dirs, g->home, path))
		return true;
	return g->c->package && pkgdb_owns(pl->db, g->c->package, path) > 0;
}

static void check_maps(struct plugins *pl, const struct check_client_proc *cp, struct group *g,
		       const char *user)
{
	const struct manifest *m = manifest_get(pl, g->c);
	char path[64], prefix[PATH_MAX] = "", *buf = NULL;
	int pid = (int)cp->pi.pid, r;
	bool in_manifest;

	snprintf(path, sizeof(path), "/proc/%d/maps", pid);
	r = sysroot_read_file(pl->sr, path, MAPS_MAX, &buf, NULL);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		check_client_finding(&pl->f, CHECK_UNKNOWN, "plugins.maps",
				     "pid %d (%s): cannot read maps: %s", pid, user, strerror(-r));
		return;
	}
	if (g->c->wine_prefix && !wine_prefix_path(g, prefix, sizeof(prefix)))
		prefix[0] = 0;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char perms[8], *file;
		int off = 0;
		bool deleted;

		/* start-end perms offset dev inode [path] */
		if (sscanf(l, "%*s %7s %*s %*s %*s %n", perms, &off) != 1 || !off)
			continue;
		if (strlen(perms) < 3 || perms[2] != 'x')
			continue; /* only code: data mappings (fonts, shared memory) cannot run */
		file = l + off;
		while (*file == ' ')
			file++;
		if (!*file || *file == '[')
			continue; /* anonymous, [vdso], [vsyscall]... */
		pl->n_maps++;
		if (str_startswith(file, "/memfd:")) {
			if (first_time(pl, g->c, 'm', file))
				check_client_finding(
					&pl->f, CHECK_FAIL, "plugins.memfd",
					"pid %d (%s): executable memory from %s (fileless code)",
					pid, user, file);
			continue;
		}
		if (*file != '/') {
			if (first_time(pl, g->c, 'm', file))
				check_client_finding(&pl->f, CHECK_FAIL, "plugins.foreign",
						     "pid %d (%s): executable mapping of %s", pid,
						     user, file);
			continue;
		}
		if (str_startswith(file, "/dev/") && !str_startswith(file, "/dev/shm/"))
			continue; /* device memory */
		deleted = str_endswith(file, " (deleted)");
		if (deleted)
			file[strlen(file) - strlen(" (deleted)")] = 0;
		if (!first_time(pl, g->c, 'm', file))
			continue;
		if (allowed_file(pl, g, file, prefix, m, &in_manifest)) {
			if (deleted)
				check_client_finding(
					&pl->f, CHECK_WARN, "plugins.deleted",
					"pid %d (%s): %s was replaced on disk after it was loaded",
					pid, user, file);
			continue;
		}
		if (deleted)
			check_client_finding(
				&pl->f, CHECK_FAIL, "plugins.deleted",
				"pid %d (%s): %s (deleted) is loaded from outside lib_dirs", pid,
				user, file);
		else if (m && prefix[0] && prefix_rel(prefix, file))
			check_client_finding(
				&pl->f, CHECK_FAIL, "plugins.foreign",
				"pid %d (%s): %s is loaded but not in the Wine manifest", pid, user,
				file);
		else
			check_client_finding(&pl->f, CHECK_FAIL, "plugins.foreign",
					     "pid %d (%s): %s is loaded from outside lib_dirs and "
					     "is not part of package %s",
					     pid, user, file,
					     g->c->package ? g->c->package : "(none)");
	}
	free(buf);
}

/* ---- Wine prefix ---- */

static bool in_list_ci(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return true;
	return false;
}

static void scan_prefix_dir(struct plugins *pl, const struct group *g, const char *prefix,
			    const char *dir, const struct manifest *m, bool exe_dir)
{
	struct strv names = { 0 };

	(void)sysroot_list_dir(pl->sr, dir, NULL, NULL, &names);
	for (size_t k = 0; k < names.n; k++) {
		const char *name = names.v[k], *rel;
		char p[PATH_MAX];
		struct stat st;

		if (pl->n_entries++ >= pl->max_entries) {
			check_client_finding(&pl->f, CHECK_WARN, "wine.scan_incomplete",
					     "%s: stopped after %u entries ([scan] max_entries)",
					     dir, pl->max_entries);
			break;
		}
		if (snprintf(p, sizeof(p), "%s/%s", dir, name) >= (int)sizeof(p) ||
		    sysroot_lstat(pl->sr, p, &st) < 0 || S_ISDIR(st.st_mode))
			continue;
		rel = prefix_rel(prefix, p);
		if (!first_time(pl, g->c, 'd', p))
			continue;
		for (size_t i = 0; i < sizeof(leftover_suffixes) / sizeof(leftover_suffixes[0]);
		     i++)
			if (ends_with_ci(name, leftover_suffixes[i])) {
				check_client_finding(&pl->f, CHECK_FAIL, "wine.leftover",
						     "%s: backup left by a patcher (client %s)", p,
						     g->c->id);
				goto next;
			}
		if (!ends_with_ci(name, ".dll") && !ends_with_ci(name, ".exe") &&
		    !ends_with_ci(name, ".drv"))
			continue;
		if (m && rel && manifest_find(m, rel))
			continue;
		if (exe_dir &&
		    in_list_ci(name, proxy_dlls, sizeof(proxy_dlls) / sizeof(proxy_dlls[0])))
			check_client_finding(&pl->f, CHECK_FAIL, "wine.proxy_dll",
					     "%s: a %s next to the client's executable is a "
					     "proxy-DLL hook (client %s)",
					     p, name, g->c->id);
		else if (m)
			check_client_finding(&pl->f, CHECK_FAIL, "wine.extra",
					     "%s: not in the Wine manifest %s", p,
					     g->c->wine_manifest);
next:;
	}
	strv_clear(&names);
}

static void check_prefix(struct plugins *pl, struct group *g)
{
	const struct manifest *m = manifest_get(pl, g->c);
	struct strv dirs = { 0 };
	char prefix[PATH_MAX], who[64];

	check_client_user_label(pl->sr, g->uid, who, sizeof(who));
	if (!wine_prefix_path(g, prefix, sizeof(prefix))) {
		check_client_finding(&pl->f, CHECK_UNKNOWN, "wine.prefix",
				     "client %s, user %s: home directory unknown", g->c->id, who);
		return;
	}
	if (!sysroot_exists(pl->sr, prefix)) {
		check_client_finding(&pl->f, CHECK_UNKNOWN, "wine.prefix",
				     "%s: missing (client %s, user %s)", prefix, g->c->id, who);
		return;
	}
	check_client_finding(&pl->f, CHECK_PASS, "wine.prefix", "%s (client %s, user %s)", prefix,
			     g->c->id, who);
	for (size_t i = 0; m && i < m->n; i++) {
		char p[PATH_MAX], sha[HASH_SHA256_HEX], *slash;
		int r;

		if (snprintf(p, sizeof(p), "%s/%s", prefix, m->v[i].rel) >= (int)sizeof(p))
			continue;
		pl->n_prefix_files++;
		r = pkgdb_digest(pl->db, p, NULL, sha);
		if (r == -ENOENT)
			check_client_finding(&pl->f, CHECK_WARN, "wine.missing",
					     "%s: in the manifest, not on disk", p);
		else if (r < 0)
			check_client_finding(&pl->f, CHECK_UNKNOWN, "wine.unreadable", "%s: %s", p,
					     strerror(-r));
		else if (strcmp(sha, m->v[i].sha256) != 0)
			check_client_finding(&pl->f, CHECK_FAIL, "wine.changed",
					     "%s: sha256 %s differs from the manifest (patched)", p,
					     sha);
		slash = strrchr(p, '/');
		*slash = 0;
		if (!strv_contains(&dirs, p))
			(void)strv_push(&dirs, p);
	}
	for (size_t i = 0; i < g->exe_dirs.n; i++)
		scan_prefix_dir(pl, g, prefix, g->exe_dirs.v[i], m, true);
	for (size_t i = 0; i < dirs.n; i++)
		if (!strv_contains(&g->exe_dirs, dirs.v[i]))
			scan_prefix_dir(pl, g, prefix, dirs.v[i], m, false);
	if (!m && !g->c->wine_manifest)
		check_client_finding(
			&pl->f, CHECK_PASS, "wine.manifest",
			"client %s: no wine_manifest in the policy; DLLs are not compared",
			g->c->id);
	strv_clear(&dirs);
}

/* The directory of the client's Windows executable: the argv element that matched the
 * client's argv patterns (start.exe /unix C:\...\WXWork.exe names it too), else argv[0] of
 * the renamed process itself. */
static void note_exe_dir(struct plugins *pl, const struct check_client_proc *cp, struct group *g)
{
	const struct policy_client *c = g->c;
	char prefix[PATH_MAX], unix_path[PATH_MAX], *slash;
	const char *win = NULL;

	if (!wine_prefix_path(g, prefix, sizeof(prefix)))
		return;
	for (size_t i = 0; i < cp->pi.argv.n && !win; i++)
		if (strv_fnmatch_any(&c->argv, cp->pi.argv.v[i], FNM_NOESCAPE | FNM_CASEFOLD) >= 0)
			win = cp->pi.argv.v[i];
	if (!win && cp->pi.argv.n && strv_contains(&c->comm, cp->pi.comm))
		win = cp->pi.argv.v[0];
	if (!win || !ends_with_ci(win, ".exe") ||
	    !windows_to_unix(pl->sr, prefix, win, unix_path, sizeof(unix_path)))
		return;
	slash = strrchr(unix_path, '/');
	if (!slash || slash == unix_path)
		return;
	*slash = 0;
	if (!strv_contains(&g->exe_dirs, unix_path))
		(void)strv_push(&g->exe_dirs, unix_path);
}

static void check_ld_so_preload(struct plugins *pl)
{
	char *text = NULL;

	if (sysroot_read_file(pl->sr, "/etc/ld.so.preload", 1024 * 1024, &text, NULL) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		str_strip(l);
		if (*l && *l != '#') {
			check_client_finding(&pl->f, CHECK_FAIL, "plugins.ld_so_preload",
					     "/etc/ld.so.preload loads %s into every process, the "
					     "clients included",
					     l);
			break;
		}
	}
	free(text);
}

int check_client_plugins(struct check_ctx *ctx, struct check_result *r)
{
	struct plugins pl = { .pol = ctx->policy, .sr = ctx->root };
	struct check_client_procs ps = { 0 };
	char pass_en[200], pass_zh[200];
	int ret;

	if (!pl.pol->n_clients) {
		check_result_set(r, CHECK_NOT_APPLICABLE, "the policy names no approved client",
				 "策略中没有批准的客户端");
		return 0;
	}
	ret = check_client_procs_read(pl.sr, pl.pol, &ps);
	if (ret < 0) {
		check_result_set(r, CHECK_UNKNOWN, "cannot list processes: %s", "无法列出进程：%s",
				 strerror(-ret));
		return 0;
	}
	ret = check_client_pkgdb(ctx, &pl.db);
	if (ret < 0)
		goto out;
	pl.manifests = calloc(pl.pol->n_clients, sizeof(*pl.manifests));
	if (!pl.manifests) {
		ret = -ENOMEM;
		goto out;
	}
	pl.max_entries = check_client_scan_entries(&pl.pol->scan);
	check_client_findings_init(&pl.f, r);

	for (size_t i = 0; i < ps.n; i++) {
		const struct check_client_proc *cp = &ps.v[i];
		const struct policy_client *c = cp->m.client;
		struct group *g;
		char user[64];

		if (!c || !check_client_is_client(cp, c))
			continue;
		g = group_get(&pl, c, cp->pi.uid);
		if (!g) {
			ret = -ENOMEM;
			goto out;
		}
		g->n_procs++;
		pl.n_procs++;
		check_client_user_label(pl.sr, cp->pi.uid, user, sizeof(user));
		check_env(&pl, cp, g, user);
		check_maps(&pl, cp, g, user);
		if (c->wine_prefix)
			note_exe_dir(&pl, cp, g);
	}
	if (pl.n_procs == 0) {
		check_result_set(r, CHECK_PASS, "no approved client is running: nothing to inspect",
				 "没有正在运行的已批准客户端：无需检查");
		ret = 0;
		goto out;
	}
	check_ld_so_preload(&pl);
	for (size_t i = 0; i < pl.n_groups; i++)
		if (pl.groups[i].c->wine_prefix)
			check_prefix(&pl, &pl.groups[i]);
	(void)pkgdb_flush(pl.db);

	snprintf(pass_en, sizeof(pass_en),
		 "no plugin or injected code in the running clients (%u processes, %u code "
		 "mappings, %u prefix files)",
		 pl.n_procs, pl.n_maps, pl.n_prefix_files);
	snprintf(
		pass_zh, sizeof(pass_zh),
		"正在运行的客户端中没有插件或注入的代码（%u 个进程，%u 个代码映射，%u 个前缀文件）",
		pl.n_procs, pl.n_maps, pl.n_prefix_files);
	check_client_findings_finish(&pl.f, pass_en, pass_zh,
				     "plugin or injected code in a chat client",
				     "聊天客户端中有插件或注入的代码");
	if (pl.f.status == CHECK_FAIL)
		check_result_fix(r,
				 "Quit the client, remove the plugin or patch (restore the files "
				 "from the package or "
				 "reinstall it, delete extra DLLs and backups from the Wine "
				 "prefix, unset LD_PRELOAD) "
				 "and start it again from the menu (rule client.plugins).",
				 "退出客户端，移除插件或补丁（从软件包恢复文件或重新安装，删除 "
				 "Wine 前缀中多余的 DLL 和备份文件，"
				 "取消 LD_PRELOAD），然后从菜单重新启动（规则 client.plugins）。");
	else if (pl.f.status == CHECK_WARN)
		check_result_fix(
			r,
			"Restart the client so it loads its current files (rule client.plugins).",
			"请重新启动客户端，使其加载当前的文件（规则 client.plugins）。");
	else if (pl.f.status == CHECK_UNKNOWN)
		check_result_fix(r,
				 "Run wxguard as root so it can read every process's maps and "
				 "environment; check "
				 "the wine_manifest path in the policy (rule client.plugins).",
				 "请以 root 身份运行 "
				 "wxguard，以便读取所有进程的内存映射和环境变量；并检查策略中的 "
				 "wine_manifest 路径（规则 client.plugins）。");
	ret = 0;
out:
	for (size_t i = 0; i < pl.n_groups; i++) {
		free(pl.groups[i].home);
		strv_clear(&pl.groups[i].exe_dirs);
	}
	free(pl.groups);
	manifests_free(&pl);
	strv_clear(&pl.seen);
	check_client_findings_clear(&pl.f);
	check_client_procs_clear(&ps);
	pkgdb_free(pl.db);
	return ret;
}
