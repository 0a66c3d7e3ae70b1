/* patch.updates: pending security updates, package-list age, pending reboot, kernel minimum.
 * See docs/checks/patch_updates.md. */
#include "agent/checks/check.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/host/query_cache.h"
#include "common/log.h"

#define CMD_TIMEOUT_MS 60000u
#define NAMES_SHOWN 5
#define SEC_PER_DAY 86400

enum pkgmgr {
	PM_NONE = 0,
	PM_APT,
	PM_DNF
};

/* What the package manager said. */
struct pending {
	unsigned security; /* packages with a pending security update */
	unsigned total;    /* all pending upgrades (apt only; 0 for dnf) */
	struct strv names; /* every security package, in output order, unique */
};

/* The worst status seen and the messages that explain it, in both languages. */
struct verdict {
	enum check_status st;
	bool any;
	char en[1024], zh[1024];
	char fix_en[1024], fix_zh[1024];
};

static void append(char *buf, size_t size, const char *sep, const char *s)
{
	size_t n = strlen(buf);

	if (n && n < size)
		n += (size_t)snprintf(buf + n, size - n, "%s", sep);
	if (n < size)
		snprintf(buf + n, size - n, "%s", s);
}

/* en and zh are printf formats taking the same arguments (as check_result_set). */
static void __attribute__((format(printf, 5, 7)))
verdict_add(struct verdict *v, enum check_status st, const char *fix_en, const char *fix_zh,
	    const char *en, const char *zh, ...)
{
	char ben[512], bzh[512];
	va_list ap, ap2;

	va_start(ap, zh);
	va_copy(ap2, ap);
	vsnprintf(ben, sizeof(ben), en, ap);
	vsnprintf(bzh, sizeof(bzh), zh, ap2);
	va_end(ap2);
	va_end(ap);
	append(v->en, sizeof(v->en), "; ", ben);
	append(v->zh, sizeof(v->zh), "；", bzh);
	if (fix_en && !strstr(v->fix_en, fix_en)) {
		append(v->fix_en, sizeof(v->fix_en), " ", fix_en);
		append(v->fix_zh, sizeof(v->fix_zh), "", fix_zh);
	}
	v->st = check_status_worst(v->st, st);
	v->any = true;
}

/* dpkg's verrevcmp() on whole strings: digits compare as numbers, '~' sorts before
 * everything, letters before other characters. Good for kernel release strings too. */
static int order(int c)
{
	if (isdigit(c))
		return 0;
	if (isalpha(c))
		return c;
	if (c == '~')
		return -1;
	return c ? c + 256 : 0;
}

static int version_cmp(const char *a, const char *b)
{
	while (*a || *b) {
		int first_diff = 0;

		while ((*a && !isdigit((unsigned char)*a)) || (*b && !isdigit((unsigned char)*b))) {
			int ac = order((unsigned char)*a), bc = order((unsigned char)*b);

			if (ac != bc)
				return ac - bc;
			a++;
			b++;
		}
		while (*a == '0')
			a++;
		while (*b == '0')
			b++;
		while (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			if (!first_diff)
				first_diff = *a - *b;
			a++;
			b++;
		}
		if (isdigit((unsigned char)*a))
			return 1;
		if (isdigit((unsigned char)*b))
			return -1;
		if (first_diff)
			return first_diff;
	}
	return 0;
}

/* The kernel flavour: from the first "-<letter>" or "+", e.g. "-amd64", "-rt-amd64",
 * "-generic", "+debug"; "" for Fedora's "6.5.6-300.fc39.x86_64". Only kernels of the
 * running flavour count as "newer installed". */
static const char *kernel_flavour(const char *v)
{
	for (const char *p = v; *p; p++)
		if (*p == '+' || (*p == '-' && isalpha((unsigned char)p[1])))
			return p;
	return "";
}

