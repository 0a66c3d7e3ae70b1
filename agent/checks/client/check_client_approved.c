/* client.approved: the approved clients are genuine and no denied client is installed or
 * running. docs/checks/client.md. */
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

#define DESKTOP_MAX (256u * 1024)
#define DESKTOP_DEPTH 2 /* applications/ and one level of subdirectories */

static const char *const desktop_dirs[] = {
	"/usr/share/applications",
	"/usr/local/share/applications",
	"/var/lib/flatpak/exports/share/applications",
	"/var/lib/snapd/desktop/applications",
};

static const char *const home_desktop_dirs[] = {
	".local/share/applications",
	".local/share/flatpak/exports/share/applications",
};

static const char *const path_dirs[] = { "/usr/local/bin", "/usr/bin", "/bin", "/usr/games",
					 "/snap/bin" };

/* What we learnt about one executable of an approved client, so each is checked once. */
struct exe_seen {
	char *exe;
	const struct policy_client *c;
};

struct approved {
	struct check_ctx *ctx;
	const struct policy *pol;
	const struct sysroot *sr;
	struct pkgdb *db;
	struct check_client_findings f;
	struct strv homes;
	unsigned n_installed, n_procs, n_desktop, n_entries;
	bool scan_incomplete, replaced, no_db;
	struct exe_seen *seen;
	size_t n_seen;
};

/* ---- approved packages ---- */

static void check_pin(struct approved *a, const struct policy_client *c)
{
	char sha[HASH_SHA256_HEX], *mb = NULL;
	int r;

	r = check_client_main_binary(a->sr, a->db, c, &mb);
	if (r < 0) {
		check_client_finding(
			&a->f, CHECK_UNKNOWN, "approved.sha256",
			"client %s: sha256 is pinned but its main binary cannot be found (%s)",
			c->id, strerror(-r));
		return;
	}
	r = pkgdb_digest(a->db, mb, NULL, sha);
	if (r == -ENOENT)
		check_client_finding(&a->f, CHECK_FAIL, "approved.sha256_mismatch",
				     "%s: missing (main binary of client %s, sha256 pinned)", mb,
				     c->id);
	else if (r < 0)
		check_client_finding(&a->f, CHECK_UNKNOWN, "approved.sha256", "%s: cannot hash: %s",
				     mb, strerror(-r));
	else if (strcasecmp(sha, c->sha256) != 0)
		check_client_finding(&a->f, CHECK_FAIL, "approved.sha256_mismatch",
				     "%s: sha256 %s, policy pins %s (client %s)", mb, sha,
				     c->sha256, c->id);
	else
		check_client_finding(&a->f, CHECK_PASS, "approved.sha256",
				     "%s matches the pinned sha256", mb);
	free(mb);
}

static void verify_package(struct approved *a, const struct policy_client *c)
{
	struct pkgdb_verify_result vr = { 0 };
	int r;

	r = pkgdb_verify(a->db, c->package, &vr);
	if (r == -ENODATA) {
		if (c->sha256)
			check_client_finding(&a->f, CHECK_PASS, "approved.verified",
					     "%s: the package manager recorded no checksums; the "
					     "pinned sha256 decides",
					     c->package);
		else
			check_client_finding(&a->f, CHECK_UNKNOWN, "approved.unverified",
					     "%s: the package manager recorded no checksums; pin "
					     "sha256 in [client.%s]",
					     c->package, c->id);
		return;
	}
	if (r < 0) {
		check_client_finding(&a->f, CHECK_UNKNOWN, "approved.unverified",
				     "%s: cannot verify: %s", c->package, strerror(-r));
		return;
	}
	for (size_t i = 0; i < vr.n_issues; i++) {
		const struct pkgdb_file_issue *is = &vr.issues[i];

		if (is->state == PKGDB_FILE_CHANGED)
			check_client_finding(&a->f, CHECK_FAIL, "approved.changed",
					     "%s (package %s)", is->path, c->package);
		else if (is->state == PKGDB_FILE_MISSING)
			check_client_finding(&a->f, CHECK_FAIL, "approved.missing",
					     "%s (package %s)", is->path, c->package);
		else
			check_client_finding(&a->f, CHECK_UNKNOWN, "approved.unreadable",
					     "%s (package %s): %s", is->path, c->package,
					     strerror(-is->err));
	}
	if (vr.n_changed + vr.n_missing)
		check_client_finding(&a->f, CHECK_PASS, "approved.verified",
				     "%s: %zu changed and %zu missing of %zu files", c->package,
				     vr.n_changed, vr.n_missing, vr.n_checked);
	else
		check_client_finding(
			&a->f, CHECK_PASS, "approved.verified",
			"%s: %zu files match the package manager's checksums (%zu excluded)",
			c->package, vr.n_checked, vr.n_excluded);
	pkgdb_verify_result_clear(&vr);
}

