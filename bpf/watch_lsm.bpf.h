/* SPDX-License-Identifier: GPL-2.0 */
/* BPF LSM, rung 1 of the backend ladder: refuses with -EPERM, nothing runs. Loaded per
 * decision where the kernel has it (agent/watch/watch_load.c): execs (bprm_check_security),
 * executable mappings of libraries (mmap_file, file_mprotect), injection (ptrace_access_check:
 * ptrace attach, /proc/PID/mem, process_vm_readv/writev, pidfd_getfd). The judgements are
 * shared with the tracing programs (bpf/watch_trace.bpf.h). Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/watch_bprm.bpf.h"
#include "bpf/watch_inject.bpf.h"
#include "bpf/watch_mmap.bpf.h"

#define EPERM 1
#define VM_EXEC 0x4

/* -EPERM as the verifier must see it: since 6.10 it wants an LSM program's return value
 * provably in [-4095, 0]. Written as `deny ? -EPERM : 0`, clang computes it as -(deny & 1), a
 * negation whose range the verifier does not track (6.12 refused the programs); the empty asm
 * makes the value opaque to clang, so each path returns a constant of its own. */
static __always_inline int lsm_refuse(void)
{
	int r = -EPERM;

	asm volatile("" : "+r"(r));
	return r;
}

/* A refusal by an earlier BPF LSM program stays one (`ret` itself is unbounded: 6.12 refused
 * `return ret`). */
#define LSM_KEEP_REFUSAL(ret)                \
	do {                                 \
		if (ret)                     \
			return lsm_refuse(); \
	} while (0)

/* The exec of a denied or unapproved binary, a client-written file, a family name on an
 * unknown inode: refused, the old image keeps running and gets -EPERM. */
SEC("lsm/bprm_check_security")
int BPF_PROG(handle_bprm_check, struct linux_binprm *bprm, int ret)
{
	LSM_KEEP_REFUSAL(ret);
	if (judge_bprm(bprm, true))
		return lsm_refuse();
	return 0;
}

/* ptrace attach / /proc/PID/mem / process_vm_readv/writev / pidfd_getfd on the approved
 * client by anyone but the client itself: refused. */
SEC("lsm/ptrace_access_check")
int BPF_PROG(handle_ptrace_access_check, struct task_struct *child, unsigned int mode, int ret)
{
	LSM_KEEP_REFUSAL(ret);
	if (judge_ptrace_access(child, mode, true))
		return lsm_refuse();
	return 0;
}

/* A library or plugin mapped executable by the approved client from outside its lib_dirs. */
SEC("lsm/mmap_file")
int BPF_PROG(handle_mmap_file, struct file *file, unsigned long reqprot, unsigned long prot,
	     unsigned long flags, int ret)
{
	LSM_KEEP_REFUSAL(ret);
	if (judge_exec_mapping(file, prot, WXG_OPEN_MMAP, true))
		return lsm_refuse();
	return 0;
}

/* The same made executable afterwards (mmap PROT_READ, then mprotect PROT_EXEC). */
SEC("lsm/file_mprotect")
int BPF_PROG(handle_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot, int ret)
{
	LSM_KEEP_REFUSAL(ret);
	if (BPF_CORE_READ(vma, vm_flags) & VM_EXEC)
		return 0;
	if (judge_exec_mapping(BPF_CORE_READ(vma, vm_file), prot, WXG_OPEN_MPROTECT, true))
		return lsm_refuse();
	return 0;
}
