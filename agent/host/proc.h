/* Reading processes from <root>/proc: used by the client checks and the watcher's start-up scan. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "agent/host/sysroot.h"
#include "common/strv.h"

struct proc_info {
	pid_t pid;
	pid_t ppid;
	uid_t uid; /* real uid */
	char comm[16];
	char *exe; /* readlink of exe, " (deleted)" kept; NULL if unreadable */
	struct strv argv;
	struct strv environ;           /* only with PROC_WANT_ENV */
	unsigned long long start_time; /* field 22 of stat, clock ticks since boot */
};

enum {
	PROC_WANT_ARGV = 1 << 0,
	PROC_WANT_ENV = 1 << 1,
};

/* Numeric entries of <root>/proc, ascending. */
int proc_list_pids(const struct sysroot *sr, pid_t **ret, size_t *ret_n);
/* -ENOENT when the process is gone. */
int proc_read(const struct sysroot *sr, pid_t pid, unsigned want, struct proc_info *ret);
/* The comm of a process: <root>/proc/<pid>/comm, else the "(comm)" of its stat, not cut to
 * TASK_COMM_LEN. -errno when neither can be read, -EBADMSG when stat has no "(comm)". */
int proc_read_comm(const struct sysroot *sr, pid_t pid, char *buf, size_t size);
void proc_info_clear(struct proc_info *pi);
/* Value of NAME in an environ vector, or NULL. */
const char *proc_getenv(const struct proc_info *pi, const char *name);
