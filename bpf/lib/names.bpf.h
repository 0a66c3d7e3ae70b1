/* SPDX-License-Identifier: GPL-2.0 */
/* Client-family names: the lowercased basename of a path in the per-CPU scratch buffer, and
 * the lookups in comm_names / arg_names that turn a name into a judgement. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/loop.bpf.h"
#include "bpf/lib/maps.bpf.h"

/* Lowercased basename (after the last '/' or '\') of the string in the per-CPU scratch
 * buffer, [0..len): two loops of global step functions (bpf/lib/loop.bpf.h), their state in
 * the LOOP_FRAME_NAME frame. The separator is searched from the end, so a path costs one step
 * per byte of its basename, not of the whole path. */
struct name_scan {
	long len;
	__u32 start;
	__u32 found; /* the name's length so far */
	struct wxg_name_key k;
};
LOOP_FRAME_FITS(struct name_scan);

__noinline int name_find_sep(__u32 i)
{
	struct name_scan *ns = loop_frame(LOOP_FRAME_NAME);
	struct scratch *s = scratch_buf();
	__u64 idx;
	char c;

	if (!ns || !s || i >= ns->len)
		return 1;
	idx = ns->len - 1 - i;
	c = s->buf[idx & (SCRATCH_LEN - 1)];
	if (c == '/' || c == '\\') {
		ns->start = idx + 1;
		return 1;
	}
	return 0;
}

__noinline int name_copy_lower(__u32 j)
{
	struct name_scan *ns = loop_frame(LOOP_FRAME_NAME);
	struct scratch *s = scratch_buf();
	__u64 i, idx;
	char c;

	if (!ns || !s || j >= WXG_NAME_LEN - 1)
		return 1;
	i = (__u64)ns->start + j;
	if (i >= ns->len)
		return 1;
	c = s->buf[i & (SCRATCH_LEN - 1)];
	if (!c)
		return 1;
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	idx = j;
	barrier_var(idx);
	idx &= WXG_NAME_LEN - 1;
	ns->k.name[idx] = c;
	ns->found = j + 1;
	return 0;
}

static __always_inline __u32 name_from_scratch(long len, struct wxg_name_key *k)
{
	struct name_scan *ns = loop_frame(LOOP_FRAME_NAME);

	__builtin_memset(k, 0, sizeof(*k));
	if (!ns)
		return 0;
	__builtin_memset(ns, 0, sizeof(*ns));
	if (len <= 0)
		return 0;
	ns->len = len > WXG_PATH_LEN ? WXG_PATH_LEN : len;
	wxg_loop(WXG_PATH_LEN, name_find_sep);
	wxg_loop(WXG_NAME_LEN - 1, name_copy_lower);
	*k = ns->k;
	return ns->found;
}

static __always_inline bool ends_with_exe(const struct wxg_name_key *k, __u32 len)
{
	if (len < 5 || len >= WXG_NAME_LEN)
		return false;
	return k->name[(len - 4) & (WXG_NAME_LEN - 1)] == '.' &&
	       k->name[(len - 3) & (WXG_NAME_LEN - 1)] == 'e' &&
	       k->name[(len - 2) & (WXG_NAME_LEN - 1)] == 'x' &&
	       k->name[(len - 1) & (WXG_NAME_LEN - 1)] == 'e';
}

/* comm as arg_names keys it: lowercased (comm_names keys the exact comm). */
static __always_inline void comm_lower(struct wxg_name_key *k)
{
	for (int i = 0; i < WXG_COMM_LEN; i++)
		if (k->name[i] >= 'A' && k->name[i] <= 'Z')
			k->name[i] += 'a' - 'A';
}

struct judgement {
	__u16 verdict;
	__u16 reason;
	__u16 client;
	__u16 _pad;
	__u32 flags;
	struct wxg_name_key name;
};

static __always_inline bool lookup_name(void *map, const struct wxg_name_key *k,
					struct judgement *j)
{
	const struct wxg_name_val *nv = bpf_map_lookup_elem(map, k);

	if (!nv)
		return false;
	j->name = *k;
	j->client = nv->client;
	if (nv->kind == WXG_NAME_DENIED) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_DENIED_NAME;
		j->flags |= WXG_EXEC_F_DENIED_FAMILY;
	} else {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_UNAPPROVED;
	}
	return true;
}
