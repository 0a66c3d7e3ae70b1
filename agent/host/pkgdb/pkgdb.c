#include "agent/host/pkgdb/pkgdb.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/query_cache.h"
#include "common/fileio.h"

#define DPKG_STATUS "/var/lib/dpkg/status"
#define DPKG_INFO "/var/lib/dpkg/info"
#define DPKG_STATUS_MAX (256u * 1024 * 1024)
#define DPKG_LIST_MAX (64u * 1024 * 1024)
#define RPM_TIMEOUT_MS 30000u
#define RPM_VERIFY_TIMEOUT_MS 120000u
#define RPM_VERIFY_TTL 3600u              /* rpm -V hashes the whole package: reuse for an hour */
#define DIGEST_CACHE_NAME "pkgdb-digests"
#define DIGEST_CACHE_STAMP "v1"
#define DIGEST_CACHE_TTL (30u * 24 * 3600)
#define DIGEST_CACHE_MAX 30000u
#define DIGEST_KEEP_UNUSED (30 * 24 * 3600)
#define OWNER_CACHE_NAME "pkgdb-owners"
#define OWNER_CACHE_TTL (30u * 24 * 3600)
#define OWNER_CACHE_MAX 5000u

/* A piece of the (read-only, not NUL-terminated) dpkg status mapping. */
struct span {
	const char *p;
	size_t n;
};

/* One paragraph of the dpkg status file. */
struct dpkg_ent {
	struct span name, arch, version;
	struct span conffiles;      /* the continuation lines after "Conffiles:" */
	bool present;
};

struct md5_ent {
	char *path;
	char md5[HASH_MD5_HEX];
};

/* What was read about one package, lazily. Never moved once allocated. */
struct pkg {
	char *name;
	bool files_done;
	int files_err;
	struct strv files;          /* sorted */
	bool md5_done;
	int md5_err;
	struct md5_ent *md5;        /* sorted by path */
	size_t n_md5;
	bool rpm_q_done;
	int rpm_installed;          /* 1, 0 or -errno */
	char *version;              /* rpm: the NEVRA; dpkg: the Version field */
	bool rpm_v_done;
	int rpm_v_err;
	struct pkgdb_verify_result rpm_v;
};

struct owner_ent {
	char *path;
	char *pkg;                  /* NULL: nobody owns it */
};

struct digest_ent {
	char *path;                 /* real path, root prefix included */
	unsigned long long dev, ino, size;
	long long mtime_s, mtime_ns, ctime_s, ctime_ns;
	char md5[HASH_MD5_HEX];     /* "" when not computed */
	char sha256[HASH_SHA256_HEX];
	long long last_used;
};

struct pkgdb {
	const struct sysroot *sr;
	enum pkgdb_backend backend;

	bool status_done;
	int status_err;
	void *status;               /* read-only mapping of the status file */
	size_t status_len;
	struct dpkg_ent *ents;      /* sorted by name */
	size_t n_ents;

	struct pkg **pkgs;
	size_t n_pkgs;
	struct owner_ent *owners;
	size_t n_owners;
	bool owners_loaded, owners_dirty;

	bool filters_done;
	struct strv filters;        /* "+glob" path-include, "-glob" path-exclude, in dpkg's order */

	char *cache_dir;
	time_t now;
	bool dig_loaded, dig_dirty;
	struct digest_ent *dig;
	size_t n_dig, cap_dig;
	uint32_t *dig_idx;          /* open addressing: index + 1, 0 empty */
	size_t n_idx;
};

static const char *const file_state_names[] = {
	[PKGDB_FILE_OK] = "ok",
	[PKGDB_FILE_CHANGED] = "changed",
	[PKGDB_FILE_MISSING] = "missing",
	[PKGDB_FILE_UNREADABLE] = "unreadable",
	[PKGDB_FILE_NOT_OWNED] = "not-owned",
	[PKGDB_FILE_NO_DIGEST] = "no-digest",
};

const char *pkgdb_file_state_to_string(enum pkgdb_file_state s)
{
	return (unsigned)s < sizeof(file_state_names) / sizeof(file_state_names[0]) ? file_state_names[s]
										     : "?";
}

const char *pkgdb_backend_to_string(enum pkgdb_backend b)
{
	switch (b) {
	case PKGDB_DPKG: return "dpkg";
	case PKGDB_RPM: return "rpm";
	default: return "none";
	}
}

/* Package names go into argv and fixture file names: no options, no slashes. */
static bool pkg_name_ok(const char *s)
{
	if (!s || !*s || *s == '-' || *s == '.' || strlen(s) > 200)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr(".+-_", *s))
			return false;
	return true;
}

static bool is_dir(const struct sysroot *sr, const char *abs)
{
	struct stat st;

	return sysroot_stat(sr, abs, &st) == 0 && S_ISDIR(st.st_mode);
}

int pkgdb_new(const struct sysroot *sr, struct pkgdb **ret)
{
	struct pkgdb *db;
	struct stat st;

	db = calloc(1, sizeof(*db));
	if (!db)
		return -ENOMEM;
	db->sr = sr;
	db->now = time(NULL);
	if (sysroot_stat(sr, DPKG_STATUS, &st) == 0 && S_ISREG(st.st_mode))
		db->backend = PKGDB_DPKG;
	else if (is_dir(sr, "/var/lib/rpm") || is_dir(sr, "/usr/lib/sysimage/rpm"))
		db->backend = PKGDB_RPM;
	*ret = db;
	return 0;
}

enum pkgdb_backend pkgdb_backend(const struct pkgdb *db)
{
	return db->backend;
}

static void verify_result_free_issues(struct pkgdb_verify_result *r)
{
	for (size_t i = 0; i < r->n_issues; i++)
		free(r->issues[i].path);
	free(r->issues);
}

static void pkg_free(struct pkg *p)
{
	if (!p)
		return;
	free(p->name);
	strv_clear(&p->files);
	for (size_t i = 0; i < p->n_md5; i++)
		free(p->md5[i].path);
	free(p->md5);
	free(p->version);
	verify_result_free_issues(&p->rpm_v);
	free(p);
}

void pkgdb_free(struct pkgdb *db)
{
	if (!db)
		return;
	if (db->status)
		munmap(db->status, db->status_len);
	free(db->ents);
	for (size_t i = 0; i < db->n_pkgs; i++)
		pkg_free(db->pkgs[i]);
	free(db->pkgs);
	for (size_t i = 0; i < db->n_owners; i++) {
		free(db->owners[i].path);
		free(db->owners[i].pkg);
	}
	free(db->owners);
	strv_clear(&db->filters);
	free(db->cache_dir);
	for (size_t i = 0; i < db->n_dig; i++)
		free(db->dig[i].path);
	free(db->dig);
	free(db->dig_idx);
	free(db);
}

