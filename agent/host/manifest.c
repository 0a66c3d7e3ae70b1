/* Wine prefix manifests (manifest.h): parse, create, format. */
#include "agent/host/manifest.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/buf.h"
#include "common/dir.h"
#include "common/hex.h"
#include "common/strv.h"

#define DEPTH_MAX 64 /* deeper than any install; stops a hostile tree */

static int cmp_ent(const void *a, const void *b)
{
	return strcmp(((const struct manifest_ent *)a)->rel, ((const struct manifest_ent *)b)->rel);
}

static int push(struct manifest *m, char *rel, const char *hex)
{
	struct manifest_ent *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	m->v = nv;
	nv[m->n].rel = rel;
	for (size_t i = 0; i < 64; i++)
		nv[m->n].sha256[i] = (char)tolower((unsigned char)hex[i]);
	nv[m->n].sha256[64] = 0;
	m->n++;
	return 0;
}

int manifest_parse(const char *text, struct manifest *m)
{
	for (const char *l = text; *l;) {
		size_t ll = strcspn(l, "\n");
		bool esc = l[0] == '\\';
		const char *h = l + esc, *p;
		char *rel, *o;

		p = h + 64;
		if (hex_span(h, 64) != 64 || p + 2 > l + ll || p[0] != ' ' ||
		    (p[1] != ' ' && p[1] != '*'))
			goto next;
		p += 2;
		while (*p == '/' || (p[0] == '.' && p[1] == '/'))
			p += *p == '/' ? 1 : 2;
		rel = strndup(p, ll - (size_t)(p - l));
		if (!rel)
			return -ENOMEM;
		if (esc) {
			o = rel;
			for (const char *s = rel; *s; s++) {
				if (*s == '\\' && (s[1] == '\\' || s[1] == 'n')) {
					*o++ = s[1] == 'n' ? '\n' : '\\';
					s++;
				} else {
					*o++ = *s;
				}
			}
			*o = 0;
		}
		if (push(m, rel, h) < 0) {
			free(rel);
			return -ENOMEM;
		}
next:
		l += ll;
		if (*l)
			l++;
	}
	if (m->n > 1)
		qsort(m->v, m->n, sizeof(*m->v), cmp_ent);
	return 0;
}

const struct manifest_ent *manifest_find(const struct manifest *m, const char *rel)
{
	struct manifest_ent key = { .rel = (char *)rel };

	if (!m || !m->n)
		return NULL;
	return bsearch(&key, m->v, m->n, sizeof(*m->v), cmp_ent);
}

/* ---- create ---- */

static bool wanted_name(const char *name)
{
	static const char *const exts[] = { ".exe", ".dll", ".drv", ".sys" };
	size_t n = strlen(name);

	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (n > 4 && strcasecmp(name + n - 4, exts[i]) == 0)
			return true;
	return false;
}

struct walk {
	struct manifest *m;
	char path[PATH_MAX]; /* PREFIX/drive_c/...: the current directory */
	size_t rel_at;       /* where the relative path starts in path */
	char **err_path;
};

static int walk_dir(struct walk *w, unsigned depth)
{
	struct strv names = { 0 };
	size_t len = strlen(w->path);
	int r;

	if (depth > DEPTH_MAX) {
		r = -ELOOP;
		goto fail;
	}
	r = dir_list(w->path, NULL, NULL, &names);
	if (r < 0)
		goto fail;
	for (size_t i = 0; i < names.n; i++) {
		char hex[HASH_SHA256_HEX], *rel;
		struct stat st;

		if (len + 1 + strlen(names.v[i]) >= sizeof(w->path)) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		w->path[len] = '/';
		strcpy(w->path + len + 1, names.v[i]);
		if (lstat(w->path, &st) < 0) {
			r = -errno;
			goto fail;
		}
		if (S_ISDIR(st.st_mode)) {
			r = walk_dir(w, depth + 1);
			if (r < 0)
				goto out; /* the failed path is already named */
		} else if (wanted_name(names.v[i]) &&
			   (S_ISREG(st.st_mode) ||
			    (S_ISLNK(st.st_mode) && stat(w->path, &st) == 0 &&
			     S_ISREG(st.st_mode)))) {
			r = hash_sha256_file(w->path, hex);
			if (r < 0)
				goto fail;
			rel = strdup(w->path + w->rel_at);
			if (!rel || push(w->m, rel, hex) < 0) {
				free(rel);
				r = -ENOMEM;
				goto out;
			}
		}
		w->path[len] = 0;
	}
	r = 0;
	goto out;
fail:
	if (w->err_path && !*w->err_path)
		*w->err_path = strdup(w->path);
out:
	w->path[len] = 0;
	strv_clear(&names);
	return r;
}

int manifest_create(const char *prefix, struct manifest *ret, char **ret_path)
{
	struct manifest m = { 0 };
	struct walk w = { .m = &m, .err_path = ret_path };
	struct stat st;
	size_t pl = strlen(prefix);
	int r;

	while (pl > 1 && prefix[pl - 1] == '/')
		pl--;
	if (snprintf(w.path, sizeof(w.path), "%.*s/drive_c", (int)pl, prefix) >=
	    (int)sizeof(w.path))
		return -ENAMETOOLONG;
	if (stat(w.path, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	w.rel_at = pl + 1;
	if (ret_path)
		*ret_path = NULL;
	r = walk_dir(&w, 0);
	if (r < 0) {
		manifest_clear(&m);
		return r;
	}
	if (m.n > 1)
		qsort(m.v, m.n, sizeof(*m.v), cmp_ent);
	*ret = m;
	return 0;
}

/* ---- format ---- */

int manifest_format(const struct manifest *m, char **ret)
{
	struct buf b = { 0 };
	int r = 0;

	for (size_t i = 0; i < m->n && r >= 0; i++) {
		const char *rel = m->v[i].rel;
		bool esc = strpbrk(rel, "\\\n") != NULL;

		r = buf_printf(&b, "%s%s  ", esc ? "\\" : "", m->v[i].sha256);
		for (const char *s = rel; *s && r >= 0; s++)
			r = esc && (*s == '\\' || *s == '\n')
				    ? buf_printf(&b, "\\%c", *s == '\n' ? 'n' : '\\')
				    : buf_append(&b, s, 1);
		if (r >= 0)
			r = buf_puts(&b, "\n");
	}
	if (r < 0) {
		buf_clear(&b);
		return r;
	}
	*ret = buf_steal(&b);
	return *ret ? 0 : -ENOMEM;
}

void manifest_clear(struct manifest *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].rel);
	free(m->v);
	m->v = NULL;
	m->n = 0;
}
