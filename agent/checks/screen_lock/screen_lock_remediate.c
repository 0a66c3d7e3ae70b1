/* screen_lock remediation (enforce mode only): system-wide settings that users cannot change.
 *   dconf (GNOME, Cinnamon, MATE, UKUI, Deepin):
 *     /etc/dconf/profile/user                        user-db:user + system-db:local (kept
 * otherwise) /etc/dconf/db/local.d/00-wxguard-screenlock    the compliant values
 *     /etc/dconf/db/local.d/locks/wxguard-screenlock the keys above, locked
 *     then `dconf update` to compile /etc/dconf/db/local.
 *   KDE Plasma: /etc/xdg/kscreenlockerrc, group [Daemon][$i] (immutable), other groups kept.
 * Every file is written under ctx->root, atomically, and only when its content differs. */
#include "agent/checks/screen_lock/screen_lock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DCONF_PROFILE "/etc/dconf/profile/user"
#define DCONF_KEYFILE "/etc/dconf/db/local.d/00-wxguard-screenlock"
#define DCONF_LOCKS "/etc/dconf/db/local.d/locks/wxguard-screenlock"
#define DCONF_DB "/etc/dconf/db/local"
#define KDE_FILE "/etc/xdg/kscreenlockerrc"
#define FILE_MAX (1024u * 1024)
#define IDLE_WHEN_UNBOUNDED 900u /* policy sets no idle maximum: still never "never" */
#define DCONF_UPDATE_TIMEOUT_MS 30000u

static const char header[] =
	"# Written by wxguard (policy rule screen_lock). Rewritten by the agent: do not edit.\n";
static const char kde_marker[] =
	"# Written by wxguard (policy rule screen_lock): the agent rewrites the [Daemon] group.";

/* Write root+abs when its content differs. *changed tells whether it was written. */
static int write_if_changed(const struct sysroot *root, const char *abs, const char *content,
			    bool *changed)
{
	char *old = NULL;
	int r;

	*changed = false;
	if (sysroot_read_file(root, abs, FILE_MAX, &old, NULL) == 0 && strcmp(old, content) == 0) {
		free(old);
		return 0;
	}
	free(old);
	r = sysroot_write_file_atomic(root, abs, content, strlen(content), 0644);
	if (r < 0)
		return r;
	*changed = true;
	return 0;
}

/* Write one file, record the change or the error. */
static int write_step(const struct sysroot *root, struct check_result *r, const char *abs,
		      const char *content, const char *what, bool *any)
{
	bool changed;
	int ret;

	ret = write_if_changed(root, abs, content, &changed);
	if (ret < 0) {
		check_result_add(r, "remediation_error", "cannot write %s: %s", abs,
				 strerror(-ret));
		return ret;
	}
	if (changed) {
		check_result_changed(r, "wrote %s (%s)", abs, what);
		*any = true;
	}
	return 0;
}

static bool has_line(const char *text, const char *prefix, const char *exact)
{
	const char *l = text;

	while (l && *l) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char buf[256];

		snprintf(buf, sizeof(buf), "%.*s", (int)(len < sizeof(buf) ? len : sizeof(buf) - 1),
			 l);
		str_strip(buf);
		if ((prefix && str_startswith(buf, prefix)) || (exact && strcmp(buf, exact) == 0))
			return true;
		l = nl ? nl + 1 : NULL;
	}
	return false;
}

/* The existing profile (or the distribution's), with user-db:user first and system-db:local. */
static int profile_content(const struct sysroot *root, char **ret)
{
	static const char *const fallbacks[] = { DCONF_PROFILE,
						 "/usr/local/share/dconf/profile/user",
						 "/usr/share/dconf/profile/user" };
	char *old = NULL, *out = NULL;
	size_t len;
	int n;

	for (size_t i = 0; i < sizeof(fallbacks) / sizeof(fallbacks[0]) && !old; i++) {
		int r = sysroot_read_file(root, fallbacks[i], FILE_MAX, &old, NULL);

		if (r < 0 && r != -ENOENT)
			return r; /* never replace a profile we could not read */
		if (r < 0)
			old = NULL;
	}
	if (!old) {
		old = strdup("");
		if (!old)
			return -ENOMEM;
	}
	len = strlen(old);
	n = asprintf(&out, "%s%s%s%s", has_line(old, "user-db:", NULL) ? "" : "user-db:user\n", old,
		     len && old[len - 1] != '\n' ? "\n" : "",
		     has_line(old, NULL, "system-db:local") ? "" : "system-db:local\n");
	free(old);
	if (n < 0)
		return -ENOMEM;
	*ret = out;
	return 0;
}

