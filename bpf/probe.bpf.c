// SPDX-License-Identifier: GPL-2.0
/* Probes for the backend ladder (agent/watch/watch_load.c): one no-op program per rung, loaded
 * and attached alone (bpf_program__set_autoload) to see whether the kernel offers that rung:
 * BPF LSM, fentry, kprobe, raw tracepoint. Each attaches to what the watcher itself uses.
 * Never refuses anything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/bprm_check_security")
int BPF_PROG(probe_lsm, struct linux_binprm *bprm, int ret)
{
	return ret;
}

SEC("fentry/security_bprm_check")
int BPF_PROG(probe_fentry, struct linux_binprm *bprm)
{
	return 0;
}

SEC("kprobe/security_bprm_check")
int BPF_KPROBE(probe_kprobe, struct linux_binprm *bprm)
{
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(probe_raw_tp, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return 0;
}
