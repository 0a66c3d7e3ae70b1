/* Policy -> kernel tables: the executables a policy names, found with glob(3), hashed and
 * verified, keyed by (dev, inode); client-family names; the per-client settings. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "agent/host/pkgdb/pkgdb.h"
#include "agent/watch/watch_internal.h"
#include "common/log.h"
#include "common/path.h"
#include "watch.skel.h"

/* Dynamic loaders and script interpreters: their file arguments are judged like argv[0]. */
static const char *const loader_globs[] = {
	"/lib*/ld-linux*.so*",
	"/usr/lib*/ld-linux*.so*",
	"/lib/*/ld-linux*.so*",
	"/usr/lib/*/ld-linux*.so*",
	"/bin/sh",
	"/bin/bash",
	"/bin/dash",
	"/usr/bin/bash",
	"/usr/bin/dash",
	"/usr/bin/python3*",
	"/usr/bin/perl",
};

/* Shells: a Wine client's launcher script (Debian's /usr/bin/wine, deepin's run.sh) runs under
 * one with the .exe in its arguments; user space judges it (watch_wine.c). */
static const char *const shell_globs[] = {
	"/bin/sh", "/bin/bash", "/bin/dash", "/usr/bin/sh", "/usr/bin/bash", "/usr/bin/dash",
};

/* Wine loaders that are not an approved client's: a family .exe in their argv is denied. */
/* Wine's server binaries (Debian's wineserver64, deepin-wine's): never judged as injectors. */
static const char *const wineserver_globs[] = {
	"/usr/lib/wine/wineserver*",           "/usr/lib/*/wine/wineserver*",
	"/usr/lib/*/deepin-wine*/wineserver*", "/opt/*wine*/bin/wineserver*",
	"/opt/deepinwine/*/bin/wineserver*",
};

static const char *const wine_globs[] = {
	"/usr/bin/wine*",
	"/usr/lib/wine/wine*",
	"/usr/lib/*/wine/wine*",
	"/opt/*wine*/bin/wine*",
};

uint32_t watch_kdev(dev_t dev)
{
	return (major(dev) << 20) | minor(dev);
}

void watch_tables_clear(struct watch_tables *t)
{
	for (size_t i = 0; i < t->n_inodes; i++)
		free(t->inodes[i].path);
	free(t->inodes);
	free(t->names);
	free(t->lib_dirs);
	memset(t, 0, sizeof(*t));
}

const struct watch_inode *watch_tables_find(const struct watch_tables *t, uint32_t dev,
					    uint64_t ino)
{
	for (size_t i = 0; i < t->n_inodes; i++)
		if (t->inodes[i].key.dev == dev && t->inodes[i].key.ino == ino)
			return &t->inodes[i];
	return NULL;
}

static bool has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool is_wine_name(const char *path)
{
	return strncmp(path_basename(path), "wine", 4) == 0;
}