static void mtime_stamp(const struct sysroot *sr, const char *path, char *buf, size_t size)
{
	struct stat st;

	if (sysroot_stat(sr, path, &st) < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%lld.%09ld", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* ---- which package manager ---- */

static bool word_in(const char *list, const char *const words[])
{
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list);
	for (char *t = strtok_r(buf, " \t", &save); t; t = strtok_r(NULL, " \t", &save))
		for (size_t i = 0; words[i]; i++)
			if (strcmp(t, words[i]) == 0)
				return true;
	return false;
}

static void os_release_value(const char *data, const char *key, char *buf, size_t size)
{
	size_t kl = strlen(key);

	buf[0] = 0;
	for (const char *l = data; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e;
		size_t n;

		if (strncmp(l, key, kl) != 0 || l[kl] != '=')
			continue;
		l += kl + 1;
		e = strchr(l, '\n');
		n = e ? (size_t)(e - l) : strlen(l);
		if (n >= 2 && (l[0] == '"' || l[0] == '\'') && l[n - 1] == l[0]) {
			l++;
			n -= 2;
		}
		if (n >= size)
			n = size - 1;
		memcpy(buf, l, n);
		buf[n] = 0;
		for (char *p = buf; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		return;
	}
}

/* By /etc/os-release ID and ID_LIKE; for anything else (Kylin ships both Debian- and
 * RHEL-based editions under ID=kylin) by which package database exists. */
static enum pkgmgr detect_pkgmgr(const struct sysroot *sr, char *id, size_t idsize)
{
	static const char *const apt_ids[] = { "debian",    "ubuntu", "uos",        "deepin",
					       "linuxmint", "pop",    "elementary", "raspbian",
					       "kali",      NULL };
	static const char *const dnf_ids[] = { "fedora", "rhel", "centos",    "rocky",  "almalinux",
					       "ol",     "amzn", "openeuler", "anolis", NULL };
	char *data = NULL, ids[320], like[256];
	enum pkgmgr pm = PM_NONE;

	if (sysroot_read_file(sr, "/etc/os-release", 65536, &data, NULL) < 0)
		(void)sysroot_read_file(sr, "/usr/lib/os-release", 65536, &data, NULL);
	os_release_value(data, "ID", id, idsize);
	os_release_value(data, "ID_LIKE", like, sizeof(like));
	free(data);
	snprintf(ids, sizeof(ids), "%s %s", id, like);
	if (word_in(ids, apt_ids))
		pm = PM_APT;
	else if (word_in(ids, dnf_ids))
		pm = PM_DNF;
	else if (sysroot_exists(sr, "/var/lib/dpkg/status"))
		pm = PM_APT;
	else if (sysroot_exists(sr, "/var/lib/rpm") || sysroot_exists(sr, "/usr/lib/sysimage/rpm"))
		pm = PM_DNF;
	if (!id[0])
		snprintf(id, idsize, "unknown");
	return pm;
}

/* ---- commands through the cache ---- */

/* Only answers worth keeping: a failed query is retried next time. */
static bool query_cacheable(int status)
{
	return status == 0;
}

static bool needs_restarting_cacheable(int status)
{
	return status == 0 || status == 1;
}

/* sysroot_run() with the answer kept in the cache as "status N\n<output>". */
static int run_cached(struct check_ctx *ctx, time_t now, const char *key, const char *stamp,
		      const char *const argv[], bool (*cacheable)(int), char **ret_out,
		      int *ret_status, bool *ret_hit)
{
	unsigned ttl = ctx->policy->patches.cache_ttl_seconds;
	bool use = ctx->cache_dir && ttl > 0;
	char *data = NULL, *out = NULL, *nl;
	size_t len;
	int r, status, n;

	if (use && query_cache_get(ctx->cache_dir, key, stamp, ttl, now, &data, &len) == 0) {
		nl = strchr(data, '\n');
		if (sscanf(data, "status %d", &status) == 1 && nl) {
			memmove(data, nl + 1, len - (size_t)(nl + 1 - data) + 1);
			*ret_out = data;
			*ret_status = status;
			*ret_hit = true;
			return 0;
		}
		free(data);
		data = NULL;
	}
	r = sysroot_run(ctx->root, key, argv, NULL, (uid_t)-1, CMD_TIMEOUT_MS, &out, &status);
	if (r < 0)
		return r;
	if (use && cacheable(status)) {
		n = asprintf(&data, "status %d\n%s", status, out);
		if (n < 0) {
			r = -ENOMEM;
			goto fail;
		}
		r = query_cache_put(ctx->cache_dir, key, stamp, now, data, (size_t)n);
		if (r < 0)
			log_debug_errno(r, "cache %s/%s: cannot store", ctx->cache_dir, key);
		free(data);
	}
	*ret_out = out;
	*ret_status = status;
	*ret_hit = false;
	return 0;
fail:
	free(out);
	return r;
}

/* Count a security update once per package name. */
static int pending_add_security(struct pending *pd, const char *name)
{
	int r;

	if (strv_contains(&pd->names, name))
		return 0;
	r = strv_push(&pd->names, name);
	if (r < 0)
		return r;
	pd->security++;
	return 0;
}

/* ---- apt ---- */

/* "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])":
 * a security update when the origin/suite in parentheses mentions security. */
static int apt_parse(const char *out, struct pending *pd)
{
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n'), *name, *ne, *paren;
		char line[1024];
		size_t n = e ? (size_t)(e - l) : strlen(l);
		int r;

		if (n < 5 || strncmp(l, "Inst ", 5) != 0)
			continue;
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = 0;
		pd->total++;
		paren = strchr(line, '(');
		if (!paren || !strcasestr(paren, "security"))
			continue;
		name = line + 5;
		ne = name + strcspn(name, " \t");
		line[ne - line] = 0;
		r = pending_add_security(pd, name);
		if (r < 0)
			return r;
	}
	return 0;
}

static void apt_stamp(const struct sysroot *sr, const char *cmd, char *buf, size_t size)
{
	char a[48], b[48], c[48], d[48];

	mtime_stamp(sr, "/var/lib/dpkg/status", a, sizeof(a));
	mtime_stamp(sr, "/var/lib/apt/lists", b, sizeof(b));
	mtime_stamp(sr, "/etc/apt/preferences", c, sizeof(c));
	mtime_stamp(sr, "/etc/apt/preferences.d", d, sizeof(d));
	snprintf(buf, size, "%s|root=%s|status=%s|lists=%s|prefs=%s|prefs.d=%s", cmd,
		 sr->path[0] ? sr->path : "/", a, b, c, d);
}

static bool filter_release(const struct dirent *de, void *userdata)
{
	(void)userdata;
	return str_endswith(de->d_name, "_Release") || str_endswith(de->d_name, "_InRelease");
}

/* Newest mtime of dir/<name><suffix> for every name in names (regular files only when
 * regular), or newest when none is newer. */
static time_t newest_mtime(const struct sysroot *sr, const char *dir, const struct strv *names,
			   const char *suffix, bool regular, time_t newest)
{
	for (size_t i = 0; i < names->n; i++) {
		char p[PATH_MAX];
		struct stat st;

		if (snprintf(p, sizeof(p), "%s/%s%s", dir, names->v[i], suffix) >= (int)sizeof(p))
			continue;
		if (sysroot_stat(sr, p, &st) == 0 && (!regular || S_ISREG(st.st_mode)) &&
		    st.st_mtime > newest)
			newest = st.st_mtime;
	}
	return newest;
}

/* Newest mtime of the Release files and of the update-success stamp; 0 if none. */
static time_t apt_lists_time(const struct sysroot *sr)
{
	struct strv names = { 0 };
	struct stat st;
	time_t newest = 0;

	if (sysroot_stat(sr, "/var/lib/apt/periodic/update-success-stamp", &st) == 0)
		newest = st.st_mtime;
	(void)sysroot_list_dir(sr, "/var/lib/apt/lists", filter_release, NULL, &names);
	newest = newest_mtime(sr, "/var/lib/apt/lists", &names, "", true, newest);
	strv_clear(&names);
	return newest;
}

/* ---- dnf ---- */

/* dnf4: "FEDORA-2024-1a2b3c Important/Sec. openssl-libs-1:3.1.1-4.fc39.x86_64"
 * dnf5: "FEDORA-2024-1a2b3c security Important openssl-libs-1:3.1.1-4.fc39.x86_64 2024-..."
 * Counts packages (name without version and arch), not advisories. */
static int dnf_parse(const char *out, struct pending *pd)
{
	for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		const char *e = strchr(l, '\n');
		char line[1024], *tok[5] = { 0 }, *save = NULL, *nevra, *dash;
		size_t n = e ? (size_t)(e - l) : strlen(l);
		int nt = 0, r;

		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, l, n);
		line[n] = 0;
		for (char *t = strtok_r(line, " \t", &save); t && nt < 5;
		     t = strtok_r(NULL, " \t", &save))
			tok[nt++] = t;
		if (nt >= 3 && str_endswith(tok[1], "/Sec."))
			nevra = tok[2];
		else if (nt >= 4 && strcmp(tok[1], "security") == 0)
			nevra = tok[3];
		else
			continue;
		/* name-[epoch:]version-release.arch: drop the last two '-' parts. */
		for (int i = 0; i < 2; i++) {
			dash = strrchr(nevra, '-');
			if (dash && dash != nevra)
				*dash = 0;
		}
		r = pending_add_security(pd, nevra);
		if (r < 0)
			return r;
	}
	return 0;
}

