/* SPDX-License-Identifier: GPL-2.0 */
/* Process lifetime (raw_tp/sched_process_fork, sched_process_exit): a watched process's forks
 * and threads are watched too; the last thread's exit releases its entry and its instance.
 * Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/task.bpf.h"

SEC("raw_tp/sched_process_fork")
int BPF_PROG(handle_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 pid = BPF_CORE_READ(child, pid), tgid = BPF_CORE_READ(child, tgid);
	struct wxg_watch *w, nw;

	w = bpf_map_lookup_elem(&watched, &ptgid);
	if (!w)
		return 0;
	if (pid != tgid) {
		bpf_map_update_elem(&threads, &pid, &tgid, BPF_ANY);
		return 0;
	}
	nw = *w;
	nw.start_ns = task_start_ns(child);
	nw.flags &= ~WXG_W_INSTANCE; /* a fork of the client is not another instance */
	bpf_map_update_elem(&watched, &tgid, &nw, BPF_ANY);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_sched_process_exit, struct task_struct *task)
{
	__u32 pid = BPF_CORE_READ(task, pid), tgid = BPF_CORE_READ(task, tgid);
	struct wxg_watch *w;

	if (pid != tgid)
		bpf_map_delete_elem(&threads, &pid);
	/* Only the last thread of the group ends the process (threads may outlive the leader). */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w)
		return 0;
	if (w->flags & WXG_W_INSTANCE)
		instance_put(w->uid, w->client);
	bpf_map_delete_elem(&watched, &tgid);
	return 0;
}
