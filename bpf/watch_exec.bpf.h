/* SPDX-License-Identifier: GPL-2.0 */
/* Exec judgement (raw_tp/sched_process_exec): approved or denied inode, a client-written file
 * (attachment_exec), an unlinked file run by a watched process (memfd), LD_PRELOAD / LD_AUDIT
 * in the approved client's environment, a client-family name on an unknown file, an approved
 * Wine loader (finished in user space), and the instance count. Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/events.bpf.h"
#include "bpf/lib/inode.bpf.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/names.bpf.h"
#include "bpf/lib/task.bpf.h"

#define ENV_MAX_STRINGS 256
#define ARGV_SCAN 6

static __always_inline bool str_prefix(const char *buf, const char *prefix, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		if (buf[i] != prefix[i])
			return false;
	return true;
}

/* LD_PRELOAD= / LD_AUDIT= in the new image's environment (the strings are on its stack): one
 * step per string, up to ENV_MAX_STRINGS, on every kernel (bpf/lib/loop.bpf.h). A string
 * longer than the scratch buffer is stepped over in SCRATCH_LEN - 1 byte pieces (each counts
 * as a string); its continuation pieces are not taken for the start of a variable. */
struct env_scan {
	unsigned long p, end;
	__u32 flags;
	__u32 cont;
};
LOOP_FRAME_FITS(struct env_scan);

__noinline int env_scan_step(__u32 idx)
{
	struct env_scan *es = loop_frame(LOOP_FRAME_ENV);
	struct scratch *s = scratch_buf();
	char *buf;
	long n;

	if (!es || !s || es->p >= es->end)
		return 1;
	buf = s->buf;
	n = bpf_probe_read_user_str(buf, SCRATCH_LEN, (const void *)es->p);
	if (n <= 0)
		return 1;
	if (!es->cont && buf[0] == 'L' && buf[1] == 'D' && buf[2] == '_') {
		if (str_prefix(buf + 3, "PRELOAD=", 8))
			es->flags |= WXG_EXEC_F_PRELOAD;
		else if (str_prefix(buf + 3, "AUDIT=", 6))
			es->flags |= WXG_EXEC_F_AUDIT;
	}
	es->cont = n == SCRATCH_LEN;
	es->p += es->cont ? SCRATCH_LEN - 1 : n;
	return 0;
}

static __always_inline __u32 scan_env(struct task_struct *task)
{
	struct env_scan *es = loop_frame(LOOP_FRAME_ENV);

	if (!es)
		return 0;
	es->p = BPF_CORE_READ(task, mm, env_start);
	es->end = BPF_CORE_READ(task, mm, env_end);
	es->flags = 0;
	es->cont = 0;
	wxg_loop(ENV_MAX_STRINGS, env_scan_step);
	return es->flags;
}

/* Does this exec look like a client family by name? comm (exact), the exec'd file's basename,
 * argv[0]'s basename, and for Wine loaders / ld.so / interpreters the .exe or file arguments:
 * argv[1 .. ARGV_SCAN - 1], one step each. */
struct argv_scan {
	unsigned long arg, arg_end;
	long n;
	__u32 wine, found;
	struct wxg_name_key k;
};
LOOP_FRAME_FITS(struct argv_scan);

__noinline int argv_scan_step(__u32 idx)
{
	struct argv_scan *as = loop_frame(LOOP_FRAME_ARGV);
	struct scratch *s = scratch_buf();
	struct wxg_name_key k;
	__u32 len;

	if (!as || !s || as->n <= 0)
		return 1;
	as->arg += as->n;
	if (as->arg >= as->arg_end)
		return 1;
	as->n = bpf_probe_read_user_str(s->buf, WXG_PATH_LEN, (const void *)as->arg);
	if (as->n <= 1 || s->buf[0] == '-')
		return 0;
	len = name_from_scratch(as->n, &k);
	if (as->wine && !ends_with_exe(&k, len))
		return 0;
	if (bpf_map_lookup_elem(&arg_names, &k)) {
		as->k = k;
		as->found = 1;
		return 1;
	}
	return 0;
}