static void rpmdb_stamp(const struct sysroot *sr, char *buf, size_t size)
{
	char a[48], b[48], c[48], d[48];

	mtime_stamp(sr, "/var/lib/rpm", a, sizeof(a));
	mtime_stamp(sr, "/var/lib/rpm/rpmdb.sqlite", b, sizeof(b));
	mtime_stamp(sr, "/var/lib/rpm/Packages", c, sizeof(c));
	mtime_stamp(sr, "/usr/lib/sysimage/rpm/rpmdb.sqlite", d, sizeof(d));
	snprintf(buf, size, "rpm=%s,%s,%s,%s", a, b, c, d);
}

/* Newest repodata/repomd.xml under dnf's (and dnf5's) metadata cache; 0 if none. */
static time_t dnf_lists_time(const struct sysroot *sr)
{
	static const char *const dirs[] = { "/var/cache/dnf", "/var/cache/libdnf5" };
	time_t newest = 0;

	for (size_t i = 0; i < 2; i++) {
		struct strv names = { 0 };

		(void)sysroot_list_dir(sr, dirs[i], dir_filter_visible, NULL, &names);
		newest = newest_mtime(sr, dirs[i], &names, "/repodata/repomd.xml", false, newest);
		strv_clear(&names);
	}
	return newest;
}

