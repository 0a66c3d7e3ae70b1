/* Check screen_lock: every user with a graphical session has an automatic screen lock within the
 * policy's limits. Per desktop readers live in agent/screen_lock_*.c; docs/checks/screen_lock.md
 * says what is read and how the status is decided. */
#include "agent/checks/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/checks/screen_lock/screen_lock.h"

#define TEXT_MAX 2048

/* Append to a fixed buffer, truncating silently. */
static void appendf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void appendf(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(buf);
	va_list ap;

	if (len + 1 >= size)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + len, size - len, fmt, ap);
	va_end(ap);
}

/* "15 minutes" / "15 分钟", or seconds when not a whole number of minutes. */
static void duration(char *buf, size_t size, unsigned long secs, bool zh)
{
	if (secs >= 60 && secs % 60 == 0)
		snprintf(buf, size, zh ? "%lu 分钟" : "%lu minute%s", secs / 60,
			 zh || secs == 60 ? "" : "s");
	else
		snprintf(buf, size, zh ? "%lu 秒" : "%lu second%s", secs,
			 zh || secs == 1 ? "" : "s");
}

static const char *yes_no(long v)
{
	return v == SCREENLOCK_UNKNOWN ? "unknown" : v ? "yes" : "no";
}

static const char *admin_name(enum screen_lock_admin a)
{
	return a == SCREENLOCK_ADMIN_YES ? "yes" : a == SCREENLOCK_ADMIN_PARTIAL ? "partial" : "no";
}

/* One user's verdict; reasons appended to en/zh ("; "-separated by the caller). */
static enum check_status evaluate(const struct policy_screen_lock *pl,
				  const struct screen_lock_user *u,
				  const struct screen_lock_setting *s, char *en, char *zh,
				  size_t size)
{
	char d1[64], d2[64];
	bool fail = false;

	en[0] = zh[0] = 0;
	if (u->desktop == SCREENLOCK_DE_OTHER) {
		snprintf(en, size, "desktop '%s' is not supported, settings not read",
			 u->desktop_raw[0] ? u->desktop_raw : "(unnamed)");
		snprintf(zh, size, "不支持的桌面 '%s'，未读取设置",
			 u->desktop_raw[0] ? u->desktop_raw : "(未命名)");
		return CHECK_UNKNOWN;
	}
	if (s->lock_enabled == 0) {
		appendf(en, size, "%sscreen lock is off", en[0] ? ", " : "");
		appendf(zh, size, "%s锁屏已关闭", zh[0] ? "，" : "");
		fail = true;
	}
	if (s->idle_seconds == 0) {
		appendf(en, size, "%sthe screen never locks when idle", en[0] ? ", " : "");
		appendf(zh, size, "%s空闲时从不锁屏", zh[0] ? "，" : "");
		fail = true;
	} else if (s->idle_seconds != SCREENLOCK_UNKNOWN && pl->max_idle_seconds &&
		   s->idle_seconds > (long)pl->max_idle_seconds) {
		duration(d1, sizeof(d1), (unsigned long)s->idle_seconds, false);
		duration(d2, sizeof(d2), pl->max_idle_seconds, false);
		appendf(en, size, "%sidle time before locking is %s (max %s)", en[0] ? ", " : "",
			d1, d2);
		duration(d1, sizeof(d1), (unsigned long)s->idle_seconds, true);
		duration(d2, sizeof(d2), pl->max_idle_seconds, true);
		appendf(zh, size, "%s空闲 %s后才锁屏（上限 %s）", zh[0] ? "，" : "", d1, d2);
		fail = true;
	}
	if (s->lock_delay_seconds != SCREENLOCK_UNKNOWN &&
	    s->lock_delay_seconds > (long)pl->max_lock_delay_seconds) {
		duration(d1, sizeof(d1), (unsigned long)s->lock_delay_seconds, false);
		duration(d2, sizeof(d2), pl->max_lock_delay_seconds, false);
		appendf(en, size, "%slock delay is %s (max %s)", en[0] ? ", " : "", d1, d2);
		duration(d1, sizeof(d1), (unsigned long)s->lock_delay_seconds, true);
		duration(d2, sizeof(d2), pl->max_lock_delay_seconds, true);
		appendf(zh, size, "%s锁定延迟为 %s（上限 %s）", zh[0] ? "，" : "", d1, d2);
		fail = true;
	}
	if (fail)
		return CHECK_FAIL;
	if (s->lock_enabled == SCREENLOCK_UNKNOWN || s->idle_seconds == SCREENLOCK_UNKNOWN ||
	    s->lock_delay_seconds == SCREENLOCK_UNKNOWN) {
		snprintf(en, size, "could not read %s%s%s",
			 s->lock_enabled == SCREENLOCK_UNKNOWN ? "lock_enabled, " : "",
			 s->idle_seconds == SCREENLOCK_UNKNOWN ? "idle_seconds, " : "",
			 s->lock_delay_seconds == SCREENLOCK_UNKNOWN ? "lock_delay_seconds, " : "");
		en[strlen(en) - 2] = 0;
		if (s->note[0])
			appendf(en, size, " (%s)", s->note);
		snprintf(zh, size, "无法读取锁屏设置");
		return CHECK_UNKNOWN;
	}
	return CHECK_PASS;
}

