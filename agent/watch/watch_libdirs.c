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

int watch_libdirs_add(struct watch_tables *t, const char *path, unsigned client, bool prefix)
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
			if (prefix)
				t->lib_dirs[i].val.prefixes |= 1ULL << client;
			else
				t->lib_dirs[i].val.clients |= 1ULL << client;
			return 0;
		}
	n = realloc(t->lib_dirs, (t->n_lib_dirs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	t->lib_dirs = n;
	n[t->n_lib_dirs].key = k;
	n[t->n_lib_dirs].val = (struct wxg_lib_dir_val){ 0 };
	if (prefix)
		n[t->n_lib_dirs].val.prefixes = 1ULL << client;
	else
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
			r = watch_libdirs_add(t, g.gl_pathv[i], client, false);
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

static bool in_manifest_prefix(const struct policy_client *c, const char *rel)
{
	size_t n;

	if (!c->wine_prefix || !c->wine_manifest)
		return false;
	n = strlen(c->wine_prefix);
	while (n && c->wine_prefix[n - 1] == '/')
		n--;
	return strncmp(rel, c->wine_prefix, n) == 0 && (rel[n] == '/' || rel[n] == 0);
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
				/* Inside a Wine prefix with a manifest, the manifest says what may
				 * be mapped (watch_wine_images.c), not the directory. */
				if (in_manifest_prefix(&p->clients[i], e + 2))
					continue;
				r = passwd_foreach(w->sr, add_home, &hw);
				if (r == -ENOENT)
					r = 0;
			} else if (strpbrk(e, "*?[")) {
				exact = false;
				r = add_glob(t, e, i);
			} else {
				r = watch_libdirs_add(t, e, i, false);
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
