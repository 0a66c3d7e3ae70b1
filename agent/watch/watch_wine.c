/* Judging what an approved Wine loader runs: the .exe, its prefix, its digest and its version
 * resource (watch_wine.h has the rules; docs/wine.md). */
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/host/manifest.h"
#include "agent/host/proc.h"
#include "agent/host/wine_exe.h"
#include "agent/watch/watch_wine.h"
#include "common/log.h"
#include "common/policy/policy_match.h"
#include "common/strv.h"
#include "common/path.h"

#define MANIFEST_MAX (16u << 20)

static void verdict_deny(struct watch_wine_verdict *v, const char *fmt, const char *a,
			 const char *b)
{
	v->deny = true;
	snprintf(v->why, sizeof(v->why), fmt, a, b ? b : "");
}

/* realpath through the sysroot: the result as the real system sees it. */
static int real_of(const struct sysroot *sr, const char *abs, char *buf, size_t size)
{
	char p[PATH_MAX], r[PATH_MAX], root[PATH_MAX];
	size_t rl;
	int k;

	k = sysroot_path(sr, abs, p, sizeof(p));
	if (k < 0)
		return k;
	if (!realpath(p, r))
		return -errno;
	k = sysroot_path(sr, "/", root, sizeof(root));
	if (k < 0)
		return k;
	rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	if (rl > 1 && strncmp(r, root, rl) == 0 && (r[rl] == '/' || r[rl] == 0))
		memmove(r, r + rl, strlen(r + rl) + 1);
	if (!r[0])
		snprintf(r, sizeof(r), "/");
	if ((size_t)snprintf(buf, size, "%s", r) >= size)
		return -ENAMETOOLONG;
	return 0;
}

/* The client's manifest entry for exe (a path under prefix): 1 listed with this digest, 0 not
 * listed, -ESTALE listed with another digest, -errno the manifest cannot be read. */
static int manifest_says(const struct sysroot *sr, const char *manifest_path, const char *prefix,
			 const char *exe, const char *sha256)
{
	struct manifest m = {};
	const struct manifest_ent *ent;
	char *text = NULL;
	size_t pl = strlen(prefix);
	int r;

	if (strncmp(exe, prefix, pl) != 0 || exe[pl] != '/')
		return 0;
	r = sysroot_read_file(sr, manifest_path, MANIFEST_MAX, &text, NULL);
	if (r < 0)
		return r;
	r = manifest_parse(text, &m);
	if (r < 0)
		goto out;
	ent = manifest_find(&m, exe + pl + 1);
	if (!ent)
		r = 0;
	else
		r = strcmp(ent->sha256, sha256) == 0 ? 1 : -ESTALE;
out:
	manifest_clear(&m);
	free(text);
	return r;
}

/* Does the version resource name a denied client? Its OriginalFilename, ProductName.exe and,
 * for a Tencent WeChat build, WeChat.exe are matched as process names against the deny
 * sections. */
static const struct policy_deny *denied_by_content(const struct policy *p,
						   const struct wine_exe_id *id, char *name,
						   size_t size)
{
	const struct pe_version *ver = &id->version;
	char cands[3][64] = { "", "", "" };
	struct policy_match m;

	if (ver->original_filename)
		snprintf(cands[0], sizeof(cands[0]), "%.15s", ver->original_filename);
	if (ver->product_name)
		snprintf(cands[1], sizeof(cands[1]), "%.11s.exe", ver->product_name);
	if (wine_exe_family(id) == WINE_EXE_WECHAT)
		snprintf(cands[2], sizeof(cands[2]), "WeChat.exe");
	for (size_t i = 0; i < 3; i++) {
		if (!cands[i][0])
			continue;
		policy_match_process(p, cands[i], NULL, NULL, 0, &m);
		if (m.kind == POLICY_MATCH_DENIED) {
			snprintf(name, size, "%.63s", cands[i]);
			return m.deny;
		}
	}
	return NULL;
}

int watch_wine_image_why(const struct sysroot *sr, const struct policy_client *c, const char *home,
			 const char *path, char *why, size_t size)
{
	char tmp[PATH_MAX], prefix[PATH_MAX];
	struct manifest m = {};
	char *text = NULL;
	size_t pl;
	int r;

	if (!c->wine_prefix || !c->wine_manifest || !home || path[0] != '/')
		return 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s/%s", home, c->wine_prefix) >= sizeof(tmp) ||
	    real_of(sr, tmp, prefix, sizeof(prefix)) < 0)
		return 0;
	pl = strlen(prefix);
	if (strncmp(path, prefix, pl) != 0 || path[pl] != '/')
		return 0;
	r = sysroot_read_file(sr, c->wine_manifest, MANIFEST_MAX, &text, NULL);
	if (r < 0)
		return r;
	r = manifest_parse(text, &m);
	if (r >= 0) {
		if (manifest_find(&m, path + pl + 1))
			snprintf(
				why, size,
				"%.2000s differs from the client's manifest %.1000s (changed since "
				"it was listed)",
				path, c->wine_manifest);
		else
			snprintf(why, size,
				 "%.2000s is not in the client's manifest %.1000s: only the "
				 "manifest's programs and DLLs are loaded in its Wine prefix",
				 path, c->wine_manifest);
		r = 1;
	}
	manifest_clear(&m);
	free(text);
	return r;
}

