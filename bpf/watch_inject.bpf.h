/* SPDX-License-Identifier: GPL-2.0 */
/* Injection into the approved client: ptrace requests that attach to or write into it, and
 * process_vm_writev (from handle_sys_enter, bpf/watch_sys_enter.bpf.h); every ptrace access
 * check in attach mode (from the LSM and tracing programs, bpf/watch_lsm.bpf.h,
 * bpf/watch_trace.bpf.h). Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/events.bpf.h"
#include "bpf/lib/inode.bpf.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/task.bpf.h"

/* ptrace requests that attach to or write into the target. */
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSER 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206

/* Is the task Wine's server (its executable flagged WXG_I_WINESERVER)? wineserver performs every
 * cross-process read and write of the Windows processes it serves (ptrace, /proc/PID/mem,
 * process_vm_writev): that is not an injection, and killing it would end the client's whole
 * session. What runs in the client's prefix is judged at exec instead (docs/wine.md). */
static __always_inline bool task_is_wineserver(struct task_struct *task)
{
	struct wxg_inode_val *iv;
	struct wxg_inode_key k;
	struct file *f = BPF_CORE_READ(task, mm, exe_file);

	if (!f)
		return false;
	inode_key(BPF_CORE_READ(f, f_inode), &k);
	iv = bpf_map_lookup_elem(&inodes, &k);
	return iv && (iv->flags & WXG_I_WINESERVER);
}

/* Injection aimed at the approved client (target_tgid) by the current process: reported, and in
 * enforce mode killed (act(): raw tracepoint, tracing) or refused (refuse: BPF LSM). Not by the
 * agent (the caller checks), not by the client's own processes (its crash handler). Returns
 * true when the attempt must fail (refuse, enforce mode). */
static __always_inline bool judge_inject(const struct wxg_config *cfg, struct task_struct *task,
					 __u32 tgid, __u64 request, __u32 target_tgid,
					 __u32 target_pid, __u16 reason, bool refuse)
{
	struct wxg_watch *tw, *self;
	struct wxg_ev_inject *e;
	__u16 client, a;
	__u64 tstart;

	tw = bpf_map_lookup_elem(&watched, &target_tgid);
	if (!tw || !(tw->flags & WXG_W_CLIENT) || target_tgid == tgid)
		return false;
	client = tw->client;
	tstart = tw->start_ns;
	self = bpf_map_lookup_elem(&watched, &tgid);
	/* The client's own crash handler; not a process user space is still judging (a shell
	 * running a launcher script, a Wine loader: their program may not be the client's). */
	if (self && (self->flags & WXG_W_CLIENT) && !(self->flags & WXG_W_PENDING) &&
	    self->client == client)
		return false;
	if (task_is_wineserver(task))
		return false;
	a = refuse ? act_refuse(cfg, WXG_V_DENY) : act(cfg, WXG_V_DENY);
	e = ev_reserve(sizeof(*e));
	if (e) {
		fill_hdr(&e->hdr, WXG_EV_INJECT, sizeof(*e), tgid);
		fill_task(&e->task, task, self ? self->flags : 0);
		e->v.verdict = WXG_V_DENY;
		e->v.reason = reason;
		e->v.action = a;
		e->v.client = client;
		e->request = request;
		e->target_tgid = target_tgid;
		e->target_pid = target_pid;
		e->target_start_ns = tstart;
		ev_submit(e);
	}
	return a == WXG_A_LSM_DENY;
}

/* raw_tp/sys_enter: target is the pid passed to the syscall (maybe a thread id). */
static __always_inline int on_inject(const struct wxg_config *cfg, struct task_struct *task,
				     __u32 tgid, __u64 request, __u32 target, __u16 reason)
{
	__u32 target_tgid;

	if (!lookup_target(target, &target_tgid))
		return 0;
	judge_inject(cfg, task, tgid, request, target_tgid, target, reason, false);
	return 0;
}

#define PTRACE_MODE_ATTACH 0x02

/* A ptrace access check (security_ptrace_access_check(child, mode)): ptrace attach, /proc/PID/mem,
 * process_vm_readv/writev, pidfd_getfd ask for PTRACE_MODE_ATTACH; reads of /proc/PID/stat & co.
 * (PTRACE_MODE_READ) are left alone. Shared by the LSM and the tracing programs. */
static __always_inline bool judge_ptrace_access(struct task_struct *child, unsigned int mode,
						bool refuse)
{
	const struct wxg_config *cfg;
	__u32 tgid;

	if (!(mode & PTRACE_MODE_ATTACH))
		return false;
	cfg = get_config();
	if (!cfg)
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid == cfg->agent_tgid)
		return false;
	return judge_inject(cfg, (struct task_struct *)bpf_get_current_task(), tgid,
			    WXG_INJECT_ACCESS | mode, BPF_CORE_READ(child, tgid),
			    BPF_CORE_READ(child, pid), WXG_R_PTRACE, refuse);
}
