/* Internals shared by agent/watch/watch*.c. Not for other modules: use agent/watch/watch.h.
 * Calls go one way: watch.c (the facade) -> watch_load.c, watch_tables.c, watch_judge.c,
 * watch_scan.c -> watch_act.c; no file calls back into the one above it. */
#pragma once
#include <linux/types.h>
#include <stdint.h>

#include "agent/watch/hashcache.h"
#include "agent/watch/watch_btf.h"
#include "agent/watch/notify.h"
#include "agent/host/sysroot.h"
#include "agent/watch/watch.h"
#include "bpf/wxg_abi.h"

#define WATCH_MAX_HOOKS 8

struct watch_bpf;
struct watch_fan;
struct ring_buffer;

/* One executable the policy names, as the kernel will see it. */
struct watch_inode {
	struct wxg_inode_key key;
	struct wxg_inode_val val;
	char *path;
	char sha256[HASH_SHA256_HEX]; /* "" when not hashed */
};

struct watch_name {
	struct wxg_name_key key;
	struct wxg_name_val val;
	bool comm; /* comm_names (exact), else arg_names (lowercase) */
};

/* A directory a client's libraries may come from (the lib_dirs map). */
struct watch_lib_dir {
	struct wxg_inode_key key;
	struct wxg_lib_dir_val val;
};

struct watch_tables {
	struct watch_inode *inodes;
	size_t n_inodes;
	struct watch_name *names;
	size_t n_names;
	size_t n_approved, n_denied;
	struct watch_lib_dir *lib_dirs;
	size_t n_lib_dirs;
	uint64_t lib_exact; /* clients (bit = index) whose every lib_dirs entry is in lib_dirs */
	/* a wine_manifest that could not be read (its prefix is not judged by it), for the
	 * caller's one warning */
	const char *manifest_err_path;
	int manifest_err;
};

struct watch {
	struct watch_opts opts;
	/* The last Wine start judged and stopped (pid, start): the loader's own re-exec (wine64 ->
	 * wine64-preloader, same process) is not reported a second time. */
	bool scanned; /* watch_scan_running() done */
	uint32_t wine_denied_pid;
	uint64_t wine_denied_start_ns;
	struct watch_bpf *skel;
	struct ring_buffer *rb;
	struct watch_btf btf;  /* the kernel's BTF, where it was found (watch_btf.c) */
	struct watch_fan *fan; /* the fanotify rung (agent/watch/watch_fanotify.c), or NULL */
	enum watch_enforcement enf;
	enum watch_run_state state;
	char reason[256];
	struct watch_decision_state dec[WATCH_DEC_MAX]; /* the rung each decision got */
	struct policy *policy;
	struct watch_tables tables;
	unsigned generation;
	struct hashcache *hc;
	struct sysroot *sr;
	struct notify *notify;
	struct pkgdb *pkgdb; /* opened on first use */
	struct {
		watch_event_fn fn;
		void *ud;
	} hooks[WATCH_MAX_HOOKS];
	uint64_t drops_reported;
	uint64_t user_kills;
	uint64_t n_emitted;
	int ncpus;
	long clk_tck;
};

/* watch_load.c: probe the rungs, choose per decision, load and attach. Returns 0 with w->skel
 * loaded, or 0 in WATCH_STATE_POSTURE_ONLY when nothing could load; -EOPNOTSUPP when the
 * forced rung cannot take execs. */
int watch_load_bpf(struct watch *w);
/* Posture only: free the skeleton, say why (what: the step that failed). */
void watch_load_degrade(struct watch *w, const char *what, int err);

/* watch_tables.c */
typedef int (*watch_path_fn)(struct watch *w, struct watch_tables *t, const char *path, void *ud);
/* 1 when path is a genuine (digest-verified) file of pkg, 0 when not, -errno when unknown. */
int watch_package_owns(struct watch *w, const char *pkg, const char *path);
/* fn for every file pkg installs (none when it is not installed). */
int watch_package_files(struct watch *w, const char *pkg, watch_path_fn fn, struct watch_tables *t,
			void *ud);
