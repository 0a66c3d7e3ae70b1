/* A client's lib_dirs as the kernel sees them: each directory's (dev, ino) with the clients that
 * name it (the lib_dirs map, bpf/watch_mmap.bpf.h walks a mapped file's parents against it).
 * A client whose every entry is an absolute path without glob characters is "exact": the
 * kernel refuses an executable mapping from anywhere else. Globs and "~/" entries are expanded
 * to the directories that exist now (every home in /etc/passwd), and the client is not exact:
 * what the kernel does not find is left to user space, which matches the path against the
 * entries themselves (policy_lib_dir_match(), agent/watch/watch_judge.c). */
#include <bpf/bpf.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/host/passwd.h"
#include "agent/watch/watch_internal.h"
#include "common/log.h"
#include "common/strv.h"

static int add_dir(struct watch_tables *t, const char *path, unsigned client)
{
	struct watch_lib_dir *n;
	struct wxg_inode_key k = {};
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* a directory that does not exist holds no library */
	k.dev = watch_kdev(st.st_dev);
	k.ino = st.st_ino;
	for (size_t i = 0; i < t->n_lib_dirs; i++)
		if (memcmp(&t->lib_dirs[i].key, &k, sizeof(k)) == 0) {
			t->lib_dirs[i].val.clients |= 1ULL << client;
			return 0;
		}
	n = realloc(t->lib_dirs, (t->n_lib_dirs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->lib_dirs = n;
	n[t->n_lib_dirs].key = k;
	n[t->n_lib_dirs].val.clients = 1ULL << client;
	t->n_lib_dirs++;
	return 0;
}

static int add_glob(struct watch_tables *t, const char *pattern, unsigned client)
{
	glob_t g = {};
	int r = 0;

	if (glob(pattern, GLOB_NOSORT | GLOB_ONLYDIR, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc && r >= 0; i++)
			r = add_dir(t, g.gl_pathv[i], client);
	globfree(&g);
	return r;
}

struct home_walk {
	struct watch_tables *t;
	const char *rest; /* the entry after "~/" */
	unsigned client;
};

static int add_home(const struct passwd_entry *e, void *userdata)
{
	struct home_walk *hw = userdata;
	char p[PATH_MAX];

	if (!e->home || e->home[0] != '/' || strcmp(e->home, "/") == 0)
		return 0;
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", e->home, hw->rest) >= sizeof(p))
		return 0;
	return add_glob(hw->t, p, hw->client);
}

int watch_libdirs_build(struct watch *w, const struct policy *p, struct watch_tables *t)
{
	int r = 0;

	for (size_t i = 0; i < p->n_clients && i < WXG_MAX_CLIENTS && r >= 0; i++) {
		const struct strv *dirs = &p->clients[i].lib_dirs;
		bool exact = true;

		for (size_t j = 0; j < dirs->n && r >= 0; j++) {
			const char *e = dirs->v[j];

			if (str_startswith(e, "~/")) {
				struct home_walk hw = { t, e + 2, i };

				exact = false;
				r = passwd_foreach(w->sr, add_home, &hw);
				if (r == -ENOENT)
					r = 0;
			} else if (strpbrk(e, "*?[")) {
				exact = false;
				r = add_glob(t, e, i);
			} else {
				r = add_dir(t, e, i);
			}
		}
		if (exact && dirs->n)
			t->lib_exact |= 1ULL << i;
	}
	return r;
}

int watch_libdirs_apply(int fd, const struct watch_tables *t)
{
	struct wxg_inode_key key, next, *prev = NULL;

	for (size_t i = 0; i < t->n_lib_dirs; i++)
		if (bpf_map_update_elem(fd, &t->lib_dirs[i].key, &t->lib_dirs[i].val, BPF_ANY) < 0)
			return -errno;
	/* Delete the directories the new policy does not name. */
	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		bool keep = false;

		for (size_t i = 0; i < t->n_lib_dirs && !keep; i++)
			keep = memcmp(&t->lib_dirs[i].key, &next, sizeof(next)) == 0;
		if (!keep && bpf_map_delete_elem(fd, &next) == 0)
			continue;
		key = next;
		prev = &key;
	}
	return 0;
}