static void dnf_stamp(const struct sysroot *sr, const char *cmd, time_t lists, char *buf,
		      size_t size)
{
	char rpm[256], a[48], b[48];

	rpmdb_stamp(sr, rpm, sizeof(rpm));
	mtime_stamp(sr, "/var/cache/dnf", a, sizeof(a));
	mtime_stamp(sr, "/var/cache/libdnf5", b, sizeof(b));
	snprintf(buf, size, "%s|root=%s|%s|repomd=%lld|cache=%s,%s", cmd,
		 sr->path[0] ? sr->path : "/", rpm, (long long)lists, a, b);
}

/* ---- kernels ---- */

static void consider_kernel(const char *v, const char *flavour, char *newest, size_t size)
{
	if (strcmp(kernel_flavour(v), flavour) != 0)
		return;
	if (!newest[0] || version_cmp(v, newest) > 0)
		snprintf(newest, size, "%s", v);
}

static bool filter_vmlinuz(const struct dirent *de, void *userdata)
{
	(void)userdata;
	return str_startswith(de->d_name, "vmlinuz-") && !strstr(de->d_name, "rescue") &&
	       !str_endswith(de->d_name, ".old");
}

/* A modules directory that holds a module index or a kernel image (not a leftover). */
static bool kernel_moddir_ok(const struct sysroot *sr, const char *moddir, const char *v)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s/modules.dep", moddir, v);
	if (sysroot_exists(sr, p))
		return true;
	snprintf(p, sizeof(p), "%s/%s/vmlinuz", moddir, v);
	return sysroot_exists(sr, p);
}

/* Newest installed kernel of the running flavour: /boot/vmlinuz-<v>, and /lib/modules/<v>
 * when it holds a kernel image or a module index (not a leftover directory). */
static void newest_kernel(const struct sysroot *sr, const char *running, char *newest, size_t size)
{
	const char *flavour = kernel_flavour(running);
	const char *moddir = sysroot_exists(sr, "/lib/modules") ? "/lib/modules"
								: "/usr/lib/modules";
	struct strv names = { 0 };

	newest[0] = 0;
	(void)sysroot_list_dir(sr, "/boot", filter_vmlinuz, NULL, &names);
	for (size_t i = 0; i < names.n; i++)
		consider_kernel(names.v[i] + strlen("vmlinuz-"), flavour, newest, size);
	strv_clear(&names);
	(void)sysroot_list_dir(sr, moddir, dir_filter_visible, NULL, &names);
	for (size_t i = 0; i < names.n; i++)
		if (kernel_moddir_ok(sr, moddir, names.v[i]))
			consider_kernel(names.v[i], flavour, newest, size);
	strv_clear(&names);
}

