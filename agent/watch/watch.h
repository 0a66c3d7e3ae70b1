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

/* How execs are enforced (the exec decision's backend, in the words status has always used). */
enum watch_enforcement {
	WATCH_ENF_NONE = 0,     /* nothing watches execs: nothing can be stopped */
	WATCH_ENF_SIGNAL = 1,   /* bpf_send_signal(SIGKILL) from raw tracepoints */
	WATCH_ENF_LSM = 2,      /* BPF LSM refuses the exec (-EPERM) */
	WATCH_ENF_TRACING = 3,  /* fentry / kprobe on the LSM hook: SIGKILL before it returns */
	WATCH_ENF_FANOTIFY = 4, /* fanotify permission event: refused before the file is used */
};

enum watch_run_state {
	WATCH_STATE_RUNNING = 0,      /* every decision is refused or stopped */
	WATCH_STATE_DEGRADED = 1,     /* watching, but some decision is only reported */
	WATCH_STATE_POSTURE_ONLY = 2, /* nothing watched (no BPF, no fanotify): posture checks */
};

/* The backend ladder (docs/kernels.md), best last: each decision gets the best rung the kernel
 * offers, at most the one forced with watch_opts.backend. */
enum watch_backend {
	WATCH_BACKEND_NONE = 0,     /* not watched */
	WATCH_BACKEND_FANOTIFY = 1, /* fanotify permission events + the netlink proc connector */
	WATCH_BACKEND_RAW_TP = 2,   /* raw tracepoints (sys_enter, sched_*), bpf_send_signal */
	WATCH_BACKEND_TRACING = 3,  /* fentry/fexit or kprobes on the LSM hooks, bpf_send_signal */
	WATCH_BACKEND_LSM = 4,      /* BPF LSM: refused with -EPERM, nothing runs */
	WATCH_BACKEND_AUTO = 5,     /* watch_opts only: the best the kernel offers */
};

/* The decisions the watcher makes, each with its own backend. */
enum watch_decision {
	WATCH_DEC_EXEC = 0,      /* which executables run (clients, denied, attachments) */
	WATCH_DEC_LIBRARIES = 1, /* which libraries / DLLs the approved client loads */
	WATCH_DEC_INJECTION = 2, /* ptrace, /proc/PID/mem, process_vm_writev on the client */
	WATCH_DEC_RENAMES = 3,   /* comm renames to a client's name (Wine, multi-open) */
	WATCH_DEC_MAX = 4,
};

/* What happens to an offence of that decision in enforce mode. */
enum watch_effect {
	WATCH_EFFECT_NONE = 0,     /* not seen at all */
	WATCH_EFFECT_REPORTED = 1, /* seen and reported, not stopped */
	WATCH_EFFECT_STOPPED = 2,  /* killed after it started */
	WATCH_EFFECT_REFUSED = 3,  /* refused before it happens */
};

struct watch_decision_state {
	enum watch_backend backend;
	enum watch_effect effect;
};

struct watch_counters {
	uint64_t execs;      /* execs the kernel saw */
	uint64_t events;     /* records submitted to the ring buffer */
	uint64_t drops;      /* records lost (ring buffer full): always reported */
	uint64_t kills;      /* SIGKILLs sent by the kernel */
	uint64_t lsm_denies; /* execs refused by BPF LSM */
	uint64_t user_kills; /* SIGKILLs sent by user space (verdicts it had to finish) */
	uint64_t written;    /* files recorded as written by a client */
	uint64_t fan_denies; /* execs refused with FAN_DENY (the fanotify rung) */
};

struct watch_state {
	enum policy_mode mode;
	enum watch_enforcement enforcement;
	enum watch_run_state state;
	char reason[256]; /* why degraded / posture only, or "" */
	struct watch_decision_state decisions[WATCH_DEC_MAX];
	char kernel[65];   /* uname -r */
	char btf[160];     /* where the kernel's BTF came from, "" when none was found */
	char summary[256]; /* one line: what is enforced, why not more, what to do */
	struct watch_counters counters;
	unsigned generation; /* policies applied so far */
	char policy_name[64];
	char policy_version[32];
	char policy_sha256[HASH_SHA256_HEX];
	unsigned approved_files, denied_files, names, watched;
};

struct watch_opts {
	/* The highest rung of the ladder to use (--backend): when force_backend is false, the
	 * best the kernel offers. A forced rung the kernel lacks for execs fails watch_new()
	 * with -EOPNOTSUPP (watch_probe() says why). */
	bool force_backend;
	enum watch_backend backend;
	bool no_lsm;            /* don't use BPF LSM even where the kernel has it */
	bool no_bpf;            /* don't load BPF at all: start degraded (tests, --no-bpf) */
	bool no_proc_scan;      /* skip the start-up /proc scan (tests) */
	const char *notify_cmd; /* run instead of D-Bus notifications: CMD UID LANG TITLE BODY */
	bool notify_dbus;       /* send desktop notifications over each user's session bus */
	size_t ringbuf_poll_budget; /* 0: consume everything available per dispatch */
};

/* What this kernel offers, rung by rung (`wxguard backends`, the tests' backend matrix). */
struct watch_probe {
	bool available[WATCH_BACKEND_AUTO]; /* by enum watch_backend; NONE is always available */
	char why[WATCH_BACKEND_AUTO][160];  /* why a rung is unavailable */
	char kernel[65];
	char btf[160]; /* where BTF was found, "" when none */
};
int watch_probe(struct watch_probe *ret);

typedef void (*watch_event_fn)(const json_t *ev, void *userdata);

struct watch;

/* Loads and attaches the BPF programs. When BPF cannot load (old kernel, no privilege), still
 * returns 0 with a watch in WATCH_STATE_POSTURE_ONLY (reason says why); -errno on ENOMEM or a
 * forced backend the kernel lacks. */
int watch_new(const struct watch_opts *opts, struct watch **ret);
void watch_free(struct watch *w);

/* Apply a policy: hash and verify the executables it names, build the kernel tables, then swap
 * them in (the kernel sees old ∪ new for an instant, never half of the new). On success the
 * watch takes ownership of p (and frees the previous policy); on error nothing changed and the
 * caller still owns p. */
int watch_set_policy(struct watch *w, struct policy *p);
/* The start-up scan, once, after the first policy: clients already running are judged (a
 * denied one killed in enforce mode, a held Wine loader continued or killed) and the approved
 * ones watched. Call it once the event hooks are set: its events go to them. */
int watch_scan_running(struct watch *w);
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
/* "none" "fanotify" "raw_tp" "tracing" "lsm" "auto"; _from_string returns -EINVAL for others. */
const char *watch_backend_to_string(enum watch_backend b);
int watch_backend_from_string(const char *s, enum watch_backend *ret);
/* "exec" "libraries" "injection" "renames" */
const char *watch_decision_to_string(enum watch_decision d);
/* "none" "reported" "stopped" "refused" */
const char *watch_effect_to_string(enum watch_effect e);
