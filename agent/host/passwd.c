#include "agent/host/passwd.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PASSWD_MAX (4u * 1024 * 1024)

bool passwd_parse_uid(const char *s, uid_t *ret)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || (*end && !isspace((unsigned char)*end)) || v >= (uid_t)-1)
		return false;
	*ret = (uid_t)v;
	return true;
}

int passwd_foreach(const struct sysroot *sr,
		   int (*cb)(const struct passwd_entry *e, void *userdata), void *userdata)
{
	char *text = NULL, *save = NULL, *line;
	int r;

	r = sysroot_read_file(sr, "/etc/passwd", PASSWD_MAX, &text, NULL);
	if (r < 0)
		return r;
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[7] = { 0 }, *p = line;
		struct passwd_entry e;
		int n = 0;

		/* name:password:uid:gid:gecos:home:shell; empty fields are kept (gecos often is) */
		while (n < 7) {
			f[n++] = p;
			p = strchr(p, ':');
			if (!p)
				break;
			*p++ = 0;
		}
		if (n < 6 || !passwd_parse_uid(f[2], &e.uid))
			continue;
		e.name = f[0];
		e.home = f[5];
		r = cb(&e, userdata);
		if (r != 0)
			break;
	}
	free(text);
	return r;
}

struct lookup {
	const char *name; /* by name when set, else by uid */
	uid_t uid;
	char *found_name;
	char *found_home;
	bool want_name, want_home;
};

static int lookup_cb(const struct passwd_entry *e, void *userdata)
{
	struct lookup *l = userdata;

	if (l->name ? strcmp(e->name, l->name) != 0 : e->uid != l->uid)
		return 0;
	l->uid = e->uid;
	if (l->want_name && !(l->found_name = strdup(e->name)))
		return -ENOMEM;
	if (l->want_home && !(l->found_home = strdup(e->home)))
		return -ENOMEM;
	return 1;
}

static int lookup(const struct sysroot *sr, struct lookup *l)
{
	int r = passwd_foreach(sr, lookup_cb, l);

	if (r == 0)
		r = -ENOENT;
	if (r < 0) {
		free(l->found_name);
		free(l->found_home);
		return r;
	}
	return 0;
}

int passwd_lookup_uid(const struct sysroot *sr, uid_t uid, char **ret_name, char **ret_home)
{
	struct lookup l = { .uid = uid, .want_name = ret_name, .want_home = ret_home };
	int r = lookup(sr, &l);

	if (r < 0)
		return r;
	if (ret_name)
		*ret_name = l.found_name;
	if (ret_home)
		*ret_home = l.found_home;
	return 0;
}

int passwd_lookup_name(const struct sysroot *sr, const char *name, uid_t *ret_uid, char **ret_home)
{
	struct lookup l = { .name = name, .want_home = ret_home };
	int r = lookup(sr, &l);

	if (r < 0)
		return r;
	if (ret_uid)
		*ret_uid = l.uid;
	if (ret_home)
		*ret_home = l.found_home;
	return 0;
}