static int dconf_files(const struct policy_screen_lock *pl, char **keyfile, char **locks)
{
	unsigned idle = pl->max_idle_seconds ? pl->max_idle_seconds : IDLE_WHEN_UNBOUNDED;
	unsigned delay = pl->max_lock_delay_seconds;
	unsigned idle_min = idle / 60 ? idle / 60 : 1, delay_min = delay / 60;

	if (asprintf(keyfile,
		     "%s"
		     "[org/gnome/desktop/"
		     "screensaver]\nidle-activation-enabled=true\nlock-enabled=true\n"
		     "lock-delay=uint32 %u\n\n"
		     "[org/gnome/desktop/session]\nidle-delay=uint32 %u\n\n"
		     "[org/cinnamon/desktop/"
		     "screensaver]\nidle-activation-enabled=true\nlock-enabled=true\n"
		     "lock-delay=uint32 %u\n\n"
		     "[org/cinnamon/desktop/session]\nidle-delay=uint32 %u\n\n"
		     "[org/mate/screensaver]\nidle-activation-enabled=true\nlock-enabled=true\n"
		     "lock-delay=%u\n\n"
		     "[org/mate/session]\nidle-delay=%u\n\n"
		     "[org/ukui/screensaver]\nidle-activation-enabled=true\nlock-enabled=true\n"
		     "idle-delay=%u\nlock-delay=%u\n\n"
		     "[com/deepin/dde/power]\nline-power-lock-delay=%u\nbattery-lock-delay=%u\n"
		     "screen-black-lock=true\n",
		     header, delay, idle, delay, idle, delay_min, idle_min, idle_min, delay_min,
		     idle, idle) < 0) {
		*keyfile = NULL;
		return -ENOMEM;
	}
	*locks = strdup("# Written by wxguard (policy rule screen_lock). Rewritten by the agent: "
			"do not edit.\n"
			"/org/gnome/desktop/screensaver/idle-activation-enabled\n"
			"/org/gnome/desktop/screensaver/lock-enabled\n"
			"/org/gnome/desktop/screensaver/lock-delay\n"
			"/org/gnome/desktop/session/idle-delay\n"
			"/org/cinnamon/desktop/screensaver/idle-activation-enabled\n"
			"/org/cinnamon/desktop/screensaver/lock-enabled\n"
			"/org/cinnamon/desktop/screensaver/lock-delay\n"
			"/org/cinnamon/desktop/session/idle-delay\n"
			"/org/mate/screensaver/idle-activation-enabled\n"
			"/org/mate/screensaver/lock-enabled\n"
			"/org/mate/screensaver/lock-delay\n"
			"/org/mate/session/idle-delay\n"
			"/org/ukui/screensaver/idle-activation-enabled\n"
			"/org/ukui/screensaver/lock-enabled\n"
			"/org/ukui/screensaver/idle-delay\n"
			"/org/ukui/screensaver/lock-delay\n"
			"/com/deepin/dde/power/line-power-lock-delay\n"
			"/com/deepin/dde/power/battery-lock-delay\n"
			"/com/deepin/dde/power/screen-black-lock\n");
	if (!*locks) {
		free(*keyfile);
		*keyfile = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int remediate_dconf(struct check_ctx *ctx, struct check_result *r)
{
	const struct sysroot *root = ctx->root;
	const char *argv[] = { "dconf", "update", NULL };
	char *profile = NULL, *keyfile = NULL, *locks = NULL, *out = NULL;
	bool any = false;
	int ret, status = 0;

	ret = profile_content(root, &profile);
	if (ret < 0) {
		check_result_add(r, "remediation_error", "cannot read %s: %s", DCONF_PROFILE,
				 strerror(-ret));
		goto out;
	}
	ret = dconf_files(&ctx->policy->screen_lock, &keyfile, &locks);
	if (ret < 0)
		goto out;

	ret = write_step(root, r, DCONF_PROFILE, profile, "user-db:user, system-db:local", &any);
	if (ret < 0)
		goto out;
	ret = write_step(root, r, DCONF_KEYFILE, keyfile,
			 "lock on, idle and lock delay within policy", &any);
	if (ret < 0)
		goto out;
	ret = write_step(root, r, DCONF_LOCKS, locks, "locked the screen lock keys", &any);
	if (ret < 0)
		goto out;

	if (!any && sysroot_exists(root, DCONF_DB)) {
		ret = 0;
		goto out;
	}
	ret = sysroot_run(root, "dconf-update", argv, NULL, (uid_t)-1, DCONF_UPDATE_TIMEOUT_MS,
			  &out, &status);
	if (ret == 0 && status != 0)
		ret = -EIO;
	if (ret == -EIO)
		check_result_add(r, "remediation_error",
				 "dconf update exited with status %d: the new "
				 "values take effect only once it succeeds",
				 status);
	else if (ret < 0)
		check_result_add(r, "remediation_error",
				 "dconf update could not run (%s): the new "
				 "values take effect only once it does",
				 strerror(-ret));
	if (ret < 0)
		goto out;
	check_result_changed(r, "ran dconf update (compiled %s)", DCONF_DB);
out:
	free(out);
	free(profile);
	free(keyfile);
	free(locks);
	return ret;
}

/* Is this a [Daemon] group header (with or without flags such as [$i])? */
static bool is_daemon_header(const char *l)
{
	const char *rest;

	if (!str_startswith(l, "[Daemon]"))
		return false;
	rest = l + strlen("[Daemon]");
	return *rest == 0 ||
	       (strncmp(rest, "[$", 2) == 0 && strchr(rest, ']') && strchr(rest, ']')[1] == 0);
}

static int kde_content(const struct sysroot *root, const struct policy_screen_lock *pl, char **ret)
{
	unsigned idle = pl->max_idle_seconds ? pl->max_idle_seconds : IDLE_WHEN_UNBOUNDED;
	unsigned minutes = idle / 60 ? idle / 60 : 1;
	char *old = NULL, *kept = NULL, *save = NULL;
	size_t klen = 0;
	bool in_daemon = false;
	int n;

	n = sysroot_read_file(root, KDE_FILE, FILE_MAX, &old, NULL);
	if (n < 0 && n != -ENOENT)
		return n; /* never replace groups we could not read */
	if (n < 0)
		old = NULL;
	kept = calloc(1, old ? strlen(old) + 2 : 1);
	if (!kept) {
		free(old);
		return -ENOMEM;
	}
	/* Keep every other group (and comments), drop [Daemon] and our marker. */
	for (char *line = old ? strtok_r(old, "\n", &save) : NULL; line;
	     line = strtok_r(NULL, "\n", &save)) {
		char buf[512];

		snprintf(buf, sizeof(buf), "%s", line);
		str_strip(buf);
		if (buf[0] == '[' && strcmp(buf, "[$i]") != 0)
			in_daemon = is_daemon_header(buf);
		if (in_daemon || strcmp(buf, kde_marker) == 0)
			continue;
		klen += (size_t)sprintf(kept + klen, "%s\n", line);
	}
	free(old);
	while (klen && (kept[klen - 1] == '\n' || kept[klen - 1] == ' '))
		kept[--klen] = 0;
	n = asprintf(ret,
		     "%s%s%s\n[Daemon][$i]\nAutolock=true\nLockGrace=%u\nLockOnResume="
		     "true\nTimeout=%u\n",
		     kept, klen ? "\n\n" : "", kde_marker, pl->max_lock_delay_seconds, minutes);
	free(kept);
	return n < 0 ? -ENOMEM : 0;
}

static int remediate_kde(struct check_ctx *ctx, struct check_result *r)
{
	char *content = NULL;
	bool any = false;
	int ret;

	ret = kde_content(ctx->root, &ctx->policy->screen_lock, &content);
	if (ret < 0) {
		check_result_add(r, "remediation_error", "cannot read %s: %s", KDE_FILE,
				 strerror(-ret));
		return ret;
	}
	ret = write_step(ctx->root, r, KDE_FILE, content,
			 "[Daemon][$i]: Autolock, Timeout, LockGrace immutable", &any);
	free(content);
	return ret;
}

int screen_lock_remediate(struct check_ctx *ctx, struct check_result *r, unsigned which)
{
	int ret = 0, k;

	if (which & SCREENLOCK_FIX_DCONF)
		ret = remediate_dconf(ctx, r);
	if (which & SCREENLOCK_FIX_KDE) {
		k = remediate_kde(ctx, r);
		if (ret == 0)
			ret = k;
	}
	return ret;
}
