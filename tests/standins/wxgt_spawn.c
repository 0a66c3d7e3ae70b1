/* Benchmark driver (static, no project code):
 *   wxgt-spawn storm N PATH     posix_spawn PATH N times, one at a time; prints
 *                               "execs_per_sec=X elapsed_s=Y"
 *   wxgt-spawn killlat N PATH   spawn PATH N times; time from posix_spawn to the reaped
 *                               SIGKILL; prints "kill_latency_us_median=X p99=Y killed=K" */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	char *args[] = { NULL, NULL };
	long n;
	double t0, *lat;
	int killed = 0;

	if (argc != 4)
		return 2;
	n = atol(argv[2]);
	args[0] = argv[3];
	lat = calloc(n, sizeof(*lat));
	if (!lat || n <= 0)
		return 2;
	t0 = now();
	for (long i = 0; i < n; i++) {
		double s = now();
		pid_t pid;
		int st;

		if (posix_spawn(&pid, argv[3], NULL, NULL, args, environ) != 0)
			return 1;
		if (waitpid(pid, &st, 0) != pid)
			return 1;
		lat[i] = now() - s;
		killed += WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL;
	}
	if (strcmp(argv[1], "storm") == 0) {
		double el = now() - t0;

		printf("execs_per_sec=%.0f elapsed_s=%.3f\n", n / el, el);
	} else {
		qsort(lat, n, sizeof(*lat), cmp);
		printf("kill_latency_us_median=%.1f p99=%.1f killed=%d\n", lat[n / 2] * 1e6,
		       lat[(long)(n * 0.99)] * 1e6, killed);
	}
	free(lat);
	return 0;
}
