/* Per-syscall cost (bench/syscall_overhead.sh): getppid() N times in a tight loop, through
 * syscall(2) so no libc cache can answer it, after a short warm-up. Static, no project code.
 *   getppid_loop [N]     default 2,000,000
 * Prints "ns_per_call=X calls=N elapsed_s=Y". */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	volatile long sink = 0;
	double t0, el;

	if (n <= 0)
		return 2;
	for (long i = 0; i < n / 20 + 1; i++)
		sink += syscall(SYS_getppid);
	t0 = now();
	for (long i = 0; i < n; i++)
		sink += syscall(SYS_getppid);
	el = now() - t0;
	printf("ns_per_call=%.1f calls=%ld elapsed_s=%.3f\n", el * 1e9 / n, n, el);
	return sink == 0 ? 1 : 0;
}
