/* SPDX-License-Identifier: GPL-2.0 */
/* Loops that load on every kernel the watcher runs on (5.8 and later: the ring buffer), without
 * bpf_loop().
 *
 * bpf_loop() (5.17) cannot be switched off on older kernels with a load-time constant and
 * left to the verifier's dead-code elimination: a program that names a bpf_loop callback is
 * refused before verification starts (5.10: "number of funcs in func_info doesn't match number
 * of subprogs"; the callback is a subprogram only a 5.13+ kernel can tell is one), whichever
 * branch would run. Nor can a loop body be a global function taking a pointer to the caller's
 * state: pointer arguments of global functions came in 5.12 (5.10: "Arg#0 type PTR ... is not
 * supported yet").
 *
 * So: wxg_loop(n, step) is a bounded loop (5.3) calling step(i), a global function (5.6) with
 * one scalar argument, for i = 0 .. n - 1 until it returns non-zero. A global function is
 * verified once, on its own, whatever n is; the loop around it costs the verifier a dozen
 * instructions per iteration. The step's state (and anything else a global function shares
 * with its caller) lives in a per-CPU frame of the loop_frames map (bpf/lib/maps.bpf.h), one
 * frame per user, so nested loops (a name scan inside the argv scan) don't clobber each other.
 * The frames are per-CPU and rest on what the scratch buffer already rests on: no other run of
 * a program using the same frame starts on this CPU before this one ends (tracepoints run with
 * preemption off on the kernels we target; the programs that share a frame never nest). */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "bpf/lib/maps.bpf.h"

#define LOOP_FRAME_SIZE sizeof(struct loop_frame_val)

/* The calling CPU's frame f, or NULL (never, for a valid f). Cast it to the frame's type,
 * whose size must be checked with LOOP_FRAME_FITS. */
static __always_inline void *loop_frame(__u32 f)
{
	return bpf_map_lookup_elem(&loop_frames, &f);
}

#define LOOP_FRAME_FITS(type) _Static_assert(sizeof(type) <= LOOP_FRAME_SIZE, #type " > frame")

/* step(i) for i = 0, 1, ... n - 1 until it returns non-zero; n is a compile-time bound. step
 * is a global function, `__noinline int step(__u32 i)`; inlined here, the call is direct. Not
 * unrolled: each copy of the call would cost the verifier as much as the whole loop. */
static __always_inline void wxg_loop(__u32 n, int (*step)(__u32))
{
#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < n; i++)
		if (step(i))
			break;
}

/* The per-CPU scratch buffer (paths, argv and environment strings). */
static __always_inline struct scratch *scratch_buf(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}
