/* Internals shared by agent/watch*.c. Not for other modules: use agent/watch/watch.h. */
#pragma once
#include <linux/types.h>
#include <stdint.h>

#include "agent/watch/hashcache.h"
#include "agent/watch/notify.h"
#include "agent/host/sysroot.h"
#include "agent/watch/watch.h"
#include "bpf/wxg_abi.h"

#define WATCH_MAX_HOOKS 8

struct watch_bpf;
struct ring_buffer;

/* One executable the policy names, as the kernel will see it. */
struct watch_inode {
	struct wxg_inode_key key;
	struct wxg_inode_val val;
	char *path;
	char sha256[HASH_SHA256_HEX];   /* "" when not hashed */
};

struct watch_name {
	struct wxg_name_key key;
	struct wxg_name_val val;
	bool comm;                      /* comm_names (exact), else arg_names (lowercase) */
};

struct watch_tables {
	struct watch_inode *inodes;
	size_t n_inodes;
	struct watch_name *names;
	size_t n_names;
	size_t n_approved, n_denied;
};

struct watch {
	struct watch_opts opts;
	struct watch_bpf *skel;
	struct ring_buffer *rb;
	enum watch_enforcement enf;
	enum watch_run_state state;
	char reason[256];
	struct policy *policy;
	struct watch_tables tables;
	unsigned generation;
	struct hashcache *hc;
	struct sysroot *sr;
	struct notify *notify;
	struct pkgdb *pkgdb;            /* opened on first use */
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
const struct watch_inode *watch_tables_find(const struct watch_tables *t, uint32_t dev, uint64_t ino);
/* st_dev as the kernel's inode->i_sb->s_dev encodes it. */
uint32_t watch_kdev(dev_t dev);

/* watch_judge.c */
void watch_judge_record(struct watch *w, const struct wxg_ev_hdr *h);
int watch_scan_proc(struct watch *w);

/* watch.c */
void watch_emit(struct watch *w, json_t *ev);
int watch_kill_checked(struct watch *w, pid_t pid, uint64_t start_ns, int sig);