static void check_approved_packages(struct approved *a)
{
	for (size_t i = 0; i < a->pol->n_clients; i++) {
		const struct policy_client *c = &a->pol->clients[i];
		const char *ver = "";
		int r;

		if (!c->package) {
			char *mb = NULL;

			/* No package to ask: a pinned main binary that is there is all we can
			 * check. */
			if (c->sha256 && check_client_main_binary(a->sr, a->db, c, &mb) == 0 &&
			    sysroot_exists(a->sr, mb))
				check_pin(a, c);
			free(mb);
			continue;
		}
		r = pkgdb_is_installed(a->db, c->package);
		if (r == -EOPNOTSUPP) {
			a->no_db = true;
			continue;
		}
		if (r < 0) {
			check_client_finding(
				&a->f, CHECK_UNKNOWN, "approved.error",
				"client %s: cannot tell whether package %s is installed: %s", c->id,
				c->package, strerror(-r));
			continue;
		}
		if (r == 0) {
			check_client_finding(&a->f, CHECK_PASS, "approved.not_installed",
					     "%s (client %s)", c->package, c->id);
			continue;
		}
		a->n_installed++;
		(void)pkgdb_version(a->db, c->package, &ver);
		check_client_finding(&a->f, CHECK_PASS, "approved.installed", "%s %s (client %s)",
				     c->package, ver ? ver : "", c->id);
		verify_package(a, c);
		if (c->sha256)
			check_pin(a, c);
	}
}

/* ---- denied packages ---- */

static void check_denied_packages(struct approved *a)
{
	for (size_t i = 0; i < a->pol->n_denies; i++) {
		const struct policy_deny *d = &a->pol->denies[i];

		for (size_t k = 0; k < d->packages.n; k++) {
			const char *ver = "";
			int r = pkgdb_is_installed(a->db, d->packages.v[k]);

			if (r == -EOPNOTSUPP) {
				a->no_db = true;
			} else if (r < 0) {
				check_client_finding(&a->f, CHECK_UNKNOWN, "denied.package_error",
						     "%s: cannot tell whether it is installed: %s",
						     d->packages.v[k], strerror(-r));
			} else if (r > 0) {
				(void)pkgdb_version(a->db, d->packages.v[k], &ver);
				check_client_finding(
					&a->f, CHECK_FAIL, "denied.package",
					"package %s %s is installed (denied client %s)",
					d->packages.v[k], ver ? ver : "", d->id);
			}
		}
	}
	if (a->no_db)
		check_client_finding(
			&a->f, CHECK_UNKNOWN, "pkgdb.error",
			"no package database (dpkg or rpm) found: packages cannot be checked");
}

/* ---- .desktop entries ---- */