void pkgdb_verify_result_clear(struct pkgdb_verify_result *r)
{
	if (!r)
		return;
	verify_result_free_issues(r);
	memset(r, 0, sizeof(*r));
}

static struct pkg *pkg_get(struct pkgdb *db, const char *name)
{
	struct pkg *p, **nv;

	for (size_t i = 0; i < db->n_pkgs; i++)
		if (strcmp(db->pkgs[i]->name, name) == 0)
			return db->pkgs[i];
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->name = strdup(name);
	nv = realloc(db->pkgs, (db->n_pkgs + 1) * sizeof(*nv));
	if (!p->name || !nv) {
		pkg_free(p);
		if (nv)
			db->pkgs = nv;
		return NULL;
	}
	db->pkgs = nv;
	db->pkgs[db->n_pkgs++] = p;
	return p;
}

/* ---- dpkg status ---- */

static bool span_eq(struct span a, const char *s)
{
	return a.n == strlen(s) && memcmp(a.p, s, a.n) == 0;
}

static int span_cmp(struct span a, struct span b)
{
	int c = memcmp(a.p, b.p, a.n < b.n ? a.n : b.n);

	return c ? c : (a.n > b.n) - (a.n < b.n);
}

static bool dpkg_state_present(struct span status)
{
	static const char *const present[] = { "installed", "unpacked", "half-configured",
					       "half-installed", "triggers-awaited", "triggers-pending" };
	struct span w = status;

	while (w.n && (w.p[w.n - 1] == ' ' || w.p[w.n - 1] == '\t' || w.p[w.n - 1] == '\r'))
		w.n--;
	for (size_t i = w.n; i > 0; i--)
		if (w.p[i - 1] == ' ') {
			w.p += i;
			w.n -= i;
			break;
		}
	for (size_t i = 0; i < sizeof(present) / sizeof(present[0]); i++)
		if (span_eq(w, present[i]))
			return true;
	return false;
}

static int cmp_ent(const void *a, const void *b)
{
	return span_cmp(((const struct dpkg_ent *)a)->name, ((const struct dpkg_ent *)b)->name);
}

static int dpkg_push(struct pkgdb *db, struct dpkg_ent *cur, size_t *cap)
{
	if (!cur->name.n)
		return 0;
	if (db->n_ents == *cap) {
		size_t nc = *cap ? *cap * 2 : 1024;
		struct dpkg_ent *nv = realloc(db->ents, nc * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		db->ents = nv;
		*cap = nc;
	}
	db->ents[db->n_ents++] = *cur;
	return 0;
}

/* The status file is mapped read-only, not copied: it is a few MB on a desktop and read on
 * every run. dpkg replaces it by rename(), so the mapping stays a consistent snapshot. */
static int dpkg_map_status(struct pkgdb *db)
{
	char path[PATH_MAX];
	struct stat st;
	void *m;
	int fd, r;

	r = sysroot_path(db->sr, DPKG_STATUS, path, sizeof(path));
	if (r < 0)
		return r;
	fd = fileio_open_regular(path, &st);
	if (fd < 0)
		return fd == -EINVAL ? -EBADMSG : fd;
	if ((size_t)st.st_size > DPKG_STATUS_MAX) {
		r = -EBADMSG;
		goto out;
	}
	r = 0;
	if (st.st_size == 0)
		goto out;
	m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		r = -errno;
		goto out;
	}
	db->status = m;
	db->status_len = (size_t)st.st_size;
out:
	close(fd);
	return r;
}

static int dpkg_load_status(struct pkgdb *db)
{
	struct dpkg_ent cur = { 0 };
	bool in_conffiles = false;
	const char *p, *end;
	size_t cap = 0;
	int r;

	if (db->status_done)
		return db->status_err;
	db->status_done = true;
	r = dpkg_map_status(db);
	if (r < 0)
		goto out;
	p = db->status;
	end = p ? p + db->status_len : p;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
		size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (len && p[len - 1] == '\r')
			len--;
		if (len == 0) {
			r = dpkg_push(db, &cur, &cap);
			if (r < 0)
				goto out;
			memset(&cur, 0, sizeof(cur));
			in_conffiles = false;
		} else if (p[0] == ' ' || p[0] == '\t') {
			if (in_conffiles) {
				if (!cur.conffiles.p)
					cur.conffiles.p = p;
				cur.conffiles.n = (size_t)(p + len - cur.conffiles.p);
			}
		} else if ((colon = memchr(p, ':', len))) {
			struct span k = { p, (size_t)(colon - p) }, v = { colon + 1, len - (size_t)(colon - p) - 1 };

			while (v.n && (v.p[0] == ' ' || v.p[0] == '\t')) {
				v.p++;
				v.n--;
			}
			in_conffiles = false;
			if (span_eq(k, "Package"))
				cur.name = v;
			else if (span_eq(k, "Architecture"))
				cur.arch = v;
			else if (span_eq(k, "Version"))
				cur.version = v;
			else if (span_eq(k, "Status"))
				cur.present = dpkg_state_present(v);
			else if (span_eq(k, "Conffiles"))
				in_conffiles = true;
		}
		p = nl ? nl + 1 : end;
	}
	r = dpkg_push(db, &cur, &cap);
	if (r < 0)
		goto out;
	if (db->n_ents)
		qsort(db->ents, db->n_ents, sizeof(*db->ents), cmp_ent);
	r = 0;
out:
	db->status_err = r;
	return r;
}

