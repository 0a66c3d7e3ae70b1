/* The eBPF watcher behind `wxguard run`: loads bpf/watch.bpf.c, fills its maps from the policy
 * (approved and denied executables by (dev, inode), client-family names, the running clients
 * found in /proc), reads the ring buffer, finishes the judgements the kernel leaves to user
 * space (Wine prefixes, library directories) and hands every event to a hook as JSON
 * (docs/events.md). Design: docs/watch.md.
 *
 * One struct watch per process; not thread-safe. The main loop (agent/cli/cmd_run.c) polls
 * watch_fd() and calls watch_dispatch(). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/policy/policy.h"

enum watch_enforcement {
	WATCH_ENF_NONE = 0,   /* no BPF: nothing can be stopped (degraded) */
	WATCH_ENF_SIGNAL = 1, /* bpf_send_signal(SIGKILL) from raw tracepoints */
	WATCH_ENF_LSM = 2,    /* BPF LSM refuses the exec (-EPERM), signals for the rest */
};

enum watch_run_state {
	WATCH_STATE_RUNNING = 0,
	WATCH_STATE_DEGRADED = 1, /* BPF could not load: posture checks only */
};

struct watch_counters {
	uint64_t execs;      /* execs the kernel saw */
	uint64_t events;     /* records submitted to the ring buffer */
	uint64_t drops;      /* records lost (ring buffer full): always reported */
	uint64_t kills;      /* SIGKILLs sent by the kernel */
	uint64_t lsm_denies; /* execs refused by BPF LSM */
	uint64_t user_kills; /* SIGKILLs sent by user space (verdicts it had to finish) */
	uint64_t written;    /* files recorded as written by a client */
};

struct watch_state {
	enum policy_mode mode;
	enum watch_enforcement enforcement;
	enum watch_run_state state;
	char reason[256]; /* why degraded, or "" */
	struct watch_counters counters;
	unsigned generation; /* policies applied so far */
	char policy_name[64];
	char policy_version[32];
	char policy_sha256[HASH_SHA256_HEX];
	unsigned approved_files, denied_files, names, watched;
};

struct watch_opts {
	bool no_lsm;            /* don't use BPF LSM even where the kernel has it */
	bool no_bpf;            /* don't load BPF at all: start degraded (tests, --no-bpf) */
	bool no_proc_scan;      /* skip the start-up /proc scan (tests) */
	const char *notify_cmd; /* run instead of D-Bus notifications: CMD UID LANG TITLE BODY */
	bool notify_dbus;       /* send desktop notifications over each user's session bus */
	size_t ringbuf_poll_budget; /* 0: consume everything available per dispatch */
};

typedef void (*watch_event_fn)(const json_t *ev, void *userdata);

struct watch;

/* Loads and attaches the BPF programs. When BPF cannot load (old kernel, no privilege), still
 * returns 0 with a watch in WATCH_STATE_DEGRADED (reason says why); -errno only on ENOMEM. */
int watch_new(const struct watch_opts *opts, struct watch **ret);
void watch_free(struct watch *w);

/* Apply a policy: hash and verify the executables it names, build the kernel tables, then swap
 * them in (the kernel sees old ∪ new for an instant, never half of the new). On success the
 * watch takes ownership of p (and frees the previous policy); on error nothing changed and the
 * caller still owns p. The first policy also scans /proc for clients already running. */
int watch_set_policy(struct watch *w, struct policy *p);
const struct policy *watch_policy(const struct watch *w);
/* Load path (policy_load) and apply it. A policy that does not load or apply is refused and
 * the one in force stays: returns -errno (-EBADMSG with diags filled for a broken file). */
int watch_reload(struct watch *w, const char *path, struct policy_diags *diags);

/* Every event, as a JSON object (borrowed for the call). Several hooks can be set; NULL fn
 * removes the hook registered with that userdata. */
int watch_set_event_hook(struct watch *w, watch_event_fn fn, void *userdata);

/* The ring buffer's epoll fd (readable when records wait), or -EBADF when degraded. */
int watch_fd(const struct watch *w);
/* Handle waiting records; waits up to timeout_ms (0: don't wait). Returns the number of
 * records handled or -errno. Also reports ring-buffer drops as events. */
int watch_dispatch(struct watch *w, int timeout_ms);

void watch_get_state(struct watch *w, struct watch_state *ret);
/* The state as JSON (the /run/wxguard/status.json document); caller json_decref()s. */
json_t *watch_state_to_json(const struct watch_state *s);

const char *watch_enforcement_to_string(enum watch_enforcement e);
const char *watch_run_state_to_string(enum watch_run_state s);
