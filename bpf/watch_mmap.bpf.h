/* SPDX-License-Identifier: GPL-2.0 */
/* Executable mappings by the approved client: a file it maps PROT_EXEC (mmap, or mprotect of a
 * file mapping) must lie below one of its lib_dirs, or be an approved executable or a loader.
 * The kernel tells by identity: it walks the file's dentries up to the process's root,
 * crossing mounts, and looks each directory's (dev, ino) up in lib_dirs (filled by
 * agent/watch/watch_tables.c). Shared by the BPF LSM (mmap_file, file_mprotect: refused) and
 * the tracing programs (killed before the call returns). Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/events.bpf.h"
#include "bpf/lib/inode.bpf.h"
#include "bpf/lib/loop.bpf.h"
#include "bpf/lib/maps.bpf.h"

#define PROT_EXEC 0x4
#define LIB_DEPTH 32      /* path components walked; deeper files are judged as outside */
#define LIB_PATH_END 2047 /* the path is built backwards in scratch[0..2047] */

/* The walk's state, in the calling CPU's LOOP_FRAME_WALK frame (bpf/lib/loop.bpf.h): kernel
 * pointers kept as integers, read only through BPF_CORE_READ (bpf_probe_read_kernel). */
struct walk {
	__u64 d, root_d, root_mnt, m;
	__u64 mnt_off; /* offsetof(struct mount, mnt) on the running kernel */
	__u64 bit;
	__s32 pos;
	__u32 allowed;
	__u32 in_prefix; /* reached the client's Wine prefix: only its manifest's files */
	__u32 _pad;
};
LOOP_FRAME_FITS(struct walk);

/* Is dir one of the client's lib_dirs, or its Wine prefix? */
static __always_inline void lib_dir_check(struct walk *wk, struct dentry *dir)
{
	struct wxg_lib_dir_val *v;
	struct wxg_inode_key k;

	inode_key(BPF_CORE_READ(dir, d_inode), &k);
	/* Above the prefix the walk only completes the path for the event. */
	if (wk->in_prefix)
		return;
	v = bpf_map_lookup_elem(&lib_dirs, &k);
	if (!v)
		return;
	if (v->prefixes & wk->bit)
		wk->in_prefix = 1;
	else if (v->clients & wk->bit)
		wk->allowed = 1;
}

/* One step up: to the parent directory (prepending the name to the path), or across a mount
 * root to its mount point. Returns false at the root. */
static __always_inline bool walk_up(struct walk *wk, char *buf)
{
	struct dentry *d = (struct dentry *)wk->d, *parent, *mnt_root;
	struct mount *m = (struct mount *)wk->m;
	struct qstr name;
	__u32 len;

	if (wk->d == wk->root_d && wk->m + wk->mnt_off == wk->root_mnt)
		return false;
	mnt_root = BPF_CORE_READ(m, mnt.mnt_root);
	if (d == mnt_root) {
		struct mount *up = BPF_CORE_READ(m, mnt_parent);

		if (up == m)
			return false;
		wk->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
		wk->m = (__u64)up;
		return true;
	}
	parent = BPF_CORE_READ(d, d_parent);
	if (parent == d)
		return false;
	name = BPF_CORE_READ(d, d_name);
	len = name.len;
	if (len > 255)
		len = 255;
	if (wk->pos >= (__s32)len + 1) {
		wk->pos -= len + 1;
		buf[wk->pos & LIB_PATH_END] = '/';
		bpf_probe_read_kernel(&buf[(wk->pos + 1) & LIB_PATH_END], len & 255, name.name);
	}
	wk->d = (__u64)parent;
	lib_dir_check(wk, parent);
	return true;
}

/* One step of the walk, a global function verified once (bpf/lib/loop.bpf.h): an unrolled or
 * bounded loop carrying the path position went over the 1M-instruction limit on 6.1, and
 * bpf_loop() is 5.17 and later. */
__noinline int walk_step(__u32 i)
{
	struct walk *wk = loop_frame(LOOP_FRAME_WALK);
	struct scratch *s = scratch_buf();

	if (!wk || !s || !walk_up(wk, s->buf) || wk->allowed)
		return 1;
	return 0;
}

/* file is mapped (or made) executable by the current process. Returns true when the mapping
 * must fail (refuse, enforce mode); with !refuse the process is killed in enforce mode. */
