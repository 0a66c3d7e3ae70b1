/* SPDX-License-Identifier: GPL-2.0 */
/* The watcher's maps, defined once for the one BPF object (bpf/watch.bpf.c), and the two
 * accessors every program uses: the counters and the armed configuration. User space fills
 * them through the skeleton (agent/watch/watch_tables.c); keys and values: bpf/wxg_abi.h. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"

#define SCRATCH_LEN 4096

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20); /* 1 MiB: ~2700 exec records */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WXG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wxg_config);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768); /* a Wine prefix's manifest: ~1000 files per user */
	__type(key, struct wxg_inode_key);
	__type(value, struct wxg_inode_val);
} inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wxg_name_key);
	__type(value, struct wxg_name_val);
} comm_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wxg_name_key);
	__type(value, struct wxg_name_val);
} arg_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct wxg_watch);
} watched SEC(".maps");

/* Non-leader threads of watched processes: tid -> tgid (ptrace targets are thread ids). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wxg_instance_key);
	__type(value, __u32);
} instances SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WXG_MAX_CLIENTS);
	__type(key, __u32);
	__type(value, struct wxg_client_cfg);
} clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct wxg_inode_key);
	__type(value, struct wxg_written_val);
} written SEC(".maps");

/* Directories a client's libraries may come from (agent/watch/watch_tables.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct wxg_inode_key);
	__type(value, struct wxg_lib_dir_val);
} lib_dirs SEC(".maps");

/* Processes a tracing program killed in their exec (tgid -> start_boottime). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} exec_stopped SEC(".maps");

struct scratch {
	char buf[SCRATCH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Per-CPU state of the loops' step functions and the exec judgement's two halves, one 128-byte
 * frame per user (enum loop_frame, bpf/lib/loop.bpf.h): global functions take only scalars
 * before kernel 5.12, so what they share lives here instead of on the caller's stack. */
enum loop_frame {
	LOOP_FRAME_NAME = 0, /* struct name_scan: basename of a path (bpf/lib/names.bpf.h) */
	LOOP_FRAME_ARGV = 1, /* struct argv_scan: argv of a loader (bpf/watch_exec.bpf.h) */
	LOOP_FRAME_ENV = 2,  /* struct env_scan: LD_PRELOAD / LD_AUDIT (bpf/watch_exec.bpf.h) */
	LOOP_FRAME_EXEC = 3, /* struct exec_state: exec_judge() -> exec_finish() */
	LOOP_FRAME_LIB = 4,  /* struct lib_scan: ".so" in an opened path (bpf/watch_open.bpf.h) */
	LOOP_FRAME_WALK =
		5, /* struct walk: a mapped library's directories (bpf/watch_mmap.bpf.h) */
	LOOP_FRAME_MAX = 6,
};

struct loop_frame_val {
	__u64 w[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOOP_FRAME_MAX);
	__type(key, __u32);
	__type(value, struct loop_frame_val);
} loop_frames SEC(".maps");

static __always_inline void cnt_add(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

static __always_inline const struct wxg_config *get_config(void)
{
	__u32 zero = 0;
	const struct wxg_config *cfg = bpf_map_lookup_elem(&settings, &zero);

	if (!cfg || !(cfg->flags & WXG_CFG_ARMED))
		return NULL;
	return cfg;
}
