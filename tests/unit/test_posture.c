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
#define POLICY_FMT                                               \
	"[policy]\nname = %s\nversion = 1\n"                     \
	"[patches]\nrequired = no\n[antivirus]\nrequired = no\n" \
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

/* One posture object on a fresh loop, reading <tmp>/policy.ini. */
struct fixture {
	char *dir;
	char path[PATH_MAX];
	struct seen s;
	struct posture *p;
};

static int fixture_setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->dir = wxg_test_mkdtemp();
	snprintf(f->path, sizeof(f->path), "%s/policy.ini", f->dir);
	assert_int_equal(sd_event_new(&f->s.e), 0);
	*state = f;
	return 0;
}

static int fixture_teardown(void **state)
{
	struct fixture *f = *state;

	posture_free(f->p);
	sd_event_unref(f->s.e);
	wxg_test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Make the posture object and start its first run. */
static void fixture_start(struct fixture *f)
{
	assert_int_equal(posture_new(f->s.e, f->path, NULL, on_done, &f->s, &f->p), 0);
	assert_int_equal(posture_start(f->p), 0);
}

static void test_posture_runs_checks_off_the_loop_and_delivers_them(void **state)
{
	struct fixture *f = *state;

	write_policy(f->path, "first");
	fixture_start(f);
	assert_int_equal(loop_until(&f->s, 1, 60), 0);
	assert_int_equal(f->s.runs, 1);
	assert_string_equal(f->s.names[0], "first");
	assert_int_equal(f->s.n_results, check_defs_count);
}

static void test_posture_start_during_a_run_runs_again_with_the_new_policy(void **state)
{
	struct fixture *f = *state;

	write_policy(f->path, "old");
	fixture_start(f);
	/* The worker may or may not have read the old file yet; a reload now must still lead to
	 * a run with the new one, and the two requests while busy fold into one. */
	write_policy(f->path, "new");
	assert_int_equal(posture_start(f->p), -EBUSY);
	assert_int_equal(posture_start(f->p), -EBUSY);
	assert_int_equal(loop_until(&f->s, 2, 60), 0);
	assert_int_equal(f->s.runs, 2);
	assert_string_equal(f->s.names[1], "new");
	/* Nothing more was queued. */
	assert_int_equal(loop_until(&f->s, 3, 2), -ETIMEDOUT);
	assert_int_equal(f->s.runs, 2);
}

static void test_posture_broken_policy_skips_the_run(void **state)
{
	struct fixture *f = *state;

	wxg_test_write(f->path, "[policy]\nname = x\nmode = paranoid\n");
	fixture_start(f);
	assert_int_equal(loop_until(&f->s, 1, 3), -ETIMEDOUT);
	assert_int_equal(f->s.runs, 0);
	/* ...and the worker is free again for the next run. */
	write_policy(f->path, "fixed");
	assert_int_equal(posture_start(f->p), 0);
	assert_int_equal(loop_until(&f->s, 1, 60), 0);
	assert_int_equal(f->s.runs, 1);
	assert_string_equal(f->s.names[0], "fixed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_posture_runs_checks_off_the_loop_and_delivers_them, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(
			test_posture_start_during_a_run_runs_again_with_the_new_policy,
			fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(test_posture_broken_policy_skips_the_run,
						fixture_setup, fixture_teardown),
	};
	return cmocka_run_group_tests_name("posture", tests, NULL, NULL);
}