/* Split an Exec= value into words (desktop-entry quoting), dropping %f-style field codes. */
static int exec_split(const char *s, struct strv *out)
{
	while (*s) {
		char word[PATH_MAX];
		size_t n = 0;
		bool quoted = false, any = false;

		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		while (*s && (quoted || (*s != ' ' && *s != '\t'))) {
			if (*s == '"') {
				quoted = !quoted;
				any = true;
				s++;
				continue;
			}
			if (*s == '\\' && s[1])
				s++;
			if (n + 1 < sizeof(word))
				word[n++] = *s;
			any = true;
			s++;
		}
		word[n] = 0;
		if (!any || (word[0] == '%' && n == 2))
			continue;
		if (strv_push(out, word) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void desktop_check(struct approved *a, const char *path)
{
	struct strv names = { 0 }, argv = { 0 };
	char *buf = NULL, *exec = NULL, exe[PATH_MAX], comm[16];
	const char *prog = NULL, *base;
	struct policy_match m;
	bool in_entry = false;
	size_t first = 0;

	if (sysroot_read_file(a->sr, path, DESKTOP_MAX, &buf, NULL) < 0)
		return;
	a->n_desktop++;
	for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		char *eq, *k, *v;

		str_strip(l);
		if (l[0] == '[') {
			in_entry = strcmp(l, "[Desktop Entry]") == 0;
			continue;
		}
		if (!in_entry || l[0] == '#' || !(eq = strchr(l, '=')))
			continue;
		*eq = 0;
		k = str_strip(l);
		v = str_strip(eq + 1);
		if (strcmp(k, "Name") == 0 || str_startswith(k, "Name["))
			(void)strv_push(&names, v);
		else if (strcmp(k, "Exec") == 0 && !exec)
			exec = strdup(v);
	}
	if (exec && exec_split(exec, &argv) < 0)
		goto out;
	/* "env A=B prog ...": the program is the first word that is not env or an assignment. */
	for (first = 0; first < argv.n; first++)
		if (strcmp(argv.v[first], "env") != 0 && !strchr(argv.v[first], '='))
			break;
	exe[0] = 0;
	if (first < argv.n) {
		prog = argv.v[first];
		if (prog[0] == '/') {
			snprintf(exe, sizeof(exe), "%s", prog);
		} else if (!strchr(prog, '/')) {
			for (size_t i = 0; i < sizeof(path_dirs) / sizeof(path_dirs[0]); i++) {
				snprintf(exe, sizeof(exe), "%s/%s", path_dirs[i], prog);
				if (sysroot_exists(a->sr, exe))
					break;
				exe[0] = 0;
			}
		}
	}
	base = prog ? (strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog) : "";
	snprintf(comm, sizeof(comm), "%s", base);
	for (size_t i = 0; i < names.n; i++)
		(void)strv_push(&argv, names.v[i]);
	policy_match_process(a->pol, comm, exe[0] ? exe : NULL, argv.v, argv.n, &m);
	if (m.kind == POLICY_MATCH_DENIED) {
		check_client_finding(&a->f, CHECK_FAIL, "denied.desktop",
				     "%s: %s (denied client %s, %s matches %s)", path,
				     names.n ? names.v[0] : base, m.deny->id, m.field, m.pattern);
		goto out;
	}
	/* The entry's name is the deny's display name. */
	for (size_t i = 0; i < a->pol->n_denies && m.kind == POLICY_MATCH_NONE; i++) {
		const struct policy_deny *d = &a->pol->denies[i];

		for (size_t k = 0; d->display_name && k < names.n; k++)
			if (strcasecmp(names.v[k], d->display_name) == 0) {
				check_client_finding(
					&a->f, CHECK_FAIL, "denied.desktop",
					"%s: %s (denied client %s, Name is its display name)", path,
					names.v[k], d->id);
				goto out;
			}
	}
out:
	strv_clear(&names);
	strv_clear(&argv);
	free(exec);
	free(buf);
}

static void desktop_dir(struct approved *a, const char *dir, unsigned depth)
{
	struct strv names = { 0 };

	(void)sysroot_list_dir(a->sr, dir, dir_filter_visible, NULL, &names);
	for (size_t i = 0; i < names.n; i++) {
		char p[PATH_MAX];
		struct stat st;

		if (snprintf(p, sizeof(p), "%s/%s", dir, names.v[i]) >= (int)sizeof(p))
			continue;
		if (str_endswith(names.v[i], ".desktop")) {
			desktop_check(a, p);
			continue;
		}
		if (depth + 1 < DESKTOP_DEPTH && sysroot_lstat(a->sr, p, &st) == 0 &&
		    S_ISDIR(st.st_mode))
			desktop_dir(a, p, depth + 1);
	}
	strv_clear(&names);
}

static void check_desktop_entries(struct approved *a)
{
	for (size_t i = 0; i < sizeof(desktop_dirs) / sizeof(desktop_dirs[0]); i++)
		desktop_dir(a, desktop_dirs[i], 0);
	for (size_t h = 0; h < a->homes.n; h++)
		for (size_t i = 0; i < sizeof(home_desktop_dirs) / sizeof(home_desktop_dirs[0]);
		     i++) {
			char p[PATH_MAX];

			if (snprintf(p, sizeof(p), "%s/%s", a->homes.v[h], home_desktop_dirs[i]) <
			    (int)sizeof(p))
				desktop_dir(a, p, 0);
		}
}

/* ---- home directories: AppImages and binaries of denied clients ---- */

struct dirq {
	struct {
		char *path;
		unsigned depth;
	} * v;
	size_t head, n, cap;
};

static int dirq_push(struct dirq *q, const char *path, unsigned depth)
{
	if (q->n == q->cap) {
		size_t nc = q->cap ? q->cap * 2 : 64;
		void *nv = realloc(q->v, nc * sizeof(*q->v));

		if (!nv)
			return -ENOMEM;
		q->v = nv;
		q->cap = nc;
	}
	q->v[q->n].path = strdup(path);
	if (!q->v[q->n].path)
		return -ENOMEM;
	q->v[q->n++].depth = depth;
	return 0;
}

static void dirq_clear(struct dirq *q)
{
	for (size_t i = 0; i < q->n; i++)
		free(q->v[i].path);
	free(q->v);
	memset(q, 0, sizeof(*q));
}

static void home_file(struct approved *a, const char *path, const char *name)
{
	for (size_t i = 0; i < a->pol->n_denies; i++) {
		const struct policy_deny *d = &a->pol->denies[i];
		int k;

		if ((k = strv_fnmatch_any(&d->files, name, FNM_CASEFOLD)) >= 0) {
			check_client_finding(&a->f, CHECK_FAIL, "denied.file",
					     "%s (denied client %s, matches files pattern %s)",
					     path, d->id, d->files.v[k]);
			return;
		}
		if ((k = strv_fnmatch_any(&d->exe, path, FNM_NOESCAPE)) >= 0) {
			check_client_finding(&a->f, CHECK_FAIL, "denied.file",
					     "%s (denied client %s, matches exe pattern %s)", path,
					     d->id, d->exe.v[k]);
			return;
		}
	}
}

/* Breadth first, so the shallow places where downloads land are seen before the bound.
 * Hidden directories are skipped (caches, Wine prefixes) except ~/.local/bin. Symlinks are
 * matched by name, never followed. Returns false when max_entries stopped the scan. */
static bool scan_home(struct approved *a, const char *home, unsigned max_depth,
		      unsigned max_entries, unsigned *depth_skipped)
{
	struct dirq q = { 0 };
	char p[PATH_MAX];
	bool complete = true;

	if (dirq_push(&q, home, 0) < 0)
		goto oom;
	snprintf(p, sizeof(p), "%s/.local/bin", home);
	if (sysroot_exists(a->sr, p) && dirq_push(&q, p, 1) < 0)
		goto oom;
	while (q.head < q.n && complete) {
		const char *dir = q.v[q.head].path;
		unsigned depth = q.v[q.head].depth;
		struct dirent *de;
		DIR *d;

		d = sysroot_opendir(a->sr, dir);
		if (!d) {
			q.head++;
			continue;
		}
		while ((de = readdir(d))) {
			unsigned char type = de->d_type;

			if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
				continue;
			if (a->n_entries >= max_entries) {
				complete = false;
				break;
			}
			a->n_entries++;
			if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) >= (int)sizeof(p))
				continue;
			if (type == DT_UNKNOWN) {
				struct stat st;

				if (sysroot_lstat(a->sr, p, &st) < 0)
					continue;
				type = S_ISDIR(st.st_mode)   ? DT_DIR
				       : S_ISLNK(st.st_mode) ? DT_LNK
				       : S_ISREG(st.st_mode) ? DT_REG
							     : DT_UNKNOWN;
			}
			if (type == DT_DIR) {
				if (de->d_name[0] == '.')
					continue;
				if (depth + 1 < max_depth) {
					if (dirq_push(&q, p, depth + 1) < 0) {
						closedir(d);
						goto oom;
					}
				} else {
					(*depth_skipped)++;
				}
			} else if (type == DT_REG || type == DT_LNK) {
				home_file(a, p, de->d_name);
			}
		}
		closedir(d);
		if (complete)
			q.head++;
	}
	if (!complete)
		check_client_finding(&a->f, CHECK_WARN, "scan.incomplete",
				     "%s: stopped after %u entries ([scan] max_entries); %zu "
				     "directories not or only partly scanned",
				     home, max_entries, q.n - q.head);
	dirq_clear(&q);
	return complete;
oom:
	dirq_clear(&q);
	check_client_finding(&a->f, CHECK_UNKNOWN, "scan.incomplete", "%s: out of memory", home);
	return false;
}

