// SPDX-License-Identifier: GPL-2.0
/* The watcher: judges execs, comm renames, library opens and injection aimed at the approved
 * chat client, from maps user space fills from the policy (agent/watch/watch.c). Base hooks are
 * raw tracepoints (no tracefs, no kprobes); per decision, user space loads the best rung the
 * kernel offers (agent/watch/watch_load.c): BPF LSM programs refuse with -EPERM, tracing
 * programs (fentry, kprobes) kill before the call returns, raw_tp/sys_enter only where
 * neither covers library opens and injection.
 *
 * One object, one skeleton (build/watch.skel.h, watch_bpf), one compilation unit: the programs
 * live in one header per concern, included here, and the helpers they share in bpf/lib/. This
 * file is the list. We did not link per-concern objects with libbpf's static linker (bpftool
 * gen object a.o b.o): every file but one would have to repeat each shared map as an `extern`
 * with the complete, identical definition, globals as `extern` too, and LICENSE once; a map
 * left `static` would show up renamed (file__map) in the skeleton. One unit keeps each map and
 * global defined once and the skeleton unchanged. Layout: docs/watch.md. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"

char LICENSE[] SEC("license") = "GPL";

/* helpers: maps, ring-buffer records and the kill, inodes, names, watched processes */
#include "bpf/lib/maps.bpf.h"
#include "bpf/lib/events.bpf.h"
#include "bpf/lib/inode.bpf.h"
#include "bpf/lib/names.bpf.h"
#include "bpf/lib/task.bpf.h"

/* programs, one header per concern */
#include "bpf/watch_exec.bpf.h"      /* exec judgement, memfd, LD_PRELOAD, instances */
#include "bpf/watch_tasks.bpf.h"     /* fork, exit */
#include "bpf/watch_rename.bpf.h"    /* comm renames (Wine) */
#include "bpf/watch_sys_enter.bpf.h" /* library opens, ptrace / process_vm_writev */
#include "bpf/watch_written.bpf.h"   /* files a watched process writes */
#include "bpf/watch_lsm.bpf.h"       /* BPF LSM: refuse execs, mappings, injection */
#include "bpf/watch_trace.bpf.h"     /* fentry / kprobes: the same, killing the offender */