/* How to fix it by hand, per desktop, in both languages: each text takes the idle time, then
 * the lock delay (a text that needs only the first ignores the second). */
static const struct {
	enum screen_lock_desktop desktop;
	const char *en, *zh;
} fix_texts[] = {
	{ SCREENLOCK_DE_GNOME,
	  "GNOME: Settings → Privacy → Screen Lock (Privacy & Security on GNOME 46+): "
	  "turn on Automatic Screen Lock, set Blank Screen Delay to at most %s and Automatic "
	  "Screen Lock Delay to at most %s. ",
	  "GNOME：设置 → 隐私 → 锁屏（GNOME 46 起为“隐私与安全”）：开启“自动锁屏”，"
	  "“黑屏延时”不超过 %s，“自动锁屏延时”不超过 %s。" },
	{ SCREENLOCK_DE_CINNAMON,
	  "Cinnamon: System Settings → Screensaver: delay before starting the "
	  "screensaver at most %s, turn on \"Lock the computer after the screensaver starts\", "
	  "delay before locking at most %s. ",
	  "Cinnamon：系统设置 → 屏幕保护程序：启动屏保前的延迟不超过 %s，开启“屏保启动后锁定"
	  "计算机”，锁定前的延迟不超过 %s。" },
	{ SCREENLOCK_DE_MATE,
	  "MATE: Control Center → Screensaver: regard the computer as idle after at "
	  "most %s, turn on \"Lock screen when screensaver is active\". ",
	  "MATE：控制中心 → 屏幕保护程序：空闲时间不超过 %s，开启“屏保激活时锁定屏幕”。" },
	{ SCREENLOCK_DE_UKUI,
	  "UKUI (Kylin): Settings → Personalize → Screensaver and Screen Lock: start "
	  "the screensaver after at most %s (not Never) and turn on \"Lock screen when screensaver "
	  "boot\". ",
	  "UKUI（麒麟）：设置 → 个性化 → 屏保 / 锁屏：屏保开启时间不超过 %s（不要选“从不”），"
	  "并开启“激活屏保时锁定屏幕”。" },
	{ SCREENLOCK_DE_DEEPIN,
	  "Deepin/UOS: Control Center → Power → Plugged In and On Battery: lock screen "
	  "after at most %s (not Never). ",
	  "深度/统信 UOS：控制中心 → 电源管理 → 使用电源 / 使用电池：自动锁屏不超过 "
	  "%s（不要选“从不”）。" },
	{ SCREENLOCK_DE_KDE,
	  "KDE Plasma: System Settings → Screen Locking: turn on \"Lock screen "
	  "automatically\" after at most %s and \"Allow unlocking without password for\" at most "
	  "%s. ",
	  "KDE Plasma：系统设置 → 锁屏：开启“自动锁定屏幕”，时间不超过 %s，“允许无需密码解锁的"
	  "时间”不超过 %s。" },
	{ SCREENLOCK_DE_XFCE,
	  "XFCE: Settings → Xfce Screensaver: on the Screensaver tab activate after "
	  "at most %s; on the Lock Screen tab turn on \"Enable Lock Screen\" and \"Lock Screen "
	  "with Screensaver\" with a delay of at most %s. ",
	  "XFCE：设置 → Xfce 屏幕保护程序：在“屏幕保护程序”页设置空闲不超过 %s 后启动；在“锁屏”页"
	  "开启“启用锁屏”和“随屏幕保护程序锁屏”，延迟不超过 %s。" },
};

