/* screen_lock: who has a graphical session, on which desktop, with which home directory. */
#include "agent/checks/screen_lock/screen_lock.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent/host/passwd.h"
#include "agent/host/proc.h"

#define ENVIRON_MAX (256u * 1024)

static const char *const desktop_names[SCREENLOCK_DE_COUNT_] = {
	[SCREENLOCK_DE_OTHER] = "other",       [SCREENLOCK_DE_GNOME] = "GNOME",
	[SCREENLOCK_DE_CINNAMON] = "Cinnamon", [SCREENLOCK_DE_MATE] = "MATE",
	[SCREENLOCK_DE_UKUI] = "UKUI",         [SCREENLOCK_DE_DEEPIN] = "Deepin",
	[SCREENLOCK_DE_KDE] = "KDE",           [SCREENLOCK_DE_XFCE] = "XFCE",
};

const char *screen_lock_desktop_name(enum screen_lock_desktop d)
{
	return (unsigned)d < SCREENLOCK_DE_COUNT_ ? desktop_names[d] : "other";
}

/* One token of XDG_CURRENT_DESKTOP or logind's DESKTOP ("ubuntu", "GNOME", "X-Cinnamon",
 * "plasmawayland", "xubuntu"...), by case-insensitive prefix, in this order. */
static enum screen_lock_desktop desktop_from_token(const char *t)
{
	static const struct {
		const char *prefix;
		enum screen_lock_desktop de;
	} map[] = {
		{ "ubuntukylin", SCREENLOCK_DE_UKUI },  { "ukui", SCREENLOCK_DE_UKUI },
		{ "kylin", SCREENLOCK_DE_UKUI },        { "x-cinnamon", SCREENLOCK_DE_CINNAMON },
		{ "cinnamon", SCREENLOCK_DE_CINNAMON }, { "mate", SCREENLOCK_DE_MATE },
		{ "deepin", SCREENLOCK_DE_DEEPIN },     { "dde", SCREENLOCK_DE_DEEPIN },
		{ "kde", SCREENLOCK_DE_KDE },           { "plasma", SCREENLOCK_DE_KDE },
		{ "xfce", SCREENLOCK_DE_XFCE },         { "xubuntu", SCREENLOCK_DE_XFCE },
		{ "gnome", SCREENLOCK_DE_GNOME },       { "ubuntu", SCREENLOCK_DE_GNOME },
		{ "unity", SCREENLOCK_DE_GNOME },       { "budgie", SCREENLOCK_DE_GNOME },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strncasecmp(t, map[i].prefix, strlen(map[i].prefix)) == 0)
			return map[i].de;
	return SCREENLOCK_DE_OTHER;
}

enum screen_lock_desktop screen_lock_desktop_from_string(const char *s)
{
	char buf[256], *save = NULL, *tok;

	if (!s || !*s)
		return SCREENLOCK_DE_OTHER;
	snprintf(buf, sizeof(buf), "%s", s);
	/* "ubuntu:GNOME": the first token that names a desktop we know wins. */
	for (tok = strtok_r(buf, ":;", &save); tok; tok = strtok_r(NULL, ":;", &save)) {
		enum screen_lock_desktop d = desktop_from_token(tok);

		if (d != SCREENLOCK_DE_OTHER)
			return d;
	}
	return SCREENLOCK_DE_OTHER;
}