static __always_inline bool judge_names(struct task_struct *task, struct linux_binprm *bprm,
					const struct wxg_inode_val *iv, char *buf,
					struct judgement *j)
{
	struct wxg_name_key k;
	struct argv_scan *as;
	unsigned long arg, arg_end;
	char comm[WXG_COMM_LEN];
	bool wine, loader;
	long n;

	__builtin_memset(&k, 0, sizeof(k));
	BPF_CORE_READ_STR_INTO(&comm, task, comm);
	__builtin_memcpy(k.name, comm, WXG_COMM_LEN);
	if (lookup_name(&comm_names, &k, j))
		return true;

	/* comm is the file's basename, cut at 15 bytes: lowercase it for arg_names, and read
	 * the whole basename only when it was cut. */
	comm_lower(&k);
	if (lookup_name(&arg_names, &k, j))
		return true;
	if (comm[WXG_COMM_LEN - 2]) {
		n = bpf_probe_read_kernel_str(buf, WXG_PATH_LEN, BPF_CORE_READ(bprm, filename));
		name_from_scratch(n, &k);
		if (lookup_name(&arg_names, &k, j))
			return true;
	}

	arg = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	n = bpf_probe_read_user_str(buf, WXG_PATH_LEN, (const void *)arg);
	name_from_scratch(n, &k);
	if (lookup_name(&arg_names, &k, j))
		return true;

	wine = (iv && (iv->flags & WXG_I_WINE)) ||
	       (comm[0] == 'w' && comm[1] == 'i' && comm[2] == 'n' && comm[3] == 'e');
	loader = iv && (iv->flags & WXG_I_LOADER);
	if (!wine && !loader)
		return false;
	as = loop_frame(LOOP_FRAME_ARGV);
	if (!as)
		return false;
	as->arg = arg;
	as->arg_end = arg_end;
	as->n = n;
	as->wine = wine;
	as->found = 0;
	wxg_loop(ARGV_SCAN - 1, argv_scan_step);
	/* an unapproved loader starting a family .exe / file */
	if (!as->found)
		return false;
	k = as->k;
	return lookup_name(&arg_names, &k, j);
}

/* A shell running a Wine client's program or named after it: its launcher script (Debian's
 * `wine` script, whose name is the client's too; deepin's run.sh). User space tells an
 * approved launcher from any other script (watch_wine.c). */
static __always_inline void shell_pending(const struct wxg_inode_val *iv, struct judgement *j)
{
	struct wxg_client_cfg *cc;
	__u32 ci = j->client;

	if (!iv || !(iv->flags & WXG_I_SHELL) || j->reason != WXG_R_UNAPPROVED)
		return;
	cc = bpf_map_lookup_elem(&clients, &ci);
	if (cc && (cc->flags & WXG_C_WINE)) {
		j->verdict = WXG_V_PENDING;
		j->reason = WXG_R_WINE;
	}
}

/* Everything the exec judgement and its consequences need, scalars only: the two halves
 * below are global functions, verified once each instead of once per path through both.
 * Before 5.12 a global function takes no pointer, so they find it in the calling CPU's
 * LOOP_FRAME_EXEC frame (bpf/lib/loop.bpf.h), filled by handle_sched_process_exec. */
struct exec_state {
	struct judgement j;
	struct wxg_inode_key ik;
	struct wxg_watch w; /* copy of the watched entry, when has_w */
	__u64 size;
	__u64 start_ns;
	__u32 tgid;
	__u32 old_pid;
	__u32 uid;
	__u32 has_w;
	__u32 family;
	__u32 _pad;
};
LOOP_FRAME_FITS(struct exec_state);

