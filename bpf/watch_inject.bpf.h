/* SPDX-License-Identifier: GPL-2.0 */
/* Injection into the approved client: ptrace requests that attach to or write into it, and
 * process_vm_writev. Called from handle_sys_enter (bpf/watch_sys_enter.bpf.h). Part of
 * bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/events.bpf.h"
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

static __always_inline int on_inject(const struct wxg_config *cfg, struct task_struct *task,
				     __u32 tgid, __u64 request, __u32 target, __u16 reason)
{
	struct wxg_watch *tw, *self;
	struct wxg_ev_inject *e;
	__u32 target_tgid;
	__u16 client, a;
	__u64 tstart;

	tw = lookup_target(target, &target_tgid);
	if (!tw || !(tw->flags & WXG_W_CLIENT) || target_tgid == tgid)
		return 0;
	client = tw->client;
	tstart = tw->start_ns;
	self = bpf_map_lookup_elem(&watched, &tgid);
	if (self && (self->flags & WXG_W_CLIENT) && self->client == client)
		return 0; /* the client's own crash handler */
	a = act(cfg, WXG_V_DENY);
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_INJECT, sizeof(*e), tgid);
	fill_task(&e->task, task, self ? self->flags : 0);
	e->v.verdict = WXG_V_DENY;
	e->v.reason = reason;
	e->v.action = a;
	e->v.client = client;
	e->request = request;
	e->target_tgid = target_tgid;
	e->target_pid = target;
	e->target_start_ns = tstart;
	ev_submit(e);
	return 0;
}