static bool is_shell(const char *path)
{
	const char *b = path_basename(path);

	return strcmp(b, "sh") == 0 || strcmp(b, "bash") == 0 || strcmp(b, "dash") == 0;
}

/* A shell running a script with the client's program in its arguments (the kernel leaves it to
 * user space: bpf/watch_exec.bpf.h): the script must be one of the client's own launchers, a
 * file matching its exe globs (Debian's /usr/bin/wine, deepin's run.sh), not `sh -c` or any
 * other script. 0 when it is, else why not in why. */
static int launcher_ok(const struct sysroot *sr, const struct policy_client *c,
		       const struct wine_exe_ctx *ctx, char *why, size_t size)
{
	const char *script = NULL;
	char real[PATH_MAX];

	for (size_t i = 1; i < ctx->argc && !script; i++) {
		if (strcmp(ctx->argv[i], "-c") == 0)
			break;
		if (ctx->argv[i][0] != '-')
			script = ctx->argv[i];
	}
	if (!script) {
		snprintf(why, size,
			 "a shell command names the client's program (no launcher script)");
		return -ENOEXEC;
	}
	if (script[0] != '/' || real_of(sr, script, real, sizeof(real)) < 0 ||
	    (strv_fnmatch_any(&c->exe, real, FNM_NOESCAPE) < 0 &&
	     strv_fnmatch_any(&c->exe, script, FNM_NOESCAPE) < 0)) {
		snprintf(why, size,
			 "%.2000s runs the client's program and is not one of its launchers",
			 script);
		return -EPERM;
	}
	return 0;
}

/* Live processes of uid, other than self, running the client's program: Wine rewrites a
 * process's argv to the Windows command line, so argv[0] is the program's Windows path
 * (C:\Program Files\WXWork\WXWork.exe), matched against the client's argv patterns. Every
 * prefix counts. */
static unsigned running_instances(const struct sysroot *sr, const struct policy_client *c,
				  uid_t uid, pid_t self)
{
	pid_t *pids = NULL;
	size_t n_pids = 0;
	unsigned n = 0;

	if (proc_list_pids(sr, &pids, &n_pids) < 0)
		return 0;
	for (size_t i = 0; i < n_pids; i++) {
		struct proc_info pi = {};

		if (pids[i] == self || proc_read(sr, pids[i], PROC_WANT_ARGV, &pi) < 0)
			continue;
		if (pi.uid == uid && pi.argv.n &&
		    strv_fnmatch_any(&c->argv, pi.argv.v[0], FNM_NOESCAPE | FNM_CASEFOLD) >= 0)
			n++;
		proc_info_clear(&pi);
	}
	free(pids);
	return n;
}

int watch_wine_judge(const struct sysroot *sr, const struct policy *p,
		     const struct policy_client *c, pid_t pid, const char *home,
		     struct watch_wine_verdict *v)
{
	struct proc_info pi = {};
	struct wine_exe_ctx ctx = {};
	struct wine_exe_id id = {};
	const struct policy_deny *d;
	char link[64], cwd[PATH_MAX] = "/", want[PATH_MAX] = "", tmp[PATH_MAX], name[64];
	bool own_prefix = false, client_name = false, have_id = false;
	size_t idx;
	bool unix_path;
	int r;

	memset(v, 0, sizeof(*v));
	snprintf(v->family, sizeof(v->family), "other");
	r = proc_read(sr, pid, PROC_WANT_ARGV | PROC_WANT_ENV, &pi);
	if (r < 0)
		return r;
	snprintf(link, sizeof(link), "/proc/%d/cwd", (int)pid);
	if (sysroot_readlink(sr, link, cwd, sizeof(cwd)) < 0)
		snprintf(cwd, sizeof(cwd), "/");
	ctx.argv = (const char *const *)pi.argv.v;
	ctx.argc = pi.argv.n;
	ctx.cwd = cwd;
	ctx.wineprefix = proc_getenv(&pi, "WINEPREFIX");
	ctx.home = proc_getenv(&pi, "HOME");
	if (!ctx.home || ctx.home[0] != '/')
		ctx.home = home;

