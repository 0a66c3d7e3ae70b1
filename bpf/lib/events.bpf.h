/* SPDX-License-Identifier: GPL-2.0 */
/* Ring-buffer records (header, task) and the one action the kernel takes on a deny: every
 * program that reports goes through ev_reserve() / ev_submit(), so drops and events are
 * counted in one place. Record layouts: bpf/wxg_abi.h. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/task.bpf.h"

#define SIGKILL 9
#define SIGSTOP 19

static __always_inline void *ev_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		cnt_add(WXG_CNT_DROPS, 1);
	return e;
}

static __always_inline void ev_submit(void *e)
{
	bpf_ringbuf_submit(e, 0);
	cnt_add(WXG_CNT_EVENTS, 1);
}

static __always_inline void fill_hdr(struct wxg_ev_hdr *h, __u16 type, __u16 size, __u32 tgid)
{
	h->type = type;
	h->size = size;
	h->tgid = tgid;
	h->ts_ns = bpf_ktime_get_boot_ns();
}

static __always_inline void fill_task(struct wxg_ev_task *t, struct task_struct *task, __u32 wflags)
{
	t->pid = BPF_CORE_READ(task, pid);
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = BPF_CORE_READ(task, real_cred, uid.val);
	t->wflags = wflags;
	t->start_ns = task_start_ns(task);
	BPF_CORE_READ_STR_INTO(&t->comm, task, comm);
}

/* In enforce mode a denied verdict kills the acting (current) process: the SIGKILL is
 * delivered before it returns to user space. */
static __always_inline __u16 act(const struct wxg_config *cfg, __u16 verdict)
{
	if (verdict != WXG_V_DENY || cfg->mode != WXG_MODE_ENFORCE)
		return WXG_A_NONE;
	bpf_send_signal(SIGKILL);
	cnt_add(WXG_CNT_KILLS, 1);
	return WXG_A_KILL;
}

/* The BPF LSM's action: a denied verdict in enforce mode is refused (the hook returns -EPERM),
 * nothing is killed. */
static __always_inline __u16 act_refuse(const struct wxg_config *cfg, __u16 verdict)
{
	if (verdict != WXG_V_DENY || cfg->mode != WXG_MODE_ENFORCE)
		return WXG_A_NONE;
	cnt_add(WXG_CNT_LSM_DENIES, 1);
	return WXG_A_LSM_DENY;
}
