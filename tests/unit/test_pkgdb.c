/* agent/host/pkgdb/: dpkg read directly, rpm through fixture command outputs, the digest cache.
 * Fixture roots: tests/data/pkgdb/{dpkg,rpm}/ (copied to a temporary directory when a test
 * changes files). */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_case.h"
#include "agent/host/pkgdb/pkgdb.h"
#include "agent/host/sysroot.h"
#include "common/fileio.h"

static struct pkgdb *open_root(const char *root, struct sysroot **sr)
{
	struct pkgdb *db = NULL;

	assert_int_equal(sysroot_new(root, sr), 0);
	assert_int_equal(pkgdb_new(*sr, &db), 0);
	return db;
}

/* A private copy of a fixture root; free() the result after wxg_test_rmtree(). */
static char *copy_root(const char *name, char **tmp)
{
	char *root;

	*tmp = wxg_test_mkdtemp();
	assert_true(asprintf(&root, "%s/root", *tmp) > 0);
	check_case_copy_tree(wxg_test_data("pkgdb/%s", name), root);
	return root;
}

static const struct pkgdb_file_issue *find_issue(const struct pkgdb_verify_result *vr,
						 const char *path)
{
	for (size_t i = 0; i < vr->n_issues; i++)
		if (strcmp(vr->issues[i].path, path) == 0)
			return &vr->issues[i];
	return NULL;
}

static void test_pkgdb_dpkg_installed_states(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root(wxg_test_data("pkgdb/dpkg"), &sr);
	const char *v = NULL;

	assert_int_equal(pkgdb_backend(db), PKGDB_DPKG);
	assert_string_equal(pkgdb_backend_to_string(PKGDB_DPKG), "dpkg");
	assert_int_equal(pkgdb_is_installed(db, "wechat"), 1);
	assert_int_equal(pkgdb_is_installed(db, "libmulti"), 1); /* two architectures */
	assert_int_equal(pkgdb_is_installed(db, "halfpkg"), 1);  /* half-installed: files on disk */
	assert_int_equal(pkgdb_is_installed(db, "libstdc++6"), 1);
	assert_int_equal(pkgdb_is_installed(db, "oldpkg"), 0); /* config-files only */
	assert_int_equal(pkgdb_is_installed(db, "no-such-package"), 0);
	assert_int_equal(pkgdb_is_installed(db, "-rf"), -EINVAL); /* never an option */
	assert_int_equal(pkgdb_is_installed(db, "a/b"), -EINVAL);
	assert_int_equal(pkgdb_version(db, "wechat", &v), 0);
	assert_string_equal(v, "4.0.1.11");
	assert_int_equal(pkgdb_version(db, "oldpkg", &v), -ENOENT);
	pkgdb_free(db);
	sysroot_free(sr);
	pkgdb_free(NULL);
}

static void test_pkgdb_dpkg_files_and_owner(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root(wxg_test_data("pkgdb/dpkg"), &sr);
	const struct strv *files = NULL;
	char *owner = NULL;

	assert_int_equal(pkgdb_files(db, "wechat", &files), 0);
	assert_true(strv_contains(files, "/opt/wechat/wechat"));
	assert_true(strv_contains(files, "/etc/wechat/wechat.conf"));
	assert_false(strv_contains(files, "/."));
	for (size_t i = 1; i < files->n; i++)
		assert_true(strcmp(files->v[i - 1], files->v[i]) < 0); /* sorted, unique */
	assert_int_equal(pkgdb_files(db, "oldpkg", &files), -ENOENT);

	assert_int_equal(pkgdb_owns(db, "wechat", "/opt/wechat/libwxutil.so"), 1);
	assert_int_equal(pkgdb_owns(db, "wechat", "/usr/bin/bash"), 0);
	assert_int_equal(pkgdb_owns(db, "bash", "/usr/bin/bash"), 1); /* .list says /bin/bash */

	assert_int_equal(pkgdb_owner_of(db, "/opt/wechat/wechat", NULL, &owner), 0);
	assert_string_equal(owner, "wechat");
	free(owner);
	assert_int_equal(pkgdb_owner_of(db, "/usr/bin/bash", "wechat", &owner), 0); /* wrong hint */
	assert_string_equal(owner, "bash");
	free(owner);
	assert_int_equal(pkgdb_owner_of(db, "/usr/lib/i386-linux-gnu/libmulti.so.1", NULL, &owner),
			 0);
	assert_string_equal(owner, "libmulti"); /* "libmulti:i386.list" */
	free(owner);
	assert_int_equal(
		pkgdb_owner_of(db, "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", NULL, &owner), 0);
	assert_string_equal(owner, "libstdc++6");
	free(owner);
	/* a prefix of a listed path is not that path */
	assert_int_equal(pkgdb_owner_of(db, "/opt/wechat/wech", NULL, &owner), -ENOENT);
	assert_int_equal(pkgdb_owner_of(db, "/home/alice/wechat", NULL, &owner), -ENOENT);
	assert_int_equal(pkgdb_owner_of(db, "/home/alice/wechat", NULL, &owner),
			 -ENOENT); /* cached */
	assert_int_equal(pkgdb_owner_of(db, "relative", NULL, &owner), -EINVAL);
	pkgdb_free(db);
	sysroot_free(sr);
}

