/* Private to the screen_lock check: agent/checks/screen_lock/check_screen_lock.c and
 * agent/screen_lock_*.c. Nothing outside those files includes this header.
 * docs/checks/screen_lock.md explains what is read per desktop and how the status is decided. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/checks/check.h"
#include "agent/host/sysroot.h"

/* A number or a yes/no that could not be read. */
#define SCREENLOCK_UNKNOWN (-1L)
/* A value this desktop's reader does not look at. */
#define SCREENLOCK_NOT_READ (-2L)

enum screen_lock_desktop {
	SCREENLOCK_DE_OTHER = 0, /* a graphical session we cannot evaluate */
	SCREENLOCK_DE_GNOME,
	SCREENLOCK_DE_CINNAMON,
	SCREENLOCK_DE_MATE,
	SCREENLOCK_DE_UKUI,
	SCREENLOCK_DE_DEEPIN,
	SCREENLOCK_DE_KDE,
	SCREENLOCK_DE_XFCE,
	SCREENLOCK_DE_COUNT_,
};

/* Which desktops keep their settings in dconf (gsettings). */
static inline bool screen_lock_desktop_uses_dconf(enum screen_lock_desktop d)
{
	return d == SCREENLOCK_DE_GNOME || d == SCREENLOCK_DE_CINNAMON || d == SCREENLOCK_DE_MATE ||
	       d == SCREENLOCK_DE_UKUI || d == SCREENLOCK_DE_DEEPIN;
}

/* One user with a graphical session on one desktop. */
struct screen_lock_user {
	uid_t uid;
	char *name;        /* from logind or passwd; "uid<N>" when neither knows it */
	char *home;        /* from <root>/etc/passwd; NULL when the user is not there */
	char *desktop_raw; /* as logind / XDG_CURRENT_DESKTOP said ("" when not said) */
	enum screen_lock_desktop desktop;
	const char *found_by; /* "logind" or "proc" (static) */
};

struct screen_lock_users {
	struct screen_lock_user *v;
	size_t n;
};

/* Users with a graphical session: logind session files (TYPE=x11|wayland|mir, not greeters),
 * plus processes whose environment has DISPLAY or WAYLAND_DISPLAY and a desktop name
 * (startx from a tty, no logind). One entry per (uid, desktop). */
int screen_lock_users_find(const struct sysroot *root, struct screen_lock_users *ret);
void screen_lock_users_clear(struct screen_lock_users *u);
/* XDG_CURRENT_DESKTOP / XDG_SESSION_DESKTOP value ("ubuntu:GNOME", "KDE", "UKUI"...). */
enum screen_lock_desktop screen_lock_desktop_from_string(const char *s);
const char *screen_lock_desktop_name(enum screen_lock_desktop d);

enum screen_lock_admin {
	SCREENLOCK_ADMIN_NO = 0,
	SCREENLOCK_ADMIN_PARTIAL = 1, /* some of the relevant keys are locked */
	SCREENLOCK_ADMIN_YES = 2,     /* every relevant key is locked by the administrator */
};

/* The effective settings of one user on one desktop. */
struct screen_lock_setting {
	long lock_enabled;       /* 1, 0 or SCREENLOCK_UNKNOWN */
	long idle_seconds;       /* idle time before the screen saver / lock; 0 = never */
	long lock_delay_seconds; /* grace between screen saver and lock */
	long lock_on_suspend; /* reported only: 1, 0, SCREENLOCK_UNKNOWN or SCREENLOCK_NOT_READ */
	enum screen_lock_admin admin;
	const char *source; /* static: "gsettings", "dconf", "kscreenlockerrc", "xfconf"... */
	char note[512];     /* why something is unknown, or remarks (English, evidence) */
};

void screen_lock_setting_init(struct screen_lock_setting *s);
/* Append "; "-separated text to s->note (truncates silently). */
void screen_lock_note(struct screen_lock_setting *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* dconf: the profile and the system databases' keyfile sources and locks, read once. */
struct screen_lock_dconf;
int screen_lock_dconf_load(const struct sysroot *root, struct screen_lock_dconf **ret);
void screen_lock_dconf_free(struct screen_lock_dconf *dc);

/* GNOME, Cinnamon, MATE, UKUI, Deepin: `gsettings get` as the user, else the dconf databases. */
int screen_lock_read_gsettings(const struct sysroot *root, struct screen_lock_dconf *dc,
			       const struct screen_lock_user *u, struct screen_lock_setting *s);
/* KDE Plasma: ~/.config/kscreenlockerrc over /etc/xdg/kscreenlockerrc. */
int screen_lock_read_kde(const struct sysroot *root, const struct screen_lock_user *u,
			 struct screen_lock_setting *s);
/* XFCE: xfce4-screensaver's xfconf channel, user over /etc/xdg. */
int screen_lock_read_xfce(const struct sysroot *root, const struct screen_lock_user *u,
			  struct screen_lock_setting *s);

/* GVDB (dconf's binary format, e.g. ~/.config/dconf/user): find a key ("/org/.../key") in
 * the root table of a whole file and parse its value as a number (b, y, n, q, i, u, x, t).
 * Returns 1 and *ret when found, 0 when absent, -EBADMSG when the file is not valid GVDB. */
int screen_lock_gvdb_lookup_number(const void *data, size_t size, const char *key, long *ret);

/* GVariant text as in dconf keyfiles and `gsettings get` output: true/false, 300,
 * "uint32 300", "@u 300", "int32 -1". Returns 0 and *ret, or -EINVAL. */
int screen_lock_parse_gvariant_number(const char *text, long *ret);

/* Which families to enforce system-wide. */
#define SCREENLOCK_FIX_DCONF (1u << 0)
#define SCREENLOCK_FIX_KDE (1u << 1)

/* Write the system-wide settings and locks for the families in `which` (under ctx->root),
 * recording each change with check_result_changed(). Writes only what differs. Returns 0,
 * or -errno on the first write that failed (changes made before it stay recorded). */
int screen_lock_remediate(struct check_ctx *ctx, struct check_result *r, unsigned which);
