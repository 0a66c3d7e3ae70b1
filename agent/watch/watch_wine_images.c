/* The Wine prefix of a client with a wine_manifest, as the kernel sees it: the prefix's root
 * directory (a lib_dirs entry with the client's bit in `prefixes`) and every file the manifest
 * lists whose sha256 matches, as a WXG_I_WINE_IMAGE inode (size and ctime as hashed). Below
 * that root a process of the client may map executable only those inodes
 * (bpf/watch_mmap.bpf.h): Wine maps every PE image it loads, the .exe and each DLL, so a
 * planted version.dll or an injected plugin.dll is refused (BPF LSM) or its process killed in
 * the mmap call (tracing, raw tracepoint) before any of its code runs. docs/wine.md.
 *
 * Built with the tables for every home in /etc/passwd that has the prefix, and added when a
 * client's process first starts in a prefix made since (agent/watch/watch_judge.c: the loader
 * is held stopped meanwhile). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/host/manifest.h"
#include "agent/host/passwd.h"
#include "agent/watch/hashcache.h"
#include "agent/watch/watch_internal.h"
#include "common/log.h"

#define MANIFEST_MAX (16u << 20)

bool watch_wine_images_has(const struct watch_tables *t, unsigned idx, const char *prefix)
{
	struct stat st;
	uint32_t dev;

	if (stat(prefix, &st) < 0)
		return false;
	dev = watch_kdev(st.st_dev);
	for (size_t i = 0; i < t->n_lib_dirs; i++)
		if (t->lib_dirs[i].key.dev == dev && t->lib_dirs[i].key.ino == st.st_ino)
			return t->lib_dirs[i].val.prefixes & (1ULL << idx);
	return false;
}

int watch_wine_images_add(struct watch *w, struct watch_tables *t, unsigned idx,
			  const struct policy_client *c, const char *prefix)
{
	struct manifest m = {};
	char *text = NULL, path[PATH_MAX], hex[HASH_SHA256_HEX];
	size_t listed = 0, stale = 0;
	struct stat st;
	int r;

	if (idx >= WXG_MAX_CLIENTS || !c->wine_manifest)
		return -EINVAL;
	if (stat(prefix, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0; /* no prefix: nothing of the client's runs there */
	r = sysroot_read_file(w->sr, c->wine_manifest, MANIFEST_MAX, &text, NULL);
	if (r < 0)
		goto out;
	r = manifest_parse(text, &m);
	if (r < 0)
		goto out;
	/* The root: below it, only what is listed now may be mapped. */
	r = watch_libdirs_add(t, prefix, idx, true);
	for (size_t i = 0; i < m.n && r >= 0; i++) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", prefix, m.v[i].rel) >=
		    sizeof(path))
			continue;
		if (hashcache_sha256(w->hc, path, hex, &st) < 0)
			continue; /* not installed here */
		if (strcmp(hex, m.v[i].sha256) != 0) {
			stale++; /* changed since the manifest: not listed, refused if mapped */
			continue;
		}
		r = watch_tables_add_inode(t, path, &st, WXG_I_WINE_IMAGE, idx, hex);
		if (r >= 0)
			listed++;
	}
	if (r >= 0)
		log_debug("watch: wine prefix %s: %zu manifest files listed, %zu differ", prefix,
			  listed, stale);
out:
	manifest_clear(&m);
	free(text);
	return r;
}

struct images_walk {
	struct watch *w;
	struct watch_tables *t;
	const struct policy_client *c;
	unsigned idx;
	int err; /* the first manifest error, for the caller's log */
};

static int add_home(const struct passwd_entry *e, void *userdata)
{
	struct images_walk *iw = userdata;
	char p[PATH_MAX], real[PATH_MAX];
	int r;

	if (!e->home || e->home[0] != '/' || strcmp(e->home, "/") == 0)
		return 0;
	if ((size_t)snprintf(p, sizeof(p), "%s/%s", e->home, iw->c->wine_prefix) >= sizeof(p))
		return 0;
	if (!realpath(p, real) || watch_wine_images_has(iw->t, iw->idx, real))
		return 0;
	r = watch_wine_images_add(iw->w, iw->t, iw->idx, iw->c, real);
	if (r == -ENOMEM)
		return r;
	if (r < 0 && !iw->err)
		iw->err = r;
	return 0;
}

int watch_wine_images_build(struct watch *w, const struct policy *p, struct watch_tables *t)
{
	int r = 0;

	for (size_t i = 0; i < p->n_clients && i < WXG_MAX_CLIENTS && r >= 0; i++) {
		const struct policy_client *c = &p->clients[i];
		struct images_walk iw = { w, t, c, i, 0 };

		if (!c->wine_prefix || !c->wine_manifest)
			continue;
		r = passwd_foreach(w->sr, add_home, &iw);
		if (r == -ENOENT)
			r = 0;
		/* An unreadable manifest marks no prefix (the approved client keeps running:
		 * refusing its every image would stop it); the caller warns. */
		if (iw.err && !t->manifest_err) {
			t->manifest_err = iw.err;
			t->manifest_err_path = c->wine_manifest;
		}
	}
	return r;
}
