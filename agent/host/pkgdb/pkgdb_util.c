/* What the pkgdb facade and both backends share: package records, file lists, issues. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent/host/pkgdb/pkgdb_internal.h"

bool pkgdb_name_ok(const char *s)
{
	if (!s || !*s || *s == '-' || *s == '.' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".+-_", *s))
			return false;
	return true;
}

void pkgdb_issues_free(struct pkgdb_verify_result *r)
{
	for (size_t i = 0; i < r->n_issues; i++)
		free(r->issues[i].path);
	free(r->issues);
}

void pkgdb_pkg_free(struct pkgdb_pkg *p)
{
	if (!p)
		return;
	free(p->name);
	strv_clear(&p->files);
	for (size_t i = 0; i < p->n_md5; i++)
		free(p->md5[i].path);
	free(p->md5);
	free(p->version);
	pkgdb_issues_free(&p->rpm_v);
	free(p);
}

struct pkgdb_pkg *pkgdb_pkg_get(struct pkgdb *db, const char *name)
{
	struct pkgdb_pkg *p, **nv;

	for (size_t i = 0; i < db->n_pkgs; i++)
		if (strcmp(db->pkgs[i]->name, name) == 0)
			return db->pkgs[i];
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->name = strdup(name);
	nv = realloc(db->pkgs, (db->n_pkgs + 1) * sizeof(*nv));
	if (!p->name || !nv) {
		pkgdb_pkg_free(p);
		if (nv)
			db->pkgs = nv;
		return NULL;
	}
	db->pkgs = nv;
	db->pkgs[db->n_pkgs++] = p;
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int pkgdb_lines_add(struct strv *s, const char *buf)
{
	for (const char *l = buf; *l;) {
		size_t ll = strcspn(l, "\n");
		int r;

		if (ll > 0 && l[0] == '/' && !(ll == 2 && l[1] == '.')) {
			r = strv_push_take(s, strndup(l, ll));
			if (r < 0)
				return r;
		}
		l += ll;
		if (*l)
			l++;
	}
	return 0;
}

void pkgdb_strv_sort_uniq(struct strv *s)
{
	size_t o = 0;

	if (s->n < 2)
		return;
	qsort(s->v, s->n, sizeof(char *), cmp_str);
	for (size_t i = 0; i < s->n; i++) {
		if (o > 0 && strcmp(s->v[o - 1], s->v[i]) == 0) {
			free(s->v[i]);
			continue;
		}
		s->v[o++] = s->v[i];
	}
	s->n = o;
	s->v[o] = NULL;
}

bool pkgdb_strv_bsearch(const struct strv *s, const char *str)
{
	return s->n && bsearch(&str, s->v, s->n, sizeof(char *), cmp_str);
}

int pkgdb_issue_push(struct pkgdb_verify_result *r, const char *path, size_t len,
		     enum pkgdb_file_state st, int err)
{
	struct pkgdb_file_issue *nv = realloc(r->issues, (r->n_issues + 1) * sizeof(*nv));
	char *p;

	if (!nv)
		return -ENOMEM;
	r->issues = nv;
	p = strndup(path, len);
	if (!p)
		return -ENOMEM;
	nv[r->n_issues++] = (struct pkgdb_file_issue){ .path = p, .state = st, .err = err };
	if (st == PKGDB_FILE_CHANGED)
		r->n_changed++;
	else if (st == PKGDB_FILE_MISSING)
		r->n_missing++;
	else if (st == PKGDB_FILE_UNREADABLE)
		r->n_unreadable++;
	return 0;
}
