/* Stand-in chat client for the watcher's tests and benchmarks (static, no project code).
 * Its very first action writes $WXGT_MARKER ("PID ADDR\n", ADDR: a buffer an injector may
 * aim at); then it does what its arguments say, in order:
 *   sleep MS          sleep
 *   copy SRC DST      write DST (mode 0755) with SRC's bytes: a "received attachment"
 *   exec PATH ARGS..  execv PATH (the rest of the arguments are its argv)
 *   memfd SRC         copy SRC into a memfd and fexecve it (fileless)
 *   open PATH         open PATH read-only (a library / plugin load)
 *   mmap PATH         open PATH and map it executable (how ld.so loads a library)
 *   mprotect PATH     map PATH read-only, then make the mapping executable
 *   check             exit 3 if the buffer was changed by someone else
 * Exit status 0, 2 when a step fails, 4 when the kernel refused a mapping (EPERM/EACCES). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char wxgt_buffer[64] = "untouched";

static int copy(const char *src, int out)
{
	char buf[65536];
	ssize_t n;
	int in = open(src, O_RDONLY | O_CLOEXEC);

	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n) {
			close(in);
			return -1;
		}
	close(in);
	return n < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	const char *marker = getenv("WXGT_MARKER");

	if (marker) {
		char line[64];
		int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0) {
			int n = snprintf(line, sizeof(line), "%d %p\n", (int)getpid(),
					 (void *)wxgt_buffer);

			if (write(fd, line, n) != n)
				return 2;
			close(fd);
		}
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "sleep") == 0 && i + 1 < argc) {
			long ms = atol(argv[++i]);
			struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

			while (nanosleep(&ts, &ts) != 0)
				;
		} else if (strcmp(argv[i], "copy") == 0 && i + 2 < argc) {
			int out = open(argv[i + 2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);

			if (out < 0 || copy(argv[i + 1], out) < 0 || close(out) < 0)
				return 2;
			i += 2;
		} else if (strcmp(argv[i], "exec") == 0 && i + 1 < argc) {
			execv(argv[i + 1], argv + i + 1);
			return 2;
		} else if (strcmp(argv[i], "memfd") == 0 && i + 1 < argc) {
			int fd = memfd_create("payload", MFD_CLOEXEC);
			char *const args[] = { "payload", NULL };

			if (fd < 0 || copy(argv[i + 1], fd) < 0)
				return 2;
			fexecve(fd, args, environ);
			return 2;
		} else if (strcmp(argv[i], "open") == 0 && i + 1 < argc) {
			int fd = open(argv[++i], O_RDONLY | O_CLOEXEC);

			if (fd >= 0)
				close(fd);
		} else if ((strcmp(argv[i], "mmap") == 0 || strcmp(argv[i], "mprotect") == 0) &&
			   i + 1 < argc) {
			int fd = open(argv[i + 1], O_RDONLY | O_CLOEXEC),
			    prot = PROT_READ | PROT_EXEC;
			bool mp = argv[i][1] == 'p';
			void *m;

			i++;
			if (fd < 0)
				return 2;
			m = mmap(NULL, 4096, mp ? PROT_READ : prot, MAP_PRIVATE, fd, 0);
			close(fd);
			if (m != MAP_FAILED && mp && mprotect(m, 4096, prot) < 0)
				return errno == EPERM || errno == EACCES ? 4 : 2;
			if (m == MAP_FAILED)
				return errno == EPERM || errno == EACCES ? 4 : 2;
			munmap(m, 4096);
		} else if (strcmp(argv[i], "check") == 0) {
			if (strcmp(wxgt_buffer, "untouched") != 0)
				return 3;
		} else {
			return 2;
		}
	}
	return 0;
}
