/* agent/watch/watch.c: what a verifier refusal leaves in the log (issue 9 §4). The watcher's
 * libbpf print callback puts every line of libbpf's multi-line message (the verifier's whole
 * log) in the debug log, and degrade() names the program, the kernel and the verifier's last
 * complaint at error level. No BPF is loaded: `--backend none` installs the callback and
 * degrades; the test hands the callback a verifier log shaped like libbpf's (the one Debian
 * 12's 6.1 printed for handle_sched_process_exec) and reads what was logged to stderr. */
#include "testlib.h"

#include <bpf/libbpf.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/watch/watch.h"
#include "common/fileio.h"
#include "common/log.h"

/* libbpf's two warnings for a refused program (the "libbpf: " prefix is in its format). */
static const char load_failed[] =
	"libbpf: prog 'handle_sched_process_exec': BPF program load failed: Permission denied\n";
static const char verifier_log[] =
	"libbpf: prog 'handle_sched_process_exec': -- BEGIN PROG LOAD LOG --\n"
	"0: R1=ctx() R10=fp0\n"
	"; int handle_sched_process_exec(struct bpf_raw_tracepoint_args *ctx)\n"
	"42: (85) call bpf_map_lookup_elem#1\n"
	"R2 type=mem expected=fp, pkt, pkt_meta, map_key, map_value\n"
	"processed 1234 insns (limit 1000000) max_states_per_insn 4 total_states 80\n"
	"-- END PROG LOAD LOG --\n";

/* Run fn with stderr going to a file; returns what was written (free it). */
static char *capture_stderr(void (*fn)(void))
{
	char *dir = wxg_test_mkdtemp(), path[512], *text = NULL;
	int saved = dup(2), fd;
	size_t len;

	snprintf(path, sizeof(path), "%s/stderr", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(fd, 2);
	fn();
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	assert_int_equal(read_full_file(path, 1 << 20, &text, &len), 0);
	wxg_test_rmtree(dir);
	free(dir);
	return text;
}

static void start_posture_only(void)
{
	struct watch_opts o = { .force_backend = true, .backend = WATCH_BACKEND_NONE };
	struct watch *w = NULL;

	assert_int_equal(watch_new(&o, &w), 0);
	watch_free(w);
}

static void print_through(libbpf_print_fn_t fn, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fn(LIBBPF_WARN, fmt, ap);
	va_end(ap);
}

static void feed_verifier_log(void)
{
	libbpf_print_fn_t fn = libbpf_set_print(NULL); /* the watcher's callback */

	assert_non_null(fn);
	print_through(fn, "%s", load_failed);
	print_through(fn, "%s", verifier_log);
	libbpf_set_print(fn);
}

static void test_watch_verifier_refusal_logs_whole_log_at_debug_and_complaint_at_error(void **state)
{
	char *out, expect[512];
	struct utsname u;

	(void)state;
	log_set_max_level(LOG_DEBUG);
	/* the watcher installs its libbpf callback */
	free(capture_stderr(start_posture_only));
	out = capture_stderr(feed_verifier_log);
	/* every line of the verifier's log at debug, none cut at the first newline */
	assert_non_null(strstr(out, "debug: libbpf: 0: R1=ctx() R10=fp0"));
	assert_non_null(strstr(out, "debug: libbpf: 42: (85) call bpf_map_lookup_elem#1"));
	assert_non_null(strstr(out, "debug: libbpf: R2 type=mem expected=fp, pkt, pkt_meta, "
				    "map_key, map_value"));
	assert_non_null(strstr(out, "debug: libbpf: processed 1234 insns"));
	assert_null(strstr(out, "error:"));
	free(out);
	/* the next degrade names the program, the kernel and the last complaint, at error */
	out = capture_stderr(start_posture_only);
	assert_int_equal(uname(&u), 0);
	snprintf(expect, sizeof(expect),
		 "error: BPF verifier refused a program on kernel %s: ", u.release);
	assert_non_null(strstr(out, expect));
	assert_non_null(strstr(out, "prog 'handle_sched_process_exec': BPF program load failed"));
	assert_non_null(strstr(out, "verifier: R2 type=mem expected=fp, pkt, pkt_meta, map_key, "
				    "map_value (WXGUARD_LOG_LEVEL=debug shows its whole log)"));
	free(out);
	log_set_max_level(LOG_INFO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_watch_verifier_refusal_logs_whole_log_at_debug_and_complaint_at_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