/* The paragraphs of name (one per architecture): *first and count. */
static size_t dpkg_find(struct pkgdb *db, const char *name, struct dpkg_ent **first)
{
	struct span key = { name, strlen(name) };
	size_t lo = 0, hi = db->n_ents, n = 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (span_cmp(db->ents[mid].name, key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = db->ents + lo;
	while (lo + n < db->n_ents && span_cmp(db->ents[lo + n].name, key) == 0)
		n++;
	return n;
}

static bool dpkg_present(struct pkgdb *db, const char *name, struct dpkg_ent **ret)
{
	struct dpkg_ent *e;
	size_t n = dpkg_find(db, name, &e);

	for (size_t i = 0; i < n; i++)
		if (e[i].present) {
			if (ret)
				*ret = &e[i];
			return true;
		}
	return false;
}

/* Conffiles lines: " /etc/foo.conf <md5>[ obsolete|remove-on-upgrade]". */
static bool dpkg_is_conffile(struct pkgdb *db, const char *name, const char *path)
{
	struct dpkg_ent *e;
	size_t n = dpkg_find(db, name, &e), pl = strlen(path);

	for (size_t i = 0; i < n; i++) {
		const char *l = e[i].conffiles.p, *end = l ? l + e[i].conffiles.n : NULL;

		while (l && l < end) {
			const char *nl = memchr(l, '\n', (size_t)(end - l)), *s = l;
			const char *le = nl ? nl : end;

			while (s < le && (*s == ' ' || *s == '\t'))
				s++;
			if ((size_t)(le - s) > pl && memcmp(s, path, pl) == 0 && (s[pl] == ' ' || s[pl] == '\t'))
				return true;
			l = nl ? nl + 1 : end;
		}
	}
	return false;
}

/* ---- rpm ---- */

static int rpm_run(struct pkgdb *db, const char *key, const char *const argv[], unsigned timeout_ms,
		   char **out, int *status)
{
	return sysroot_run(db->sr, key, argv, NULL, (uid_t)-1, timeout_ms, out, status);
}

static int rpm_query(struct pkgdb *db, struct pkg *p)
{
	const char *argv[] = { "rpm", "-q", p->name, NULL };
	char key[256], *out = NULL;
	int st, r;

	if (p->rpm_q_done)
		return p->rpm_installed;
	snprintf(key, sizeof(key), "rpm-q-%s", p->name);
	r = rpm_run(db, key, argv, RPM_TIMEOUT_MS, &out, &st);
	if (r < 0)
		goto out;
	if (st == 0) {
		out[strcspn(out, "\n")] = 0;
		p->version = strdup(out);
		r = p->version ? 1 : -ENOMEM;
	} else if (st == 1) {
		r = 0;
	} else {
		r = -EIO;
	}
out:
	free(out);
	p->rpm_q_done = true;
	p->rpm_installed = r;
	return r;
}

static bool rpm_attr_ok(const char *t, size_t len)
{
	if (len < 8 || len > 9)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr(".SM5DLUGTP?", t[i]))
			return false;
	return true;
}

static int push_issue(struct pkgdb_verify_result *r, const char *path, size_t len,
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

/* rpm -V lines: "S.5....T.  c /etc/x", "missing   c /etc/y", "..5......    /usr/bin/z".
 * Column 3 '5': digest differs; '?': could not be read. Config files ('c') are excluded. */
static int rpm_parse_verify(const char *out, struct pkgdb_verify_result *res)
{
	int r = 0;

	for (const char *l = out; *l && r >= 0;) {
		size_t ll = strcspn(l, "\n"), tl = strcspn(l, " \t\n");
		const char *path = memchr(l, '/', ll), *m;
		enum pkgdb_file_state st;
		bool config = false;

		if (!path)
			goto next;
		if (tl == 7 && strncmp(l, "missing", 7) == 0)
			st = PKGDB_FILE_MISSING;
		else if (rpm_attr_ok(l, tl) && l[2] == '5')
			st = PKGDB_FILE_CHANGED;
		else if (rpm_attr_ok(l, tl) && l[2] == '?')
			st = PKGDB_FILE_UNREADABLE;
		else
			goto next;
		for (m = l + tl; m < path; m++)
			if (*m == 'c')
				config = true;
		if (config)
			res->n_excluded++;
		else
			r = push_issue(res, path, ll - (size_t)(path - l), st, st == PKGDB_FILE_UNREADABLE ? -EACCES : 0);
next:
		l += ll;
		if (*l == '\n')
			l++;
	}
	return r;
}

static void rpm_db_stamp(struct pkgdb *db, const char *version, char *buf, size_t size)
{
	static const char *const files[] = { "/var/lib/rpm", "/usr/lib/sysimage/rpm",
					     "/var/lib/rpm/rpmdb.sqlite", "/usr/lib/sysimage/rpm/rpmdb.sqlite",
					     "/var/lib/rpm/Packages" };
	size_t off;

	off = (size_t)snprintf(buf, size, "%s", version ? version : "-");
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]) && off < size; i++) {
		struct stat st;

		if (sysroot_stat(db->sr, files[i], &st) == 0)
			off += (size_t)snprintf(buf + off, size - off, " %lld.%09ld", (long long)st.st_mtim.tv_sec,
						st.st_mtim.tv_nsec);
	}
}

static void cache_name(const char *prefix, const char *pkg, char *buf, size_t size)
{
	size_t o = (size_t)snprintf(buf, size, "%s", prefix);

	for (; *pkg && o + 1 < size && o < CACHE_NAME_MAX; pkg++)
		buf[o++] = isalnum((unsigned char)*pkg) || *pkg == '.' || *pkg == '-' ? *pkg : '_';
	buf[o < size ? o : size - 1] = 0;
}

static int rpm_verify(struct pkgdb *db, struct pkg *p)
{
	const char *argv[] = { "rpm", "-V", p->name, NULL };
	char key[256], name[CACHE_NAME_MAX + 1], stamp[512], *out = NULL;
	int st = 0, r;

	if (p->rpm_v_done)
		return p->rpm_v_err;
	r = rpm_query(db, p);
	if (r <= 0) {
		r = r == 0 ? -ENOENT : r;
		goto out;
	}
	cache_name("rpm-V-", p->name, name, sizeof(name));
	rpm_db_stamp(db, p->version, stamp, sizeof(stamp));
	if (query_cache_get(db->cache_dir, name, stamp, RPM_VERIFY_TTL, db->now, &out, NULL) < 0) {
		snprintf(key, sizeof(key), "rpm-V-%s", p->name);
		r = rpm_run(db, key, argv, RPM_VERIFY_TIMEOUT_MS, &out, &st);
		if (r < 0)
			goto out;
		if (st > 1) {
			r = -EIO;
			goto out;
		}
		if (strstr(out, "is not installed")) {
			r = -ENOENT;
			goto out;
		}
		(void)query_cache_put(db->cache_dir, name, stamp, db->now, out, strlen(out));
	}
	r = rpm_parse_verify(out, &p->rpm_v);
out:
	free(out);
	p->rpm_v_done = true;
	p->rpm_v_err = r;
	return r;
}

/* ---- file lists ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_lines(struct strv *s, const char *buf)
{
	int r = 0;

	for (const char *l = buf; *l && r >= 0;) {
		size_t ll = strcspn(l, "\n");

		if (ll > 0 && l[0] == '/' && !(ll == 2 && l[1] == '.'))
			r = strv_push_take(s, strndup(l, ll));
		l += ll;
		if (*l)
			l++;
	}
	return r;
}

static void sort_uniq(struct strv *s)
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

/* Read <info>/<name>[:<arch>].<ext> for every installed architecture of name; calls fn on each
 * file's contents. Returns how many files were read, or -errno. */
