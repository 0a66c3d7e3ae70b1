/* screen_lock: XFCE. xfce4-screensaver keeps its settings in the xfconf channel
 * "xfce4-screensaver"; xfconfd loads the user's copy
 * (~/.config/xfce4/xfconf/xfce-perchannel-xml/xfce4-screensaver.xml) over the system's
 * (/etc/xdg/xfce4/xfconf/xfce-perchannel-xml/), and a system property with a `locked`
 * attribute cannot be changed by users. Defaults (xfce4-screensaver's gs-prefs.h):
 * /saver/enabled=true, /saver/idle-activation/enabled=true, /saver/idle-activation/delay=5
 * (minutes), /lock/enabled=true, /lock/saver-activation/enabled=true,
 * /lock/saver-activation/delay=0 (minutes). Lock on suspend is xfce4-power-manager's
 * /xfce4-power-manager/lock-screen-suspend-hibernate, reported only. */
#include "agent/checks/screen_lock/screen_lock.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* xfce4-power-manager's lock-on-suspend property. */
#define XFPM_SUSPEND_LOCK "/xfce4-power-manager/lock-screen-suspend-hibernate"

#define XFCONF_MAX (4u * 1024 * 1024)
#define XML_DEPTH 16
#define XFCONF_DIR "xfce4/xfconf/xfce-perchannel-xml"

enum {
	X_SAVER,
	X_IDLE_ON,
	X_IDLE_DELAY,
	X_LOCK,
	X_LOCK_SAVER,
	X_LOCK_DELAY,
	X_COUNT
};

static const struct {
	const char *path;
	long def;
	bool is_bool;
} xkeys[X_COUNT] = {
	[X_SAVER] = { "/saver/enabled", 1, true },
	[X_IDLE_ON] = { "/saver/idle-activation/enabled", 1, true },
	[X_IDLE_DELAY] = { "/saver/idle-activation/delay", 5, false },
	[X_LOCK] = { "/lock/enabled", 1, true },
	[X_LOCK_SAVER] = { "/lock/saver-activation/enabled", 1, true },
	[X_LOCK_DELAY] = { "/lock/saver-activation/delay", 0, false },
};

struct xprop {
	bool set, locked, bad;
	long val;
};

struct xfile {
	int state; /* 1 read, 0 absent, <0 -errno */
	struct xprop p[X_COUNT];
	struct xprop suspend_lock;
};

/* Value of attribute name="..." inside one tag (between '<' and '>'), into buf. */
static bool xml_attr(const char *tag, size_t len, const char *name, char *buf, size_t size)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i + nlen + 2 < len; i++) {
		const char *q;
		size_t vlen;

		if ((i > 0 && tag[i - 1] != ' ' && tag[i - 1] != '\t' && tag[i - 1] != '\n') ||
		    strncmp(tag + i, name, nlen) != 0 || tag[i + nlen] != '=' ||
		    (tag[i + nlen + 1] != '"' && tag[i + nlen + 1] != '\''))
			continue;
		q = memchr(tag + i + nlen + 2, tag[i + nlen + 1], len - i - nlen - 2);
		if (!q)
			return false;
		vlen = (size_t)(q - (tag + i + nlen + 2));
		if (vlen >= size)
			vlen = size - 1;
		memcpy(buf, tag + i + nlen + 2, vlen);
		buf[vlen] = 0;
		return true;
	}
	return false;
}

static void xprop_set(struct xprop *xp, const char *type, const char *value, bool is_bool,
		      bool locked)
{
	char *end;
	long v;

	xp->locked = xp->locked || locked;
	if (is_bool) {
		if (strcmp(type, "bool") != 0 ||
		    (strcmp(value, "true") && strcmp(value, "false"))) {
			xp->bad = true;
			return;
		}
		v = value[0] == 't';
	} else {
		errno = 0;
		v = strtol(value, &end, 10);
		if (errno || end == value || *end ||
		    (strcmp(type, "int") && strcmp(type, "uint"))) {
			xp->bad = true;
			return;
		}
	}
	xp->set = true;
	xp->bad = false;
	xp->val = v;
}