/* First few lines of /run/reboot-required.pkgs, comma-separated. */
static void reboot_pkgs(const struct sysroot *sr, char *buf, size_t size)
{
	struct strv v = { 0 };
	char *data = NULL, *j;

	buf[0] = 0;
	if (sysroot_read_file(sr, "/run/reboot-required.pkgs", 65536, &data, NULL) < 0)
		return;
	(void)strv_split(&v, data, "\n");
	while (v.n > NAMES_SHOWN)
		free(v.v[--v.n]);
	if (v.n)
		v.v[v.n] = NULL;
	j = strv_join(&v, ", ");
	if (j)
		snprintf(buf, size, "%s", j);
	free(j);
	free(data);
	strv_clear(&v);
}

/* ---- the check ---- */

static void add_names(struct check_result *r, const struct pending *pd)
{
	char buf[512] = "";

	for (size_t i = 0; i < pd->names.n && i < NAMES_SHOWN; i++)
		append(buf, sizeof(buf), ", ", pd->names.v[i]);
	if (pd->names.n > NAMES_SHOWN)
		append(buf, sizeof(buf), ", ", "...");
	if (buf[0])
		check_result_add(r, "pending_security_packages", "%s", buf);
}

static const char *query_error_en(int err)
{
	return err == -ETIMEDOUT ? "timed out" : err == -ENOENT ? "not installed" : "failed";
}

static const char *query_error_zh(int err)
{
	return err == -ETIMEDOUT ? "超时" : err == -ENOENT ? "未安装" : "失败";
}

/* Ask the package manager (through the cache); findings go to v, counts to pd. */
static int query_updates(struct check_ctx *ctx, enum pkgmgr pm, time_t now, struct check_result *r,
			 struct verdict *v, struct pending *pd, bool *hit)
{
	static const char *const apt_argv[] = { "apt-get",      "-s", "-o", "Debug::NoLocking=1",
						"dist-upgrade", NULL };
	/* -C: cached metadata only. A posture check must not hit the network; the list age
	 * says how old that metadata is. */
	static const char *const dnf_argv[] = { "dnf",  "-q",         "-C", "updateinfo",
						"list", "--security", NULL };
	const char *cmd = pm == PM_APT ? "apt-get" : "dnf";
	char stamp[1024], *out = NULL;
	int status = 0, q;

	if (pm == PM_APT) {
		apt_stamp(ctx->root, "apt-get -s dist-upgrade", stamp, sizeof(stamp));
		q = run_cached(ctx, now, "apt-get", stamp, apt_argv, query_cacheable, &out, &status,
			       hit);
	} else {
		dnf_stamp(ctx->root, "dnf -C updateinfo list --security", dnf_lists_time(ctx->root),
			  stamp, sizeof(stamp));
		q = run_cached(ctx, now, "dnf", stamp, dnf_argv, query_cacheable, &out, &status,
			       hit);
	}
	if (q == -ENOMEM)
		return q;
	if (q < 0) {
		verdict_add(v, CHECK_UNKNOWN, NULL, NULL, "%s %s%.0s, pending updates unknown",
			    "%s %.0s%s，无法确定待安装的更新", cmd, query_error_en(q),
			    query_error_zh(q));
		return 0;
	}
	if (status != 0) {
		verdict_add(v, CHECK_UNKNOWN,
			    pm == PM_DNF ? "Refresh the package metadata: sudo dnf makecache."
					 : "Repair the package system: sudo apt-get -f install.",
			    pm == PM_DNF ? "请刷新软件包元数据：sudo dnf makecache。"
					 : "请修复软件包系统：sudo apt-get -f install。",
			    "%s exited with status %d, pending updates unknown",
			    "%s 退出状态为 %d，无法确定待安装的更新", cmd, status);
		check_result_add(r, "query_status", "%d", status);
		free(out);
		return 0;
	}
	q = pm == PM_APT ? apt_parse(out, pd) : dnf_parse(out, pd);
	free(out);
	return q < 0 ? q : 1;
}

