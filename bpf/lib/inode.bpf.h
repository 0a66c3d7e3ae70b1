/* SPDX-License-Identifier: GPL-2.0 */
/* Inode identity (dev, ino), its timestamps across kernel versions (CO-RE), and whether a
 * watched process wrote it (the written map, filled by bpf/watch_written.bpf.h). */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/maps.bpf.h"

/* Older kernels keep the times in timespec64s: i_atime / i_ctime up to 6.5, __i_ctime from
 * 6.6 and __i_atime from 6.7 up to 6.10. */
struct inode___ts {
	struct timespec64 i_atime;
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___ts2 {
	struct timespec64 __i_atime;
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

#define S_IFMT 0170000
#define S_IFREG 0100000
#define TMPFS_MAGIC 0x01021994

static __always_inline void inode_key(struct inode *inode, struct wxg_inode_key *k)
{
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k->_pad = 0;
	k->ino = BPF_CORE_READ(inode, i_ino);
}

static __always_inline void inode_ctime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		*sec = BPF_CORE_READ(inode, i_ctime_sec);
		/* multigrain timestamps (6.13+) keep a "queried" flag in bit 31 */
		*nsec = BPF_CORE_READ(inode, i_ctime_nsec) & 0x3fffffff;
	} else if (bpf_core_field_exists(((struct inode___ts2 *)inode)->__i_ctime)) {
		*sec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_ctime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_ctime.tv_nsec);
	} else {
		*sec = BPF_CORE_READ((struct inode___ts *)inode, i_ctime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts *)inode, i_ctime.tv_nsec);
	}
}

static __always_inline void inode_atime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(inode->i_atime_sec)) {
		*sec = BPF_CORE_READ(inode, i_atime_sec);
		*nsec = BPF_CORE_READ(inode, i_atime_nsec);
	} else if (bpf_core_field_exists(((struct inode___ts2 *)inode)->__i_atime)) {
		*sec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_atime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_atime.tv_nsec);
	} else {
		*sec = BPF_CORE_READ((struct inode___ts *)inode, i_atime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts *)inode, i_atime.tv_nsec);
	}
}

/* Written by a watched process (the same file, not a later one with the same inode number)? */
static __always_inline bool was_written(struct inode *inode, const struct wxg_inode_key *ik)
{
	const struct wxg_written_val *wv = bpf_map_lookup_elem(&written, ik);

	return wv && (!wv->generation || wv->generation == BPF_CORE_READ(inode, i_generation));
}