__noinline int exec_judge(__u64 task_ptr, __u64 bprm_ptr)
{
	struct exec_state *x = loop_frame(LOOP_FRAME_EXEC);
	struct task_struct *task = (struct task_struct *)task_ptr;
	struct linux_binprm *bprm = (struct linux_binprm *)bprm_ptr;
	const struct wxg_config *cfg = get_config();
	/* The inode key on the stack: 6.1 takes a map key only on the stack or in a map value. */
	struct wxg_inode_key ik;
	struct judgement *j;
	struct wxg_inode_val *iv;
	struct wxg_watch *w;
	struct inode *inode;
	struct scratch *s;
	__u32 zero = 0;

	if (!x || !cfg)
		return 0;
	j = &x->j;
	if (x->tgid == cfg->agent_tgid)
		return 0;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	if (x->old_pid != x->tgid) {
		__u32 op = x->old_pid;

		j->flags |= WXG_EXEC_F_THREAD;
		bpf_map_delete_elem(&threads, &op);
	}
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		j->flags |= WXG_EXEC_F_SCRIPT;
	if (BPF_CORE_READ(bprm, fdpath))
		j->flags |= WXG_EXEC_F_FD;

	inode = BPF_CORE_READ(bprm, file, f_inode);
	inode_key(inode, &ik);
	x->ik = ik;
	x->size = BPF_CORE_READ(inode, i_size);
	if (BPF_CORE_READ(inode, i_nlink) == 0)
		j->flags |= WXG_EXEC_F_NOLINK;
	iv = bpf_map_lookup_elem(&inodes, &ik);
	if (iv && (iv->flags & WXG_I_LOADER))
		j->flags |= WXG_EXEC_F_LOADER;
	w = lookup_watched(x->tgid, x->start_ns);
	if (w) {
		x->w = *w;
		x->has_w = 1;
	}

	if (iv && (iv->flags & WXG_I_DENIED)) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_DENIED_INODE;
		j->client = iv->client;
		j->flags |= WXG_EXEC_F_DENIED_FAMILY;
	} else if ((cfg->flags & WXG_CFG_ATTACHMENT_EXEC) &&
		   !((j->flags & WXG_EXEC_F_NOLINK) && x->has_w) && /* fileless, below */
		   was_written(inode, &ik)) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_ATTACHMENT;
	} else if (iv && (iv->flags & WXG_I_APPROVED)) {
		__s64 csec;
		__u32 cnsec;

		inode_ctime(inode, &csec, &cnsec);
		j->client = iv->client;
		if (iv->size != x->size || iv->ctime_sec != csec || iv->ctime_nsec != cnsec) {
			j->verdict = WXG_V_DENY;
			j->reason = WXG_R_MODIFIED;
		} else {
			x->family = 1;
			j->verdict = WXG_V_ALLOW;
			j->reason = WXG_R_APPROVED;
			j->flags |= scan_env(task);
			if (j->flags & (WXG_EXEC_F_PRELOAD | WXG_EXEC_F_AUDIT)) {
				j->verdict = WXG_V_DENY;
				j->reason = WXG_R_PRELOAD;
			} else if (iv->flags & WXG_I_WINE) {
				/* An approved Wine loader: user space judges the .exe, prefix. */
				j->verdict = WXG_V_PENDING;
				j->reason = WXG_R_WINE;
			}
		}
	} else if (judge_names(task, bprm, iv, s->buf, j)) {
		x->family = 1;
		shell_pending(iv, j);
	}

	if (j->reason == WXG_R_NONE && (j->flags & WXG_EXEC_F_NOLINK) && x->has_w) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_MEMFD;
	}
	if (j->reason == WXG_R_NONE && x->has_w) {
		j->verdict = WXG_V_ALLOW;
		j->reason = WXG_R_CHILD;
		j->client = x->w.client;
	}
	return j->reason != WXG_R_NONE;
}