static __always_inline bool judge_exec_mapping(struct file *file, __u64 prot, __u32 how,
					       bool refuse)
{
	const struct wxg_config *cfg;
	struct wxg_client_cfg *cc;
	struct wxg_inode_val *iv;
	struct task_struct *task;
	struct wxg_inode_key ik;
	struct wxg_ev_open *e;
	struct inode *inode;
	struct wxg_watch *w;
	struct scratch *s;
	struct walk *wk;
	__u32 tgid, idx, zero = 0;
	__u16 verdict, a;

	if (!file || !(prot & PROT_EXEC))
		return false;
	tgid = bpf_get_current_pid_tgid() >> 32;
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w || !(w->flags & WXG_W_CLIENT))
		return false;
	cfg = get_config();
	if (!cfg)
		return false;
	task = (struct task_struct *)bpf_get_current_task();
	/* exec maps the new image and its interpreter: judged as an exec, not a library */
	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return false;
	idx = w->client;
	cc = bpf_map_lookup_elem(&clients, &idx);
	if (!cc || !(cc->flags & (WXG_C_LIB_DIRS | WXG_C_WINE_IMAGES)) || idx >= WXG_MAX_CLIENTS)
		return false;
	inode = BPF_CORE_READ(file, f_inode);
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG)
		return false;
	inode_key(inode, &ik);
	iv = bpf_map_lookup_elem(&inodes, &ik);
	if (iv && (iv->flags & (WXG_I_APPROVED | WXG_I_LOADER | WXG_I_WINE)))
		return false;
	/* A file of the client's Wine prefix listed in its manifest, unchanged since hashed. */
	if (iv && (iv->flags & WXG_I_WINE_IMAGE) && iv->client == idx &&
	    iv->size == (__u64)BPF_CORE_READ(inode, i_size)) {
		__s64 csec;
		__u32 cnsec;

		inode_ctime(inode, &csec, &cnsec);
		if (iv->ctime_sec == csec && iv->ctime_nsec == cnsec)
			return false;
	}
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return false;

	wk = loop_frame(LOOP_FRAME_WALK);
	if (!wk)
		return false;
	wk->bit = 1ULL << (idx & 63);
	wk->d = (__u64)BPF_CORE_READ(file, f_path.dentry);
	wk->mnt_off = bpf_core_field_offset(struct mount, mnt);
	wk->m = (__u64)BPF_CORE_READ(file, f_path.mnt) - wk->mnt_off;
	wk->root_d = (__u64)BPF_CORE_READ(task, fs, root.dentry);
	wk->root_mnt = (__u64)BPF_CORE_READ(task, fs, root.mnt);
	wk->pos = LIB_PATH_END;
	wk->allowed = 0;
	wk->in_prefix = 0;
	s->buf[LIB_PATH_END] = 0;
	wxg_loop(LIB_DEPTH, walk_step);
	if (wk->allowed)
		return false;
	/* No lib_dirs: only the Wine prefix is judged. */
	if (!wk->in_prefix && !(cc->flags & WXG_C_LIB_DIRS))
		return false;

	/* In the client's Wine prefix and not in its manifest (an injected or hijacking DLL, a
	 * program the manifest does not list): refused. Outside every lib_dir the kernel knows:
	 * refused (or killed) when it knows them all, else user space judges the path against the
	 * globs and ~/ entries. */
	verdict = (wk->in_prefix || (cc->flags & WXG_C_LIB_EXACT)) ? WXG_V_DENY : WXG_V_PENDING;
	a = refuse ? act_refuse(cfg, verdict) : act(cfg, verdict);
	e = ev_reserve(sizeof(*e));
	if (e) {
		fill_hdr(&e->hdr, WXG_EV_OPEN, sizeof(*e), tgid);
		fill_task(&e->task, task, w->flags);
		e->v.verdict = verdict;
		e->v.reason = WXG_R_LIBRARY;
		e->v.action = a;
		e->v.client = w->client;
		e->open_flags = prot;
		e->how = how;
		bpf_probe_read_kernel_str(e->path, sizeof(e->path),
					  &s->buf[wk->pos & LIB_PATH_END]);
		ev_submit(e);
	}
	return a == WXG_A_LSM_DENY;
}