static void test_pkgdb_dpkg_file_md5(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root(wxg_test_data("pkgdb/dpkg"), &sr);
	char hex[HASH_MD5_HEX], real[HASH_MD5_HEX], path[PATH_MAX], *owner = NULL;

	assert_int_equal(pkgdb_file_md5(db, "/opt/wechat/wechat", NULL, hex, &owner), 0);
	assert_string_equal(owner, "wechat");
	free(owner);
	snprintf(path, sizeof(path), "%s/opt/wechat/wechat", wxg_test_data("pkgdb/dpkg"));
	assert_int_equal(hash_md5_file(path, real), 0);
	assert_string_equal(hex, real);
	assert_int_equal(pkgdb_file_md5(db, "/usr/bin/bash", NULL, hex, NULL), 0); /* alias */
	assert_int_equal(pkgdb_file_md5(db, "/etc/wechat/wechat.conf", NULL, hex, NULL), -ENODATA);
	assert_int_equal(pkgdb_file_md5(db, "/usr/bin/nosums", NULL, hex, NULL), -ENODATA);
	assert_int_equal(pkgdb_file_md5(db, "/usr/bin/nobody", NULL, hex, NULL), -ENOENT);
	pkgdb_free(db);
	sysroot_free(sr);
}

static void test_pkgdb_dpkg_verify_genuine_excludes_conffiles_and_path_exclude(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root(wxg_test_data("pkgdb/dpkg"), &sr);
	struct pkgdb_verify_result vr = { 0 };

	/* the conffile was edited and changelog.gz is path-excluded (copyright is re-included) */
	assert_int_equal(pkgdb_verify(db, "wechat", &vr), 0);
	assert_int_equal(vr.n_issues, 0);
	assert_int_equal(vr.n_checked, 3);
	assert_int_equal(vr.n_excluded, 1);
	pkgdb_verify_result_clear(&vr);
	assert_int_equal(pkgdb_verify(db, "libmulti", &vr), 0);
	assert_int_equal(vr.n_checked, 2);
	assert_int_equal(vr.n_issues, 0);
	pkgdb_verify_result_clear(&vr);
	assert_int_equal(pkgdb_verify(db, "bash", &vr), 0); /* /bin/bash through the /bin symlink */
	assert_int_equal(vr.n_issues, 0);
	pkgdb_verify_result_clear(&vr);
	assert_int_equal(pkgdb_verify(db, "nosums", &vr), -ENODATA);
	assert_int_equal(pkgdb_verify(db, "oldpkg", &vr), -ENOENT);
	pkgdb_verify_result_clear(NULL);
	pkgdb_free(db);
	sysroot_free(sr);
}

