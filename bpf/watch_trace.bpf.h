/* SPDX-License-Identifier: GPL-2.0 */
/* Tracing programs, rung 2 of the backend ladder: where the BPF LSM is not active (Ubuntu's
 * lsm= list), the same judgements as bpf/watch_lsm.bpf.h on the security_*() functions the
 * LSM hooks are called from, as fentry programs, or kprobes where fentry does not attach. They
 * cannot refuse: the offender gets SIGKILL (bpf_send_signal), delivered before the call returns
 * to user space, so an exec never runs an instruction, a mapping is never used, a /proc/PID/mem
 * fd never read or written. agent/watch/watch_load.c loads the fentry or the kprobe set, per
 * decision. Part of bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/watch_bprm.bpf.h"
#include "bpf/watch_inject.bpf.h"
#include "bpf/watch_mmap.bpf.h"

#define VM_EXEC_TRACE 0x4

SEC("fentry/security_bprm_check")
int BPF_PROG(fentry_bprm_check, struct linux_binprm *bprm)
{
	judge_bprm(bprm, false);
	return 0;
}

SEC("fentry/security_ptrace_access_check")
int BPF_PROG(fentry_ptrace_access_check, struct task_struct *child, unsigned int mode)
{
	judge_ptrace_access(child, mode, false);
	return 0;
}

SEC("fentry/security_mmap_file")
int BPF_PROG(fentry_mmap_file, struct file *file, unsigned long prot, unsigned long flags)
{
	judge_exec_mapping(file, prot, WXG_OPEN_MMAP, false);
	return 0;
}

SEC("fentry/security_file_mprotect")
int BPF_PROG(fentry_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	     unsigned long prot)
{
	if (!(BPF_CORE_READ(vma, vm_flags) & VM_EXEC_TRACE))
		judge_exec_mapping(BPF_CORE_READ(vma, vm_file), prot, WXG_OPEN_MPROTECT, false);
	return 0;
}

SEC("kprobe/security_bprm_check")
int BPF_KPROBE(kprobe_bprm_check, struct linux_binprm *bprm)
{
	judge_bprm(bprm, false);
	return 0;
}

SEC("kprobe/security_ptrace_access_check")
int BPF_KPROBE(kprobe_ptrace_access_check, struct task_struct *child, unsigned int mode)
{
	judge_ptrace_access(child, mode, false);
	return 0;
}

SEC("kprobe/security_mmap_file")
int BPF_KPROBE(kprobe_mmap_file, struct file *file, unsigned long prot)
{
	judge_exec_mapping(file, prot, WXG_OPEN_MMAP, false);
	return 0;
}

SEC("kprobe/security_file_mprotect")
int BPF_KPROBE(kprobe_file_mprotect, struct vm_area_struct *vma, unsigned long reqprot,
	       unsigned long prot)
{
	if (!(BPF_CORE_READ(vma, vm_flags) & VM_EXEC_TRACE))
		judge_exec_mapping(BPF_CORE_READ(vma, vm_file), prot, WXG_OPEN_MPROTECT, false);
	return 0;
}
