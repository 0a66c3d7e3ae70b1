#include "agent/host/proc_wine.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "agent/host/proc.h"

bool proc_wine_has_exe_suffix(const char *s)
{
	size_t n = s ? strnlen(s, PROC_WINE_PATH_MAX) : 0;

	/* "C:\.exe" is no program: a name must come before the extension */
	return n >= 5 && n < PROC_WINE_PATH_MAX && strcasecmp(s + n - 4, ".exe") == 0 &&
	       s[n - 5] != '\\' && s[n - 5] != '/';
}

bool proc_wine_is_windows_exe(const char *s)
{
	if (!s || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')) || s[1] != ':' ||
	    s[2] != '\\')
		return false;
	return proc_wine_has_exe_suffix(s);
}

const char *proc_wine_basename(const char *windows_path)
{
	const char *b = windows_path;

	for (const char *p = windows_path; *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b;
}

bool proc_wine_is_wine_binary(const char *exe_link)
{
	/* Debian's are wine64, wine64-preloader, wineserver64 (and 32) under /usr/lib/wine */
	static const char *const names[] = { "wine",
					     "wine32",
					     "wine64",
					     "wine-preloader",
					     "wine32-preloader",
					     "wine64-preloader",
					     "wineserver",
					     "wineserver32",
					     "wineserver64",
					     NULL };
	const char *b = exe_link ? strrchr(exe_link, '/') : NULL, *del;
	size_t n;

	if (!exe_link)
		return false;
	b = b ? b + 1 : exe_link;
	del = strstr(b, " (deleted)");
	n = del ? (size_t)(del - b) : strlen(b);
	for (size_t i = 0; names[i]; i++)
		if (strlen(names[i]) == n && strncmp(b, names[i], n) == 0)
			return true;
	return false;
}

/* Does /proc/PID/task/TID/stat say the thread started at start_ns (within a clock tick)? */
static int check_start(const struct sysroot *sr, pid_t pid, pid_t tid, uint64_t start_ns)
{
	long tck = sysconf(_SC_CLK_TCK);
	char path[80], *line = NULL, *p;
	unsigned long long ticks, want;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, (int)tid);
	r = sysroot_read_line(sr, path, &line);
	if (r < 0)
		return r == -ESRCH ? -ENOENT : r;
	/* after the last ')' come fields 3, 4, ...: field 22 is starttime */
	p = strrchr(line, ')');
	for (int i = 0; p && i < 20; i++)
		p = strchr(p + 1, ' ');
	if (!p || tck <= 0) {
		free(line);
		return -EBADMSG;
	}
	ticks = strtoull(p + 1, NULL, 10);
	free(line);
	want = start_ns / (1000000000ull / (unsigned long long)tck);
	return ticks + 1 < want || ticks > want + 1 ? -ESRCH : 0;
}

/* argv[0] of /proc/PID/cmdline, at most PROC_WINE_PATH_MAX bytes read; NULL when unreadable
 * or empty (a zombie, a kernel thread). */
static char *read_argv0(const struct sysroot *sr, pid_t pid)
{
	char path[64], buf[PROC_WINE_PATH_MAX + 1];
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	f = sysroot_fopen(sr, path, "re");
	if (!f)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return n && buf[0] ? strdup(buf) : NULL;
}

int proc_wine_read(const struct sysroot *sr, pid_t pid, pid_t tid, uint64_t start_ns,
		   struct proc_wine *ret)
{
	struct proc_wine pw = { 0 };
	char path[64], link[PATH_MAX], *argv0 = NULL;
	int r;

	if (start_ns) {
		r = check_start(sr, pid, tid ? tid : pid, start_ns);
		if (r < 0)
			return r;
	}
	r = proc_read_comm(sr, pid, pw.comm, sizeof(pw.comm));
	if (r < 0)
		return r == -ESRCH ? -ENOENT : r;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	pw.wine = sysroot_readlink(sr, path, link, sizeof(link)) == 0 &&
		  proc_wine_is_wine_binary(link);
	argv0 = read_argv0(sr, pid);
	if (proc_wine_is_windows_exe(argv0)) {
		pw.wine = true;
		pw.windows_path = argv0;
	}
	if (pw.windows_path || (pw.wine && proc_wine_has_exe_suffix(argv0))) {
		pw.program = argv0;
		pw.exe = proc_wine_basename(argv0);
		argv0 = NULL;
	}
	free(argv0);
	*ret = pw;
	return 0;
}

void proc_wine_clear(struct proc_wine *pw)
{
	if (!pw)
		return;
	free(pw->program);
	memset(pw, 0, sizeof(*pw));
}