static void test_pkgdb_dpkg_verify_reports_changed_missing_and_replaced(void **state)
{
	char *tmp, *root = copy_root("dpkg", &tmp), p[PATH_MAX];
	struct sysroot *sr;
	struct pkgdb *db;
	struct pkgdb_verify_result vr = { 0 };
	const struct pkgdb_file_issue *is;

	snprintf(p, sizeof(p), "%s/opt/wechat/libwxutil.so", root);
	wxg_test_write(p, "\x7f"
			  "ELF hooked\n");
	snprintf(p, sizeof(p), "%s/usr/share/doc/wechat/copyright",
		 root); /* path-include: counts */
	assert_int_equal(unlink(p), 0);
	snprintf(p, sizeof(p), "%s/opt/wechat/wechat", root);
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/tmp/evil", p), 0);

	db = open_root(root, &sr);
	assert_int_equal(pkgdb_verify(db, "wechat", &vr), 0);
	assert_int_equal(vr.n_issues, 3);
	assert_int_equal(vr.n_changed, 2);
	assert_int_equal(vr.n_missing, 1);
	is = find_issue(&vr, "/opt/wechat/libwxutil.so");
	assert_non_null(is);
	assert_int_equal(is->state, PKGDB_FILE_CHANGED);
	is = find_issue(&vr, "/opt/wechat/wechat");
	assert_non_null(is);
	assert_int_equal(is->state, PKGDB_FILE_CHANGED); /* a symlink now */
	is = find_issue(&vr, "/usr/share/doc/wechat/copyright");
	assert_non_null(is);
	assert_int_equal(is->state, PKGDB_FILE_MISSING);
	assert_string_equal(pkgdb_file_state_to_string(is->state), "missing");
	pkgdb_verify_result_clear(&vr);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_pkgdb_check_file_states(void **state)
{
	char *tmp, *root = copy_root("dpkg", &tmp), p[PATH_MAX], *owner = NULL;
	enum pkgdb_file_state st;
	struct sysroot *sr;
	struct pkgdb *db;

	snprintf(p, sizeof(p), "%s/usr/lib/x86_64-linux-gnu/libmulti.so.1", root);
	wxg_test_write(p, "patched");
	snprintf(p, sizeof(p), "%s/home/alice/wechat", root);
	wxg_test_write(p, "copy");
	db = open_root(root, &sr);

	assert_int_equal(pkgdb_check_file(db, "/opt/wechat/wechat", "wechat", &st, &owner), 0);
	assert_int_equal(st, PKGDB_FILE_OK);
	assert_string_equal(owner, "wechat");
	free(owner);
	assert_int_equal(
		pkgdb_check_file(db, "/usr/lib/x86_64-linux-gnu/libmulti.so.1", NULL, &st, NULL),
		0);
	assert_int_equal(st, PKGDB_FILE_CHANGED);
	assert_int_equal(pkgdb_check_file(db, "/home/alice/wechat", NULL, &st, &owner), 0);
	assert_int_equal(st, PKGDB_FILE_NOT_OWNED);
	assert_null(owner);
	assert_int_equal(pkgdb_check_file(db, "/etc/wechat/wechat.conf", NULL, &st, &owner), 0);
	assert_int_equal(st, PKGDB_FILE_NO_DIGEST);
	assert_string_equal(owner, "wechat");
	free(owner);
	assert_int_equal(pkgdb_check_file(db, "/usr/bin/bash", NULL, &st, NULL), 0);
	assert_int_equal(st, PKGDB_FILE_OK);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* The digest cache keys on inode, size, mtime and ctime: an in-place patch of the same size
 * with the mtime set back is still seen (ctime moved), across a flush and a new pkgdb. */
static void test_pkgdb_digest_cache_sees_in_place_patch(void **state)
{
	char *tmp, *root = copy_root("dpkg", &tmp), p[PATH_MAX], cache[PATH_MAX], cfile[PATH_MAX];
	char a[HASH_SHA256_HEX], b[HASH_SHA256_HEX], m[HASH_MD5_HEX];
	struct timespec ts[2];
	struct sysroot *sr;
	struct pkgdb *db;
	struct stat st;
	char *data = NULL;
	size_t len;
	int fd;

	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	snprintf(cfile, sizeof(cfile), "%s/cache/pkgdb-digests.cache", tmp);
	snprintf(p, sizeof(p), "%s/opt/wechat/wechat", root);
	db = open_root(root, &sr);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW);
	assert_int_equal(pkgdb_flush(db), 0); /* nothing hashed: nothing written */
	assert_int_equal(stat(cfile, &st), -1);
	assert_int_equal(pkgdb_digest(db, "/opt/wechat/wechat", m, a), 0);
	assert_int_equal(pkgdb_digest(db, "/opt/wechat/wechat", NULL, b), 0); /* memory hit */
	assert_string_equal(a, b);
	assert_int_equal(pkgdb_flush(db), 0);
	assert_int_equal(read_full_file(cfile, 1 << 20, &data, &len), 0);
	assert_non_null(strstr(data, p));
	assert_non_null(strstr(data, a));
	free(data);
	pkgdb_free(db);

	assert_int_equal(stat(p, &st), 0);
	usleep(20000);
	fd = open(p, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 1), 1); /* same size, same inode */
	close(fd);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0); /* mtime set back */

	assert_int_equal(pkgdb_new(sr, &db), 0);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW);
	assert_int_equal(pkgdb_digest(db, "/opt/wechat/wechat", NULL, b), 0);
	assert_string_not_equal(a, b);
	assert_int_equal(pkgdb_flush(db), 0);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(root);
}

