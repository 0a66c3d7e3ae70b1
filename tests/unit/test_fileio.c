#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/hash.h"

static void test_write_atomic_then_read_back(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], *buf;
	struct stat st;
	size_t len;

	snprintf(path, sizeof(path), "%s/a/b/file", dir);
	assert_int_equal(mkdir_p(path, 0755), 0);
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(write_file_atomic(path, "hello\nworld\n", 12, 0600), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_full_file(path, 1024, &buf, &len), 0);
	assert_int_equal(len, 12);
	assert_string_equal(buf, "hello\nworld\n");
	free(buf);
	assert_int_equal(read_one_line(path, &buf), 0);
	assert_string_equal(buf, "hello");
	free(buf);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_read_full_file_refuses_oversize_and_missing(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], *buf = NULL;
	char big[10000];

	memset(big, 'x', sizeof(big));
	snprintf(path, sizeof(path), "%s/big", dir);
	assert_int_equal(write_file_atomic(path, big, sizeof(big), 0644), 0);
	assert_int_equal(read_full_file(path, 100, &buf, NULL), -EFBIG);
	assert_null(buf);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(read_full_file(path, 100, &buf, NULL), -ENOENT);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_hash_known_vectors(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], hex[HASH_SHA256_HEX], md5[HASH_MD5_HEX];
	int fd;

	assert_int_equal(hash_sha256_buf("abc", 3, hex), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(write_file_atomic(path, "abc", 3, 0644), 0);
	assert_int_equal(hash_sha256_file(path, hex), 0);
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(hash_md5_file(path, md5), 0);
	assert_string_equal(md5, "900150983cd24fb0d6963f7d28e17f72");
	memset(hex, 0, sizeof(hex));
	memset(md5, 0, sizeof(md5));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(hash_md5_sha256_fd(fd, md5, hex), 0);
	close(fd);
	assert_string_equal(md5, "900150983cd24fb0d6963f7d28e17f72");
	assert_string_equal(hex,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_open_regular_refuses_directories_and_missing(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX];
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "%s/f", dir);
	assert_int_equal(write_file_atomic(path, "abcd", 4, 0644), 0);
	fd = fileio_open_regular(path, &st);
	assert_true(fd >= 0);
	assert_int_equal(st.st_size, 4);
	close(fd);
	assert_int_equal(fileio_open_regular(dir, &st), -EINVAL);
	snprintf(path, sizeof(path), "%s/missing", dir);
	assert_int_equal(fileio_open_regular(path, &st), -ENOENT);
	wxg_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_write_atomic_then_read_back),
		cmocka_unit_test(test_read_full_file_refuses_oversize_and_missing),
		cmocka_unit_test(test_hash_known_vectors),
		cmocka_unit_test(test_open_regular_refuses_directories_and_missing),
	};
	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
