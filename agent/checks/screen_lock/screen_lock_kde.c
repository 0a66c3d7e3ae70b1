/* screen_lock: KDE Plasma's kscreenlocker reads [Daemon] from kscreenlockerrc through KConfig:
 * the user's ~/.config/kscreenlockerrc over the system's /etc/xdg/kscreenlockerrc, unless the
 * system file marks the file (a leading "[$i]"), the group ("[Daemon][$i]") or the key
 * ("Timeout[$i]=5") immutable: then the user's value is ignored. A key set nowhere has the
 * desktop's default: Autolock=true, Timeout=5 (minutes), LockGrace=5 (seconds),
 * LockOnResume=true. */
#include "agent/checks/screen_lock/screen_lock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KCONFIG_MAX (1024u * 1024)

enum {
	K_AUTOLOCK,
	K_TIMEOUT,
	K_GRACE,
	K_RESUME,
	K_COUNT
};

static const struct {
	const char *name;
	long def;
	bool is_bool;
} kkeys[K_COUNT] = {
	[K_AUTOLOCK] = { "Autolock", 1, true },
	[K_TIMEOUT] = { "Timeout", 5, false },
	[K_GRACE] = { "LockGrace", 5, false },
	[K_RESUME] = { "LockOnResume", 1, true },
};

struct kfile {
	int state; /* 1 read, 0 absent, <0 -errno */
	bool file_immutable, group_immutable;
	bool set[K_COUNT], immutable[K_COUNT], bad[K_COUNT];
	long val[K_COUNT];
};

static bool kconfig_bool(const char *v, long *ret)
{
	static const char *const yes[] = { "true", "on", "yes", "1" };
	static const char *const no[] = { "false", "off", "no", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*ret = 1;
			return true;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*ret = 0;
			return true;
		}
	}
	return false;
}

static bool kconfig_int(const char *v, long *ret)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *str_strip(end))
		return false;
	*ret = n;
	return true;
}

/* "[$i]" or "[$i,$e]": flags, not a locale. */
static bool has_immutable_flag(const char *flags)
{
	return flags[0] == '$' && strchr(flags, 'i');
}

static void kfile_parse(struct kfile *kf, char *text)
{
	bool in_daemon = false, seen_group = false;
	char *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = str_strip(line), *eq, *br, *key;
		long v;

		if (!*l || *l == '#')
			continue;
		if (*l == '[') {
			/* "[$i]" before any group: the whole file is immutable. */
			if (!seen_group && strcmp(l, "[$i]") == 0) {
				kf->file_immutable = true;
				continue;
			}
			seen_group = true;
			in_daemon = str_startswith(l, "[Daemon]");
			if (in_daemon) {
				const char *rest = l + strlen("[Daemon]");

				if (*rest == 0)
					continue;
				if (strncmp(rest, "[$", 2) == 0 && strchr(rest, 'i') &&
				    strchr(rest, ']') && strchr(rest, ']')[1] == 0)
					kf->group_immutable = true;
				else
					in_daemon = false; /* a subgroup: [Daemon][Other] */
			}
			continue;
		}
		if (!in_daemon)
			continue;
		eq = strchr(l, '=');
		if (!eq)
			continue;
		*eq = 0;
		key = str_strip(l);
		br = strchr(key, '[');
		bool imm = false;
		if (br) {
			char *close = strchr(br, ']');

			if (!close)
				continue;
			*close = 0;
			if (!has_immutable_flag(br + 1) && br[1] != '$')
				continue; /* a localized value: Key[zh_CN]= */
			imm = has_immutable_flag(br + 1);
			*br = 0;
			key = str_strip(key);
		}
		for (size_t k = 0; k < K_COUNT; k++) {
			if (strcmp(key, kkeys[k].name) != 0)
				continue;
			if (imm)
				kf->immutable[k] = true;
			if (kkeys[k].is_bool ? kconfig_bool(str_strip(eq + 1), &v)
					     : kconfig_int(str_strip(eq + 1), &v)) {
				kf->set[k] = true;
				kf->bad[k] = false;
				kf->val[k] = v;
			} else {
				kf->bad[k] = true;
			}
		}
	}
}

