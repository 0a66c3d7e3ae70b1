/* SPDX-License-Identifier: GPL-2.0 */
/* File writes by a watched process (raw_tp/writeback_mark_inode_dirty, ctime_ns_xchg; opens
 * for writing with the BPF LSM or tracing: file_open), recorded in the written map for the
 * attachment_exec judgement (bpf/watch_exec.bpf.h, bpf/watch_bprm.bpf.h). Part of
 * bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/inode.bpf.h"
#include "bpf/lib/maps.bpf.h"

/* Files a watched process (client or its tree) writes, for the attachment_exec judgement:
 * recorded in the writer's context by two tracepoints far rarer than syscalls (they replaced
 * a sys_exit program that ran on every syscall of the machine). Measured on 6.18, ext4 and
 * tmpfs: docs/watch.md. */
static __always_inline int note_written(struct inode *inode, bool pages)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct wxg_written_val wv = {}, *old;
	struct wxg_inode_key ik;
	struct wxg_watch *w;

	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w || !(w->flags & (WXG_W_CLIENT | WXG_W_CHILD)))
		return 0;
	/* Regular files with a name (a memfd is still recorded once: its ctime is set while it
	 * has its first link; a watched process exec'ing it is judged fileless all the same). */
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG ||
	    BPF_CORE_READ(inode, i_nlink) == 0)
		return 0;
	if (!pages) {
		__s64 asec, csec;
		__u32 ansec, cnsec;

		/* An atime update (read, mmap, exec) leaves the ctime behind the new atime. */
		inode_atime(inode, &asec, &ansec);
		inode_ctime(inode, &csec, &cnsec);
		if (asec > csec || (asec == csec && ansec > cnsec))
			return 0;
	}
	inode_key(inode, &ik);
	/* tmpfs sets i_generation after the ctime of a new inode (the event that records it):
	 * 0 matches any, and tmpfs does not reuse inode numbers (a per-mount counter). */
	if (BPF_CORE_READ(inode, i_sb, s_magic) != TMPFS_MAGIC)
		wv.generation = BPF_CORE_READ(inode, i_generation);
	old = bpf_map_lookup_elem(&written, &ik);
	if (old && old->tgid == tgid && old->generation == wv.generation)
		return 0; /* the next page of the same file */
	wv.ts_ns = bpf_ktime_get_boot_ns();
	wv.tgid = tgid;
	bpf_map_update_elem(&written, &ik, &wv, BPF_ANY);
	cnt_add(WXG_CNT_WRITTEN, 1);
	return 0;
}

/* Top of __mark_inode_dirty(inode, flags): a write dirtied a clean page of the file's page
 * cache (I_DIRTY_PAGES: write(2), copy_file_range, a write fault on a shared mapping; not on
 * tmpfs, which has no dirty accounting), or its timestamps moved (at most once per tick). */
SEC("raw_tp/writeback_mark_inode_dirty")
int BPF_PROG(handle_writeback_mark_inode_dirty, struct inode *inode, int flags)
{
	__u32 pages = bpf_core_enum_value_exists(enum inode_state_flags_t, I_DIRTY_PAGES)
			      ? bpf_core_enum_value(enum inode_state_flags_t, I_DIRTY_PAGES)
			      : 1 << 2;

	return note_written(inode, flags & pages);
}

/* A multigrain file system (6.13+: ext4, xfs, btrfs, tmpfs) changed an inode's ctime: the
 * file was created, truncated, written in a new tick, chmod'ed, renamed or linked. Covers
 * what the hook above misses on tmpfs: a file created and written within one tick. Not
 * attached where the kernel lacks the tracepoint (agent/watch/watch.c). */
SEC("raw_tp/ctime_ns_xchg")
int BPF_PROG(handle_ctime_ns_xchg, struct inode *inode)
{
	return note_written(inode, true);
}

#define FMODE_WRITE 0x2

/* Where the exec decision has the BPF LSM or tracing programs (agent/watch/watch_load.c): a
 * file a watched process opens for writing is recorded when it is opened, whatever the file
 * system does with its dirty pages and timestamps. The tracepoints above depend on those: on a
 * tmpfs before 6.13 (no ctime_ns_xchg) a file created and written within one clock tick moves
 * no timestamp and dirties no page, and under overlayfs the tracepoints see the upper file's
 * inode while exec sees the overlay's. security_file_open runs for the overlay's file (the
 * inode exec sees) and for the upper file alike. Runs on opens only, never refuses. */
static __always_inline void note_open_for_write(struct file *file)
{
	if (BPF_CORE_READ(file, f_mode) & FMODE_WRITE)
		note_written(BPF_CORE_READ(file, f_inode), true);
}

SEC("lsm/file_open")
int BPF_PROG(handle_file_open, struct file *file, int ret)
{
	if (ret)
		return -1; /* -EPERM: an earlier refusal stays one (bounded, see watch_lsm.bpf.h) */
	note_open_for_write(file);
	return 0;
}

SEC("fentry/security_file_open")
int BPF_PROG(fentry_file_open, struct file *file)
{
	note_open_for_write(file);
	return 0;
}

SEC("kprobe/security_file_open")
int BPF_KPROBE(kprobe_file_open, struct file *file)
{
	note_open_for_write(file);
	return 0;
}
