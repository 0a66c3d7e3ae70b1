/* Injector stand-in: tampers with a running (stand-in) client.
 *   wxgt-inject ptrace PID          PTRACE_ATTACH, wait for the stop, PTRACE_DETACH
 *   wxgt-inject seize PID           PTRACE_SEIZE, then PTRACE_DETACH
 *   wxgt-inject vmwrite PID ADDR    process_vm_writev "injected" to ADDR (hex) in PID
 *   wxgt-inject procmem PID ADDR    write "injected" to ADDR through /proc/PID/mem
 * When the tampering succeeded it writes $WXGT_MARKER: a killed or refused injector never does.
 * Exit 0 when the tampering succeeded, 1 when the kernel refused it (EPERM/EACCES), 3 when it
 * failed otherwise. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *marker = getenv("WXGT_MARKER");
	pid_t pid;
	int ok = 0;

	if (argc < 3)
		return 2;
	pid = atoi(argv[2]);
	if (strcmp(argv[1], "ptrace") == 0 || strcmp(argv[1], "seize") == 0) {
		long r = strcmp(argv[1], "ptrace") == 0 ? ptrace(PTRACE_ATTACH, pid, 0, 0)
							: ptrace(PTRACE_SEIZE, pid, 0, 0);

		if (r == 0) {
			if (argv[1][0] == 'p')
				waitpid(pid, NULL, __WALL);
			ptrace(PTRACE_DETACH, pid, 0, 0);
			ok = 1;
		}
	} else if (strcmp(argv[1], "vmwrite") == 0 && argc > 3) {
		char data[] = "injected";
		struct iovec local = { data, sizeof(data) };
		struct iovec remote = { (void *)strtoul(argv[3], NULL, 16), sizeof(data) };

		ok = process_vm_writev(pid, &local, 1, &remote, 1, 0) == (ssize_t)sizeof(data);
	} else if (strcmp(argv[1], "procmem") == 0 && argc > 3) {
		char data[] = "injected", path[64];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			ok = pwrite(fd, data, sizeof(data), (off_t)strtoul(argv[3], NULL, 16)) ==
			     (ssize_t)sizeof(data);
			close(fd);
		}
	} else {
		return 2;
	}
	if (!ok)
		return errno == EPERM || errno == EACCES ? 1 : 3;
	if (marker) {
		int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

		if (fd >= 0)
			close(fd);
	}
	return 0;
}
