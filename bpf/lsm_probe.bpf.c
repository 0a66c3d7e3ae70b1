// SPDX-License-Identifier: GPL-2.0
/* Probe for BPF LSM: agent/watch/watch.c loads and attaches this no-op to see whether the kernel
 * has the lsm program type and "bpf" among its active LSMs, before it arms
 * handle_bprm_check (bpf/watch_lsm.bpf.h). Never refuses anything. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/bprm_check_security")
int BPF_PROG(handle_bprm_check_probe, struct linux_binprm *bprm, int ret)
{
	return ret;
}
