/* antivirus: ClamAV installed, its signatures fresh and its scanner daemon running, or another
 * accepted product running. See docs/checks/antivirus.md. */
#include "agent/checks/check.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "agent/host/proc.h"

#define COMM_MAX 15 /* TASK_COMM_LEN - 1 */
#define CVD_HEADER_SIZE 512
#define SEC_PER_DAY 86400
#define CLAMAV_DB_DEFAULT "/var/lib/clamav"

/* Processes we look for, and the first pid seen for each. */
struct procs {
	const char *const *names;
	size_t n;
	long *pid; /* 0 = not running */
};

static bool comm_eq(const char *comm, const char *name)
{
	return strncmp(comm, name, COMM_MAX) == 0 &&
	       (strlen(name) <= COMM_MAX || comm[COMM_MAX] == 0);
}

static int scan_procs(const struct sysroot *sr, struct procs *ps)
{
	pid_t *pids = NULL;
	size_t n = 0;
	char comm[64];
	int r;

	r = proc_list_pids(sr, &pids, &n);
	if (r < 0)
		return r;
	for (size_t k = 0; k < n; k++) {
		if (proc_read_comm(sr, pids[k], comm, sizeof(comm)) < 0)
			continue; /* gone meanwhile */
		for (size_t i = 0; i < ps->n; i++)
			if (!ps->pid[i] && comm_eq(comm, ps->names[i]))
				ps->pid[i] = pids[k];
	}
	free(pids);
	return 0;
}

/* DatabaseDirectory from freshclam.conf, else the default. */
static void clamav_db_dir(const struct sysroot *sr, char *buf, size_t size)
{
	static const char *const confs[] = { "/etc/clamav/freshclam.conf", "/etc/freshclam.conf",
					     "/usr/local/etc/freshclam.conf" };

	snprintf(buf, size, "%s", CLAMAV_DB_DEFAULT);
	for (size_t i = 0; i < sizeof(confs) / sizeof(confs[0]); i++) {
		char *data = NULL;

		if (sysroot_read_file(sr, confs[i], 1024 * 1024, &data, NULL) < 0)
			continue;
		for (char *l = data, *nl; l && *l; l = nl) {
			nl = strchr(l, '\n');
			if (nl)
				*nl++ = 0;
			while (*l == ' ' || *l == '\t')
				l++;
			if (strncmp(l, "DatabaseDirectory", 17) == 0 &&
			    (l[17] == ' ' || l[17] == '\t')) {
				l = str_strip(l + 17);
				if (l[0] == '/')
					snprintf(buf, size, "%s", l);
			}
		}
		free(data);
		return;
	}
}

static int month_index(const char *m)
{
	static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
					      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

	for (int i = 0; i < 12; i++)
		if (strcasecmp(m, months[i]) == 0)
			return i;
	return -1;
}

/* "14 Nov 2026 09-30 +0000" (ClamAV writes '-' between hour and minute: ':' separates
 * the header's fields). */
static int parse_build_time(const char *s, time_t *ret)
{
	char mon[4], sign;
	int day, year, hour, min, tz, n = 0;
	struct tm tm = { 0 };
	time_t t;

	if (sscanf(s, "%d %3s %d %d-%d %c%4d%n", &day, mon, &year, &hour, &min, &sign, &tz, &n) !=
		    7 ||
	    s[n] != 0 || (sign != '+' && sign != '-'))
		return -EBADMSG;
	tm.tm_mon = month_index(mon);
	if (tm.tm_mon < 0 || day < 1 || day > 31 || year < 2000 || year > 9999 || hour > 23 ||
	    min > 59 || hour < 0 || min < 0 || tz < 0 || tz > 1400)
		return -EBADMSG;
	tm.tm_mday = day;
	tm.tm_year = year - 1900;
	tm.tm_hour = hour;
	tm.tm_min = min;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EBADMSG;
	t -= (sign == '+' ? 1 : -1) * ((tz / 100) * 3600 + (tz % 100) * 60);
	*ret = t;
	return 0;
}

struct cvd {
	char file[PATH_MAX];
	time_t built;
	unsigned long version;
	unsigned long sigs;
};

/* The 512-byte header of a .cvd/.cld:
 * "ClamAV-VDB:<build time>:<version>:<sigs>:<flevel>:<md5>:<dsig>:<builder>:<stime>".
 * The build time is the date field; the trailing stime (seconds) is the fallback. */