static void check_homes(struct approved *a)
{
	unsigned max_depth = check_client_scan_depth(&a->pol->scan);
	unsigned max_entries = check_client_scan_entries(&a->pol->scan);
	unsigned depth_skipped = 0;
	bool any_files = false;

	for (size_t i = 0; i < a->pol->n_denies; i++)
		if (a->pol->denies[i].files.n || a->pol->denies[i].exe.n)
			any_files = true;
	if (!any_files)
		return;
	for (size_t h = 0; h < a->homes.n; h++) {
		if (a->scan_incomplete) {
			check_client_finding(&a->f, CHECK_WARN, "scan.incomplete",
					     "%s: not scanned ([scan] max_entries %u reached)",
					     a->homes.v[h], max_entries);
			continue;
		}
		if (!scan_home(a, a->homes.v[h], max_depth, max_entries, &depth_skipped))
			a->scan_incomplete = true;
	}
	check_client_finding(&a->f, CHECK_PASS, "scan.entries",
			     "%u entries in %zu home directories", a->n_entries, a->homes.n);
	if (depth_skipped)
		check_client_finding(&a->f, CHECK_PASS, "scan.depth_limit",
				     "%u directories below [scan] max_depth %u not entered",
				     depth_skipped, max_depth);
}

/* ---- processes ---- */

