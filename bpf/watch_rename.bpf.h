/* SPDX-License-Identifier: GPL-2.0 */
/* comm renames (raw_tp/task_rename): a process naming itself after a client family, such as
 * a Wine loader that runs a family .exe. Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/events.bpf.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/task.bpf.h"
#include "bpf/lib/names.bpf.h"

SEC("raw_tp/task_rename")
int BPF_PROG(handle_task_rename, struct task_struct *task, const char *comm)
{
	const struct wxg_config *cfg = get_config();
	struct judgement j = { .client = WXG_CLIENT_NONE };
	struct wxg_ev_rename *e;
	struct wxg_name_key k;
	struct wxg_watch *w;
	__u32 tgid;
	__u16 a;

	if (!cfg)
		return 0;
	/* exec sets comm from the file name: handle_sched_process_exec judges that. */
	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	if (tgid == cfg->agent_tgid)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	bpf_probe_read_kernel_str(k.name, WXG_COMM_LEN, comm);
	if (!lookup_name(&comm_names, &k, &j)) {
		comm_lower(&k);
		if (!lookup_name(&arg_names, &k, &j))
			return 0;
	}
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (w && (w->flags & WXG_W_CLIENT) && j.reason == WXG_R_UNAPPROVED && w->client == j.client)
		return 0; /* the approved client naming itself or its threads */
	if (w && (w->flags & WXG_W_REPORTED))
		return 0;
	j.reason = WXG_R_RENAME;
	if (w && (w->flags & WXG_W_PENDING))
		j.verdict = WXG_V_PENDING;
	a = act(cfg, j.verdict);
	if (w && a == WXG_A_NONE && j.verdict == WXG_V_DENY)
		w->flags |= WXG_W_REPORTED | WXG_W_DENIED;
	else if (!w && a == WXG_A_NONE) {
		struct wxg_watch nw = {
			.start_ns = task_start_ns(task),
			.flags = WXG_W_REPORTED | WXG_W_DENIED,
			.uid = BPF_CORE_READ(task, real_cred, uid.val),
			.client = j.client,
		};

		bpf_map_update_elem(&watched, &tgid, &nw, BPF_ANY);
	}
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_RENAME, sizeof(*e), tgid);
	fill_task(&e->task, task, w ? w->flags : WXG_W_REPORTED | WXG_W_DENIED);
	e->v.verdict = j.verdict;
	e->v.reason = j.reason;
	e->v.action = a;
	e->v.client = j.client;
	__builtin_memcpy(e->new_comm, k.name, WXG_COMM_LEN);
	bpf_probe_read_kernel_str(e->new_comm, WXG_COMM_LEN, comm);
	ev_submit(e);
	return 0;
}