void screen_lock_users_clear(struct screen_lock_users *u)
{
	if (!u)
		return;
	for (size_t i = 0; i < u->n; i++) {
		free(u->v[i].name);
		free(u->v[i].home);
		free(u->v[i].desktop_raw);
	}
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

/* Add or merge: one entry per (uid, desktop); a later desktop name fills in an empty one. */
static int users_add(struct screen_lock_users *u, uid_t uid, const char *name, const char *desktop,
		     const char *found_by)
{
	enum screen_lock_desktop de = screen_lock_desktop_from_string(desktop);
	struct screen_lock_user *nv, *e;

	for (size_t i = 0; i < u->n; i++) {
		e = &u->v[i];
		if (e->uid != uid)
			continue;
		if (!desktop || !*desktop)
			return 0; /* nothing new to say about this user */
		if (e->desktop_raw[0] == 0) {
			char *d = strdup(desktop);

			if (!d)
				return -ENOMEM;
			free(e->desktop_raw);
			e->desktop_raw = d;
			e->desktop = de;
			return 0;
		}
		if (e->desktop == de &&
		    (de != SCREENLOCK_DE_OTHER || strcasecmp(e->desktop_raw, desktop) == 0))
			return 0;
	}
	nv = realloc(u->v, (u->n + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	u->v = nv;
	e = &u->v[u->n];
	memset(e, 0, sizeof(*e));
	e->uid = uid;
	e->desktop = de;
	e->found_by = found_by;
	e->desktop_raw = strdup(desktop ? desktop : "");
	e->name = name && *name ? strdup(name) : NULL;
	if (!e->desktop_raw || (name && *name && !e->name)) {
		free(e->desktop_raw);
		free(e->name);
		return -ENOMEM;
	}
	u->n++;
	return 0;
}

/* KEY=value lines of a logind session file. */
static const char *kv_get(char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) : strlen(line);

		if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
			size_t vlen = len - klen - 1;

			if (vlen >= size)
				vlen = size - 1;
			memcpy(buf, line + klen + 1, vlen);
			buf[vlen] = 0;
			return buf;
		}
		line = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* Session files: not "<id>.ref" FIFOs. */
static bool filter_session(const struct dirent *de, void *userdata)
{
	(void)userdata;
	return !strchr(de->d_name, '.');
}

static int from_logind(const struct sysroot *root, struct screen_lock_users *u)
{
	struct strv names = { 0 };
	int r = 0;

	if (sysroot_list_dir(root, "/run/systemd/sessions", filter_session, NULL, &names) < 0)
		return 0;
	for (size_t i = 0; i < names.n; i++) {
		char path[512], *text = NULL, type[32], cls[32], state[32], uidbuf[32], user[128],
				desk[128];
		uid_t uid;

		snprintf(path, sizeof(path), "/run/systemd/sessions/%s", names.v[i]);
		if (sysroot_read_file(root, path, 64 * 1024, &text, NULL) < 0)
			continue;
		if (!kv_get(text, "TYPE", type, sizeof(type)) ||
		    (strcmp(type, "x11") && strcmp(type, "wayland") && strcmp(type, "mir")) ||
		    (kv_get(text, "CLASS", cls, sizeof(cls)) && strncmp(cls, "greeter", 7) == 0) ||
		    (kv_get(text, "STATE", state, sizeof(state)) &&
		     strcmp(state, "closing") == 0) ||
		    !passwd_parse_uid(kv_get(text, "UID", uidbuf, sizeof(uidbuf)), &uid)) {
			free(text);
			continue;
		}
		if (!kv_get(text, "USER", user, sizeof(user)))
			user[0] = 0;
		if (!kv_get(text, "DESKTOP", desk, sizeof(desk)))
			desk[0] = 0;
		free(text);
		r = users_add(u, uid, user, desk, "logind");
		if (r < 0)
			break;
	}
	strv_clear(&names);
	return r;
}

static bool known_desktop(const struct screen_lock_users *u, uid_t uid)
{
	for (size_t i = 0; i < u->n; i++)
		if (u->v[i].uid == uid && u->v[i].desktop_raw[0])
			return true;
	return false;
}

/* Value of NAME in a NUL- (or newline-) separated environment block. */
static const char *env_get(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name);

	for (size_t i = 0; i < len;) {
		size_t e = i;

		while (e < len && env[e] != 0 && env[e] != '\n')
			e++;
		if (e - i > nlen && strncmp(env + i, name, nlen) == 0 && env[i + nlen] == '=')
			return env + i + nlen + 1;
		i = e + 1;
	}
	return NULL;
}

/* One process: its uid and desktop name when it belongs to a graphical desktop session.
 * Returns true when it does. */
static bool proc_desktop(const struct sysroot *root, pid_t pid, uid_t *ret_uid, char *desk,
			 size_t size)
{
	char path[64], *env = NULL, *status = NULL, *line, uidbuf[32];
	const char *v;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if (sysroot_read_file(root, path, ENVIRON_MAX, &env, &len) < 0)
		return false;
	if (!env_get(env, len, "DISPLAY") && !env_get(env, len, "WAYLAND_DISPLAY")) {
		free(env);
		return false;
	}
	/* A desktop name is required: ssh -X has DISPLAY but no desktop session. */
	v = env_get(env, len, "XDG_CURRENT_DESKTOP");
	if (!v || !*v)
		v = env_get(env, len, "XDG_SESSION_DESKTOP");
	if (!v || !*v) {
		free(env);
		return false;
	}
	snprintf(desk, size, "%.*s", (int)strcspn(v, "\n"), v);
	free(env);

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if (sysroot_read_file(root, path, 64 * 1024, &status, NULL) < 0)
		return false;
	line = strncmp(status, "Uid:", 4) == 0 ? status : strstr(status, "\nUid:");
	if (!line) {
		free(status);
		return false;
	}
	line += line[0] == '\n' ? 5 : 4;
	snprintf(uidbuf, sizeof(uidbuf), "%s", line + strspn(line, " \t"));
	free(status);
	return passwd_parse_uid(uidbuf, ret_uid);
}

static int from_proc(const struct sysroot *root, struct screen_lock_users *u)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int r;

	r = proc_list_pids(root, &pids, &n);
	if (r < 0)
		return r == -ENOMEM ? r : 0;
	/* Lowest pid first (proc_list_pids sorts): the session's own processes come before later
	 * programs. */
	for (size_t i = 0; i < n; i++) {
		char desk[128];
		uid_t uid;

		if (!proc_desktop(root, pids[i], &uid, desk, sizeof(desk)))
			continue;
		/* gdm's and lightdm's greeters run as system users with a desktop name set. */
		if (uid != 0 && uid < 1000)
			continue;
		/* A user already known with a desktop keeps it: single programs are often started
		 * with another XDG_CURRENT_DESKTOP (for theming), which says nothing about the
		 * session. */
		if (known_desktop(u, uid))
			continue;
		r = users_add(u, uid, NULL, desk, "proc");
		if (r < 0)
			break;
	}
	free(pids);
	return r;
}

