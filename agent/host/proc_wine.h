/* Which Windows program a process runs under Wine, read from <root>/proc/PID: the watcher's
 * injection events name the injector and the target by it (docs/events.md "inject").
 *
 * A Wine process shows the Windows path of its .exe as argv[0] of /proc/PID/cmdline
 * ("C:\Program Files (x86)\WXWork\WXWork.exe"). argv[0] is what the process says about itself
 * (any process can rewrite it): evidence for people, never an identity to decide on. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/host/sysroot.h"

/* Longest argv[0] taken for a Windows path (Wine's own limit for a path is larger, but no
 * installed program comes near this). */
#define PROC_WINE_PATH_MAX 1024

struct proc_wine {
	char comm[16]; /* the kernel's comm (as /proc/PID/comm) */
	bool wine;     /* argv[0] is a Windows .exe path, or the exe is a Wine binary */
	/* argv[0] when it names an .exe: a Windows path, or, for a Wine binary, also a Unix one
	 * (the first program of `wine64 /tmp/x.exe` may keep it); NULL otherwise */
	char *program;
	const char *windows_path; /* program when it is a Windows path, else NULL */
	const char *exe;          /* the basename of program ("WXWork.exe"), NULL without it */
};

/* Read pid. tid (0: pid) and start_ns (its start_boottime, 0: any) tell a reused PID apart:
 * -ESRCH when /proc/PID/task/TID/stat started at another time. -ENOENT when the process is
 * gone, else -errno of the first file that could not be read (comm, stat); the cmdline and
 * exe are optional (a zombie has neither). */
int proc_wine_read(const struct sysroot *sr, pid_t pid, pid_t tid, uint64_t start_ns,
		   struct proc_wine *ret);
void proc_wine_clear(struct proc_wine *pw);

/* "X:\...\name.exe" (a drive letter, ":\", ".exe" in any case), shorter than
 * PROC_WINE_PATH_MAX. */
bool proc_wine_is_windows_exe(const char *s);
/* The exe link names a Wine binary: wine, wine-preloader or wineserver, each also with a 32 or
 * 64 suffix as Debian names them (any directory, " (deleted)" ignored). */
bool proc_wine_is_wine_binary(const char *exe_link);
/* Ends in ".exe" (any case) after at least one character of a name. */
bool proc_wine_has_exe_suffix(const char *s);
/* The part of a Windows path after its last '\' or '/'. */
const char *proc_wine_basename(const char *windows_path);