__noinline int exec_finish(__u64 task_ptr, __u64 bprm_ptr)
{
	struct exec_state *x = loop_frame(LOOP_FRAME_EXEC);
	struct task_struct *task = (struct task_struct *)task_ptr;
	struct linux_binprm *bprm = (struct linux_binprm *)bprm_ptr;
	const struct wxg_config *cfg = get_config();
	struct wxg_watch nw = {};
	struct wxg_ev_exec *e;
	struct judgement *j;
	bool report, enforce;
	__u32 tgid;
	__u16 a;

	if (!x || !cfg)
		return 0;
	j = &x->j;
	tgid = x->tgid;
	enforce = cfg->mode == WXG_MODE_ENFORCE;

	/* The approved client: count the instance (a client re-exec'ing itself stays counted). */
	if (j->reason == WXG_R_APPROVED) {
		bool counted = x->has_w && (x->w.flags & WXG_W_INSTANCE);

		if (!counted) {
			bool ok = instance_get(x->uid, j->client, !enforce);

			if (!ok) {
				j->verdict = WXG_V_DENY;
				j->reason = WXG_R_INSTANCES;
			}
			counted = ok || !enforce;
		}
		nw.flags = WXG_W_CLIENT | (counted ? WXG_W_INSTANCE : 0);
	} else if (x->has_w && (x->w.flags & WXG_W_INSTANCE)) {
		instance_put(x->w.uid, x->w.client);
	}

	/* Don't repeat a report for a process already reported as denied (audit mode). */
	report = !(x->has_w && (x->w.flags & WXG_W_REPORTED) && j->verdict == WXG_V_DENY &&
		   (j->reason == WXG_R_DENIED_NAME || j->reason == WXG_R_UNAPPROVED));

	a = act(cfg, j->verdict);

	/* Keep watching what runs on: the client, its tree, and (audit) what was denied. */
	nw.start_ns = x->start_ns;
	nw.uid = x->uid;
	nw.client = j->client;
	if (j->reason == WXG_R_APPROVED || j->reason == WXG_R_INSTANCES) {
		/* flags set above */
	} else if (j->reason == WXG_R_PRELOAD || j->reason == WXG_R_WINE) {
		nw.flags = WXG_W_CLIENT |
			   (j->reason == WXG_R_WINE ? WXG_W_PENDING : WXG_W_REPORTED);
	} else if (j->verdict == WXG_V_DENY && x->family) {
		nw.flags = WXG_W_DENIED | WXG_W_REPORTED;
	} else if (x->has_w) {
		nw.flags = (x->w.flags & (WXG_W_REPORTED | WXG_W_DENIED)) | WXG_W_CHILD;
		nw.client = x->w.client;
	} else {
		nw.flags = WXG_W_CHILD;
	}
	/* A killed process keeps its (updated) entry until exit, so the instance it held is
	 * released exactly once. */
	if (a == WXG_A_NONE || x->has_w || (nw.flags & WXG_W_INSTANCE))
		bpf_map_update_elem(&watched, &tgid, &nw, BPF_ANY);
	if (!report)
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	/* An approved Wine loader in enforce mode is held until user space has judged the .exe
	 * it runs: stopped before its first instruction, continued or killed by the agent
	 * (agent/watch/watch_judge.c). Only when the event is on its way: a lost event must not
	 * leave a process stopped. Launcher scripts are not held: the loader they start is. */
	if (j->reason == WXG_R_WINE && j->verdict == WXG_V_PENDING && enforce &&
	    !(j->flags & WXG_EXEC_F_LOADER)) {
		bpf_send_signal(SIGSTOP);
		a = WXG_A_HOLD;
	}
	fill_hdr(&e->hdr, WXG_EV_EXEC, sizeof(*e), tgid);
	fill_task(&e->task, task, nw.flags);
	e->task.pid = x->old_pid;
	e->v.verdict = j->verdict;
	e->v.reason = j->reason;
	e->v.action = a;
	e->v.client = j->client;
	e->flags = j->flags;
	e->dev = x->ik.dev;
	e->ino = x->ik.ino;
	e->size = x->size;
	__builtin_memcpy(e->name, j->name.name, WXG_NAME_LEN);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	ev_submit(e);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(handle_sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct exec_state *x = loop_frame(LOOP_FRAME_EXEC);
	__u64 *stopped;
	__u32 tgid;
	__u64 start_ns;

	cnt_add(WXG_CNT_EXECS, 1);
	tgid = BPF_CORE_READ(task, tgid);
	start_ns = task_start_ns(task);
	/* Killed in this exec by a tracing program (bpf/watch_bprm.bpf.h): judged and reported. */
	stopped = bpf_map_lookup_elem(&exec_stopped, &tgid);
	if (stopped) {
		bool same = *stopped == start_ns;

		bpf_map_delete_elem(&exec_stopped, &tgid);
		if (same)
			return 0;
	}
	if (!x)
		return 0;
	__builtin_memset(x, 0, sizeof(*x));
	x->j.client = WXG_CLIENT_NONE;
	x->tgid = tgid;
	x->old_pid = old_pid;
	x->start_ns = start_ns;
	x->uid = BPF_CORE_READ(task, real_cred, uid.val);
	if (exec_judge((__u64)task, (__u64)bprm))
		exec_finish((__u64)task, (__u64)bprm);
	return 0;
}