static int dpkg_info_each(struct pkgdb *db, const char *name, const char *ext,
			  int (*fn)(struct pkgdb *db, struct pkg *p, const char *buf), struct pkg *p)
{
	struct dpkg_ent *e;
	size_t n = dpkg_find(db, name, &e);
	char path[PATH_MAX], *buf;
	int r, found = 0;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && (!e[i].present || !e[i].arch.n || e[i].arch.n > 64))
			continue;
		if (i < n)
			snprintf(path, sizeof(path), DPKG_INFO "/%s:%.*s.%s", name, (int)e[i].arch.n, e[i].arch.p, ext);
		else
			snprintf(path, sizeof(path), DPKG_INFO "/%s.%s", name, ext);
		r = sysroot_read_file(db->sr, path, DPKG_LIST_MAX, &buf, NULL);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		r = fn(db, p, buf);
		free(buf);
		if (r < 0)
			return r;
		found++;
	}
	return found;
}

static int list_cb(struct pkgdb *db, struct pkg *p, const char *buf)
{
	return add_lines(&p->files, buf);
}

static int cmp_md5(const void *a, const void *b)
{
	return strcmp(((const struct md5_ent *)a)->path, ((const struct md5_ent *)b)->path);
}

static int md5_cb(struct pkgdb *db, struct pkg *p, const char *buf)
{
	for (const char *l = buf; *l;) {
		size_t ll = strcspn(l, "\n"), i;
		struct md5_ent *nv;
		const char *path;

		for (i = 0; i < 32 && i < ll && isxdigit((unsigned char)l[i]); i++)
			;
		if (i == 32 && ll > 34 && (l[32] == ' ' || l[32] == '\t')) {
			path = l + 32;
			while (*path == ' ' || *path == '\t' || *path == '*')
				path++;
			if (*path == '/')
				path++;
			nv = realloc(p->md5, (p->n_md5 + 1) * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			p->md5 = nv;
			if (asprintf(&nv[p->n_md5].path, "/%.*s", (int)(ll - (size_t)(path - l)), path) < 0)
				return -ENOMEM;
			for (i = 0; i < 32; i++)
				nv[p->n_md5].md5[i] = (char)tolower((unsigned char)l[i]);
			nv[p->n_md5].md5[32] = 0;
			p->n_md5++;
		}
		l += ll;
		if (*l)
			l++;
	}
	return 0;
}

static int load_files(struct pkgdb *db, struct pkg *p)
{
	int r;

	if (p->files_done)
		return p->files_err;
	p->files_done = true;
	if (db->backend == PKGDB_DPKG) {
		r = dpkg_load_status(db);
		if (r < 0)
			goto out;
		if (!dpkg_present(db, p->name, NULL)) {
			r = -ENOENT;
			goto out;
		}
		r = dpkg_info_each(db, p->name, "list", list_cb, p);
		if (r == 0)
			r = -ENODATA;
	} else if (db->backend == PKGDB_RPM) {
		const char *argv[] = { "rpm", "-ql", p->name, NULL };
		char key[256], *out = NULL;
		int st;

		snprintf(key, sizeof(key), "rpm-ql-%s", p->name);
		r = rpm_run(db, key, argv, RPM_TIMEOUT_MS, &out, &st);
		if (r == 0) {
			if (st != 0)
				r = strstr(out, "is not installed") ? -ENOENT : -EIO;
			else
				r = add_lines(&p->files, out);
		}
		free(out);
	} else {
		r = -EOPNOTSUPP;
	}
out:
	if (r >= 0)
		sort_uniq(&p->files);
	p->files_err = r < 0 ? r : 0;
	return p->files_err;
}

static int load_md5(struct pkgdb *db, struct pkg *p)
{
	int r;

	if (p->md5_done)
		return p->md5_err;
	p->md5_done = true;
	r = dpkg_load_status(db);
	if (r < 0)
		goto out;
	if (!dpkg_present(db, p->name, NULL)) {
		r = -ENOENT;
		goto out;
	}
	r = dpkg_info_each(db, p->name, "md5sums", md5_cb, p);
	if (r == 0)
		r = -ENODATA;
	if (r > 0 && p->n_md5)
		qsort(p->md5, p->n_md5, sizeof(*p->md5), cmp_md5);
out:
	p->md5_err = r < 0 ? r : 0;
	return p->md5_err;
}

static const struct md5_ent *md5_find(const struct pkg *p, const char *path)
{
	struct md5_ent key = { .path = (char *)path };

	if (!p->n_md5)
		return NULL;
	return bsearch(&key, p->md5, p->n_md5, sizeof(*p->md5), cmp_md5);
}

/* The merged-/usr twin of a path: /bin/x <-> /usr/bin/x. false when there is none. */
static bool usr_alias(const char *path, char *buf, size_t size)
{
	static const char *const dirs[] = { "/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/" };

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (str_startswith(path, dirs[i]))
			return snprintf(buf, size, "/usr%s", path) < (int)size;
		if (str_startswith(path, "/usr") && str_startswith(path + 4, dirs[i]))
			return snprintf(buf, size, "%s", path + 4) < (int)size;
	}
	return false;
}

static bool strv_bsearch(const struct strv *s, const char *str)
{
	return s->n && bsearch(&str, s->v, s->n, sizeof(char *), cmp_str);
}

/* ---- public: installed, version, files ---- */

int pkgdb_is_installed(struct pkgdb *db, const char *pkg)
{
	struct pkg *p;
	int r;

	if (!pkg_name_ok(pkg))
		return -EINVAL;
	switch (db->backend) {
	case PKGDB_DPKG:
		r = dpkg_load_status(db);
		if (r < 0)
			return r;
		return dpkg_present(db, pkg, NULL) ? 1 : 0;
	case PKGDB_RPM:
		p = pkg_get(db, pkg);
		return p ? rpm_query(db, p) : -ENOMEM;
	default:
		return -EOPNOTSUPP;
	}
}

int pkgdb_version(struct pkgdb *db, const char *pkg, const char **ret)
{
	struct dpkg_ent *e = NULL;
	struct pkg *p;
	int r;

	r = pkgdb_is_installed(db, pkg);
	if (r <= 0)
		return r == 0 ? -ENOENT : r;
	p = pkg_get(db, pkg);
	if (!p)
		return -ENOMEM;
	if (db->backend == PKGDB_DPKG && !p->version) {
		if (!dpkg_present(db, pkg, &e) || !e)
			return -ENOENT;
		p->version = strndup(e->version.p ? e->version.p : "", e->version.n);
		if (!p->version)
			return -ENOMEM;
	}
	*ret = p->version;
	return 0;
}