static void test_pkgdb_digest_refuses_fifo_and_directory(void **state)
{
	char *tmp = wxg_test_mkdtemp(), p[PATH_MAX], sha[HASH_SHA256_HEX];
	struct sysroot *sr;
	struct pkgdb *db;

	snprintf(p, sizeof(p), "%s/fifo.dll", tmp);
	assert_int_equal(mkfifo(p, 0600), 0);
	db = open_root(tmp, &sr);
	assert_int_equal(pkgdb_backend(db), PKGDB_NONE);
	assert_int_equal(pkgdb_digest(db, "/fifo.dll", NULL, sha), -EINVAL); /* does not block */
	assert_int_equal(pkgdb_digest(db, "/", NULL, sha), -EINVAL);
	assert_int_equal(pkgdb_digest(db, "/missing", NULL, sha), -ENOENT);
	assert_int_equal(pkgdb_is_installed(db, "wechat"), -EOPNOTSUPP);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
}

static void test_pkgdb_rpm_queries(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root(wxg_test_data("pkgdb/rpm"), &sr);
	const struct strv *files = NULL;
	const char *v = NULL;
	char *owner = NULL;

	assert_int_equal(pkgdb_backend(db), PKGDB_RPM);
	assert_int_equal(pkgdb_is_installed(db, "wechat"), 1);
	assert_int_equal(pkgdb_version(db, "wechat", &v), 0);
	assert_string_equal(v, "wechat-4.0.1.11-1.x86_64");
	assert_int_equal(pkgdb_is_installed(db, "nope"), 0);
	assert_int_equal(pkgdb_is_installed(db, "broken"), -EIO);
	assert_int_equal(pkgdb_is_installed(db, "nofixture"), -ENOENT);
	assert_int_equal(pkgdb_files(db, "wechat", &files), 0);
	assert_int_equal(files->n, 4);
	assert_int_equal(pkgdb_owner_of(db, "/opt/wechat/wechat", NULL, &owner), 0);
	assert_string_equal(owner, "wechat");
	free(owner);
	assert_int_equal(pkgdb_owner_of(db, "/usr/local/bin/hack", NULL, &owner), -ENOENT);
	assert_int_equal(
		pkgdb_file_md5(db, "/opt/wechat/wechat", NULL, (char[HASH_MD5_HEX]){ 0 }, NULL),
		-EOPNOTSUPP);
	pkgdb_free(db);
	sysroot_free(sr);
}

static void test_pkgdb_rpm_verify_parses_columns(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root(wxg_test_data("pkgdb/rpm"), &sr);
	struct pkgdb_verify_result vr = { 0 };
	const struct pkgdb_file_issue *is;
	enum pkgdb_file_state st;

	assert_int_equal(pkgdb_verify(db, "wechat", &vr), 0);
	/* '5' in column 3: changed; "missing"; '?' in column 3: unreadable; the 'c' config file
	 * and the mode-only change (.M) are not issues; dependency lines are ignored. */
	assert_int_equal(vr.n_issues, 3);
	assert_int_equal(vr.n_excluded, 1);
	is = find_issue(&vr, "/opt/wechat/wechat");
	assert_non_null(is);
	assert_int_equal(is->state, PKGDB_FILE_CHANGED);
	is = find_issue(&vr, "/opt/wechat/libgone.so");
	assert_non_null(is);
	assert_int_equal(is->state, PKGDB_FILE_MISSING);
	is = find_issue(&vr, "/opt/wechat/secret.bin");
	assert_non_null(is);
	assert_int_equal(is->state, PKGDB_FILE_UNREADABLE);
	assert_null(find_issue(&vr, "/etc/wechat/wechat.conf"));
	assert_null(find_issue(&vr, "/opt/wechat"));
	pkgdb_verify_result_clear(&vr);
	assert_int_equal(pkgdb_verify(db, "nope", &vr), -ENOENT);

	assert_int_equal(pkgdb_check_file(db, "/opt/wechat/wechat", NULL, &st, NULL), 0);
	assert_int_equal(st, PKGDB_FILE_CHANGED);
	assert_int_equal(pkgdb_check_file(db, "/opt/wechat/libwxutil.so", NULL, &st, NULL), 0);
	assert_int_equal(st, PKGDB_FILE_OK);
	assert_int_equal(pkgdb_check_file(db, "/usr/local/bin/hack", NULL, &st, NULL), 0);
	assert_int_equal(st, PKGDB_FILE_NOT_OWNED);
	pkgdb_free(db);
	sysroot_free(sr);
}

