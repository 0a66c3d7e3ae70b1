#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "agent/checks/posture.h"

/* Only the cheap checks matter here: no apt simulation, no home scan of this machine. */
#define POLICY_FMT                                                                  \
	"[policy]\nname = %s\nversion = 1\n"                                        \
	"[patches]\nrequired = no\n[antivirus]\nrequired = no\n"                    \
	"[screen_lock]\nrequired = no\n[scan]\nhome_dirs = /nonexistent-wxguard\n"

struct seen {
	unsigned runs;
	char names[4][64];
	size_t n_results;
	sd_event *e;
};

static void on_done(struct check_report *rep, struct policy *pol, void *userdata)
{
	struct seen *s = userdata;

	if (s->runs < 4)
		snprintf(s->names[s->runs], sizeof(s->names[0]), "%s", pol->name);
	s->runs++;
	s->n_results = rep->n_results;
	check_report_free(rep);
	policy_free(pol);
}

static void write_policy(const char *path, const char *name)
{
	char text[512];

	snprintf(text, sizeof(text), POLICY_FMT, name);
	wxg_test_write(path, text);
}

/* Run the loop until `want` runs were delivered or the time is up. */
static int loop_until(struct seen *s, unsigned want, unsigned seconds)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (s->runs < want) {
		assert_true(sd_event_run(s->e, 100000) >= 0);
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec >= (time_t)seconds)
			return -ETIMEDOUT;
	}
	return 0;
}

static void test_posture_runs_checks_off_the_loop_and_delivers_them(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX];
	struct seen s = { 0 };
	struct posture *p = NULL;

	snprintf(path, sizeof(path), "%s/policy.ini", dir);
	write_policy(path, "first");
	assert_int_equal(sd_event_new(&s.e), 0);
	assert_int_equal(posture_new(s.e, path, NULL, on_done, &s, &p), 0);
	assert_int_equal(posture_start(p), 0);
	assert_int_equal(loop_until(&s, 1, 60), 0);
	assert_int_equal(s.runs, 1);
	assert_string_equal(s.names[0], "first");
	assert_int_equal(s.n_results, check_defs_count);
	posture_free(p);
	sd_event_unref(s.e);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_posture_start_during_a_run_runs_again_with_the_new_policy(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX];
	struct seen s = { 0 };
	struct posture *p = NULL;

	snprintf(path, sizeof(path), "%s/policy.ini", dir);
	write_policy(path, "old");
	assert_int_equal(sd_event_new(&s.e), 0);
	assert_int_equal(posture_new(s.e, path, NULL, on_done, &s, &p), 0);
	assert_int_equal(posture_start(p), 0);
	/* The worker may or may not have read the old file yet; a reload now must still lead to
	 * a run with the new one, and the two requests while busy fold into one. */
	write_policy(path, "new");
	assert_int_equal(posture_start(p), -EBUSY);
	assert_int_equal(posture_start(p), -EBUSY);
	assert_int_equal(loop_until(&s, 2, 60), 0);
	assert_int_equal(s.runs, 2);
	assert_string_equal(s.names[1], "new");
	/* Nothing more was queued. */
	assert_int_equal(loop_until(&s, 3, 2), -ETIMEDOUT);
	assert_int_equal(s.runs, 2);
	posture_free(p);
	sd_event_unref(s.e);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_posture_broken_policy_skips_the_run(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX];
	struct seen s = { 0 };
	struct posture *p = NULL;

	snprintf(path, sizeof(path), "%s/policy.ini", dir);
	wxg_test_write(path, "[policy]\nname = x\nmode = paranoid\n");
	assert_int_equal(sd_event_new(&s.e), 0);
	assert_int_equal(posture_new(s.e, path, NULL, on_done, &s, &p), 0);
	assert_int_equal(posture_start(p), 0);
	assert_int_equal(loop_until(&s, 1, 3), -ETIMEDOUT);
	assert_int_equal(s.runs, 0);
	/* ...and the worker is free again for the next run. */
	write_policy(path, "fixed");
	assert_int_equal(posture_start(p), 0);
	assert_int_equal(loop_until(&s, 1, 60), 0);
	assert_int_equal(s.runs, 1);
	assert_string_equal(s.names[0], "fixed");
	posture_free(p);
	sd_event_unref(s.e);
	wxg_test_rmtree(dir);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_posture_runs_checks_off_the_loop_and_delivers_them),
		cmocka_unit_test(test_posture_start_during_a_run_runs_again_with_the_new_policy),
		cmocka_unit_test(test_posture_broken_policy_skips_the_run),
	};
	return cmocka_run_group_tests_name("posture", tests, NULL, NULL);
}