static int read_cvd_header(const struct sysroot *sr, const char *path, struct cvd *ret)
{
	char hdr[CVD_HEADER_SIZE + 1], *f[10] = { 0 }, *save = NULL, *tok;
	size_t n;
	int nf = 0;
	FILE *fp;

	fp = sysroot_fopen(sr, path, "re");
	if (!fp)
		return -errno;
	n = fread(hdr, 1, CVD_HEADER_SIZE, fp);
	fclose(fp);
	hdr[n] = 0;
	if (strncmp(hdr, "ClamAV-VDB:", 11) != 0)
		return -EBADMSG;
	hdr[strcspn(hdr, "\n")] = 0;
	for (tok = strtok_r(hdr + 11, ":", &save); tok && nf < 10; tok = strtok_r(NULL, ":", &save))
		f[nf++] = tok;
	if (nf < 3)
		return -EBADMSG;
	for (int i = 0; i < nf; i++)
		str_strip(f[i]);
	if (parse_build_time(f[0], &ret->built) < 0) {
		char *end;
		long long st;

		if (nf < 8)
			return -EBADMSG;
		st = strtoll(f[7], &end, 10);
		if (*end || end == f[7] || st <= 0)
			return -EBADMSG;
		ret->built = (time_t)st;
	}
	ret->version = strtoul(f[1], NULL, 10);
	ret->sigs = strtoul(f[2], NULL, 10);
	snprintf(ret->file, sizeof(ret->file), "%s", path);
	return 0;
}

static bool clamav_installed(const struct sysroot *sr)
{
	static const char *const files[] = {
		"/usr/bin/clamscan",
		"/usr/bin/clamdscan",
		"/usr/sbin/clamd",
		"/usr/bin/freshclam",
		"/usr/local/bin/clamscan",
		"/usr/local/sbin/clamd",
		"/usr/local/bin/freshclam",
		/* dpkg's file list exists exactly while the package is installed. */
		"/var/lib/dpkg/info/clamav.list",
		"/var/lib/dpkg/info/clamav-daemon.list",
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (sysroot_exists(sr, files[i]))
			return true;
	return false;
}

static void format_utc(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "%lld", (long long)t);
}

static bool is_clamav(const char *s)
{
	return strcasecmp(s, "clamav") == 0;
}

enum {
	P_CLAMD = 0,
	P_FRESHCLAM = 1,
	P_CLAMONACC = 2,
	P_OTHER = 3
};