/* A tiny scanner for xfconf's per-channel XML: <property name= type= value= [locked=]>
 * nested by path. Everything else (<channel>, <value> of arrays, comments) is skipped. */
static void xfile_parse(struct xfile *xf, const char *text, bool power_channel)
{
	char stack[XML_DEPTH][128];
	size_t depth = 0, skip = 0; /* skip: levels deeper than XML_DEPTH */
	const char *p = text;

	while ((p = strchr(p, '<'))) {
		const char *end;
		size_t len;
		bool closing, selfclose;

		if (strncmp(p, "<!--", 4) == 0) {
			end = strstr(p + 4, "-->");
			if (!end)
				return;
			p = end + 3;
			continue;
		}
		end = strchr(p, '>');
		if (!end)
			return;
		len = (size_t)(end - p) + 1;
		closing = p[1] == '/';
		selfclose = end[-1] == '/';
		if (closing && strncmp(p, "</property", 10) == 0) {
			if (skip)
				skip--;
			else if (depth)
				depth--;
		} else if (!closing && strncmp(p, "<property", 9) == 0 &&
			   (p[9] == ' ' || p[9] == '\t' || p[9] == '\n' || p[9] == '\r')) {
			char name[128] = "", type[32] = "", value[64] = "", locked[64] = "",
			     path[1024];
			size_t off = 0;

			xml_attr(p, len, "name", name, sizeof(name));
			xml_attr(p, len, "type", type, sizeof(type));
			bool has_value = xml_attr(p, len, "value", value, sizeof(value));
			xml_attr(p, len, "locked", locked, sizeof(locked));

			if (!skip && depth < XML_DEPTH) {
				path[0] = 0;
				for (size_t i = 0; i < depth && off < sizeof(path); i++)
					off += (size_t)snprintf(path + off, sizeof(path) - off,
								"/%s", stack[i]);
				if (off < sizeof(path))
					snprintf(path + off, sizeof(path) - off, "/%s", name);
				path[sizeof(path) - 1] = 0;
				if (has_value) {
					if (power_channel) {
						if (strcmp(path, XFPM_SUSPEND_LOCK) == 0)
							xprop_set(&xf->suspend_lock, type, value,
								  true, locked[0]);
					} else {
						for (size_t k = 0; k < X_COUNT; k++)
							if (strcmp(path, xkeys[k].path) == 0)
								xprop_set(&xf->p[k], type, value,
									  xkeys[k].is_bool,
									  locked[0] != 0);
					}
				}
				if (!selfclose)
					snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
			} else if (!selfclose) {
				skip++;
			}
		}
		p = end + 1;
	}
}

static void xfile_load(const struct sysroot *root, const char *path, struct xfile *xf, bool power)
{
	char *text = NULL;
	int r;

	memset(xf, 0, sizeof(*xf));
	r = sysroot_read_file(root, path, XFCONF_MAX, &text, NULL);
	if (r == -ENOENT)
		return;
	if (r < 0) {
		xf->state = r;
		return;
	}
	xf->state = 1;
	xfile_parse(xf, text, power);
	free(text);
}

/* The effective value of one property: system locked > user > system > default. */
static bool effective(const struct xprop *sys, int sys_state, const struct xprop *usr,
		      int usr_state, long def, long *ret, bool *locked)
{
	*locked = sys_state == 1 && sys->locked;
	if (*locked) {
		*ret = sys->set ? sys->val : def;
		return !sys->bad;
	}
	if (usr_state < 0)
		return false;
	if (usr_state == 1 && (usr->set || usr->bad)) {
		*ret = usr->val;
		return !usr->bad;
	}
	if (sys_state < 0)
		return false;
	if (sys_state == 1 && (sys->set || sys->bad)) {
		*ret = sys->val;
		return !sys->bad;
	}
	*ret = def;
	return true;
}

