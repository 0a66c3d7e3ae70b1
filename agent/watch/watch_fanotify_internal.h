/* Internals of the fanotify rung, shared by agent/watch/watch_fanotify.c (the worker, fanotify
 * events), watch_fanotify_judge.c (the judgement, the client's process tree) and
 * watch_proc_connector.c (the process connector). Calls go: watch_fanotify.c ->
 * watch_proc_connector.c -> watch_fanotify_judge.c. */
#pragma once
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agent/watch/watch_fanotify.h"
#include "agent/watch/watch_internal.h"
#include "common/path.h"

#ifndef FAN_OPEN_EXEC_PERM
#define FAN_OPEN_EXEC_PERM 0x00040000
#endif
#ifndef FAN_MARK_FILESYSTEM
#define FAN_MARK_FILESYSTEM 0x00000100
#endif

#define QUEUE_MAX 65536            /* records waiting for the main loop */
#define WRITTEN_MAX 4096           /* files a client wrote, newest first out */
#define MAX_ARGS 32                /* argv elements read from an exec'ing process */
#define DEAD_KEEP_NS 2000000000ull /* an exited client's late events (close_write) still count */

union fan_rec {
	struct wxg_ev_hdr hdr;
	struct wxg_ev_exec exec;
	struct wxg_ev_rename rename;
	struct wxg_ev_inject inject;
};

enum {
	P_CLIENT = 1 << 0,   /* runs an approved client's image (or forked from it) */
	P_CHILD = 1 << 1,    /* descendant of a client running something else */
	P_INSTANCE = 1 << 2, /* counted against max_instances */
	P_REPORTED = 1 << 3, /* reported as denied in audit mode: no repeats */
	P_WINE = 1 << 4,     /* approved Wine loader: the .exe is judged once it runs */
	P_DEAD = 1 << 5,     /* exited (kept DEAD_KEEP_NS for late events) */
};

struct fan_proc {
	pid_t tgid;
	uint32_t flags;
	uid_t uid;
	uint16_t client;
	uint64_t start_ns; /* 0: unknown (fork, scan) */
	uint64_t dead_ns;
};

struct fan_file {
	uint32_t dev;
	uint64_t ino;
	uint64_t btime_ns; /* birth time: a reused inode number is another file (0: unknown) */
};

/* An exec a permission event judged, until the connector reports it done: an exec the
 * connector reports without one came from a file no mark covers (memfd, a mount made later). */
struct fan_seen {
	pid_t tgid;
	uint32_t dev;
	uint64_t ino;
	bool again; /* its argv could not be read: judged again, reported only if denied */
};
#define SEEN_MAX 1024

struct watch_fan {
	struct watch *w;
	int fan_fd, pc_fd, ep_fd, ev_fd, stop_fd;
	pthread_t thread;
	bool started, exec_perm;
	pid_t self;
	pthread_mutex_t lock;  /* w->tables, w->policy */
	pthread_mutex_t qlock; /* q */
	union fan_rec *q;
	size_t qn, qcap;
	/* the worker's own */
	struct fan_proc *procs;
	size_t n_procs;
	struct fan_file written[WRITTEN_MAX];
	size_t n_written, written_next;
	struct fan_seen seen[SEEN_MAX];
	size_t seen_next;
	pthread_mutex_t plock; /* procs (the start-up scan seeds from the main thread) */
	atomic_uint_fast64_t execs, events, drops, kills, denies, n_written_total;
	unsigned marks;
};

/* ---- what an exec'ing process is about to run ---- */

struct facts {
	pid_t tgid, ppid;
	uid_t uid;
	uint64_t start_ns;
	struct stat st;
	uint64_t btime_ns;           /* fan_btime_ns() of the file */
	char path[PATH_MAX];         /* the file, as /proc/self/fd shows it */
	char filename[WXG_PATH_LEN]; /* as passed to execve ("" for fexecve) */
	char comm[WXG_COMM_LEN];     /* the comm it will have */
	bool nameless;               /* memfd, O_TMPFILE, deleted */
	bool top;                    /* the file execve named (not its interpreter) */
	bool preload, audit;
	bool have_args; /* argv and filename read (else judged again once it runs) */
	bool have_task; /* ppid, uid, start_ns read (fan_facts_task(), only when needed) */
	char *argv[MAX_ARGS + 1];
	size_t argc;
	char argbuf[8192];
};

/* Copy s into d (size bytes), cut and NUL-terminated. */
static inline void fan_cpy(char *d, size_t size, const char *s)
{
	size_t l = strnlen(s, size - 1);

	memcpy(d, s, l);
	d[l] = 0;
}

static inline uint64_t fan_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* watch_fanotify.c */
/* Queue a record for the main loop (counted as a drop when the queue is full). */
void fan_push(struct watch_fan *f, const void *rec, size_t size);

/* watch_fanotify_judge.c (f->plock held for the process table; f->lock for the judgement) */
struct fan_proc *fan_proc_find(struct watch_fan *f, pid_t tgid, bool dead_too);
struct fan_proc *fan_proc_add(struct watch_fan *f, pid_t tgid);
void fan_procs_purge(struct watch_fan *f, uint64_t now);
uint64_t fan_start_of(struct watch_fan *f, pid_t pid);
int fan_kill(struct watch_fan *f, pid_t pid, uint64_t start_ns, int sig);
/* A file the client wrote: (dev, ino) and, where the filesystem reports one, its birth time. */
bool fan_written_has(struct watch_fan *f, uint32_t dev, uint64_t ino, uint64_t btime_ns);
/* The birth time of fd's file in ns (statx STX_BTIME), 0 when the filesystem has none. */
uint64_t fan_btime_ns(int fd);
void fan_fill_exec(const struct facts *x, struct wxg_ev_exec *e);
/* ppid, uid and start time of x's process, read once: most execs never need them. */
void fan_facts_task(struct watch_fan *f, struct facts *x);
void fan_judge_exec(struct watch_fan *f, struct facts *x, struct fan_proc *caller,
		    struct wxg_ev_exec *e);
void fan_after_exec(struct watch_fan *f, const struct facts *x, struct fan_proc *caller,
		    const struct wxg_ev_exec *e, bool enforce);

/* watch_proc_connector.c (both locks held) */
void fan_pc_all(struct watch_fan *f);
int fan_exec_facts_after(struct watch_fan *f, pid_t pid, struct facts *x);