/* Is a restart pending? 1 yes (why/why_zh say why), 0 no, -ENOMEM. */
static int reboot_pending(struct check_ctx *ctx, enum pkgmgr pm, time_t now, const char *running,
			  const char *newest, char *why, char *why_zh, size_t size)
{
	static const char *const nr_argv[] = { "needs-restarting", "-r", NULL };
	bool reboot = false;

	if (sysroot_exists(ctx->root, "/run/reboot-required")) {
		char pkgs[256];

		reboot = true;
		reboot_pkgs(ctx->root, pkgs, sizeof(pkgs));
		snprintf(why, size, "/run/reboot-required%s%s%s", pkgs[0] ? " (" : "", pkgs,
			 pkgs[0] ? ")" : "");
		snprintf(why_zh, size, "%s", why);
	}
	if (running && newest[0] && version_cmp(newest, running) > 0) {
		char s[300];

		reboot = true;
		snprintf(s, sizeof(s), "newer kernel %s installed", newest);
		append(why, size, "; ", s);
		snprintf(s, sizeof(s), "已安装更新的内核 %s", newest);
		append(why_zh, size, "；", s);
	}
	/* Libraries and services too, on dnf systems (slow: cached like the query). */
	if (pm == PM_DNF && ctx->policy->patches.reboot_required != POLICY_REBOOT_IGNORE) {
		char stamp[512], rpm[256], boot[64] = "", *bootid = NULL, *out = NULL;
		bool hit;
		int st, q;

		if (sysroot_read_line(ctx->root, "/proc/sys/kernel/random/boot_id", &bootid) == 0) {
			snprintf(boot, sizeof(boot), "%s", bootid);
			free(bootid);
		}
		rpmdb_stamp(ctx->root, rpm, sizeof(rpm));
		snprintf(stamp, sizeof(stamp), "needs-restarting -r|root=%s|boot=%s|%s",
			 ctx->root->path[0] ? ctx->root->path : "/", boot, rpm);
		q = run_cached(ctx, now, "needs-restarting", stamp, nr_argv,
			       needs_restarting_cacheable, &out, &st, &hit);
		if (q == -ENOMEM)
			return q;
		free(out);
		if (q == 0 && st == 1) {
			reboot = true;
			append(why, size, "; ", "needs-restarting -r");
			append(why_zh, size, "；", "needs-restarting -r");
		}
	}
	return reboot;
}

