/* The one line that says what the watcher enforces, why not more, and what to do about it
 * (`wxguard status` prints it first, `wxguard run` logs it at start, every report carries it):
 *
 *   kernel 5.10 has no BTF: enforcing with fanotify; injection and renames are reported, not
 *   refused; a kernel with BTF (CONFIG_DEBUG_INFO_BTF) would stop them
 *   BPF LSM is not active (lsm= lacks bpf): enforcing with raw tracepoints; execs, ... are
 *   stopped after they start; add bpf to the lsm= boot parameter to refuse them
 *   posture only: no watcher could start (...): nothing is blocked; ...
 *
 * Pure functions of struct watch_state (agent/watch/watch.h): the decisions' backends and
 * effects, the state, the kernel, the BTF source and the reason. The reason is the watcher's
 * own words for why the best rung is not used (also when running); these phrases in it choose
 * the advice, first match wins: "--backend"/"--no-bpf" (forced), "refused by the kernel"
 * (lockdown, a security module), "need root" / "Operation not permitted" (privilege),
 * "active LSM" / "lsm=" (BPF LSM not active), "BTF" (no BTF; also an empty btf with fanotify
 * for execs), "load the BPF programs" (the verifier), "no BPF" (fanotify took over); a reason
 * that only lists "X not watched" adds nothing to the decisions; anything else is quoted.
 * Cases: tests/data/watch_summary/. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "agent/watch/watch.h"

/* Fill s->summary (English) from the rest of *s; watch_get_state() calls it. */
void watch_state_summarize(struct watch_state *s);
/* The same sentence in English or Chinese, into buf (cut on a UTF-8 boundary). */
void watch_summary_format(const struct watch_state *s, bool zh, char *buf, size_t size);