int check_antivirus(struct check_ctx *ctx, struct check_result *r)
{
	const struct policy_antivirus *pol = &ctx->policy->antivirus;
	time_t now = ctx->now ? ctx->now : time(NULL);
	const char **names = NULL;
	long *pids = NULL;
	struct procs ps;
	struct cvd best = { .built = 0 }, cur;
	char dbdir[PATH_MAX - 32], path[PATH_MAX], when[64], others[512] = "";
	bool want_clamav = pol->products.n == 0, have_db = false, bad_db = false;
	size_t n = P_OTHER;
	long long age, days;
	int ret;

	if (!pol->required) {
		check_result_set(r, CHECK_NOT_APPLICABLE, "antivirus is not required by policy",
				 "策略未要求防病毒软件");
		return 0;
	}

	/* What counts: "clamav" in products gets the full check; every other product is
	 * accepted by a running process named in process_names (or named like the product). */
	names = calloc(P_OTHER + pol->process_names.n + pol->products.n, sizeof(*names));
	pids = calloc(P_OTHER + pol->process_names.n + pol->products.n, sizeof(*pids));
	if (!names || !pids) {
		ret = -ENOMEM;
		goto out;
	}
	names[P_CLAMD] = "clamd";
	names[P_FRESHCLAM] = "freshclam";
	names[P_CLAMONACC] = "clamonacc";
	for (size_t i = 0; i < pol->products.n; i++) {
		if (is_clamav(pol->products.v[i])) {
			want_clamav = true;
			continue;
		}
		names[n++] = pol->products.v[i];
		snprintf(others + strlen(others), sizeof(others) - strlen(others), "%s%s",
			 others[0] ? ", " : "", pol->products.v[i]);
	}
	for (size_t i = 0; i < pol->process_names.n; i++)
		names[n++] = pol->process_names.v[i];
	if (pol->process_names.n) {
		char *j = strv_join(&pol->process_names, ", ");

		snprintf(others + strlen(others), sizeof(others) - strlen(others), "%sprocesses %s",
			 others[0] ? ": " : "", j ? j : "?");
		free(j);
	}
	ps = (struct procs){ .names = names, .n = n, .pid = pids };
	ret = scan_procs(ctx->root, &ps);
	if (ret < 0) {
		check_result_set(r, CHECK_UNKNOWN, "cannot list processes in /proc: %s",
				 "无法读取 /proc 中的进程：%s", strerror(-ret));
		ret = 0;
		goto out;
	}

	for (size_t i = P_OTHER; i < n; i++) {
		if (!pids[i])
			continue;
		check_result_add(r, "product", "%s", names[i]);
		check_result_add(r, "process", "%s (pid %ld)", names[i], pids[i]);
		check_result_set(r, CHECK_PASS,
				 "accepted antivirus process %s is running (pid %ld)",
				 "已运行认可的防病毒进程 %s（pid %ld）", names[i], pids[i]);
		ret = 0;
		goto out;
	}
	if (others[0])
		check_result_add(r, "other_products", "%s: not running", others);

	if (!want_clamav) {
		check_result_set(r, CHECK_FAIL, "no accepted antivirus is running (looked for %s)",
				 "未发现正在运行的认可防病毒软件（查找了 %s）", others);
		check_result_fix(r, "Install and start the company's antivirus product.",
				 "请安装并启动公司指定的防病毒软件。");
		ret = 0;
		goto out;
	}

	/* ClamAV. */
	check_result_add(r, "product", "clamav");
	clamav_db_dir(ctx->root, dbdir, sizeof(dbdir));
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/daily.%s", dbdir, i == 0 ? "cvd" : "cld");
		ret = read_cvd_header(ctx->root, path, &cur);
		if (ret == -ENOENT)
			continue;
		if (ret < 0) {
			bad_db = true;
			check_result_add(r, "signature_error", "%s: %s", path,
					 ret == -EBADMSG ? "not a ClamAV database header"
							 : strerror(-ret));
			continue;
		}
		if (!have_db || cur.built > best.built)
			best = cur;
		have_db = true;
	}
	ret = 0;
	check_result_add(r, "clamd", "%s", pids[P_CLAMD] ? "running" : "stopped");
	check_result_add(r, "freshclam", "%s", pids[P_FRESHCLAM] ? "running" : "stopped");
	if (pids[P_CLAMONACC])
		check_result_add(r, "clamonacc", "running");

	if (!have_db) {
		bool installed = pids[P_CLAMD] || pids[P_FRESHCLAM] || clamav_installed(ctx->root);

		check_result_add(r, "installed", "%s", installed ? "yes" : "no");
		check_result_add(r, "database_dir", "%s", dbdir);
		if (bad_db) {
			check_result_set(r, CHECK_UNKNOWN,
					 "cannot read the ClamAV signature header in %s",
					 "无法读取 %s 中的 ClamAV 病毒库文件头", dbdir);
			check_result_fix(r, "Reinstall the signatures: sudo freshclam.",
					 "请重新下载病毒库：sudo freshclam。");
		} else if (installed) {
			check_result_set(
				r, CHECK_FAIL,
				"ClamAV has no signatures (no daily.cvd or daily.cld in %s)",
				"ClamAV 没有病毒库（%s 中没有 daily.cvd 或 daily.cld）", dbdir);
			check_result_fix(
				r,
				"Download the signatures: sudo freshclam, and enable the "
				"clamav-freshclam service.",
				"请下载病毒库：sudo freshclam，并启用 clamav-freshclam 服务。");
		} else {
			check_result_set(r, CHECK_FAIL,
					 "no antivirus installed: ClamAV not found%s%s",
					 "未安装防病毒软件：未找到 ClamAV%s%s",
					 others[0] ? ", not running: " : "", others);
			check_result_fix(
				r,
				"Install ClamAV: sudo apt-get install clamav-daemon "
				"clamav-freshclam (Fedora: sudo dnf install clamd clamav-update).",
				"请安装 ClamAV：sudo apt-get install clamav-daemon clamav-freshclam"
				"（Fedora：sudo dnf install clamd clamav-update）。");
		}
		goto out;
	}

	format_utc(best.built, when, sizeof(when));
	age = now > best.built ? (long long)(now - best.built) : 0;
	days = age / SEC_PER_DAY;
	check_result_add(r, "installed", "yes");
	check_result_add(r, "signature_file", "%s", best.file);
	check_result_add(r, "signature_version", "%lu", best.version);
	check_result_add(r, "signature_time", "%s", when);
	check_result_add(r, "signature_age_days", "%lld", days);
	if (pol->max_signature_age_days &&
	    age > (long long)pol->max_signature_age_days * SEC_PER_DAY) {
		check_result_set(r, CHECK_FAIL,
				 "ClamAV signatures are %.1f days old (built %s, policy allows %u)",
				 "ClamAV 病毒库已有 %.1f 天未更新（构建于 %s，策略允许 %u 天）",
				 (double)age / SEC_PER_DAY, when, pol->max_signature_age_days);
		check_result_fix(r,
				 "Update the signatures: sudo freshclam, and make sure the "
				 "clamav-freshclam service is enabled and can reach the mirror.",
				 "请更新病毒库：sudo freshclam，并确认 clamav-freshclam "
				 "服务已启用且能访问更新服务器。");
		goto out;
	}
	if (!pids[P_CLAMD]) {
		/* Fresh signatures but no scanner daemon: on-demand scanning only. */
		check_result_set(
			r, CHECK_WARN,
			"ClamAV signatures are current (%lld day(s) old) but the clamd scanner "
			"is not running: on-demand scanning only",
			"ClamAV 病毒库为最新（%lld 天），但 clamd 扫描服务未运行：仅能手动扫描",
			days);
		check_result_fix(r,
				 "Start the scanner: sudo systemctl enable --now clamav-daemon "
				 "(Fedora: clamd@scan).",
				 "请启动扫描服务：sudo systemctl enable --now clamav-daemon"
				 "（Fedora：clamd@scan）。");
		goto out;
	}
	check_result_set(r, CHECK_PASS,
			 "ClamAV is running with signatures %lld day(s) old (built %s)",
			 "ClamAV 正在运行，病毒库 %lld 天前构建（%s）", days, when);
out:
	free(names);
	free(pids);
	return ret;
}