int check_patch_updates(struct check_ctx *ctx, struct check_result *r)
{
	const struct policy_patches *pol = &ctx->policy->patches;
	time_t now = ctx->now ? ctx->now : time(NULL), lists;
	struct pending pd = { 0 };
	struct verdict v = { .st = CHECK_PASS };
	char osid[64], *running = NULL, newest[256] = "", why[512] = "", why_zh[512] = "";
	const char *fix_en, *fix_zh;
	bool hit = false;
	enum pkgmgr pm;
	long age_days = -1;
	int ret;

	if (!pol->required) {
		check_result_set(r, CHECK_NOT_APPLICABLE, "patch checks are not required by policy",
				 "策略未要求检查系统补丁");
		return 0;
	}

	pm = detect_pkgmgr(ctx->root, osid, sizeof(osid));
	check_result_add(r, "package_manager", "%s",
			 pm == PM_APT   ? "apt"
			 : pm == PM_DNF ? "dnf"
					: "none");
	check_result_add(r, "os", "%s", osid);
	if (pm == PM_APT) {
		fix_en = "Install the updates: sudo apt-get update && sudo apt-get upgrade (or the "
			 "desktop updater).";
		fix_zh = "请安装更新：sudo apt-get update && sudo apt-get "
			 "upgrade（或使用系统更新器）。";
	} else {
		fix_en = "Install the updates: sudo dnf upgrade --refresh --security (or the "
			 "desktop "
			 "updater).";
		fix_zh = "请安装更新：sudo dnf upgrade --refresh --security（或使用系统更新器）。";
	}

	/* Pending security updates, and how old the lists are: updates the lists do not know
	 * about are not "pending". */
	if (pm == PM_NONE) {
		verdict_add(&v, CHECK_UNKNOWN, NULL, NULL,
			    "no supported package manager (apt or dnf) found",
			    "未找到受支持的包管理器（apt 或 dnf）");
	} else {
		ret = query_updates(ctx, pm, now, r, &v, &pd, &hit);
		if (ret < 0)
			goto out;
		if (ret > 0) {
			check_result_add(r, "pending_security", "%u", pd.security);
			add_names(r, &pd);
			if (pm == PM_APT)
				check_result_add(r, "pending_total", "%u", pd.total);
			if (pd.security > pol->max_pending_security)
				verdict_add(&v, CHECK_FAIL, fix_en, fix_zh,
					    "%u pending security updates (policy allows %u)",
					    "%u 个安全更新待安装（策略允许 %u 个）", pd.security,
					    pol->max_pending_security);
		}
		lists = pm == PM_APT ? apt_lists_time(ctx->root) : dnf_lists_time(ctx->root);
		if (lists > 0) {
			age_days = now > lists ? (long)((now - lists) / SEC_PER_DAY) : 0;
			check_result_add(r, "list_age_days", "%ld", age_days);
			if (pol->max_list_age_days && age_days > (long)pol->max_list_age_days)
				verdict_add(&v, CHECK_FAIL, fix_en, fix_zh,
					    "package lists are %ld days old (policy allows %u)",
					    "软件包列表已 %ld 天未更新（策略允许 %u 天）", age_days,
					    pol->max_list_age_days);
		} else {
			check_result_add(r, "list_age_days", "never");
			verdict_add(&v, pol->max_list_age_days ? CHECK_FAIL : CHECK_UNKNOWN, fix_en,
				    fix_zh, "package lists have never been downloaded",
				    "从未下载过软件包列表");
		}
	}

	/* Kernel: running, newest installed, minimum. */
	if (sysroot_read_line(ctx->root, "/proc/sys/kernel/osrelease", &running) < 0 ||
	    !running[0]) {
		free(running);
		running = NULL;
	}
	check_result_add(r, "running_kernel", "%s", running ? running : "unknown");
	if (running)
		newest_kernel(ctx->root, running, newest, sizeof(newest));
	check_result_add(r, "newest_kernel", "%s", newest[0] ? newest : "unknown");
	if (pol->min_kernel && pol->min_kernel[0]) {
		check_result_add(r, "min_kernel", "%s", pol->min_kernel);
		if (!running)
			verdict_add(&v, CHECK_UNKNOWN, NULL, NULL,
				    "running kernel unknown, cannot compare with %s",
				    "无法读取正在运行的内核版本，无法与 %s 比较", pol->min_kernel);
		else if (version_cmp(running, pol->min_kernel) < 0)
			verdict_add(&v, CHECK_FAIL,
				    "Install a newer kernel from the distribution and restart.",
				    "请安装发行版提供的新内核并重启。",
				    "running kernel %s is older than the required %s",
				    "正在运行的内核 %s 低于要求的 %s", running, pol->min_kernel);
	}

	ret = reboot_pending(ctx, pm, now, running, newest, why, why_zh, sizeof(why));
	if (ret < 0)
		goto out;
	check_result_add(r, "reboot_required", "%s", ret ? "yes" : "no");
	if (ret) {
		check_result_add(r, "reboot_reason", "%s", why);
		if (pol->reboot_required != POLICY_REBOOT_IGNORE)
			verdict_add(&v,
				    pol->reboot_required == POLICY_REBOOT_FAIL ? CHECK_FAIL
									       : CHECK_WARN,
				    "Restart the computer to finish installing updates.",
				    "请重启计算机以完成更新安装。", "a restart is pending (%s%.0s)",
				    "需要重启（%.0s%s）", why, why_zh);
	}
	if (pm != PM_NONE)
		check_result_add(r, "cache", "%s",
				 !ctx->cache_dir || !pol->cache_ttl_seconds ? "off"
				 : hit                                      ? "hit"
									    : "miss");

	if (!v.any)
		check_result_set(
			r, CHECK_PASS,
			"%u pending security updates, package lists %ld day(s) old, kernel %s",
			"%u 个安全更新待安装，软件包列表 %ld 天前更新，内核 %s", pd.security,
			age_days, running ? running : "unknown");
	else
		check_result_set(r, v.st, "%s%.0s", "%.0s%s", v.en, v.zh);
	if (v.fix_en[0] && v.st != CHECK_PASS)
		check_result_fix(r, v.fix_en, v.fix_zh);
	ret = 0;
out:
	free(running);
	strv_clear(&pd.names);
	return ret;
}
