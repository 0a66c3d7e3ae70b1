/* screen_lock: GNOME, Cinnamon, MATE, UKUI and Deepin keep their settings in dconf.
 *
 * The effective value comes from `gsettings get` run as the user (it applies the user's
 * database, the system databases, their locks and the schema's default, vendor overrides
 * included). When gsettings cannot answer (not installed, schema missing, we may not switch
 * user), we redo dconf's own lookup from files: the profile (/etc/dconf/profile/user), the
 * system databases' keyfile sources (/etc/dconf/db/<db>.d/ *) and locks (<db>.d/locks/ *), and
 * the user's binary database ~/.config/dconf/user (GVDB). Locks are always read from files, to
 * say whether the administrator pinned the settings. */
#include "agent/checks/screen_lock/screen_lock.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GSETTINGS_TIMEOUT_MS 5000u
#define KEYFILE_MAX (1024u * 1024)
#define USERDB_MAX (16u * 1024 * 1024)
#define MAX_SOURCES 16

/* One key of one desktop: schema + key, default (upstream schema), and seconds per unit
 * (0 for booleans). */
struct gkey {
	const char *schema;
	const char *key;
	long def;
	unsigned unit;
};

struct gdesk {
	enum screen_lock_desktop de;
	struct gkey lock_enabled; /* schema NULL: the desktop has no switch (always locks) */
	struct gkey idle_enabled; /* schema NULL: no separate "activate when idle" switch */
	struct gkey idle;         /* 0 or less = never */
	struct gkey idle_alt;     /* Deepin: the battery value; the worse of both counts */
	struct gkey lock_delay;   /* schema NULL: locks at once */
	struct gkey extra_bool;   /* reported only (Deepin: lock when the screen turns off) */
};

static const struct gdesk gdesks[] = {
	{ SCREENLOCK_DE_GNOME,
	  { "org.gnome.desktop.screensaver", "lock-enabled", 1, 0 },
	  { 0 },
	  { "org.gnome.desktop.session", "idle-delay", 300, 1 },
	  { 0 },
	  { "org.gnome.desktop.screensaver", "lock-delay", 0, 1 },
	  { 0 } },
	{ SCREENLOCK_DE_CINNAMON,
	  { "org.cinnamon.desktop.screensaver", "lock-enabled", 1, 0 },
	  { 0 },
	  { "org.cinnamon.desktop.session", "idle-delay", 300, 1 },
	  { 0 },
	  { "org.cinnamon.desktop.screensaver", "lock-delay", 0, 1 },
	  { 0 } },
	{ SCREENLOCK_DE_MATE,
	  { "org.mate.screensaver", "lock-enabled", 1, 0 },
	  { "org.mate.screensaver", "idle-activation-enabled", 1, 0 },
	  { "org.mate.session", "idle-delay", 5, 60 },
	  { 0 },
	  { "org.mate.screensaver", "lock-delay", 0, 60 },
	  { 0 } },
	{ SCREENLOCK_DE_UKUI,
	  { "org.ukui.screensaver", "lock-enabled", 1, 0 },
	  { "org.ukui.screensaver", "idle-activation-enabled", 1, 0 },
	  { "org.ukui.screensaver", "idle-delay", 5, 60 },
	  { 0 },
	  { "org.ukui.screensaver", "lock-delay", 0, 60 },
	  { 0 } },
	{ SCREENLOCK_DE_DEEPIN,
	  { 0 },
	  { 0 },
	  { "com.deepin.dde.power", "line-power-lock-delay", 900, 1 },
	  { "com.deepin.dde.power", "battery-lock-delay", 300, 1 },
	  { 0 },
	  { "com.deepin.dde.power", "screen-black-lock", 1, 0 } },
};

enum source_kind {
	SRC_USER,
	SRC_SYSTEM
};

struct source {
	enum source_kind kind;
	char *name;
	bool compiled;            /* system: /etc/dconf/db/<name> exists (dconf reads only that) */
	bool has_sources;         /* system: /etc/dconf/db/<name>.d/ exists */
	struct strv keys, values; /* system: "/org/.../key" and GVariant text, later files win */
	struct strv locks;        /* system: locked keys */
};