static void kfile_load(const struct sysroot *root, const char *path, struct kfile *kf)
{
	char *text = NULL;
	int r;

	memset(kf, 0, sizeof(*kf));
	r = sysroot_read_file(root, path, KCONFIG_MAX, &text, NULL);
	if (r == -ENOENT) {
		kf->state = 0;
		return;
	}
	if (r < 0) {
		kf->state = r;
		return;
	}
	kf->state = 1;
	kfile_parse(kf, text);
	free(text);
}

int screen_lock_read_kde(const struct sysroot *root, const struct screen_lock_user *u,
			 struct screen_lock_setting *s)
{
	struct kfile sys, usr;
	long val[K_COUNT];
	bool known[K_COUNT];
	unsigned n_imm = 0;
	char p[PATH_MAX];

	kfile_load(root, "/etc/xdg/kscreenlockerrc", &sys);
	if (u->home) {
		snprintf(p, sizeof(p), "%s/.config/kscreenlockerrc", u->home);
		kfile_load(root, p, &usr);
	} else {
		memset(&usr, 0, sizeof(usr));
		usr.state = -ENOENT;
		screen_lock_note(s, "home directory unknown");
	}
	if (sys.state < 0)
		screen_lock_note(s, "cannot read /etc/xdg/kscreenlockerrc: %s",
				 strerror(-sys.state));
	if (usr.state < 0 && u->home)
		screen_lock_note(s, "cannot read %s: %s", p, strerror(-usr.state));

	for (size_t k = 0; k < K_COUNT; k++) {
		bool imm = sys.state == 1 &&
			   (sys.file_immutable || sys.group_immutable || sys.immutable[k]);

		known[k] = true;
		if (imm) {
			/* The user's file is ignored for this key. */
			val[k] = sys.set[k] ? sys.val[k] : kkeys[k].def;
			known[k] = !sys.bad[k];
			if (k != K_RESUME)
				n_imm++;
		} else if (usr.state < 0) {
			known[k] = false;
		} else if (usr.state == 1 && (usr.set[k] || usr.bad[k])) {
			val[k] = usr.val[k];
			known[k] = !usr.bad[k];
		} else if (sys.state < 0) {
			known[k] = false;
		} else if (sys.state == 1 && (sys.set[k] || sys.bad[k])) {
			val[k] = sys.val[k];
			known[k] = !sys.bad[k];
		} else {
			val[k] = kkeys[k].def;
		}
		if (!known[k] && (sys.bad[k] || usr.bad[k]))
			screen_lock_note(s, "[Daemon] %s has a value that is not a %s",
					 kkeys[k].name, kkeys[k].is_bool ? "boolean" : "number");
	}

	s->source = "kscreenlockerrc";
	s->lock_enabled = known[K_AUTOLOCK] ? val[K_AUTOLOCK] != 0 : SCREENLOCK_UNKNOWN;
	if (!known[K_TIMEOUT])
		s->idle_seconds = SCREENLOCK_UNKNOWN;
	else if (val[K_TIMEOUT] <= 0)
		s->idle_seconds = 0;
	else
		s->idle_seconds = val[K_TIMEOUT] > LONG_MAX / 60 ? LONG_MAX : val[K_TIMEOUT] * 60;
	if (!known[K_GRACE])
		s->lock_delay_seconds = SCREENLOCK_UNKNOWN;
	else
		s->lock_delay_seconds = val[K_GRACE] < 0 ? 0 : val[K_GRACE];
	s->admin = n_imm == 0   ? SCREENLOCK_ADMIN_NO
		   : n_imm == 3 ? SCREENLOCK_ADMIN_YES
				: SCREENLOCK_ADMIN_PARTIAL;
	s->lock_on_suspend = known[K_RESUME] ? val[K_RESUME] != 0 : SCREENLOCK_UNKNOWN;
	return 0;
}
