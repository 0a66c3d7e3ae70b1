/* SPDX-License-Identifier: GPL-2.0 */
/* Library opens by the approved client: a *.so / *.dll / *.drv it opens for reading is
 * reported, and user space judges it against the client's lib_dirs. Called from
 * handle_sys_enter (bpf/watch_sys_enter.bpf.h). Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/events.bpf.h"
#include "bpf/lib/loop.bpf.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/names.bpf.h"

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000

/* ".so" followed by the end or a '.' in the path in the scratch buffer: one step per byte
 * (bpf/lib/loop.bpf.h), the state in the LOOP_FRAME_LIB frame. */
struct lib_scan {
	long len;
	__u32 found;
	__u32 _pad;
};
LOOP_FRAME_FITS(struct lib_scan);

__noinline int lib_find_so(__u32 i)
{
	struct lib_scan *ls = loop_frame(LOOP_FRAME_LIB);
	struct scratch *s = scratch_buf();
	char c;

	if (!ls || !s || i + 3 >= ls->len)
		return 1;
	if (s->buf[i & (SCRATCH_LEN - 1)] != '.' || s->buf[(i + 1) & (SCRATCH_LEN - 1)] != 's' ||
	    s->buf[(i + 2) & (SCRATCH_LEN - 1)] != 'o')
		return 0;
	c = s->buf[(i + 3) & (SCRATCH_LEN - 1)];
	if (c == 0 || c == '.') {
		ls->found = 1;
		return 1;
	}
	return 0;
}

/* *.so, *.so.N..., *.dll, *.drv (case-insensitive for Windows names), in the scratch buffer. */
static __always_inline bool is_library(const char *p, long n)
{
	struct lib_scan *ls = loop_frame(LOOP_FRAME_LIB);
	char c0, c1, c2, c3;

	if (n < 5 || n > WXG_PATH_LEN || !ls)
		return false;
	ls->len = n;
	ls->found = 0;
	wxg_loop(WXG_PATH_LEN, lib_find_so);
	if (ls->found)
		return true;
	c0 = p[(n - 5) & (SCRATCH_LEN - 1)];
	c1 = p[(n - 4) & (SCRATCH_LEN - 1)] | 0x20;
	c2 = p[(n - 3) & (SCRATCH_LEN - 1)] | 0x20;
	c3 = p[(n - 2) & (SCRATCH_LEN - 1)] | 0x20;
	if (c0 != '.')
		return false;
	return (c1 == 'd' && c2 == 'l' && c3 == 'l') || (c1 == 'd' && c2 == 'r' && c3 == 'v');
}

/* An open by the approved client (w): a library or DLL outside lib_dirs is judged in user
 * space. */
static __always_inline int on_open(struct task_struct *task, struct wxg_watch *w, __u32 tgid,
				   const char *upath, __u32 flags)
{
	struct wxg_client_cfg *cc;
	struct wxg_ev_open *e;
	struct scratch *s;
	__u32 idx, zero = 0;
	long n;

	/* Opened for writing: not a library load. What is written is recorded where it is
	 * written (handle_writeback_mark_inode_dirty). */
	if (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC))
		return 0;
	idx = w->client;
	cc = bpf_map_lookup_elem(&clients, &idx);
	if (!cc || !(cc->flags & WXG_C_LIB_DIRS))
		return 0;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	n = bpf_probe_read_user_str(s->buf, WXG_PATH_LEN, upath);
	if (!is_library(s->buf, n))
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_OPEN, sizeof(*e), tgid);
	fill_task(&e->task, task, w->flags);
	e->v.verdict = WXG_V_PENDING;
	e->v.reason = WXG_R_LIBRARY;
	e->v.action = WXG_A_NONE;
	e->v.client = w->client;
	e->open_flags = flags;
	e->how = WXG_OPEN_OPEN;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->buf);
	ev_submit(e);
	return 0;
}