int watch_tables_build(struct watch *w, const struct policy *p, struct watch_tables *ret);
int watch_tables_apply(struct watch *w, const struct policy *p, const struct watch_tables *t,
		       unsigned generation);
void watch_tables_clear(struct watch_tables *t);
const struct watch_inode *watch_tables_find(const struct watch_tables *t, uint32_t dev,
					    uint64_t ino);
/* watch_libdirs.c: lib_dirs entries -> directories (dev, ino), below watch_tables.c. */
int watch_libdirs_build(struct watch *w, const struct policy *p, struct watch_tables *t);
/* Write t's directories to the lib_dirs map (fd) and delete the others. */
int watch_libdirs_apply(int fd, const struct watch_tables *t);
/* Add the directory at path for client: one of its lib_dirs, or (prefix) its Wine prefix. */
int watch_libdirs_add(struct watch_tables *t, const char *path, unsigned client, bool prefix);
/* watch_wine_images.c: the Wine prefixes of clients with a wine_manifest, in every home, and
 * the manifest's files in each (WXG_I_WINE_IMAGE inodes, digest-verified). */
int watch_wine_images_build(struct watch *w, const struct policy *p, struct watch_tables *t);
/* The same for one prefix (an absolute path, as the real system sees it) of client idx. */
int watch_wine_images_add(struct watch *w, struct watch_tables *t, unsigned idx,
			  const struct policy_client *c, const char *prefix);
/* Is the directory at prefix already client idx's Wine prefix in t? */
bool watch_wine_images_has(const struct watch_tables *t, unsigned idx, const char *prefix);
/* watch_tables.c: add or merge an inode (a deny wins over an approval of the same file). */
int watch_tables_add_inode(struct watch_tables *t, const char *path, const struct stat *st,
			   uint16_t flags, uint16_t client, const char *sha256);
/* st_dev as the kernel's inode->i_sb->s_dev encodes it. */
uint32_t watch_kdev(dev_t dev);

/* watch_act.c: what judge and scan do with a judgement (below both, never calls up). */
/* Hand ev (borrowed) to every hook. */
void watch_act_emit(struct watch *w, json_t *ev);
/* Emit ev; a deny also gets its message, and a desktop notification to uid in the language of
 * lang_pid when it was blocked and the policy asks for notifications. */
void watch_act_report(struct watch *w, json_t *ev, const char *rule, bool deny, bool blocked,
		      const char *subject, const char *detail, uid_t uid, pid_t lang_pid);
/* Kill pid only if it is still the process the kernel reported (start time matches; 0: any),
 * through a pidfd so the PID cannot be reused between the check and the signal. */
int watch_act_kill(struct watch *w, pid_t pid, uint64_t start_ns, int sig);
/* In enforce mode, SIGKILL pid as watch_act_kill() does: "kill_user" when it was killed, else
 * action (what the kernel did, "none" when nothing). */
const char *watch_act_enforce(struct watch *w, pid_t pid, uint64_t start_ns, const char *action);

/* watch_judge.c: ring-buffer records -> events, finishing what the kernel left pending. */
void watch_judge_record(struct watch *w, const struct wxg_ev_hdr *h);

/* watch_scan.c: the start-up /proc scan for clients already running. */
int watch_scan_proc(struct watch *w);

/* Small accessors the judging files share. */
static inline const char *watch_mode_str(const struct watch *w)
{
	return w->policy ? policy_mode_to_string(w->policy->mode) : "audit";
}

static inline bool watch_enforcing(const struct watch *w)
{
	return w->policy && w->policy->mode == POLICY_MODE_ENFORCE;
}

static inline const struct policy_client *watch_client_of(const struct watch *w, unsigned idx)
{
	return w->policy && idx < w->policy->n_clients ? &w->policy->clients[idx] : NULL;
}

static inline const struct policy_deny *watch_deny_of(const struct watch *w, unsigned idx)
{
	return w->policy && idx < w->policy->n_denies ? &w->policy->denies[idx] : NULL;
}