int pkgdb_files(struct pkgdb *db, const char *pkg, const struct strv **ret)
{
	struct pkg *p;
	int r;

	if (!pkg_name_ok(pkg))
		return -EINVAL;
	p = pkg_get(db, pkg);
	if (!p)
		return -ENOMEM;
	r = load_files(db, p);
	if (r < 0)
		return r;
	*ret = &p->files;
	return 0;
}

int pkgdb_owns(struct pkgdb *db, const char *pkg, const char *path)
{
	const struct strv *files;
	char alias[PATH_MAX];
	int r;

	r = pkgdb_files(db, pkg, &files);
	if (r < 0)
		return r;
	if (strv_bsearch(files, path))
		return 1;
	return usr_alias(path, alias, sizeof(alias)) && strv_bsearch(files, alias) ? 1 : 0;
}

/* ---- owner ---- */

static bool list_has(const char *buf, size_t len, const char *path)
{
	size_t pl = strlen(path);

	for (const char *s = buf; (s = memmem(s, len - (size_t)(s - buf), path, pl)); s++) {
		if ((s == buf || s[-1] == '\n') && (s + pl == buf + len || s[pl] == '\n'))
			return true;
		if ((size_t)(s - buf) + pl >= len)
			break;
	}
	return false;
}

/* Every info/ *.list, read into one reused buffer: a thousand packages are ~10 MB. */
static int dpkg_scan_owner(struct pkgdb *db, const char *path, const char *alias, char **ret)
{
	char *buf = NULL, *nb;
	size_t cap = 0;
	struct dirent *de;
	int r = -ENOENT;
	DIR *d;

	d = sysroot_opendir(db->sr, DPKG_INFO);
	if (!d)
		return -errno;
	while (r == -ENOENT && (de = readdir(d))) {
		char p[PATH_MAX], real[PATH_MAX];
		size_t nl = strlen(de->d_name), len = 0;
		struct stat st;
		int fd;

		if (nl <= 5 || strcmp(de->d_name + nl - 5, ".list") != 0)
			continue;
		if (snprintf(p, sizeof(p), DPKG_INFO "/%s", de->d_name) >= (int)sizeof(p) ||
		    sysroot_path(db->sr, p, real, sizeof(real)) < 0)
			continue;
		fd = fileio_open_regular(real, &st);
		if (fd < 0)
			continue;
		if ((size_t)st.st_size > DPKG_LIST_MAX) {
			close(fd);
			continue;
		}
		if ((size_t)st.st_size + 1 > cap) {
			cap = (size_t)st.st_size + 65536;
			nb = realloc(buf, cap);
			if (!nb) {
				close(fd);
				r = -ENOMEM;
				break;
			}
			buf = nb;
		}
		while (len + 1 < cap) {
			ssize_t n = read(fd, buf + len, cap - 1 - len);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			len += (size_t)n;
		}
		close(fd);
		if (list_has(buf, len, path) || (alias && list_has(buf, len, alias))) {
			size_t n = strcspn(de->d_name, ":");

			*ret = strndup(de->d_name, n < nl - 5 ? n : nl - 5);
			r = *ret ? 0 : -ENOMEM;
		}
	}
	closedir(d);
	free(buf);
	return r;
}

static int rpm_owner(struct pkgdb *db, const char *path, char **ret)
{
	const char *argv[] = { "rpm", "-qf", "--qf", "%{NAME}\\n", path, NULL };
	char key[PATH_MAX], *out = NULL;
	size_t o;
	int st, r;

	o = (size_t)snprintf(key, sizeof(key), "rpm-qf-");
	for (const char *s = path + (*path == '/'); *s && o + 1 < sizeof(key); s++)
		key[o++] = *s == '/' ? '_' : *s;
	key[o] = 0;
	r = rpm_run(db, key, argv, RPM_TIMEOUT_MS, &out, &st);
	if (r < 0)
		return r;
	out[strcspn(out, "\n")] = 0;
	if (st == 1 || strstr(out, "not owned") || strstr(out, "No such file"))
		r = -ENOENT;
	else if (st != 0 || !pkg_name_ok(out))
		r = -EIO;
	else
		r = 0;
	if (r == 0)
		*ret = out;
	else
		free(out);
	return r;
}

static int owner_remember(struct pkgdb *db, const char *path, const char *pkg)
{
	struct owner_ent *nv = realloc(db->owners, (db->n_owners + 1) * sizeof(*nv));

	if (!nv)
		return -ENOMEM;
	db->owners = nv;
	nv[db->n_owners].path = strdup(path);
	nv[db->n_owners].pkg = pkg ? strdup(pkg) : NULL;
	if (!nv[db->n_owners].path || (pkg && !nv[db->n_owners].pkg)) {
		free(nv[db->n_owners].path);
		free(nv[db->n_owners].pkg);
		return -ENOMEM;
	}
	db->n_owners++;
	return 0;
}

/* What the package database looks like now: owners remembered under another stamp are stale. */
static void db_stamp(struct pkgdb *db, char *buf, size_t size)
{
	struct stat a = { 0 }, b = { 0 };

	if (db->backend == PKGDB_DPKG) {
		(void)sysroot_stat(db->sr, DPKG_STATUS, &a);
		(void)sysroot_stat(db->sr, DPKG_INFO, &b);
		snprintf(buf, size, "dpkg %lld.%09ld %lld.%09ld", (long long)a.st_mtim.tv_sec, a.st_mtim.tv_nsec,
			 (long long)b.st_mtim.tv_sec, b.st_mtim.tv_nsec);
	} else {
		rpm_db_stamp(db, "rpm", buf, size);
	}
}

/* Lines "<pkg or ->\t<path>". */
static void owners_load(struct pkgdb *db)
{
	char stamp[256], *data = NULL;

	if (db->owners_loaded || !db->cache_dir)
		return;
	db->owners_loaded = true;
	db_stamp(db, stamp, sizeof(stamp));
	if (query_cache_get(db->cache_dir, OWNER_CACHE_NAME, stamp, OWNER_CACHE_TTL, db->now, &data, NULL) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(l, '\t');

		if (!tab || tab[1] != '/')
			continue;
		*tab = 0;
		if (strcmp(l, "-") != 0 && !pkg_name_ok(l))
			continue;
		if (owner_remember(db, tab + 1, strcmp(l, "-") == 0 ? NULL : l) < 0)
			break;
	}
	free(data);
}

