/* SPDX-License-Identifier: GPL-2.0 */
/* The exec judgement that needs only the file (security_bprm_check): a denied executable, a
 * file a watched process wrote, a client-family name on an unapproved inode. Shared by the BPF
 * LSM (refuses it, bpf/watch_lsm.bpf.h) and the tracing programs (kill the process before the
 * exec returns, bpf/watch_trace.bpf.h); what needs the new image (environment, instances)
 * stays with the raw tracepoint (bpf/watch_exec.bpf.h). Part of bpf/watch.bpf.c. */
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

/* Enforce mode only (audit: the raw tracepoint reports). Runs once per binfmt level (script,
 * then interpreter). Returns true when the exec must fail (refuse); with !refuse the process
 * is killed (bpf_send_signal) and marked in exec_stopped, so the exec tracepoint does not
 * judge and report it a second time. */
static __always_inline bool judge_bprm(struct linux_binprm *bprm, bool refuse)
{
	const struct wxg_config *cfg = get_config();
	struct judgement j = { .client = WXG_CLIENT_NONE };
	struct task_struct *task;
	struct wxg_inode_val *iv;
	struct wxg_inode_key ik;
	struct wxg_name_key k;
	struct wxg_ev_exec *e;
	struct inode *inode;
	struct scratch *s;
	__u32 tgid, zero = 0;
	__u64 start;
	__u16 a;
	long n;

	if (!cfg || cfg->mode != WXG_MODE_ENFORCE)
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid == cfg->agent_tgid)
		return false;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return false;
	inode = BPF_CORE_READ(bprm, file, f_inode);
	inode_key(inode, &ik);
	iv = bpf_map_lookup_elem(&inodes, &ik);
	if (iv && (iv->flags & WXG_I_DENIED)) {
		j.reason = WXG_R_DENIED_INODE;
		j.client = iv->client;
	} else if ((cfg->flags & WXG_CFG_ATTACHMENT_EXEC) && was_written(inode, &ik)) {
		j.reason = WXG_R_ATTACHMENT;
	} else if (iv && (iv->flags & WXG_I_LOADER)) {
		/* The interpreter of a script (bprm->filename is still the script's name, judged
		 * at the script's own level): a shell running the client's launcher (Debian's
		 * `wine`) is judged with its arguments at the exec tracepoint. */
		return false;
	} else if (!iv || !(iv->flags & WXG_I_APPROVED)) {
		n = bpf_probe_read_kernel_str(s->buf, WXG_PATH_LEN, BPF_CORE_READ(bprm, filename));
		name_from_scratch(n, &k);
		if (!lookup_name(&arg_names, &k, &j))
			return false;
		if (iv && (iv->flags & WXG_I_WINE))
			return false;
	} else {
		return false;
	}
	j.verdict = WXG_V_DENY;
	task = (struct task_struct *)bpf_get_current_task();
	a = refuse ? act_refuse(cfg, j.verdict) : act(cfg, j.verdict);
	if (a == WXG_A_KILL) {
		start = task_start_ns(task);
		bpf_map_update_elem(&exec_stopped, &tgid, &start, BPF_ANY);
	}
	e = ev_reserve(sizeof(*e));
	if (e) {
		fill_hdr(&e->hdr, WXG_EV_EXEC, sizeof(*e), tgid);
		fill_task(&e->task, task, 0);
		e->v.verdict = j.verdict;
		e->v.reason = j.reason;
		e->v.action = a;
		e->v.client = j.client;
		e->flags = j.flags;
		e->dev = ik.dev;
		e->ino = ik.ino;
		e->size = BPF_CORE_READ(inode, i_size);
		__builtin_memcpy(e->name, j.name.name, WXG_NAME_LEN);
		bpf_probe_read_kernel_str(e->filename, sizeof(e->filename),
					  BPF_CORE_READ(bprm, filename));
		ev_submit(e);
	}
	return a == WXG_A_LSM_DENY;
}