	if (wine_exe_prefix(&ctx, tmp, sizeof(tmp)) == 0 &&
	    real_of(sr, tmp, v->prefix, sizeof(v->prefix)) < 0)
		snprintf(v->prefix, sizeof(v->prefix), "%s", tmp);
	if (c->wine_prefix && home) {
		snprintf(tmp, sizeof(tmp), "%s/%s", home, c->wine_prefix);
		if (real_of(sr, tmp, want, sizeof(want)) < 0)
			snprintf(want, sizeof(want), "%s", tmp); /* not there: no process uses it */
		else
			own_prefix = v->prefix[0] && strcmp(want, v->prefix) == 0;
	}
	v->own_prefix = own_prefix;

	/* wineserver serves the prefix; it runs no Windows program. By the executable, never by
	 * argv[0], which the caller of execve chooses. */
	if (pi.exe && strncmp(path_basename(pi.exe), "wineserver", 10) == 0) {
		r = 0;
		goto out;
	}
	/* A shell: only the client's own launcher script may start its program. */
	if (pi.exe && is_shell(pi.exe) && launcher_ok(sr, c, &ctx, v->why, sizeof(v->why))) {
		v->deny = true;
		r = 0;
		goto out;
	}
	r = wine_exe_program_arg(&ctx, &idx, &unix_path);
	if (r == -ENODATA || r == -ENOEXEC) {
		r = 0; /* no program (wineserver's start, --version) or a shell: Wine's machinery */
		goto out;
	}
	if (r == 0 && idx < ctx.argc)
		snprintf(v->program, sizeof(v->program), "%s", ctx.argv[idx]);
	for (size_t i = 0; i < ctx.argc && !client_name; i++)
		client_name = strv_fnmatch_any(&c->argv, ctx.argv[i],
					       FNM_NOESCAPE | FNM_CASEFOLD) >= 0;
	if (r == 0)
		r = wine_exe_resolve(sr, &ctx, v->exe, sizeof(v->exe));
	if (r == 0) {
		r = wine_exe_identify(sr, v->exe, &id);
		have_id = r == 0;
	}
	if (r < 0) {
		/* The client's prefix under a manifest runs only what can be told. */
		if (own_prefix && c->wine_manifest)
			verdict_deny(
				v, "cannot tell which program %s runs in the client's prefix (%s)",
				v->program[0] ? v->program : "(none)", strerror(-r));
		else if (client_name && c->wine_prefix && !own_prefix)
			verdict_deny(v, "%s runs outside the client's prefix %s", v->program, want);
		r = 0;
		goto out;
	}
	snprintf(v->sha256, sizeof(v->sha256), "%s", id.sha256);
	snprintf(v->family, sizeof(v->family), "%s",
		 wine_exe_family_to_string(wine_exe_family(&id)));

	d = denied_by_content(p, &id, name, sizeof(name));
	if (d) {
		snprintf(tmp, sizeof(tmp), "%.3900s (%.63s)", v->exe, name);
		verdict_deny(v, "%s is %s by its version resource", tmp,
			     d->display_name ? d->display_name : d->id);
		goto out;
	}
	if (own_prefix && c->wine_manifest) {
		int m = manifest_says(sr, c->wine_manifest, v->prefix, v->exe, id.sha256);

		if (m == 0)
			verdict_deny(v, "%s is not in the client's manifest %s", v->exe,
				     c->wine_manifest);
		else if (m == -ESTALE)
			verdict_deny(v,
				     "%s differs from the client's manifest %s (a patched build)",
				     v->exe, c->wine_manifest);
		else if (m < 0)
			log_debug("wine: manifest %s: %s: %s not judged against it",
				  c->wine_manifest, strerror(-m), v->exe);
		if (v->deny)
			goto out;
	}
	if (c->wine_prefix && !own_prefix &&
	    (client_name || wine_exe_family(&id) == WINE_EXE_WECOM)) {
		verdict_deny(v, "%s runs outside the client's prefix %s", v->exe, want);
		goto out;
	}
	/* Multi-open: the client's program while max_instances of it run for this user already
	 * (every prefix counted). */
	if (client_name && c->max_instances) {
		unsigned k = running_instances(sr, c, pi.uid, pid);

		if (k >= c->max_instances) {
			char lim[64];

			snprintf(lim, sizeof(lim), "%u running, max_instances %u", k,
				 c->max_instances);
			verdict_deny(v, "a further instance of %s (%s)", v->program, lim);
		}
	}
out:
	if (have_id)
		wine_exe_id_clear(&id);
	proc_info_clear(&pi);
	return r;
}
