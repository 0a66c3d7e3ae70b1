/* The fanotify rung of the backend ladder (no BPF at all): fanotify permission events refuse
 * execs before the file is used (FAN_OPEN_EXEC_PERM, Linux 5.0+), the netlink process connector
 * sees renames, ptrace attaches and the client's process tree. One worker thread answers every
 * permission event (never the main loop: a slow main loop must not stall the machine's execs)
 * and queues records for the main loop, which reports them through watch_judge_record() like
 * ring-buffer records. Design and limits: docs/watch.md "The fanotify rung".
 * Internal to agent/watch (watch.c is the only caller). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "agent/watch/watch.h"

struct watch;
struct watch_fan;
struct wxg_ev_hdr;

/* 0 when this kernel offers the rung (why: "" or what it lacks, e.g. exec only stopped after
 * because FAN_OPEN_EXEC_PERM needs 5.0), -errno (why says why) when it does not. */
int watch_fanotify_probe(char *why, size_t size);

/* Start the worker: marks every filesystem that holds executables, subscribes to the process
 * connector. -errno when fanotify cannot refuse or stop execs here. */
int watch_fanotify_new(struct watch *w, struct watch_fan **ret);
/* Stops the worker; the kernel allows the permission events nobody answered. Accepts NULL. */
void watch_fanotify_free(struct watch_fan *f);

/* Readable when records wait for watch_fanotify_dispatch(). */
int watch_fanotify_fd(const struct watch_fan *f);
typedef void (*watch_fan_record_fn)(void *ud, const struct wxg_ev_hdr *h);
/* Hand every queued record to fn (in the caller's thread); returns how many. */
int watch_fanotify_dispatch(struct watch_fan *f, watch_fan_record_fn fn, void *ud);

/* The worker reads w->tables and w->policy: hold this while swapping them. */
void watch_fanotify_lock(struct watch_fan *f);
void watch_fanotify_unlock(struct watch_fan *f);

/* A client process found by the start-up /proc scan (instance when its parent is not one). */
void watch_fanotify_seed(struct watch_fan *f, pid_t tgid, uid_t uid, unsigned client,
			 bool instance);

/* Counters and the decisions this rung makes (exec refused or stopped, ...), into s. */
void watch_fanotify_state(const struct watch_fan *f, struct watch_state *s);

/* watch_proc_connector.c: the netlink process connector. */
enum watch_pc_what {
	WATCH_PC_FORK = 1,
	WATCH_PC_EXEC = 2,
	WATCH_PC_COMM = 3,
	WATCH_PC_PTRACE = 4,
	WATCH_PC_EXIT = 5,
};

struct watch_pc_event {
	enum watch_pc_what what;
	pid_t pid, tgid;             /* the process (for fork: the child; ptrace: the tracee) */
	pid_t other_pid, other_tgid; /* fork: the parent; ptrace: the tracer (0: detach) */
	char comm[16];               /* comm: the new name */
};

typedef void (*watch_pc_fn)(const struct watch_pc_event *e, void *ud);
/* A subscribed, non-blocking socket, or -errno (no CONFIG_PROC_EVENTS, no CAP_NET_ADMIN). */
int watch_pc_open(void);
void watch_pc_close(int fd);
/* fn for every event waiting; *lost counts overflows of the socket. Returns the count. */
int watch_pc_read(int fd, watch_pc_fn fn, void *ud, unsigned *lost);