static int owners_flush(struct pkgdb *db)
{
	char stamp[256], *buf = NULL;
	size_t len = 0, first;
	FILE *f;
	int r;

	if (!db->owners_dirty || !db->cache_dir)
		return 0;
	f = open_memstream(&buf, &len);
	if (!f)
		return -errno;
	first = db->n_owners > OWNER_CACHE_MAX ? db->n_owners - OWNER_CACHE_MAX : 0;  /* keep the newest */
	for (size_t i = first; i < db->n_owners; i++)
		if (!strchr(db->owners[i].path, '\n'))
			fprintf(f, "%s\t%s\n", db->owners[i].pkg ? db->owners[i].pkg : "-", db->owners[i].path);
	if (fclose(f) != 0) {
		free(buf);
		return -ENOMEM;
	}
	db_stamp(db, stamp, sizeof(stamp));
	r = query_cache_put(db->cache_dir, OWNER_CACHE_NAME, stamp, db->now, buf, len);
	if (r == 0)
		db->owners_dirty = false;
	free(buf);
	return r;
}

int pkgdb_owner_of(struct pkgdb *db, const char *path, const char *hint, char **ret_pkg)
{
	char alias[PATH_MAX], *owner = NULL;
	bool has_alias;
	int r;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (db->backend == PKGDB_NONE)
		return -EOPNOTSUPP;
	if (hint && pkgdb_owns(db, hint, path) > 0) {
		*ret_pkg = strdup(hint);
		return *ret_pkg ? 0 : -ENOMEM;
	}
	owners_load(db);
	for (size_t i = 0; i < db->n_owners; i++) {
		if (strcmp(db->owners[i].path, path) != 0)
			continue;
		if (!db->owners[i].pkg)
			return -ENOENT;
		*ret_pkg = strdup(db->owners[i].pkg);
		return *ret_pkg ? 0 : -ENOMEM;
	}
	has_alias = usr_alias(path, alias, sizeof(alias));
	if (db->backend == PKGDB_DPKG) {
		r = dpkg_scan_owner(db, path, has_alias ? alias : NULL, &owner);
	} else {
		r = rpm_owner(db, path, &owner);
		if (r == -ENOENT && has_alias)
			r = rpm_owner(db, alias, &owner);
	}
	if (r < 0 && r != -ENOENT)
		return r;
	if (owner_remember(db, path, owner) == 0)
		db->owners_dirty = true;
	if (r < 0)
		return r;
	*ret_pkg = owner;
	return 0;
}

/* ---- digests ---- */

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

static struct digest_ent *dig_lookup(struct pkgdb *db, const char *path)
{
	if (!db->n_idx)
		return NULL;
	for (size_t i = str_hash(path) & (db->n_idx - 1);; i = (i + 1) & (db->n_idx - 1)) {
		uint32_t x = db->dig_idx[i];

		if (!x)
			return NULL;
		if (strcmp(db->dig[x - 1].path, path) == 0)
			return &db->dig[x - 1];
	}
}

static void dig_index(struct pkgdb *db, size_t ent)
{
	size_t i = str_hash(db->dig[ent].path) & (db->n_idx - 1);

	while (db->dig_idx[i])
		i = (i + 1) & (db->n_idx - 1);
	db->dig_idx[i] = (uint32_t)(ent + 1);
}

/* Append an entry (takes e->path). */
static struct digest_ent *dig_add(struct pkgdb *db, struct digest_ent *e)
{
	if (db->n_dig == db->cap_dig) {
		size_t nc = db->cap_dig ? db->cap_dig * 2 : 256;
		struct digest_ent *nv = realloc(db->dig, nc * sizeof(*nv));

		if (!nv)
			goto fail;
		db->dig = nv;
		db->cap_dig = nc;
	}
	if ((db->n_dig + 1) * 2 > db->n_idx) {
		size_t ni = db->n_idx ? db->n_idx * 2 : 1024;
		uint32_t *nx = calloc(ni, sizeof(*nx));

		if (!nx)
			goto fail;
		free(db->dig_idx);
		db->dig_idx = nx;
		db->n_idx = ni;
		for (size_t i = 0; i < db->n_dig; i++)
			dig_index(db, i);
	}
	db->dig[db->n_dig] = *e;
	dig_index(db, db->n_dig);
	return &db->dig[db->n_dig++];
fail:
	free(e->path);
	return NULL;
}

static bool hex_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return s[n] == 0;
}

