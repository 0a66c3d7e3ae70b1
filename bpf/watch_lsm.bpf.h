/* SPDX-License-Identifier: GPL-2.0 */
/* BPF LSM (lsm/bprm_check_security), where the kernel has it: refuses an exec with -EPERM
 * instead of killing it after the fact. Part of bpf/watch.bpf.c. */
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

#define EPERM 1

/* BPF LSM, loaded only where the kernel has it (agent/watch/watch.c probes): refuses the exec of a
 * denied or unapproved binary, a client-written file, or a family name on an unknown inode,
 * so the old image keeps running and gets -EPERM. Runs once per binfmt level (script, then
 * interpreter). What needs the new image (environment, instances) stays with the raw
 * tracepoint (bpf/watch_exec.bpf.h). */
SEC("lsm/bprm_check_security")
int BPF_PROG(handle_bprm_check, struct linux_binprm *bprm, int ret)
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
	long n;

	if (ret || !cfg || cfg->mode != WXG_MODE_ENFORCE)
		return ret;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid == cfg->agent_tgid)
		return 0;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	inode = BPF_CORE_READ(bprm, file, f_inode);
	inode_key(inode, &ik);
	iv = bpf_map_lookup_elem(&inodes, &ik);
	if (iv && (iv->flags & WXG_I_DENIED)) {
		j.reason = WXG_R_DENIED_INODE;
		j.client = iv->client;
	} else if ((cfg->flags & WXG_CFG_ATTACHMENT_EXEC) && was_written(inode, &ik)) {
		j.reason = WXG_R_ATTACHMENT;
	} else if (!iv || !(iv->flags & WXG_I_APPROVED)) {
		n = bpf_probe_read_kernel_str(s->buf, WXG_PATH_LEN, BPF_CORE_READ(bprm, filename));
		name_from_scratch(n, &k);
		if (!lookup_name(&arg_names, &k, &j))
			return 0;
		if (iv && (iv->flags & WXG_I_WINE))
			return 0;
	} else {
		return 0;
	}
	j.verdict = WXG_V_DENY;
	cnt_add(WXG_CNT_LSM_DENIES, 1);
	e = ev_reserve(sizeof(*e));
	if (e) {
		task = (struct task_struct *)bpf_get_current_task();
		fill_hdr(&e->hdr, WXG_EV_EXEC, sizeof(*e), tgid);
		fill_task(&e->task, task, 0);
		e->v.verdict = j.verdict;
		e->v.reason = j.reason;
		e->v.action = WXG_A_LSM_DENY;
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
	return -EPERM;
}