static bool same_file(const struct sysroot *sr, const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return true;
	return sysroot_stat(sr, a, &sa) == 0 && sysroot_stat(sr, b, &sb) == 0 &&
	       sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static bool exe_seen(struct approved *a, const char *exe, const struct policy_client *c)
{
	struct exe_seen *nv;

	for (size_t i = 0; i < a->n_seen; i++)
		if (a->seen[i].c == c && strcmp(a->seen[i].exe, exe) == 0)
			return true;
	nv = realloc(a->seen, (a->n_seen + 1) * sizeof(*nv));
	if (!nv)
		return false;
	a->seen = nv;
	nv[a->n_seen].c = c;
	nv[a->n_seen].exe = strdup(exe);
	if (nv[a->n_seen].exe)
		a->n_seen++;
	return false;
}

static void verify_process(struct approved *a, const struct check_client_proc *cp)
{
	const struct policy_client *c = cp->m.client;
	enum pkgdb_file_state state;
	const char *exe = cp->pi.exe;
	char user[64], sha[HASH_SHA256_HEX], *owner = NULL, *mb = NULL;
	int r;

	check_client_user_label(a->sr, cp->pi.uid, user, sizeof(user));
	if (!exe) {
		check_client_finding(&a->f, CHECK_UNKNOWN, "approved.process_unverified",
				     "pid %d (%s, %s): executable unreadable", (int)cp->pi.pid,
				     user, cp->pi.comm);
		return;
	}
	if (str_endswith(exe, " (deleted)")) {
		a->replaced = true;
		check_client_finding(
			&a->f, CHECK_WARN, "approved.process_replaced",
			"pid %d (%s): %s was replaced or removed after it started (client %s)",
			(int)cp->pi.pid, user, exe, c->id);
		return;
	}
	if (exe_seen(a, exe, c))
		return;
	/* Native client with a pinned main binary: the pin decides for that binary. */
	if (!c->wine_prefix && c->sha256 && check_client_main_binary(a->sr, a->db, c, &mb) == 0 &&
	    same_file(a->sr, exe, mb)) {
		r = pkgdb_digest(a->db, exe, NULL, sha);
		if (r < 0)
			check_client_finding(&a->f, CHECK_UNKNOWN, "approved.process_unverified",
					     "pid %d (%s): %s: cannot hash: %s", (int)cp->pi.pid,
					     user, exe, strerror(-r));
		else if (strcasecmp(sha, c->sha256) != 0)
			check_client_finding(&a->f, CHECK_FAIL, "approved.process_unofficial",
					     "pid %d (%s): %s does not match the pinned sha256 of "
					     "client %s (patched or unofficial build)",
					     (int)cp->pi.pid, user, exe, c->id);
		else
			check_client_finding(&a->f, CHECK_PASS, "approved.process",
					     "pid %d (%s): %s matches the pinned sha256",
					     (int)cp->pi.pid, user, exe);
		free(mb);
		return;
	}
	free(mb);
	/* A Wine client runs under the shared wine loader: any genuine packaged loader will do. */
	r = pkgdb_check_file(a->db, exe, c->wine_prefix ? NULL : c->package, &state, &owner);
	if (r < 0) {
		check_client_finding(&a->f, CHECK_UNKNOWN, "approved.process_unverified",
				     "pid %d (%s): %s: %s", (int)cp->pi.pid, user, exe,
				     r == -EOPNOTSUPP ? "no package database" : strerror(-r));
		return;
	}
	switch (state) {
	case PKGDB_FILE_OK:
		if (!c->wine_prefix && c->package && owner && strcmp(owner, c->package) != 0)
			check_client_finding(&a->f, CHECK_FAIL, "approved.process_unofficial",
					     "pid %d (%s): %s belongs to package %s, not %s "
					     "(unofficial build of client %s)",
					     (int)cp->pi.pid, user, exe, owner, c->package, c->id);
		else
			check_client_finding(&a->f, CHECK_PASS, "approved.process",
					     "pid %d (%s): %s genuine (package %s)",
					     (int)cp->pi.pid, user, exe, owner ? owner : "?");
		break;
	case PKGDB_FILE_NOT_OWNED:
		check_client_finding(&a->f, CHECK_FAIL, "approved.process_unofficial",
				     "pid %d (%s): %s is not installed by any package (patched or "
				     "unofficial build of client %s)",
				     (int)cp->pi.pid, user, exe, c->id);
		break;
	case PKGDB_FILE_CHANGED:
	case PKGDB_FILE_MISSING:
		check_client_finding(&a->f, CHECK_FAIL, "approved.process_unofficial",
				     "pid %d (%s): %s is %s compared with package %s (patched "
				     "build of client %s)",
				     (int)cp->pi.pid, user, exe,
				     state == PKGDB_FILE_CHANGED ? "changed" : "missing",
				     owner ? owner : "?", c->id);
		break;
	default:
		check_client_finding(&a->f, CHECK_UNKNOWN, "approved.process_unverified",
				     "pid %d (%s): %s: %s in package %s", (int)cp->pi.pid, user,
				     exe, pkgdb_file_state_to_string(state), owner ? owner : "?");
		break;
	}
	free(owner);
}

static void check_processes(struct approved *a)
{
	struct check_client_procs ps = { 0 };
	int r;

	r = check_client_procs_read(a->sr, a->pol, &ps);
	if (r < 0) {
		check_client_finding(&a->f, CHECK_UNKNOWN, "proc", "cannot list processes: %s",
				     strerror(-r));
		return;
	}
	for (size_t i = 0; i < ps.n; i++) {
		const struct check_client_proc *cp = &ps.v[i];
		char user[64];

		if (cp->m.kind == POLICY_MATCH_DENIED) {
			check_client_user_label(a->sr, cp->pi.uid, user, sizeof(user));
			check_client_finding(
				&a->f, CHECK_FAIL, "denied.process",
				"pid %d (%s): %s is running (denied client %s, %s matches %s)",
				(int)cp->pi.pid, user, cp->pi.exe ? cp->pi.exe : cp->pi.comm,
				cp->m.deny->id, cp->m.field, cp->m.pattern);
		} else if (cp->m.kind == POLICY_MATCH_APPROVED) {
			if (check_client_is_client(cp, cp->m.client))
				a->n_procs++;
			verify_process(a, cp);
		}
	}
	check_client_procs_clear(&ps);
}

int check_client_approved(struct check_ctx *ctx, struct check_result *r)
{
	struct approved a = { .ctx = ctx, .pol = ctx->policy, .sr = ctx->root };
	char pass_en[256], pass_zh[256];
	int ret;

	if (!a.pol->n_clients && !a.pol->n_denies) {
		check_result_set(r, CHECK_NOT_APPLICABLE,
				 "the policy names no approved or denied clients",
				 "策略中没有批准或禁止的客户端");
		return 0;
	}
	ret = check_client_pkgdb(ctx, &a.db);
	if (ret < 0)
		return ret;
	check_client_findings_init(&a.f, r);
	check_result_add(r, "pkgdb", "%s", pkgdb_backend_to_string(pkgdb_backend(a.db)));
	ret = check_client_homes(a.sr, &a.pol->scan, &a.homes);
	if (ret < 0)
		goto out;

	check_approved_packages(&a);
	check_denied_packages(&a);
	check_desktop_entries(&a);
	check_homes(&a);
	check_processes(&a);
	(void)pkgdb_flush(a.db);

	snprintf(pass_en, sizeof(pass_en),
		 "approved clients genuine, no denied client found (%u approved installed, %u "
		 "client processes, "
		 "%u desktop entries, %u home entries)",
		 a.n_installed, a.n_procs, a.n_desktop, a.n_entries);
	snprintf(pass_zh, sizeof(pass_zh),
		 "已批准的客户端为正版，未发现被禁止的客户端（已安装 %u 个批准的客户端，%u "
		 "个客户端进程，"
		 "%u 个桌面快捷方式，%u 个主目录条目）",
		 a.n_installed, a.n_procs, a.n_desktop, a.n_entries);
	check_client_findings_finish(&a.f, pass_en, pass_zh, "unapproved or modified chat client",
				     "发现未经批准或被修改的聊天客户端");
	if (a.f.status == CHECK_FAIL)
		check_result_fix(
			r,
			"Uninstall the denied client (package, desktop entry, AppImage) and quit "
			"it; reinstall "
			"the approved client from the software center instead of patched or "
			"repackaged copies "
			"(rule client.approved).",
			"卸载被禁止的客户端（软件包、桌面快捷方式、AppImage）并退出其进程；请从软件"
			"中心重新安装"
			"经批准的客户端，不要使用修改版或重新打包的版本（规则 client.approved）。");
	else if (a.f.status == CHECK_WARN)
		check_result_fix(
			r,
			a.scan_incomplete
				? "Raise [scan] max_entries or narrow [scan] home_dirs so the home "
				  "directory scan completes (rule client.approved)."
				: "Restart the client: it was updated while running (rule "
				  "client.approved).",
			a.scan_incomplete ? "请调大 [scan] max_entries 或缩小 [scan] "
					    "home_dirs，使主目录扫描能够完成"
					    "（规则 client.approved）。"
					  : "请重新启动客户端：它在运行期间被更新过（规则 "
					    "client.approved）。");
	else if (a.f.status == CHECK_UNKNOWN)
		check_result_fix(
			r,
			"Run wxguard as root so it can read the package database and every "
			"process; pin "
			"sha256 for packages that ship no checksums (rule client.approved).",
			"请以 root 身份运行 "
			"wxguard，以便读取软件包数据库和所有进程；对没有校验和的软件包请在策略中"
			"固定 sha256（规则 client.approved）。");
	ret = 0;
out:
	for (size_t i = 0; i < a.n_seen; i++)
		free(a.seen[i].exe);
	free(a.seen);
	strv_clear(&a.homes);
	check_client_findings_clear(&a.f);
	pkgdb_free(a.db);
	return ret;
}