/* rpm -V answers are cached per package (it hashes the whole package) for an hour. */
static void test_pkgdb_rpm_verify_is_cached(void **state)
{
	char *tmp, *root = copy_root("rpm", &tmp), cache[PATH_MAX], p[PATH_MAX];
	struct pkgdb_verify_result vr = { 0 };
	struct sysroot *sr;
	struct pkgdb *db;

	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	db = open_root(root, &sr);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW);
	assert_int_equal(pkgdb_verify(db, "wechat", &vr), 0);
	assert_int_equal(vr.n_issues, 3);
	pkgdb_verify_result_clear(&vr);
	pkgdb_free(db);

	snprintf(p, sizeof(p), "%s/.fixture/cmd/rpm-V-wechat.out", root);
	assert_int_equal(unlink(p), 0); /* a second run does not ask rpm again */
	assert_int_equal(pkgdb_new(sr, &db), 0);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW + 60);
	assert_int_equal(pkgdb_verify(db, "wechat", &vr), 0);
	assert_int_equal(vr.n_issues, 3);
	pkgdb_verify_result_clear(&vr);
	pkgdb_free(db);

	assert_int_equal(pkgdb_new(sr, &db), 0);
	pkgdb_set_cache_dir(db, cache,
			    CHECK_CASE_NOW + 7200); /* expired: asks rpm, which has no answer */
	assert_int_equal(pkgdb_verify(db, "wechat", &vr), -ENOENT);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* Owners found by the slow scan of every .list are remembered across runs until dpkg's
 * status or info/ changes. */
static void test_pkgdb_owner_cache_follows_dpkg_state(void **state)
{
	char *tmp, *root = copy_root("dpkg", &tmp), cache[PATH_MAX], p[PATH_MAX], *owner = NULL;
	struct sysroot *sr;
	struct pkgdb *db;

	snprintf(cache, sizeof(cache), "%s/cache", tmp);
	db = open_root(root, &sr);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW);
	assert_int_equal(pkgdb_owner_of(db, "/usr/bin/bash", NULL, &owner), 0);
	free(owner);
	assert_int_equal(pkgdb_owner_of(db, "/home/alice/x", NULL, &owner), -ENOENT);
	assert_int_equal(pkgdb_flush(db), 0);
	pkgdb_free(db);

	/* rewrite bash.list in place: info/ keeps its mtime, the remembered answer stands */
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info/bash.list", root);
	wxg_test_write(p, "/.\n");
	assert_int_equal(pkgdb_new(sr, &db), 0);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW + 10);
	assert_int_equal(pkgdb_owner_of(db, "/usr/bin/bash", NULL, &owner), 0);
	assert_string_equal(owner, "bash");
	free(owner);
	assert_int_equal(pkgdb_owner_of(db, "/home/alice/x", NULL, &owner), -ENOENT);
	pkgdb_free(db);

	/* dpkg ran (status changed): scanned again */
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/status", root);
	assert_int_equal(
		utimensat(AT_FDCWD, p, (struct timespec[2]){ { 0, UTIME_NOW }, { 1000, 0 } }, 0),
		0);
	assert_int_equal(pkgdb_new(sr, &db), 0);
	pkgdb_set_cache_dir(db, cache, CHECK_CASE_NOW + 20);
	assert_int_equal(pkgdb_owner_of(db, "/usr/bin/bash", NULL, &owner), -ENOENT);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* Two .list files naming the same path: the scan reads info/ in name order, so the answer does
 * not depend on the order the filesystem returns the entries in. */
static void test_pkgdb_dpkg_owner_scan_is_in_name_order(void **state)
{
	char *tmp, *root = copy_root("dpkg", &tmp), p[PATH_MAX], *owner = NULL;
	struct sysroot *sr;
	struct pkgdb *db;

	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info/zz-later.list", root);
	wxg_test_write(p, "/opt/shared\n/opt/shared/tool\n");
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info/aa-first:amd64.list", root);
	wxg_test_write(p, "/opt/shared\n/opt/shared/tool\n");
	db = open_root(root, &sr);
	assert_int_equal(pkgdb_owner_of(db, "/opt/shared/tool", NULL, &owner), 0);
	assert_string_equal(owner, "aa-first");
	free(owner);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
	free(root);
}