/* Fill name and home from <root>/etc/passwd: the first line for a uid gives the name, the
 * first with an absolute home the home. */
static int resolve_one(const struct passwd_entry *pw, void *userdata)
{
	struct screen_lock_users *u = userdata;

	for (size_t i = 0; i < u->n; i++) {
		struct screen_lock_user *e = &u->v[i];

		if (e->uid != pw->uid)
			continue;
		if (!e->name && !(e->name = strdup(pw->name)))
			return -ENOMEM;
		if (!e->home && pw->home[0] == '/' && !(e->home = strdup(pw->home)))
			return -ENOMEM;
	}
	return 0;
}

static int resolve_passwd(const struct sysroot *root, struct screen_lock_users *u)
{
	int r = passwd_foreach(root, resolve_one, u);

	return r == -ENOMEM ? r : 0;
}

static int cmp_user(const void *a, const void *b)
{
	const struct screen_lock_user *x = a, *y = b;

	if (x->uid != y->uid)
		return x->uid < y->uid ? -1 : 1;
	if (x->desktop != y->desktop)
		return x->desktop < y->desktop ? -1 : 1;
	return strcmp(x->desktop_raw, y->desktop_raw);
}

int screen_lock_users_find(const struct sysroot *root, struct screen_lock_users *ret)
{
	struct screen_lock_users u = { 0 };
	int r;

	r = from_logind(root, &u);
	if (r < 0)
		goto fail;
	r = from_proc(root, &u);
	if (r < 0)
		goto fail;
	r = resolve_passwd(root, &u);
	if (r < 0)
		goto fail;
	if (u.n > 1)
		qsort(u.v, u.n, sizeof(u.v[0]), cmp_user); /* stable evidence order */
	for (size_t i = 0; i < u.n; i++) {
		if (!u.v[i].name && asprintf(&u.v[i].name, "uid%u", (unsigned)u.v[i].uid) < 0) {
			u.v[i].name = NULL;
			r = -ENOMEM;
			goto fail;
		}
	}
	*ret = u;
	return 0;
fail:
	screen_lock_users_clear(&u);
	return r;
}