int screen_lock_read_xfce(const struct sysroot *root, const struct screen_lock_user *u,
			  struct screen_lock_setting *s)
{
	struct xfile *sys = NULL, *usr = NULL;
	long val[X_COUNT], v;
	bool known[X_COUNT], locked;
	unsigned n_locked = 0;
	char p[PATH_MAX];
	int r = 0;

	s->source = "xfconf";
	sys = calloc(1, sizeof(*sys));
	usr = calloc(1, sizeof(*usr));
	if (!sys || !usr) {
		r = -ENOMEM;
		goto out;
	}
	if (!sysroot_exists(root, "/usr/bin/xfce4-screensaver")) {
		/* Xubuntu before 24.04 and others use light-locker, whose idle time is the X
		 * server's screen saver timeout: not read here. */
		screen_lock_note(s,
				 "xfce4-screensaver is not installed; the idle lock (light-locker, "
				 "xscreensaver) is not read");
		goto out;
	}
	xfile_load(root, "/etc/xdg/" XFCONF_DIR "/xfce4-screensaver.xml", sys, false);
	if (u->home) {
		snprintf(p, sizeof(p), "%s/.config/" XFCONF_DIR "/xfce4-screensaver.xml", u->home);
		xfile_load(root, p, usr, false);
		if (usr->state < 0)
			screen_lock_note(s, "cannot read %s: %s", p, strerror(-usr->state));
	} else {
		usr->state = -ENOENT;
		screen_lock_note(s, "home directory unknown");
	}
	if (sys->state < 0)
		screen_lock_note(s, "cannot read the system xfce4-screensaver.xml: %s",
				 strerror(-sys->state));

	for (size_t k = 0; k < X_COUNT; k++) {
		known[k] = effective(&sys->p[k], sys->state, &usr->p[k], usr->state, xkeys[k].def,
				     &val[k], &locked);
		n_locked += locked;
	}

	/* Locking needs the lock and locking with the saver. */
	if ((known[X_LOCK] && val[X_LOCK] == 0) || (known[X_LOCK_SAVER] && val[X_LOCK_SAVER] == 0))
		s->lock_enabled = 0;
	else if (known[X_LOCK] && known[X_LOCK_SAVER])
		s->lock_enabled = 1;
	/* The idle lock happens only if the saver starts when idle. */
	if ((known[X_SAVER] && val[X_SAVER] == 0) || (known[X_IDLE_ON] && val[X_IDLE_ON] == 0)) {
		s->idle_seconds = 0;
		screen_lock_note(s, "screensaver does not start when idle");
	} else if (known[X_SAVER] && known[X_IDLE_ON] && known[X_IDLE_DELAY]) {
		s->idle_seconds = val[X_IDLE_DELAY] <= 0              ? 0
				  : val[X_IDLE_DELAY] > LONG_MAX / 60 ? LONG_MAX
								      : val[X_IDLE_DELAY] * 60;
	}
	if (known[X_LOCK_DELAY])
		s->lock_delay_seconds = val[X_LOCK_DELAY] <= 0 ? 0
					: val[X_LOCK_DELAY] > LONG_MAX / 60
						? LONG_MAX
						: val[X_LOCK_DELAY] * 60;
	s->admin = n_locked == 0         ? SCREENLOCK_ADMIN_NO
		   : n_locked == X_COUNT ? SCREENLOCK_ADMIN_YES
					 : SCREENLOCK_ADMIN_PARTIAL;

	/* Lock on suspend (xfce4-power-manager, default true): reported only. */
	xfile_load(root, "/etc/xdg/" XFCONF_DIR "/xfce4-power-manager.xml", sys, true);
	if (u->home) {
		snprintf(p, sizeof(p), "%s/.config/" XFCONF_DIR "/xfce4-power-manager.xml",
			 u->home);
		xfile_load(root, p, usr, true);
	}
	s->lock_on_suspend = effective(&sys->suspend_lock, sys->state, &usr->suspend_lock,
				       usr->state, 1, &v, &locked)
				     ? v != 0
				     : SCREENLOCK_UNKNOWN;
out:
	free(sys);
	free(usr);
	return r;
}