static void fix_for(enum screen_lock_desktop d, const struct policy_screen_lock *pl, char *en,
		    char *zh, size_t size)
{
	char ie[64], iz[64], de[64], dz[64];

	duration(ie, sizeof(ie), pl->max_idle_seconds ? pl->max_idle_seconds : 900, false);
	duration(iz, sizeof(iz), pl->max_idle_seconds ? pl->max_idle_seconds : 900, true);
	duration(de, sizeof(de), pl->max_lock_delay_seconds, false);
	duration(dz, sizeof(dz), pl->max_lock_delay_seconds, true);
	for (size_t i = 0; i < sizeof(fix_texts) / sizeof(fix_texts[0]); i++)
		if (fix_texts[i].desktop == d) {
			appendf(en, size, fix_texts[i].en, ie, de);
			appendf(zh, size, fix_texts[i].zh, iz, dz);
		}
}

static void add_user_evidence(struct check_result *r, const struct screen_lock_user *u,
			      const struct screen_lock_setting *s, enum check_status st,
			      const char *why)
{
	char k[192];

#define EV(field, ...)                                           \
	do {                                                     \
		snprintf(k, sizeof(k), "%s.%s", u->name, field); \
		check_result_add(r, k, __VA_ARGS__);             \
	} while (0)
	EV("uid", "%u", (unsigned)u->uid);
	EV("desktop", "%s", screen_lock_desktop_name(u->desktop));
	if (u->desktop_raw[0])
		EV("desktop_name", "%s", u->desktop_raw);
	EV("lock_enabled", "%s", yes_no(s->lock_enabled));
	if (s->idle_seconds == SCREENLOCK_UNKNOWN)
		EV("idle_seconds", "unknown");
	else
		EV("idle_seconds", "%ld", s->idle_seconds);
	if (s->lock_delay_seconds == SCREENLOCK_UNKNOWN)
		EV("lock_delay_seconds", "unknown");
	else
		EV("lock_delay_seconds", "%ld", s->lock_delay_seconds);
	if (s->lock_on_suspend != SCREENLOCK_NOT_READ)
		EV("lock_on_suspend", "%s", yes_no(s->lock_on_suspend));
	EV("admin_locked", "%s", admin_name(s->admin));
	EV("source", "%s", s->source);
	EV("found_by", "%s", u->found_by);
	EV("status", "%s", check_status_to_string(st));
	if (why && *why)
		EV("problem", "%s", why);
	if (s->note[0])
		EV("note", "%s", s->note);
#undef EV
}