int watch_tables_add_inode(struct watch_tables *t, const char *path, const struct stat *st,
			   uint16_t flags, uint16_t client, const char *sha256)
{
	struct wxg_inode_key k = { .dev = watch_kdev(st->st_dev), .ino = st->st_ino };
	struct watch_inode *e = (struct watch_inode *)watch_tables_find(t, k.dev, k.ino), *nv;

	if (e) {
		if (flags & WXG_I_DENIED) {
			e->val.flags &= ~WXG_I_APPROVED;
			e->val.client = client;
		}
		if ((flags & WXG_I_APPROVED) && !(e->val.flags & (WXG_I_DENIED | WXG_I_APPROVED)))
			e->val.client = client;
		e->val.flags |= flags;
		if (e->val.flags & WXG_I_DENIED)
			e->val.flags &= ~WXG_I_APPROVED;
		if (sha256 && !e->sha256[0])
			snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
		return 0;
	}
	nv = realloc(t->inodes, (t->n_inodes + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->inodes = nv;
	e = &nv[t->n_inodes];
	memset(e, 0, sizeof(*e));
	e->key = k;
	e->val = (struct wxg_inode_val){ .size = st->st_size,
					 .ctime_sec = st->st_ctim.tv_sec,
					 .ctime_nsec = st->st_ctim.tv_nsec,
					 .flags = flags,
					 .client = client };
	e->path = strdup(path);
	if (!e->path)
		return -ENOMEM;
	if (sha256)
		snprintf(e->sha256, sizeof(e->sha256), "%s", sha256);
	t->n_inodes++;
	return 0;
}

static int add_name(struct watch_tables *t, const char *name, bool comm, uint16_t kind,
		    uint16_t client)
{
	struct watch_name n = { .comm = comm, .val = { .kind = kind, .client = client } }, *nv;
	size_t len = strlen(name);

	if (len == 0 || len >= (comm ? WXG_COMM_LEN : WXG_NAME_LEN))
		return 0;
	for (size_t i = 0; i < len; i++)
		n.key.name[i] = comm ? name[i] : tolower((unsigned char)name[i]);
	for (size_t i = 0; i < t->n_names; i++)
		if (t->names[i].comm == comm &&
		    memcmp(&t->names[i].key, &n.key, sizeof(n.key)) == 0) {
			if (kind == WXG_NAME_DENIED)
				t->names[i].val = n.val; /* deny wins */
			return 0;
		}
	nv = realloc(t->names, (t->n_names + 1) * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	t->names = nv;
	nv[t->n_names++] = n;
	return 0;
}

/* The literal name in a glob's last component ("*\WXWork.exe" -> "WXWork.exe",
 * "*electronic-wechat*" -> "electronic-wechat"), or NULL when it has wildcards. */
static int add_glob_name(struct watch_tables *t, const char *glob_pat, uint16_t kind,
			 uint16_t client)
{
	const char *b = glob_pat, *s;
	char buf[WXG_NAME_LEN * 2];
	size_t len;

	for (s = glob_pat; *s; s++)
		if (*s == '/' || *s == '\\')
			b = s + 1;
	while (*b == '*')
		b++;
	len = strlen(b);
	while (len > 0 && b[len - 1] == '*')
		len--;
	if (len == 0 || len >= sizeof(buf))
		return 0;
	memcpy(buf, b, len);
	buf[len] = 0;
	if (has_glob(buf))
		return 0;
	return add_name(t, buf, false, kind, client);
}

static struct pkgdb *get_pkgdb(struct watch *w)
{
	if (!w->pkgdb && pkgdb_new(w->sr, &w->pkgdb) < 0)
		w->pkgdb = NULL;
	return w->pkgdb;
}

int watch_package_owns(struct watch *w, const char *pkg, const char *path)
{
	struct pkgdb *db = get_pkgdb(w);
	enum pkgdb_file_state state;
	char *owner = NULL;
	int r;

	if (!db)
		return -EOPNOTSUPP;
	r = pkgdb_check_file(db, path, pkg, &state, &owner);
	if (r < 0)
		return r;
	r = state == PKGDB_FILE_OK && owner && strcmp(owner, pkg) == 0;
	free(owner);
	return r;
}

int watch_package_files(struct watch *w, const char *pkg, watch_path_fn fn, struct watch_tables *t,
			void *ud)
{
	struct pkgdb *db = get_pkgdb(w);
	const struct strv *files;
	int r = 0;

	if (!db || pkgdb_files(db, pkg, &files) < 0)
		return 0;
	for (size_t i = 0; i < files->n && r >= 0; i++)
		r = fn(w, t, files->v[i], ud);
	return r;
}

static int for_each_glob(struct watch *w, struct watch_tables *t, const char *pattern,
			 watch_path_fn fn, void *ud)
{
	glob_t g = {};
	int r = 0;

	if (glob(pattern, GLOB_NOSORT, NULL, &g) != 0) {
		globfree(&g);
		return 0;
	}
	for (size_t i = 0; i < g.gl_pathc && r >= 0; i++)
		r = fn(w, t, g.gl_pathv[i], ud);
	globfree(&g);
	return r;
}

struct approve_ctx {
	const struct policy_client *c;
	uint16_t idx;
};

static int approve_one(struct watch *w, struct watch_tables *t, const char *path, void *ud)
{
	const struct approve_ctx *a = ud;
	char hex[HASH_SHA256_HEX];
	struct stat st;
	uint16_t flags = WXG_I_APPROVED;
	int r;

	r = hashcache_sha256(w->hc, path, hex, &st);
	if (r < 0) {
		log_debug("watch: %s: not hashed: %s", path, strerror(-r));
		return 0;
	}
	if (!(st.st_mode & 0111))
		return 0;
	if (a->c->sha256) {
		if (strcasecmp(hex, a->c->sha256) != 0) {
			log_debug("watch: %s: digest %s is not the pinned one", path, hex);
			return 0;
		}
	} else if (a->c->package) {
		int own = watch_package_owns(w, a->c->package, path);

		if (own <= 0) {
			log_debug("watch: %s: not a genuine file of package %s (%d)", path,
				  a->c->package, own);
			return 0;
		}
	}
	if (is_wine_name(path))
		flags |= WXG_I_WINE;
	r = watch_tables_add_inode(t, path, &st, flags, a->idx, hex);
	if (r == 0)
		t->n_approved++;
	return r;
}

static int deny_one(struct watch *w, struct watch_tables *t, const char *path, void *ud)
{
	uint16_t idx = *(const uint16_t *)ud;
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return 0;
	t->n_denied++;
	return watch_tables_add_inode(t, path, &st, WXG_I_DENIED, idx, NULL);
}

static int flag_one(struct watch *w, struct watch_tables *t, const char *path, void *ud)
{
	uint16_t flags = *(const uint16_t *)ud;
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111))
		return 0;
	return watch_tables_add_inode(t, path, &st, flags, WXG_CLIENT_NONE, NULL);
}

int watch_tables_build(struct watch *w, const struct policy *p, struct watch_tables *ret)
{
	struct watch_tables t = {};
	int r = 0;

	if (p->n_clients > WXG_MAX_CLIENTS || p->n_denies > WXG_MAX_CLIENTS)
		return -E2BIG;
	for (size_t i = 0; i < p->n_clients && r >= 0; i++) {
		const struct policy_client *c = &p->clients[i];
		struct approve_ctx a = { .c = c, .idx = i };

		for (size_t j = 0; j < c->exe.n && r >= 0; j++) {
			r = for_each_glob(w, &t, c->exe.v[j], approve_one, &a);
			if (r >= 0)
				r = add_glob_name(&t, c->exe.v[j], WXG_NAME_APPROVED, i);
		}
		for (size_t j = 0; j < c->comm.n && r >= 0; j++) {
			r = add_name(&t, c->comm.v[j], true, WXG_NAME_APPROVED, i);
			if (r >= 0)
				r = add_name(&t, c->comm.v[j], false, WXG_NAME_APPROVED, i);
		}
		for (size_t j = 0; j < c->argv.n && r >= 0; j++)
			r = add_glob_name(&t, c->argv.v[j], WXG_NAME_APPROVED, i);
	}
	/* Denies last: they win over approvals of the same file or name. */
	for (size_t i = 0; i < p->n_denies && r >= 0; i++) {
		const struct policy_deny *d = &p->denies[i];
		uint16_t idx = i;

		for (size_t j = 0; j < d->exe.n && r >= 0; j++) {
			r = for_each_glob(w, &t, d->exe.v[j], deny_one, &idx);
			if (r >= 0)
				r = add_glob_name(&t, d->exe.v[j], WXG_NAME_DENIED, i);
		}
		for (size_t j = 0; j < d->packages.n && r >= 0; j++)
			r = watch_package_files(w, d->packages.v[j], deny_one, &t, &idx);
		for (size_t j = 0; j < d->comm.n && r >= 0; j++) {
			r = add_name(&t, d->comm.v[j], true, WXG_NAME_DENIED, i);
			if (r >= 0)
				r = add_name(&t, d->comm.v[j], false, WXG_NAME_DENIED, i);
		}
		for (size_t j = 0; j < d->argv.n && r >= 0; j++)
			r = add_glob_name(&t, d->argv.v[j], WXG_NAME_DENIED, i);
	}
	for (size_t j = 0; j < sizeof(loader_globs) / sizeof(loader_globs[0]) && r >= 0; j++) {
		uint16_t f = WXG_I_LOADER;

		r = for_each_glob(w, &t, loader_globs[j], flag_one, &f);
	}
	for (size_t j = 0; j < sizeof(wine_globs) / sizeof(wine_globs[0]) && r >= 0; j++) {
		uint16_t f = WXG_I_WINE;

		r = for_each_glob(w, &t, wine_globs[j], flag_one, &f);
	}
	for (size_t j = 0; j < sizeof(shell_globs) / sizeof(shell_globs[0]) && r >= 0; j++) {
		uint16_t f = WXG_I_LOADER | WXG_I_SHELL;

		r = for_each_glob(w, &t, shell_globs[j], flag_one, &f);
	}
	for (size_t j = 0; j < sizeof(wineserver_globs) / sizeof(wineserver_globs[0]) && r >= 0;
	     j++) {
		uint16_t f = WXG_I_WINESERVER;

		r = for_each_glob(w, &t, wineserver_globs[j], flag_one, &f);
	}
	if (r >= 0)
		r = watch_libdirs_build(w, p, &t);
	if (r >= 0)
		r = watch_wine_images_build(w, p, &t);
	if (r < 0) {
		watch_tables_clear(&t);
		return r;
	}
	*ret = t;
	return 0;
}

static bool want_name(const struct watch_tables *t, bool comm, const struct wxg_name_key *k)
{
	for (size_t i = 0; i < t->n_names; i++)
		if (t->names[i].comm == comm && memcmp(&t->names[i].key, k, sizeof(*k)) == 0)
			return true;
	return false;
}

/* Delete the keys of map that the new tables do not have. */
static void prune(int fd, size_t key_size, const struct watch_tables *t, bool inodes, bool comm)
{
	unsigned char key[64], next[64];
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		bool keep;

		if (inodes) {
			const struct wxg_inode_key *k = (const void *)next;

			keep = watch_tables_find(t, k->dev, k->ino) != NULL;
		} else {
			keep = want_name(t, comm, (const void *)next);
		}
		if (!keep && bpf_map_delete_elem(fd, next) == 0)
			continue; /* restart from the same predecessor */
		memcpy(key, next, key_size);
		prev = key;
	}
}