struct screen_lock_dconf {
	struct source src[MAX_SOURCES];
	size_t n;
	char profile[64]; /* the profile file read, or "(default)" */
};

void screen_lock_setting_init(struct screen_lock_setting *s)
{
	memset(s, 0, sizeof(*s));
	s->lock_enabled = SCREENLOCK_UNKNOWN;
	s->idle_seconds = SCREENLOCK_UNKNOWN;
	s->lock_delay_seconds = SCREENLOCK_UNKNOWN;
	s->lock_on_suspend = SCREENLOCK_NOT_READ;
	s->admin = SCREENLOCK_ADMIN_NO;
	s->source = "none";
}

void screen_lock_note(struct screen_lock_setting *s, const char *fmt, ...)
{
	size_t len = strlen(s->note);
	char text[sizeof(s->note)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (!text[0] || strstr(s->note, text))
		return; /* said already (one reason often explains several keys) */
	snprintf(s->note + len, sizeof(s->note) - len, "%s%s", len ? "; " : "", text);
}

void screen_lock_dconf_free(struct screen_lock_dconf *dc)
{
	if (!dc)
		return;
	for (size_t i = 0; i < dc->n; i++) {
		free(dc->src[i].name);
		strv_clear(&dc->src[i].keys);
		strv_clear(&dc->src[i].values);
		strv_clear(&dc->src[i].locks);
	}
	free(dc);
}

struct list_files {
	const struct sysroot *root;
	const char *dir;
};

static bool filter_regular(const struct dirent *de, void *userdata)
{
	const struct list_files *lf = userdata;
	char p[PATH_MAX];
	struct stat st;

	if (de->d_name[0] == '.')
		return false;
	if (snprintf(p, sizeof(p), "%s/%s", lf->dir, de->d_name) >= (int)sizeof(p))
		return false;
	return sysroot_stat(lf->root, p, &st) == 0 && S_ISREG(st.st_mode);
}

/* Regular files of a directory, sorted, skipping hidden ones. */
static int list_files(const struct sysroot *root, const char *dir, struct strv *ret)
{
	struct list_files lf = { root, dir };

	return sysroot_list_dir(root, dir, filter_regular, &lf, ret);
}

static int kv_set(struct source *s, const char *key, const char *value)
{
	for (size_t i = 0; i < s->keys.n; i++)
		if (strcmp(s->keys.v[i], key) == 0) {
			char *v = strdup(value);

			if (!v)
				return -ENOMEM;
			free(s->values.v[i]);
			s->values.v[i] = v;
			return 0;
		}
	if (strv_push(&s->keys, key) < 0 || strv_push(&s->values, value) < 0)
		return -ENOMEM;
	return 0;
}

/* A dconf keyfile: [org/gnome/desktop/session] then key=value (GVariant text). */
static int parse_keyfile(struct source *s, char *text)
{
	char group[512] = "", *save = NULL;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *l = str_strip(line), *eq, key[1024];

		if (!*l || *l == '#' || *l == ';')
			continue;
		if (*l == '[') {
			char *close = strchr(l, ']');
			size_t len;

			if (!close)
				continue;
			*close = 0;
			l++;
			while (*l == '/')
				l++;
			len = strlen(l);
			while (len && l[len - 1] == '/')
				l[--len] = 0;
			snprintf(group, sizeof(group), "%s", l);
			continue;
		}
		eq = strchr(l, '=');
		if (!eq || !group[0])
			continue;
		*eq = 0;
		if (snprintf(key, sizeof(key), "/%s/%s", group, str_strip(l)) >= (int)sizeof(key))
			continue;
		if (kv_set(s, key, str_strip(eq + 1)) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int load_system_db(const struct sysroot *root, struct source *s)
{
	char dir[PATH_MAX], p[PATH_MAX];
	struct strv files = { 0 };
	struct stat st;
	int r;

	snprintf(p, sizeof(p), "/etc/dconf/db/%s", s->name);
	s->compiled = sysroot_stat(root, p, &st) == 0 && S_ISREG(st.st_mode);
	snprintf(dir, sizeof(dir), "/etc/dconf/db/%s.d", s->name);
	r = list_files(root, dir, &files);
	if (r == -ENOMEM)
		goto out;
	s->has_sources = r == 0;
	for (size_t i = 0; i < files.n; i++) {
		char *text = NULL;

		if (snprintf(p, sizeof(p), "%s/%s", dir, files.v[i]) >= (int)sizeof(p) ||
		    sysroot_read_file(root, p, KEYFILE_MAX, &text, NULL) < 0)
			continue;
		r = parse_keyfile(s, text);
		free(text);
		if (r < 0)
			goto out;
	}
	strv_clear(&files);

	snprintf(dir, sizeof(dir), "/etc/dconf/db/%s.d/locks", s->name);
	r = list_files(root, dir, &files);
	if (r == -ENOMEM)
		goto out;
	for (size_t i = 0; i < files.n; i++) {
		char *text = NULL, *save = NULL;

		if (snprintf(p, sizeof(p), "%s/%s", dir, files.v[i]) >= (int)sizeof(p) ||
		    sysroot_read_file(root, p, KEYFILE_MAX, &text, NULL) < 0)
			continue;
		for (char *line = strtok_r(text, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			char *l = str_strip(line);

			if (*l != '/')
				continue;
			if (!strv_contains(&s->locks, l) && strv_push(&s->locks, l) < 0) {
				free(text);
				r = -ENOMEM;
				goto out;
			}
		}
		free(text);
	}
	r = 0;
out:
	strv_clear(&files);
	return r;
}

int screen_lock_dconf_load(const struct sysroot *root, struct screen_lock_dconf **ret)
{
	static const char *const profiles[] = { "/etc/dconf/profile/user",
						"/usr/local/share/dconf/profile/user",
						"/usr/share/dconf/profile/user" };
	struct screen_lock_dconf *dc;
	char *text = NULL, *save = NULL;
	int r = 0;

	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]) && !text; i++)
		if (sysroot_read_file(root, profiles[i], KEYFILE_MAX, &text, NULL) == 0)
			snprintf(dc->profile, sizeof(dc->profile), "%s", profiles[i]);
	if (!text) {
		/* No profile: dconf uses the user database alone. */
		snprintf(dc->profile, sizeof(dc->profile), "(default)");
		text = strdup("user-db:user\n");
		if (!text) {
			r = -ENOMEM;
			goto fail;
		}
	}
	for (char *line = strtok_r(text, "\n", &save); line && dc->n < MAX_SOURCES;
	     line = strtok_r(NULL, "\n", &save)) {
		char *l = str_strip(line);
		struct source *s = &dc->src[dc->n];

		if (str_startswith(l, "user-db:"))
			s->kind = SRC_USER;
		else if (str_startswith(l, "system-db:"))
			s->kind = SRC_SYSTEM;
		else
			continue; /* comments, service-db:, file-db: */
		l = str_strip(strchr(l, ':') + 1);
		if (!*l || strchr(l, '/'))
			continue;
		s->name = strdup(l);
		if (!s->name) {
			r = -ENOMEM;
			goto fail;
		}
		dc->n++;
		if (s->kind == SRC_SYSTEM) {
			r = load_system_db(root, s);
			if (r < 0)
				goto fail;
		}
	}
	free(text);
	*ret = dc;
	return 0;
fail:
	free(text);
	screen_lock_dconf_free(dc);
	return r;
}

/* The user's binary database, read once per user. */
struct userdb {
	bool loaded;
	bool no_home; /* the user is not in passwd: cannot find the file */
	int state;    /* 1 read, 0 absent, <0 cannot read (-errno) */
	char *data;
	size_t len;
};

static void userdb_load(const struct sysroot *root, const struct screen_lock_user *u,
			const char *name, struct userdb *db)
{
	char p[PATH_MAX];
	int r;

	if (db->loaded)
		return;
	db->loaded = true;
	if (!u->home) {
		db->no_home = true;
		db->state = -ENOENT;
		return;
	}
	snprintf(p, sizeof(p), "%s/.config/dconf/%s", u->home, name);
	r = sysroot_read_file(root, p, USERDB_MAX, &db->data, &db->len);
	if (r == -ENOENT) {
		db->state = 0;
		return;
	}
	db->state = r < 0 ? r : 1;
}

static bool key_locked(const struct source *s, const char *path)
{
	return s->kind == SRC_SYSTEM && s->compiled && strv_contains(&s->locks, path);
}

/* dconf's lookup: a lock in a database (searched from the bottom of the profile) makes the
 * lookup start at that database; otherwise the first database that has the key wins, and the
 * schema's default (def, when not NULL) if none has it. Returns 1 found (or default), 0 unknown. */
static int dconf_lookup(const struct sysroot *root, struct screen_lock_dconf *dc,
			const struct screen_lock_user *u, struct userdb *db, const char *path,
			const long *def, long *ret, struct screen_lock_setting *s)
{
	size_t start = 0;

	for (size_t i = dc->n; i-- > 1;)
		if (key_locked(&dc->src[i], path)) {
			start = i;
			break;
		}
	for (size_t i = start; i < dc->n; i++) {
		struct source *src = &dc->src[i];

		if (src->kind == SRC_USER) {
			long v;
			int r;

			userdb_load(root, u, src->name, db);
			if (db->state == 0)
				continue;
			if (db->state < 0) {
				screen_lock_note(s, "cannot read the user's dconf database (%s)",
						 db->no_home ? "home directory unknown"
							     : strerror(-db->state));
				return 0;
			}
			r = screen_lock_gvdb_lookup_number(db->data, db->len, path, &v);
			if (r < 0) {
				screen_lock_note(s, "user's dconf database is not valid GVDB");
				return 0;
			}
			if (r == 1) {
				*ret = v;
				return 1;
			}
			continue;
		}
		if (!src->compiled)
			continue; /* dconf reads only the compiled database */
		for (size_t k = 0; k < src->keys.n; k++)
			if (strcmp(src->keys.v[k], path) == 0) {
				long v;

				if (screen_lock_parse_gvariant_number(src->values.v[k], &v) < 0) {
					screen_lock_note(s, "%s in dconf db %s: cannot parse '%s'",
							 path, src->name, src->values.v[k]);
					return 0;
				}
				*ret = v;
				return 1;
			}
	}
	if (!def)
		return 0;
	*ret = *def;
	return 1;
}

static void key_path(const struct gkey *k, char *buf, size_t size)
{
	size_t n;

	snprintf(buf, size, "/%s/%s", k->schema, k->key);
	n = strlen(k->schema) + 1;
	for (size_t i = 1; i < n && i < size; i++)
		if (buf[i] == '.')
			buf[i] = '/';
}

/* Fixture-safe command key: no '/' from user names. */
static void cmd_key(char *buf, size_t size, const char *user, const struct gkey *k)
{
	snprintf(buf, size, "gsettings-%s-%s-%s", user, k->schema, k->key);
	for (char *p = buf; *p; p++)
		if (*p == '/')
			*p = '_';
}

struct reader {
	const struct sysroot *root;
	struct screen_lock_dconf *dc;
	const struct screen_lock_user *u;
	struct screen_lock_setting *s;
	struct userdb db;
	bool gsettings_missing; /* not installed: do not try again for this user */
	unsigned n_gsettings, n_dconf, n_keys, n_locked;
};

/* One key's effective value: returns true and *ret, or false when it cannot be read. */
static bool read_key(struct reader *rd, const struct gkey *k, long *ret)
{
	char path[512], key[512], *out = NULL;
	const char *argv[] = { "gsettings", "get", k->schema, k->key, NULL };
	bool with_default = true;
	int status = 0, r;
	long v;

	key_path(k, path, sizeof(path));
	rd->n_keys++;
	for (size_t i = 0; i < rd->dc->n; i++)
		if (key_locked(&rd->dc->src[i], path)) {
			rd->n_locked++;
			break;
		}

	if (!rd->gsettings_missing) {
		cmd_key(key, sizeof(key), rd->u->name, k);
		r = sysroot_run(rd->root, key, argv, NULL, rd->u->uid, GSETTINGS_TIMEOUT_MS, &out,
				&status);
		if (r == -ENOENT)
			rd->gsettings_missing = true;
		if (r == 0 && status == 0 && screen_lock_parse_gvariant_number(out, &v) == 0) {
			free(out);
			rd->n_gsettings++;
			*ret = v;
			return true;
		}
		free(out);
		if (r == 0) {
			/* gsettings ran but could not answer: the schema or key may not exist in
			 * this desktop's version, so the upstream default proves nothing. Only a
			 * value that a database actually holds counts. */
			screen_lock_note(rd->s, "gsettings get %s %s failed (exit status %d)",
					 k->schema, k->key, status);
			with_default = false;
		}
	}
	if (dconf_lookup(rd->root, rd->dc, rd->u, &rd->db, path, with_default ? &k->def : NULL, &v,
			 rd->s) == 1) {
		rd->n_dconf++;
		*ret = v;
		return true;
	}
	return false;
}

/* Seconds from a delay key (0 or less = never), or SCREENLOCK_UNKNOWN. */
static long read_seconds(struct reader *rd, const struct gkey *k)
{
	long v;

	if (!read_key(rd, k, &v))
		return SCREENLOCK_UNKNOWN;
	if (v <= 0)
		return 0;
	if (v > LONG_MAX / (long)k->unit)
		return LONG_MAX;
	return v * (long)k->unit;
}

/* A boolean key: 1, 0 or SCREENLOCK_UNKNOWN. */
static long read_bool(struct reader *rd, const struct gkey *k)
{
	long v;

	if (!read_key(rd, k, &v))
		return SCREENLOCK_UNKNOWN;
	return v != 0;
}

int screen_lock_read_gsettings(const struct sysroot *root, struct screen_lock_dconf *dc,
			       const struct screen_lock_user *u, struct screen_lock_setting *s)
{
	struct reader rd = { .root = root, .dc = dc, .u = u, .s = s };
	const struct gdesk *g = NULL;
	long idle, v;

	for (size_t i = 0; i < sizeof(gdesks) / sizeof(gdesks[0]); i++)
		if (gdesks[i].de == u->desktop)
			g = &gdesks[i];
	if (!g)
		return -EINVAL;

	s->lock_enabled = g->lock_enabled.schema ? read_bool(&rd, &g->lock_enabled) : 1;

	idle = read_seconds(&rd, &g->idle);
	if (g->idle_alt.schema) {
		v = read_seconds(&rd, &g->idle_alt);
		if (idle == 0 || v == 0)
			idle = 0; /* either never locks */
		else if (v == SCREENLOCK_UNKNOWN)
			idle = SCREENLOCK_UNKNOWN;
		else if (idle != SCREENLOCK_UNKNOWN && v > idle)
			idle = v; /* the longer one */
	}
	if (g->idle_enabled.schema) {
		v = read_bool(&rd, &g->idle_enabled);
		if (v == 0) {
			idle = 0;
			screen_lock_note(s, "%s %s is false", g->idle_enabled.schema,
					 g->idle_enabled.key);
		} else if (v == SCREENLOCK_UNKNOWN && idle != 0) {
			idle = SCREENLOCK_UNKNOWN;
		}
	}
	s->idle_seconds = idle;
	s->lock_delay_seconds = g->lock_delay.schema ? read_seconds(&rd, &g->lock_delay) : 0;
	s->admin = rd.n_locked == 0           ? SCREENLOCK_ADMIN_NO
		   : rd.n_locked >= rd.n_keys ? SCREENLOCK_ADMIN_YES
					      : SCREENLOCK_ADMIN_PARTIAL;
	if (g->extra_bool.schema) {
		v = read_bool(&rd, &g->extra_bool); /* reported, not required */
		screen_lock_note(s, "%s=%s", g->extra_bool.key,
				 v == SCREENLOCK_UNKNOWN ? "unknown"
				 : v                     ? "true"
							 : "false");
	}
	s->source = rd.n_dconf && rd.n_gsettings ? "gsettings+dconf"
		    : rd.n_gsettings             ? "gsettings"
		    : rd.n_dconf                 ? "dconf"
						 : "none";
	for (size_t i = 0; i < dc->n; i++)
		if (dc->src[i].kind == SRC_SYSTEM && dc->src[i].has_sources && !dc->src[i].compiled)
			screen_lock_note(
				s, "dconf db %s has sources but was never compiled (dconf update)",
				dc->src[i].name);
	free(rd.db.data);
	return 0;
}