int check_screen_lock(struct check_ctx *ctx, struct check_result *r)
{
	const struct policy_screen_lock *pl;
	struct screen_lock_users users = { 0 };
	struct screen_lock_dconf *dc = NULL;
	char *sum_en = NULL, *sum_zh = NULL, *fix_en = NULL, *fix_zh = NULL, *unk_en = NULL,
	     *unk_zh = NULL;
	char why_en[TEXT_MAX], why_zh[TEXT_MAX];
	enum check_status overall = CHECK_PASS;
	unsigned fix_desktops = 0, remediate = 0, no_remedy = 0;
	size_t n_fail = 0, n_unknown = 0;
	int ret;

	if (!ctx->policy || !ctx->policy->screen_lock.required) {
		check_result_set(
			r, CHECK_NOT_APPLICABLE,
			"Screen lock is not required by the policy (screen_lock.required = false)",
			"策略未要求锁屏（screen_lock.required = false）");
		return 0;
	}
	pl = &ctx->policy->screen_lock;

	ret = screen_lock_users_find(ctx->root, &users);
	if (ret < 0)
		return ret;
	check_result_add(r, "users", "%zu", users.n);
	check_result_add(r, "max_idle_seconds", "%u", pl->max_idle_seconds);
	check_result_add(r, "max_lock_delay_seconds", "%u", pl->max_lock_delay_seconds);
	if (users.n == 0) {
		check_result_set(r, CHECK_NOT_APPLICABLE,
				 "No graphical session is open (logind, /proc): no screen to lock",
				 "当前没有图形会话（logind、/proc），无需检查锁屏");
		goto out;
	}
	ret = screen_lock_dconf_load(ctx->root, &dc);
	if (ret < 0)
		goto out;

	sum_en = calloc(1, TEXT_MAX);
	sum_zh = calloc(1, TEXT_MAX);
	fix_en = calloc(1, TEXT_MAX);
	fix_zh = calloc(1, TEXT_MAX);
	unk_en = calloc(1, TEXT_MAX);
	unk_zh = calloc(1, TEXT_MAX);
	if (!sum_en || !sum_zh || !fix_en || !fix_zh || !unk_en || !unk_zh) {
		ret = -ENOMEM;
		goto out;
	}

	for (size_t i = 0; i < users.n; i++) {
		const struct screen_lock_user *u = &users.v[i];
		struct screen_lock_setting s;
		enum check_status st;

		screen_lock_setting_init(&s);
		if (screen_lock_desktop_uses_dconf(u->desktop))
			ret = screen_lock_read_gsettings(ctx->root, dc, u, &s);
		else if (u->desktop == SCREENLOCK_DE_KDE)
			ret = screen_lock_read_kde(ctx->root, u, &s);
		else if (u->desktop == SCREENLOCK_DE_XFCE)
			ret = screen_lock_read_xfce(ctx->root, u, &s);
		else
			ret = 0;
		if (ret == -ENOMEM)
			goto out;

		st = evaluate(pl, u, &s, why_en, why_zh, sizeof(why_en));
		add_user_evidence(r, u, &s, st, st == CHECK_PASS ? NULL : why_en);
		overall = check_status_worst(overall, st);
		if (st == CHECK_FAIL) {
			appendf(sum_en, TEXT_MAX, "%s%s (%s): %s", n_fail ? "; " : "", u->name,
				screen_lock_desktop_name(u->desktop), why_en);
			appendf(sum_zh, TEXT_MAX, "%s%s（%s）：%s", n_fail ? "；" : "", u->name,
				screen_lock_desktop_name(u->desktop), why_zh);
			if (!(fix_desktops & (1u << u->desktop)))
				fix_for(u->desktop, pl, fix_en, fix_zh, TEXT_MAX);
			fix_desktops |= 1u << u->desktop;
			n_fail++;
		} else if (st == CHECK_UNKNOWN) {
			appendf(unk_en, TEXT_MAX, "%s%s (%s): %s", n_unknown ? "; " : "", u->name,
				screen_lock_desktop_name(u->desktop), why_en);
			appendf(unk_zh, TEXT_MAX, "%s%s（%s）：%s", n_unknown ? "；" : "", u->name,
				screen_lock_desktop_name(u->desktop), why_zh);
			n_unknown++;
		}
		/* Enforce mode pins the settings system-wide wherever they are not yet pinned. */
		if (st != CHECK_PASS || s.admin != SCREENLOCK_ADMIN_YES) {
			if (screen_lock_desktop_uses_dconf(u->desktop))
				remediate |= SCREENLOCK_FIX_DCONF;
			else if (u->desktop == SCREENLOCK_DE_KDE)
				remediate |= SCREENLOCK_FIX_KDE;
			else if (st != CHECK_PASS)
				no_remedy |= 1u << u->desktop;
		}
	}
	ret = 0;

	if (overall == CHECK_FAIL) {
		if (n_unknown) {
			appendf(sum_en, TEXT_MAX, "; %zu more could not be verified", n_unknown);
			appendf(sum_zh, TEXT_MAX, "；另有 %zu 个用户无法确认", n_unknown);
		}
		check_result_set(
			r, CHECK_FAIL,
			"Screen lock (rule screen_lock) is not compliant for %zu of %zu graphical "
			"user(s): %s%.0s",
			"%zu/%zu 个图形会话用户的锁屏不符合要求（规则 screen_lock）：%.0s%s",
			n_fail, users.n, sum_en, sum_zh);
		appendf(fix_en, TEXT_MAX, "%s",
			pl->remediate && remediate ? "In enforce mode wxguard sets and locks these "
						     "values for all users."
						   : "Or ask IT to enforce it for all users.");
		appendf(fix_zh, TEXT_MAX, "%s",
			pl->remediate && remediate
				? "强制模式下 wxguard 会为所有用户设置并锁定这些值。"
				: "也可请 IT 为所有用户统一强制设置。");
		check_result_fix(r, fix_en, fix_zh);
	} else if (overall == CHECK_UNKNOWN) {
		check_result_set(
			r, CHECK_UNKNOWN,
			"Screen lock (rule screen_lock) could not be verified for %zu of %zu "
			"graphical "
			"user(s): %s%.0s",
			"无法确认 %zu/%zu 个图形会话用户的锁屏设置（规则 screen_lock）：%.0s%s",
			n_unknown, users.n, unk_en, unk_zh);
	} else {
		char ie[64], iz[64], de[64], dz[64];

		duration(ie, sizeof(ie), pl->max_idle_seconds, false);
		duration(iz, sizeof(iz), pl->max_idle_seconds, true);
		duration(de, sizeof(de), pl->max_lock_delay_seconds, false);
		duration(dz, sizeof(dz), pl->max_lock_delay_seconds, true);
		if (pl->max_idle_seconds)
			check_result_set(r, CHECK_PASS,
					 "Screen lock is on for all %zu graphical user(s): locks "
					 "after at most %s "
					 "idle, lock delay at most %s%.0s%.0s",
					 "全部 %zu 个图形会话用户已启用锁屏：空闲不超过 "
					 "%.0s%.0s%s即锁屏，锁定延迟不超过 %s",
					 users.n, ie, de, iz, dz);
		else
			check_result_set(r, CHECK_PASS,
					 "Screen lock is on for all %zu graphical user(s), lock "
					 "delay at most %s%.0s",
					 "全部 %zu 个图形会话用户已启用锁屏，锁定延迟不超过 %.0s%s",
					 users.n, de, dz);
	}

	if (no_remedy && pl->remediate) {
		for (int d = 0; d < SCREENLOCK_DE_COUNT_; d++)
			if (no_remedy & (1u << d))
				check_result_add(
					r, "remediation_unsupported", "%s",
					screen_lock_desktop_name((enum screen_lock_desktop)d));
	}
	if (remediate && pl->remediate) {
		if (!ctx->remediate) {
			check_result_add(r, "remediation", "skipped: audit mode");
		} else {
			int k = screen_lock_remediate(ctx, r, remediate);

			check_result_add(r, "remediation", "%s",
					 k < 0          ? "failed (see remediation_error)"
					 : r->changes.n ? "applied"
							: "already in place");
		}
	}
out:
	free(sum_en);
	free(sum_zh);
	free(fix_en);
	free(fix_zh);
	free(unk_en);
	free(unk_zh);
	screen_lock_dconf_free(dc);
	screen_lock_users_clear(&users);
	return ret;
}
