/* SPDX-License-Identifier: GPL-2.0 */
/* Watched processes: the watched map by tgid (a reused PID is not the watched process), a
 * ptrace target's thread id to its process, and the per-user instance count of a client. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/maps.bpf.h"

/* Before 5.5 the boot-based start time was real_start_time. */
struct task_struct___old {
	__u64 real_start_time;
} __attribute__((preserve_access_index));

/* The task's start time, boot-based (ns): tells a reused PID apart (/proc/PID/stat field 22). */
static __always_inline __u64 task_start_ns(struct task_struct *task)
{
	if (bpf_core_field_exists(task->start_boottime))
		return BPF_CORE_READ(task, start_boottime);
	return BPF_CORE_READ((struct task_struct___old *)task, real_start_time);
}

static __always_inline struct wxg_watch *lookup_watched(__u32 tgid, __u64 start_ns)
{
	struct wxg_watch *w = bpf_map_lookup_elem(&watched, &tgid);

	if (w && w->start_ns && w->start_ns != start_ns) {
		/* A reused PID: the watched process is long gone. */
		bpf_map_delete_elem(&watched, &tgid);
		return NULL;
	}
	return w;
}

static __always_inline void instance_put(__u32 uid, __u16 client)
{
	struct wxg_instance_key ik = { .uid = uid, .client = client };
	__u32 *cnt = bpf_map_lookup_elem(&instances, &ik);

	if (cnt && *cnt > 0)
		__sync_fetch_and_add(cnt, -1);
}

/* Count one more instance; false when that goes over the client's limit. */
static __always_inline bool instance_get(__u32 uid, __u16 client, bool over_ok)
{
	struct wxg_instance_key ik = { .uid = uid, .client = client };
	__u32 idx = client, zero = 0, *cnt;
	struct wxg_client_cfg *cc = bpf_map_lookup_elem(&clients, &idx);

	cnt = bpf_map_lookup_elem(&instances, &ik);
	if (!cnt) {
		bpf_map_update_elem(&instances, &ik, &zero, BPF_NOEXIST);
		cnt = bpf_map_lookup_elem(&instances, &ik);
		if (!cnt)
			return true;
	}
	if (cc && cc->max_instances && *cnt >= cc->max_instances) {
		if (over_ok)
			__sync_fetch_and_add(cnt, 1);
		return false;
	}
	__sync_fetch_and_add(cnt, 1);
	return true;
}

static __always_inline struct wxg_watch *lookup_target(__u32 pid, __u32 *tgid)
{
	struct wxg_watch *w = bpf_map_lookup_elem(&watched, &pid);
	__u32 *t;

	*tgid = pid;
	if (w)
		return w;
	t = bpf_map_lookup_elem(&threads, &pid);
	if (!t)
		return NULL;
	*tgid = *t;
	return bpf_map_lookup_elem(&watched, t);
}
