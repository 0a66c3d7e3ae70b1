/* agent/watch/watch_judge.c without a kernel: an inject record as the ring buffer hands it over,
 * judged against a fixture /proc (the watcher's sysroot), gives the event of docs/events.md
 * "inject" with the injector's and the target's names. */
#include "testlib.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/watch/watch_internal.h"

#define TICK_NS (1000000000ull / (unsigned long long)sysconf(_SC_CLK_TCK))

static json_t *last;

static void keep(const json_t *ev, void *ud)
{
	(void)ud;
	json_decref(last);
	last = json_deep_copy(ev);
}

/* <dir>/proc/<pid>: comm, exe link, cmdline (len bytes), task/<tid>/stat started at ticks. */
static void make_proc(const char *dir, int pid, int tid, const char *comm, const char *cmdline,
		      size_t len, unsigned long long ticks)
{
	char p[PATH_MAX], text[512];
	FILE *f;

	snprintf(p, sizeof(p), "%s/proc/%d/comm", dir, pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	wxg_test_write(p, text);
	snprintf(p, sizeof(p), "%s/proc/%d/exe", dir, pid);
	assert_int_equal(symlink("/usr/lib/wine/wine64", p), 0);
	snprintf(p, sizeof(p), "%s/proc/%d/cmdline", dir, pid);
	f = fopen(p, "we");
	assert_non_null(f);
	assert_int_equal(fwrite(cmdline, 1, len, f), len);
	fclose(f);
	snprintf(p, sizeof(p), "%s/proc/%d/task/%d/stat", dir, pid, tid);
	snprintf(text, sizeof(text), "%d (%s) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %llu 0 0\n",
		 tid, comm, ticks);
	wxg_test_write(p, text);
}

/* pokedata by 123/124 (started at tick 500) on 456 (tick 900), killed in the kernel. */
static json_t *judge(struct watch *w)
{
	struct wxg_ev_inject e = { 0 };

	e.hdr.type = WXG_EV_INJECT;
	e.hdr.size = sizeof(e);
	e.hdr.tgid = 123;
	e.task.pid = 124;
	e.task.uid = 1000;
	e.task.start_ns = 500 * TICK_NS;
	memcpy(e.task.comm, "inject.exe", 11);
	e.v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_PTRACE, WXG_A_KILL, WXG_CLIENT_NONE };
	e.request = 5;
	e.target_tgid = 456;
	e.target_pid = 456;
	e.target_start_ns = 900 * TICK_NS;
	json_decref(last);
	last = NULL;
	watch_judge_record(w, &e.hdr);
	assert_non_null(last);
	return last;
}

static const char *str_at(const json_t *ev, const char *obj, const char *key)
{
	return json_string_value(json_object_get(json_object_get(ev, obj), key));
}

static void test_watch_judge_inject_names_wine_injector_and_target(void **state)
{
	static const char inj[] = "C:\\users\\bob\\Desktop\\inject.exe\0WXWork.exe\0";
	static const char tgt[] = "C:\\Program Files (x86)\\WXWork\\WXWork.exe\0";
	char *dir = wxg_test_mkdtemp();
	struct watch w = { 0 };
	const json_t *ev;

	(void)state;
	make_proc(dir, 123, 124, "inject.exe", inj, sizeof(inj) - 1, 500);
	make_proc(dir, 456, 456, "WXWork.exe", tgt, sizeof(tgt) - 1, 900);
	assert_int_equal(sysroot_new(dir, &w.sr), 0);
	w.hooks[0].fn = keep;

	ev = judge(&w);
	assert_string_equal(json_string_value(json_object_get(ev, "type")), "inject");
	assert_string_equal(json_string_value(json_object_get(ev, "rule")), "client.injection");
	assert_string_equal(json_string_value(json_object_get(ev, "request")), "pokedata");
	assert_string_equal(str_at(ev, "process", "comm"), "inject.exe");
	assert_string_equal(str_at(ev, "process", "exe"), "inject.exe");
	assert_string_equal(str_at(ev, "process", "windows_path"),
			    "C:\\users\\bob\\Desktop\\inject.exe");
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "target"), "pid")),
			 456);
	assert_string_equal(str_at(ev, "target", "comm"), "WXWork.exe");
	assert_string_equal(str_at(ev, "target", "exe"), "WXWork.exe");
	assert_string_equal(str_at(ev, "target", "windows_path"),
			    "C:\\Program Files (x86)\\WXWork\\WXWork.exe");
	/* the agent's own message keeps the kernel's comm */
	assert_non_null(strstr(str_at(ev, "message", "en"), "inject.exe tampering"));

	/* the target's pid now belongs to a later process, the injector has exited: no names
	 * but the kernel's, and no error */
	sysroot_free(w.sr);
	wxg_test_rmtree(dir);
	make_proc(dir, 456, 456, "notepad.exe", tgt, sizeof(tgt) - 1, 950);
	assert_int_equal(sysroot_new(dir, &w.sr), 0);
	ev = judge(&w);
	assert_int_equal(json_object_size(json_object_get(ev, "target")), 2); /* pid, tid */
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ev, "target"), "tid")),
			 456);
	assert_string_equal(str_at(ev, "process", "comm"), "inject.exe");
	assert_null(json_object_get(json_object_get(ev, "process"), "windows_path"));
	assert_null(json_object_get(json_object_get(ev, "process"), "exe"));

	json_decref(last);
	last = NULL;
	sysroot_free(w.sr);
	wxg_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watch_judge_inject_names_wine_injector_and_target),
	};
	return cmocka_run_group_tests_name("watch_judge", tests, NULL, NULL);
}
