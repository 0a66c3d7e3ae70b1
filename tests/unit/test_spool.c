/* agent/spool: durable bounded queue. */
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/attest/spool.h"

static void payload(unsigned i, char *buf, size_t size)
{
	/* Variable length so a torn record cannot pass for a whole one by accident. */
	int n = snprintf(buf, size, "{\"i\":%u,\"pad\":\"", i);

	for (unsigned k = 0; k < (i * 7) % 200 && (size_t)n + 3 < size; k++)
		buf[n++] = (char)('a' + (i + k) % 26);
	snprintf(buf + n, size - (size_t)n, "\"}");
}

static void test_spool_crc32c_known_vector(void **state)
{
	assert_int_equal(spool_crc32c(0, "123456789", 9), 0xE3069283u);
}

static void test_spool_append_peek_ack_reopen(void **state)
{
	char *dir = wxg_test_mkdtemp(), buf[512];
	struct spool *s;
	struct spool_record *v;
	struct spool_stats st;
	uint64_t ids[10];
	size_t n;

	assert_int_equal(spool_open(dir, NULL, &s), 0);
	for (unsigned i = 0; i < 10; i++) {
		payload(i, buf, sizeof(buf));
		assert_int_equal(spool_append(s, buf, strlen(buf), &ids[i]), 0);
		if (i)
			assert_true(ids[i] > ids[i - 1]);
	}
	assert_int_equal(spool_peek(s, 4, 1 << 20, &v, &n), 0);
	assert_int_equal(n, 4);
	for (unsigned i = 0; i < 4; i++) {
		payload(i, buf, sizeof(buf));
		assert_string_equal(v[i].data, buf);
		assert_int_equal(v[i].id, ids[i]);
	}
	assert_int_equal(spool_ack(s, (uint64_t[]){ v[0].id, v[1].id, v[2].id, v[3].id }, 4), 0);
	spool_records_free(v, n);
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 6);
	assert_int_equal(st.acked, 4);
	spool_free(s);

	assert_int_equal(spool_open(dir, NULL, &s), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 6);
	assert_int_equal(st.corrupt, 0);
	assert_int_equal(spool_peek(s, 100, 1 << 20, &v, &n), 0);
	assert_int_equal(n, 6);
	for (unsigned i = 0; i < 6; i++) {
		payload(i + 4, buf, sizeof(buf));
		assert_string_equal(v[i].data, buf);
	}
	/* New ids continue after the surviving ones. */
	assert_int_equal(spool_append(s, "x", 1, &ids[0]), 0);
	assert_true(ids[0] > v[5].id);
	spool_records_free(v, n);
	spool_free(s);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_spool_peek_respects_byte_budget_but_returns_one(void **state)
{
	char *dir = wxg_test_mkdtemp(), big[2000];
	struct spool *s;
	struct spool_record *v;
	size_t n;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	assert_int_equal(spool_open(dir, NULL, &s), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(spool_append(s, big, strlen(big), NULL), 0);
	assert_int_equal(spool_peek(s, 10, 100, &v, &n), 0);
	assert_int_equal(n, 1);
	spool_records_free(v, n);
	assert_int_equal(spool_peek(s, 10, 4500, &v, &n), 0);
	assert_int_equal(n, 2);
	spool_records_free(v, n);
	spool_free(s);
	wxg_test_rmtree(dir);
	free(dir);
}

static void write_raw(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_spool_torn_tail_is_dropped_and_counted(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], buf[4096];
	struct spool *s;
	struct spool_record *v;
	struct spool_stats st;
	size_t n, len;
	uint64_t id;
	int fd;

	assert_int_equal(spool_open(dir, NULL, &s), 0);
	for (unsigned i = 0; i < 3; i++) {
		payload(i, buf, sizeof(buf));
		assert_int_equal(spool_append(s, buf, strlen(buf), &id), 0);
	}
	spool_free(s);

	/* A crash mid-write: a half-written file in tmp/ ... */
	snprintf(path, sizeof(path), "%s/tmp/%016llx", dir, (unsigned long long)id + 1);
	write_raw(path, "WXS1\x40\0\0\0", 8);
	/* ... and, as a reordering file system could leave it, a renamed record cut short. */
	snprintf(path, sizeof(path), "%s/q/%016llx", dir, (unsigned long long)id);
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	len = (size_t)read(fd, buf, sizeof(buf));
	close(fd);
	write_raw(path, buf, len - 3);
	/* A record whose bytes were damaged. */
	snprintf(path, sizeof(path), "%s/q/%016llx", dir, (unsigned long long)id + 5);
	memcpy(buf + 12, "XX", 2);
	write_raw(path, buf, len);

	assert_int_equal(spool_open(dir, NULL, &s), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 2);
	assert_int_equal(st.corrupt, 2);
	assert_int_equal(spool_peek(s, 10, 1 << 20, &v, &n), 0);
	assert_int_equal(n, 2);
	payload(1, buf, sizeof(buf));
	assert_string_equal(v[1].data, buf);
	spool_records_free(v, n);
	spool_free(s);
	snprintf(path, sizeof(path), "%s/tmp/%016llx", dir, (unsigned long long)id + 1);
	assert_int_equal(access(path, F_OK), -1);
	/* The count survives a restart. */
	assert_int_equal(spool_open(dir, NULL, &s), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.corrupt, 2);
	spool_free(s);
	wxg_test_rmtree(dir);
	free(dir);
}

/* The child appends forever and tells the parent, after each append returned, which payload
 * index is durable. The parent SIGKILLs it at a random moment, several times over the same
 * spool; then every reported record must be there, intact, and nothing else be damaged. */
static void test_spool_sigkill_mid_append_loses_nothing_acknowledged(void **state)
{
	char *dir = wxg_test_mkdtemp(), buf[4096];
	unsigned char *seen;
	unsigned next = 0, reported = 0;
	struct spool *s;
	struct spool_record *v;
	struct spool_stats st;
	size_t n;

	seen = calloc(1u << 20, 1);
	assert_non_null(seen);
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int round = 0; round < 6; round++) {
		int pfd[2];
		pid_t pid;
		struct timespec ts;
		unsigned idx;

		assert_int_equal(pipe(pfd), 0);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			struct spool *cs;

			close(pfd[0]);
			if (spool_open(dir, NULL, &cs) < 0)
				_exit(3);
			for (unsigned i = next;; i++) {
				payload(i, buf, sizeof(buf));
				if (spool_append(cs, buf, strlen(buf), NULL) < 0)
					_exit(4);
				if (write(pfd[1], &i, sizeof(i)) != sizeof(i))
					_exit(5);
			}
		}
		close(pfd[1]);
		/* Let it write a few, then kill at a random point in the next ~20 ms. */
		for (int k = 0; k < 5; k++) {
			assert_int_equal(read(pfd[0], &idx, sizeof(idx)), sizeof(idx));
			seen[idx] = 1;
			reported++;
			next = idx + 1;
		}
		ts = (struct timespec){ 0, (long)(rand() % 20000) * 1000 };
		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		while (read(pfd[0], &idx, sizeof(idx)) == sizeof(idx)) {
			seen[idx] = 1;
			reported++;
			next = idx + 1;
		}
		close(pfd[0]);
		/* The record being written when killed may or may not be there: skip its index. */
		next += 1;
	}
	assert_int_equal(spool_open(dir,
				    &(struct spool_limits){ .max_records = 1u << 20,
							    .max_bytes = 1ull << 32 },
				    &s),
			 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.corrupt, 0);
	assert_true(st.depth >= reported);
	assert_int_equal(spool_peek(s, 1u << 20, SIZE_MAX, &v, &n), 0);
	for (size_t i = 0; i < n; i++) {
		unsigned idx;

		assert_int_equal(sscanf(v[i].data, "{\"i\":%u", &idx), 1);
		payload(idx, buf, sizeof(buf));
		assert_string_equal(v[i].data, buf);
		seen[idx] = seen[idx] == 1 ? 2 : seen[idx];
	}
	for (unsigned i = 0; i < next; i++)
		if (seen[i] == 1)
			fail_msg("record %u was reported durable but is missing", i);
	spool_records_free(v, n);
	spool_free(s);
	free(seen);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_spool_bounds_evict_oldest_and_count(void **state)
{
	char *dir = wxg_test_mkdtemp(), buf[1024];
	struct spool_limits lim = { .max_records = 5, .max_bytes = 1 << 20 };
	struct spool *s;
	struct spool_record *v;
	struct spool_stats st;
	size_t n;

	assert_int_equal(spool_open(dir, &lim, &s), 0);
	for (unsigned i = 0; i < 8; i++) {
		payload(i, buf, sizeof(buf));
		assert_int_equal(spool_append(s, buf, strlen(buf), NULL), 0);
	}
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 5);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(spool_peek(s, 1, 1 << 20, &v, &n), 0);
	payload(3, buf, sizeof(buf));
	assert_string_equal(v[0].data, buf);
	spool_records_free(v, n);
	spool_free(s);

	/* Persisted; a smaller bound at reopen evicts (and counts) too. */
	lim.max_records = 2;
	assert_int_equal(spool_open(dir, &lim, &s), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 2);
	assert_int_equal(st.evicted, 6);
	spool_free(s);

	/* Byte bound: 3 records of 1000 + frame fit in 3100 bytes only twice over. */
	wxg_test_rmtree(dir);
	lim = (struct spool_limits){ .max_records = 100, .max_bytes = 2100 };
	assert_int_equal(spool_open(dir, &lim, &s), 0);
	memset(buf, 'y', 1000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(spool_append(s, buf, 1000, NULL), 0);
	spool_get_stats(s, &st);
	assert_int_equal(st.depth, 2);
	assert_int_equal(st.evicted, 1);
	assert_true(st.bytes <= 2100);
	assert_int_equal(spool_append(s, buf, 300, NULL), 0);
	spool_free(s);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_spool_oversized_record_is_emsgsize(void **state)
{
	char *dir = wxg_test_mkdtemp();
	struct spool *s;
	char *big = calloc(1, SPOOL_RECORD_MAX + 1);

	assert_int_equal(spool_open(dir, &(struct spool_limits){ .max_bytes = 4096 }, &s), 0);
	assert_int_equal(spool_append(s, big, 5000, NULL), -EMSGSIZE);
	spool_free(s);
	assert_int_equal(spool_open(dir, NULL, &s), 0);
	assert_int_equal(spool_append(s, big, SPOOL_RECORD_MAX + 1, NULL), -EMSGSIZE);
	spool_free(s);
	free(big);
	wxg_test_rmtree(dir);
	free(dir);
}

/* A real full disk: a 256 KiB tmpfs in a private mount namespace (root only). */
static int enospc_child(const char *dir)
{
	struct spool *s;
	struct spool_stats st;
	static char buf[40000];
	int r;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 77;
	if (mount("wxgtest", dir, "tmpfs", 0, "size=256k,nr_inodes=1000") < 0)
		return 77;
	if (spool_open(dir,
		       &(struct spool_limits){ .max_records = 100000, .max_bytes = 1ull << 30 },
		       &s) < 0)
		return 10;
	memset(buf, 'z', sizeof(buf));
	/* 20 x 40 KB do not fit in 256 KiB: the oldest must make room, and be counted. */
	for (int i = 0; i < 20; i++) {
		buf[0] = (char)('A' + i);
		r = spool_append(s, buf, sizeof(buf), NULL);
		if (r < 0) {
			fprintf(stderr, "append %d: %s\n", i, strerror(-r));
			return 11;
		}
	}
	spool_get_stats(s, &st);
	if (st.evicted == 0 || st.depth == 0 || st.depth >= 20)
		return 12;
	/* Bigger than the whole file system: a clear -ENOSPC once nothing is left to evict. */
	{
		char *huge = calloc(1, 600000);

		r = spool_append(s, huge, 600000, NULL);
		free(huge);
		if (r != -ENOSPC)
			return 13;
	}
	spool_free(s);
	umount(dir);
	return 0;
}

static void test_spool_full_disk_evicts_oldest_and_counts(void **state)
{
	char *dir = wxg_test_mkdtemp();
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		wxg_test_rmtree(dir);
		free(dir);
		skip();
	}
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(enospc_child(dir));
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	wxg_test_rmtree(dir);
	free(dir);
	if (WEXITSTATUS(status) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spool_crc32c_known_vector),
		cmocka_unit_test(test_spool_append_peek_ack_reopen),
		cmocka_unit_test(test_spool_peek_respects_byte_budget_but_returns_one),
		cmocka_unit_test(test_spool_torn_tail_is_dropped_and_counted),
		cmocka_unit_test(test_spool_sigkill_mid_append_loses_nothing_acknowledged),
		cmocka_unit_test(test_spool_bounds_evict_oldest_and_count),
		cmocka_unit_test(test_spool_oversized_record_is_emsgsize),
		cmocka_unit_test(test_spool_full_disk_evicts_oldest_and_counts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