static void dig_load(struct pkgdb *db)
{
	char *data = NULL;

	if (db->dig_loaded)
		return;
	db->dig_loaded = true;
	if (query_cache_get(db->cache_dir, DIGEST_CACHE_NAME, DIGEST_CACHE_STAMP, DIGEST_CACHE_TTL, db->now,
		      &data, NULL) < 0)
		return;
	for (char *save = NULL, *l = strtok_r(data, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		struct digest_ent e = { 0 };
		char md5[40], sha[80];
		int off = 0;

		if (sscanf(l, "%llu %llu %llu %lld %lld %lld %lld %lld %39s %79s %n", &e.dev, &e.ino, &e.size,
			   &e.mtime_s, &e.mtime_ns, &e.ctime_s, &e.ctime_ns, &e.last_used, md5, sha, &off) != 10 ||
		    !off || l[off] != '/')
			continue;
		if (strcmp(md5, "-") != 0) {
			if (strlen(md5) != 32 || !hex_ok(md5, 32))
				continue;
			memcpy(e.md5, md5, 33);
		}
		if (strcmp(sha, "-") != 0) {
			if (strlen(sha) != 64 || !hex_ok(sha, 64))
				continue;
			memcpy(e.sha256, sha, 65);
		}
		if (dig_lookup(db, l + off))
			continue;
		e.path = strdup(l + off);
		if (!e.path || !dig_add(db, &e))
			break;
	}
	free(data);
}

static bool dig_same(const struct digest_ent *e, const struct stat *st)
{
	return e->dev == (unsigned long long)st->st_dev && e->ino == (unsigned long long)st->st_ino &&
	       e->size == (unsigned long long)st->st_size && e->mtime_s == (long long)st->st_mtim.tv_sec &&
	       e->mtime_ns == st->st_mtim.tv_nsec && e->ctime_s == (long long)st->st_ctim.tv_sec &&
	       e->ctime_ns == st->st_ctim.tv_nsec;
}

static void dig_set_stat(struct digest_ent *e, const struct stat *st)
{
	e->dev = (unsigned long long)st->st_dev;
	e->ino = (unsigned long long)st->st_ino;
	e->size = (unsigned long long)st->st_size;
	e->mtime_s = st->st_mtim.tv_sec;
	e->mtime_ns = st->st_mtim.tv_nsec;
	e->ctime_s = st->st_ctim.tv_sec;
	e->ctime_ns = st->st_ctim.tv_nsec;
}

int pkgdb_digest(struct pkgdb *db, const char *path, char md5[HASH_MD5_HEX], char sha256[HASH_SHA256_HEX])
{
	char real[PATH_MAX], m[HASH_MD5_HEX], s[HASH_SHA256_HEX];
	struct digest_ent *e, ne = { 0 };
	struct stat st, st2;
	int fd, r;

	r = sysroot_path(db->sr, path, real, sizeof(real));
	if (r < 0)
		return r;
	fd = fileio_open_regular(real, &st);
	if (fd < 0)
		return fd;
	dig_load(db);
	e = dig_lookup(db, real);
	if (e && dig_same(e, &st) && e->md5[0] && e->sha256[0]) {
		if (e->last_used < (long long)db->now - 24 * 3600)
			db->dig_dirty = true;     /* refresh its age on disk once a day */
		e->last_used = db->now;
		if (md5)
			memcpy(md5, e->md5, HASH_MD5_HEX);
		if (sha256)
			memcpy(sha256, e->sha256, HASH_SHA256_HEX);
		r = 0;
		goto out;
	}
	r = hash_md5_sha256_fd(fd, m, s);
	if (r < 0)
		goto out;
	if (md5)
		memcpy(md5, m, HASH_MD5_HEX);
	if (sha256)
		memcpy(sha256, s, HASH_SHA256_HEX);
	/* Remember it only if the file did not change while we read it. */
	if (strchr(real, '\n') || fstat(fd, &st2) < 0)
		goto out;
	dig_set_stat(&ne, &st2);
	if (!dig_same(&ne, &st))
		goto out;
	if (!e) {
		ne.path = strdup(real);
		if (!ne.path)
			goto out;
		e = dig_add(db, &ne);
		if (!e)
			goto out;
	}
	dig_set_stat(e, &st);
	memcpy(e->md5, m, HASH_MD5_HEX);
	memcpy(e->sha256, s, HASH_SHA256_HEX);
	e->last_used = db->now;
	db->dig_dirty = true;
out:
	close(fd);
	return r;
}

static int cmp_used_desc(const void *a, const void *b)
{
	long long x = (*(struct digest_ent *const *)a)->last_used, y = (*(struct digest_ent *const *)b)->last_used;

	return (x < y) - (x > y);
}

void pkgdb_set_cache_dir(struct pkgdb *db, const char *dir, time_t now)
{
	free(db->cache_dir);
	db->cache_dir = dir ? strdup(dir) : NULL;
	db->now = now ? now : time(NULL);
}

static int digests_flush(struct pkgdb *db)
{
	struct digest_ent **v = NULL;
	char *buf = NULL;
	size_t n = 0, len = 0;
	FILE *f;
	int r;

	if (!db->dig_dirty || !db->cache_dir)
		return 0;
	v = malloc((db->n_dig + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < db->n_dig; i++)
		if (db->dig[i].last_used >= (long long)db->now - DIGEST_KEEP_UNUSED)
			v[n++] = &db->dig[i];
	if (n > DIGEST_CACHE_MAX) {
		qsort(v, n, sizeof(*v), cmp_used_desc);
		n = DIGEST_CACHE_MAX;
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		r = -errno;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%llu %llu %llu %lld %lld %lld %lld %lld %s %s %s\n", v[i]->dev, v[i]->ino,
			v[i]->size, v[i]->mtime_s, v[i]->mtime_ns, v[i]->ctime_s, v[i]->ctime_ns,
			v[i]->last_used, v[i]->md5[0] ? v[i]->md5 : "-", v[i]->sha256[0] ? v[i]->sha256 : "-",
			v[i]->path);
	if (fclose(f) != 0) {
		r = -ENOMEM;
		goto out;
	}
	r = query_cache_put(db->cache_dir, DIGEST_CACHE_NAME, DIGEST_CACHE_STAMP, db->now, buf, len);
	if (r == 0)
		db->dig_dirty = false;
out:
	free(buf);
	free(v);
	return r;
}

int pkgdb_flush(struct pkgdb *db)
{
	int r = digests_flush(db), k = owners_flush(db);

	return r < 0 ? r : k;
}

/* ---- dpkg path filters (path-exclude / path-include) ---- */

static void filters_parse(struct pkgdb *db, const char *text)
{
	for (const char *l = text; *l;) {
		size_t ll = strcspn(l, "\n");
		char line[PATH_MAX], *s, *v;
		bool inc;

		snprintf(line, sizeof(line), "%.*s", (int)ll, l);
		l += ll;
		if (*l)
			l++;
		s = str_strip(line);
		if (str_startswith(s, "--"))
			s += 2;
		if (str_startswith(s, "path-exclude"))
			inc = false;
		else if (str_startswith(s, "path-include"))
			inc = true;
		else
			continue;
		v = s + 12;
		if (*v != '=' && *v != ' ' && *v != '\t')
			continue;
		v++;
		while (*v == ' ' || *v == '\t' || *v == '=')
			v++;
		if (*v == '/') {
			char *rule;

			if (asprintf(&rule, "%c%s", inc ? '+' : '-', v) >= 0)
				(void)strv_push_take(&db->filters, rule);
		}
	}
}

static bool cfg_name_ok(const char *n)
{
	if (n[0] == '.' || str_endswith(n, "~"))
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_' && *n != '-')
			return false;
	return true;
}

static void filters_load(struct pkgdb *db)
{
	struct strv names = { 0 };
	struct dirent *de;
	char *text;
	DIR *d;

	if (db->filters_done)
		return;
	db->filters_done = true;
	d = sysroot_opendir(db->sr, "/etc/dpkg/dpkg.cfg.d");
	if (d) {
		while ((de = readdir(d)))
			if (cfg_name_ok(de->d_name))
				(void)strv_push(&names, de->d_name);
		closedir(d);
	}
	sort_uniq(&names);
	for (size_t i = 0; i < names.n; i++) {
		char p[PATH_MAX];

		snprintf(p, sizeof(p), "/etc/dpkg/dpkg.cfg.d/%s", names.v[i]);
		if (sysroot_read_file(db->sr, p, 1024 * 1024, &text, NULL) == 0) {
			filters_parse(db, text);
			free(text);
		}
	}
	strv_clear(&names);
	if (sysroot_read_file(db->sr, "/etc/dpkg/dpkg.cfg", 1024 * 1024, &text, NULL) == 0) {
		filters_parse(db, text);
		free(text);
	}
}

/* dpkg applies the filters in order; the last one that matches decides. */
static bool dpkg_filtered_out(struct pkgdb *db, const char *path)
{
	bool out = false;

	filters_load(db);
	for (size_t i = 0; i < db->filters.n; i++)
		if (fnmatch(db->filters.v[i] + 1, path, 0) == 0)
			out = db->filters.v[i][0] == '-';
	return out;
}

/* ---- md5 of a file, file check, verify ---- */

int pkgdb_file_md5(struct pkgdb *db, const char *path, const char *hint, char hex[HASH_MD5_HEX], char **ret_pkg)
{
	const struct md5_ent *m;
	char *owner = NULL, alias[PATH_MAX];
	struct pkg *p;
	int r;

	if (db->backend != PKGDB_DPKG)
		return -EOPNOTSUPP;
	r = pkgdb_owner_of(db, path, hint, &owner);
	if (r < 0)
		return r;
	p = pkg_get(db, owner);
	if (!p) {
		r = -ENOMEM;
		goto out;
	}
	r = load_md5(db, p);
	if (r < 0)
		goto out;
	m = md5_find(p, path);
	if (!m && usr_alias(path, alias, sizeof(alias)))
		m = md5_find(p, alias);
	if (!m) {
		r = -ENODATA;
		goto out;
	}
	memcpy(hex, m->md5, HASH_MD5_HEX);
	if (ret_pkg) {
		*ret_pkg = owner;
		owner = NULL;
	}
	r = 0;
out:
	free(owner);
	return r;
}

static enum pkgdb_file_state compare_md5(struct pkgdb *db, const char *path, const char *want, int *err)
{
	char got[HASH_MD5_HEX];
	struct stat st;
	int r;

	*err = 0;
	r = sysroot_lstat(db->sr, path, &st);
	if (r == -ENOENT || r == -ENOTDIR)
		return PKGDB_FILE_MISSING;
	if (r < 0) {
		*err = r;
		return PKGDB_FILE_UNREADABLE;
	}
	if (!S_ISREG(st.st_mode))
		return PKGDB_FILE_CHANGED;  /* replaced by a symlink, a directory, a FIFO... */
	r = pkgdb_digest(db, path, got, NULL);
	if (r < 0) {
		*err = r;
		return r == -ENOENT ? PKGDB_FILE_MISSING : PKGDB_FILE_UNREADABLE;
	}
	return strcmp(got, want) == 0 ? PKGDB_FILE_OK : PKGDB_FILE_CHANGED;
}

int pkgdb_check_file(struct pkgdb *db, const char *path, const char *hint, enum pkgdb_file_state *ret_state,
		     char **ret_pkg)
{
	enum pkgdb_file_state st = PKGDB_FILE_OK;
	char md5[HASH_MD5_HEX], *owner = NULL, alias[PATH_MAX];
	bool has_alias;
	struct pkg *p;
	int r, err;

	if (db->backend == PKGDB_DPKG) {
		r = pkgdb_file_md5(db, path, hint, md5, &owner);
		if (r == -ENOENT) {
			st = PKGDB_FILE_NOT_OWNED;
		} else if (r == -ENODATA) {
			st = PKGDB_FILE_NO_DIGEST;
			r = pkgdb_owner_of(db, path, hint, &owner);
			if (r < 0)
				return r;
		} else if (r < 0) {
			return r;
		} else {
			st = compare_md5(db, path, md5, &err);
		}
	} else if (db->backend == PKGDB_RPM) {
		r = pkgdb_owner_of(db, path, hint, &owner);
		if (r == -ENOENT) {
			st = PKGDB_FILE_NOT_OWNED;
		} else if (r < 0) {
			return r;
		} else {
			p = pkg_get(db, owner);
			if (!p) {
				free(owner);
				return -ENOMEM;
			}
			r = rpm_verify(db, p);
			if (r < 0) {
				free(owner);
				return r;
			}
			has_alias = usr_alias(path, alias, sizeof(alias));
			for (size_t i = 0; i < p->rpm_v.n_issues; i++)
				if (strcmp(p->rpm_v.issues[i].path, path) == 0 ||
				    (has_alias && strcmp(p->rpm_v.issues[i].path, alias) == 0))
					st = p->rpm_v.issues[i].state;
		}
	} else {
		return -EOPNOTSUPP;
	}
	*ret_state = st;
	if (ret_pkg)
		*ret_pkg = owner;
	else
		free(owner);
	return 0;
}

static int dpkg_verify(struct pkgdb *db, const char *pkg, struct pkgdb_verify_result *res)
{
	struct pkg *p = pkg_get(db, pkg);
	int r, err;

	if (!p)
		return -ENOMEM;
	r = load_md5(db, p);
	if (r < 0)
		return r;
	for (size_t i = 0; i < p->n_md5; i++) {
		const char *path = p->md5[i].path;
		enum pkgdb_file_state st;

		if (dpkg_is_conffile(db, pkg, path)) {
			res->n_excluded++;
			continue;
		}
		st = compare_md5(db, path, p->md5[i].md5, &err);
		if (st == PKGDB_FILE_MISSING && dpkg_filtered_out(db, path)) {
			res->n_excluded++;
			continue;
		}
		res->n_checked++;
		if (st != PKGDB_FILE_OK) {
			r = push_issue(res, path, strlen(path), st, err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int rpm_verify_pkg(struct pkgdb *db, const char *pkg, struct pkgdb_verify_result *res)
{
	struct pkg *p = pkg_get(db, pkg);
	int r;

	if (!p)
		return -ENOMEM;
	r = rpm_verify(db, p);
	if (r < 0)
		return r;
	res->n_excluded = p->rpm_v.n_excluded;
	for (size_t i = 0; i < p->rpm_v.n_issues; i++) {
		const struct pkgdb_file_issue *is = &p->rpm_v.issues[i];

		r = push_issue(res, is->path, strlen(is->path), is->state, is->err);
		if (r < 0)
			return r;
	}
	return 0;
}

int pkgdb_verify(struct pkgdb *db, const char *pkg, struct pkgdb_verify_result *ret)
{
	struct pkgdb_verify_result res = { 0 };
	int r;

	if (!pkg_name_ok(pkg))
		return -EINVAL;
	r = pkgdb_is_installed(db, pkg);
	if (r <= 0)
		return r == 0 ? -ENOENT : r;
	if (db->backend == PKGDB_DPKG)
		r = dpkg_verify(db, pkg, &res);
	else
		r = rpm_verify_pkg(db, pkg, &res);
	if (r < 0) {
		pkgdb_verify_result_clear(&res);
		return r;
	}
	*ret = res;
	return 0;
}