/* Status files written by other tools: CRLF line ends, trailing blanks, no final newline,
 * a Conffiles block last; an empty status file means nothing is installed. */
static void test_pkgdb_dpkg_status_edge_cases(void **state)
{
	char *tmp = wxg_test_mkdtemp(), p[PATH_MAX];
	const char *v = NULL;
	struct sysroot *sr;
	struct pkgdb *db;
	char *owner = NULL;
	enum pkgdb_file_state st;

	snprintf(p, sizeof(p), "%s/var/lib/dpkg/status", tmp);
	wxg_test_write(p, "Package: crlf\r\nStatus: install ok installed  \r\nVersion: 1.0\r\n\r\n"
			  "Package: last\nStatus: install ok installed\nVersion: 2:3.4-5\n"
			  "Conffiles:\n /etc/last.conf 0123456789abcdef0123456789abcdef\n"
			  " /etc/last2.conf 0123456789abcdef0123456789abcdef obsolete");
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/info/last.list", tmp);
	wxg_test_write(p, "/.\n/etc\n/etc/last.conf\n/etc/last2.conf\n");
	snprintf(p, sizeof(p), "%s/etc/last2.conf", tmp);
	wxg_test_write(p, "x\n");
	db = open_root(tmp, &sr);
	assert_int_equal(pkgdb_is_installed(db, "crlf"), 1);
	assert_int_equal(pkgdb_version(db, "crlf", &v), 0);
	assert_string_equal(v, "1.0");
	assert_int_equal(pkgdb_version(db, "last", &v), 0);
	assert_string_equal(v, "2:3.4-5");
	assert_int_equal(pkgdb_check_file(db, "/etc/last2.conf", NULL, &st, &owner), 0);
	assert_int_equal(st, PKGDB_FILE_NO_DIGEST);
	assert_string_equal(owner, "last");
	free(owner);
	pkgdb_free(db);

	wxg_test_write(p, "");
	snprintf(p, sizeof(p), "%s/var/lib/dpkg/status", tmp);
	wxg_test_write(p, "");
	assert_int_equal(pkgdb_new(sr, &db), 0);
	assert_int_equal(pkgdb_backend(db), PKGDB_DPKG);
	assert_int_equal(pkgdb_is_installed(db, "crlf"), 0);
	pkgdb_free(db);
	sysroot_free(sr);
	wxg_test_rmtree(tmp);
	free(tmp);
}

/* The real machine: whatever its package manager, queries answer without error. */
static void test_pkgdb_real_root_answers(void **state)
{
	struct sysroot *sr;
	struct pkgdb *db = open_root("/", &sr);
	char *owner = NULL;
	int r;

	if (pkgdb_backend(db) == PKGDB_NONE) {
		pkgdb_free(db);
		sysroot_free(sr);
		skip();
	}
	assert_int_equal(pkgdb_is_installed(db, "wxguard-no-such-package"), 0);
	r = pkgdb_owner_of(db, "/wxguard/no/such/file", NULL, &owner);
	assert_int_equal(r, -ENOENT);
	pkgdb_free(db);
	sysroot_free(sr);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkgdb_dpkg_installed_states),
		cmocka_unit_test(test_pkgdb_dpkg_files_and_owner),
		cmocka_unit_test(test_pkgdb_dpkg_file_md5),
		cmocka_unit_test(
			test_pkgdb_dpkg_verify_genuine_excludes_conffiles_and_path_exclude),
		cmocka_unit_test(test_pkgdb_dpkg_verify_reports_changed_missing_and_replaced),
		cmocka_unit_test(test_pkgdb_check_file_states),
		cmocka_unit_test(test_pkgdb_digest_cache_sees_in_place_patch),
		cmocka_unit_test(test_pkgdb_digest_refuses_fifo_and_directory),
		cmocka_unit_test(test_pkgdb_rpm_queries),
		cmocka_unit_test(test_pkgdb_rpm_verify_parses_columns),
		cmocka_unit_test(test_pkgdb_rpm_verify_is_cached),
		cmocka_unit_test(test_pkgdb_owner_cache_follows_dpkg_state),
		cmocka_unit_test(test_pkgdb_dpkg_owner_scan_is_in_name_order),
		cmocka_unit_test(test_pkgdb_dpkg_status_edge_cases),
		cmocka_unit_test(test_pkgdb_real_root_answers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
