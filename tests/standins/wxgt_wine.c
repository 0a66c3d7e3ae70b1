/* Wine-like stand-in: what a Windows chat client under Wine looks like to the kernel. Run as
 *   wxgt-wine NAME 'C:\Program Files\...\NAME' [MS]
 * it renames its comm to NAME (prctl PR_SET_NAME, as Wine does once it knows the .exe), then
 * - its first action as "the client" - writes $WXGT_MARKER, then sleeps MS milliseconds. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *marker = getenv("WXGT_MARKER");

	if (argc < 2)
		return 2;
	if (prctl(PR_SET_NAME, argv[1], 0, 0, 0) < 0)
		return 2;
	if (marker) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd < 0)
			return 2;
		close(fd);
	}
	if (argc > 3) {
		long ms = atol(argv[3]);
		struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return 0;
}
