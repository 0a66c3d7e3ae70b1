/* Shared helpers for cmocka tests. Include after <cmocka.h>'s prerequisites. */
#pragma once
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cmocka.h>

/* Absolute path of the source tree's tests/data (from WXG_SRCDIR or the cwd). */
const char *wxg_test_data_dir(void);
/* snprintf into a static rotating buffer: tests/data/<fmt...>. */
const char *wxg_test_data(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Make a fresh temporary directory (removed by wxg_test_rmtree). */
char *wxg_test_mkdtemp(void);
void wxg_test_rmtree(const char *path);
/* Write a file, creating parent directories. */
void wxg_test_write(const char *path, const char *content);
/* For BPF tests: returns true when the test may run. When it may not (not root, BPF refused),
 * calls skip(), or fail() when WXGUARD_REQUIRE_BPF=1. Call as: if (!wxg_test_require_root_bpf())
 * return; */
bool wxg_test_require_root_bpf(void);
/* The build directory (WXG_BUILD, default "build"). */
const char *wxg_test_build_dir(void);
/* Is the BPF LSM among the kernel's active LSMs (/sys/kernel/security/lsm)? Then the watcher
 * refuses denied execs (-EPERM) instead of killing them. */
bool wxg_test_bpf_lsm_active(void);
/* The backend the BPF tests run: $WXG_TEST_BACKEND (lsm, tracing, raw_tp, fanotify, none),
 * passed as watch_opts.backend / `wxguard run --backend`; NULL when unset (auto). */
const char *wxg_test_backend(void);
/* fork + execve: a child whose execve was refused (EPERM/EACCES) exits WXG_TEST_EXIT_REFUSED
 * before running anything of the program; other exec failures exit 127. */
#define WXG_TEST_EXIT_REFUSED 126
pid_t wxg_test_spawn(const char *path, char *const argv[], char *const envp[]);

/* A TCP port on 127.0.0.1 free right now (bound, read back, released). */
unsigned wxg_test_free_port(void);
/* Does something accept connections on 127.0.0.1:port? */
bool wxg_test_port_open(unsigned port);

/* A data-driven test's case: tests/data/<folder>/<name>.case. */
struct wxg_test_case {
	char path[1024];
	char name[160]; /* "<group>_<name>", the cmocka test's name */
};

/* Run the cmocka group `group`: the tests in extra, then case_fn once for every *.case file of
 * tests/data/<folder> in name order (its state: the struct wxg_test_case). Fails (returns 1,
 * saying why) when the folder cannot be read or holds fewer than min_cases cases. */
int wxg_test_run_case_dir(const char *group, const char *folder, size_t min_cases,
			  void (*case_fn)(void **state), const struct CMUnitTest *extra,
			  size_t n_extra);