int watch_tables_apply(struct watch *w, const struct policy *p, const struct watch_tables *t,
		       unsigned generation)
{
	struct wxg_config cfg = {
		.mode = p->mode == POLICY_MODE_ENFORCE ? WXG_MODE_ENFORCE : WXG_MODE_AUDIT,
		.flags = WXG_CFG_ARMED | (p->watch.attachment_exec ? WXG_CFG_ATTACHMENT_EXEC : 0) |
			 (w->enf == WATCH_ENF_LSM ? WXG_CFG_LSM : 0),
		.generation = generation,
		.agent_tgid = getpid(),
	};
	int fd_inodes = bpf_map__fd(w->skel->maps.inodes);
	int fd_comm = bpf_map__fd(w->skel->maps.comm_names);
	int fd_args = bpf_map__fd(w->skel->maps.arg_names);
	uint32_t zero = 0;
	int r;

	for (uint32_t i = 0; i < WXG_MAX_CLIENTS; i++) {
		struct wxg_client_cfg cc = {};

		if (i < p->n_clients) {
			cc.max_instances = p->clients[i].max_instances;
			cc.flags = (p->clients[i].lib_dirs.n ? WXG_C_LIB_DIRS : 0) |
				   (p->clients[i].wine_prefix ? WXG_C_WINE : 0) |
				   (p->clients[i].wine_prefix && p->clients[i].wine_manifest
					    ? WXG_C_WINE_IMAGES
					    : 0) |
				   (t->lib_exact & (1ULL << i) ? WXG_C_LIB_EXACT : 0);
		}
		if (bpf_map_update_elem(bpf_map__fd(w->skel->maps.clients), &i, &cc, BPF_ANY) < 0)
			return -errno;
	}
	/* Library directories before the clients' flags that make the kernel refuse. */
	r = watch_libdirs_apply(bpf_map__fd(w->skel->maps.lib_dirs), t);
	if (r < 0)
		return r;
	for (size_t i = 0; i < t->n_inodes; i++)
		if (bpf_map_update_elem(fd_inodes, &t->inodes[i].key, &t->inodes[i].val, BPF_ANY) <
		    0)
			return -errno;
	for (size_t i = 0; i < t->n_names; i++)
		if (bpf_map_update_elem(t->names[i].comm ? fd_comm : fd_args, &t->names[i].key,
					&t->names[i].val, BPF_ANY) < 0)
			return -errno;
	if (bpf_map_update_elem(bpf_map__fd(w->skel->maps.settings), &zero, &cfg, BPF_ANY) < 0)
		return -errno;
	prune(fd_inodes, sizeof(struct wxg_inode_key), t, true, false);
	prune(fd_comm, sizeof(struct wxg_name_key), t, false, true);
	prune(fd_args, sizeof(struct wxg_name_key), t, false, false);
	return 0;
}
