/* SPDX-License-Identifier: GPL-2.0 */
/* raw_tp/sys_enter: the syscalls the watcher looks at (open, openat, openat2, mmap, ptrace,
 * process_vm_writev), dispatched to bpf/watch_open.bpf.h, bpf/watch_mmap.bpf.h and
 * bpf/watch_inject.bpf.h. The
 * raw-tracepoint rung only: where the BPF LSM or tracing programs cover library mappings and
 * injection, this program is not loaded (nothing runs on every syscall). Part of
 * bpf/watch.bpf.c. */
#pragma once
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"
#include "bpf/lib/maps.bpf.h"
#include "bpf/watch_inject.bpf.h"
#include "bpf/watch_mmap.bpf.h"
#include "bpf/watch_open.bpf.h"

/* Syscall numbers of the running architecture, set by user space from <sys/syscall.h>;
 * -1 when the architecture has no such call. */
const volatile long nr_open = -1;
const volatile long nr_openat = -1;
const volatile long nr_openat2 = -1;
const volatile long nr_ptrace = -1;
const volatile long nr_process_vm_writev = -1;
const volatile long nr_mmap = -1;
/* What this program judges: user space clears one when a better rung (BPF LSM, tracing) has
 * that decision (agent/watch/watch_load.c); with both cleared the program is not loaded. */
const volatile bool sys_enter_opens = true;
const volatile bool sys_enter_inject = true;

/* An executable file mapping by a Wine client's process: Wine maps every PE image it loads
 * (the .exe, each DLL: at least its header page) with PROT_EXEC from the file, whoever opened
 * it (wineserver opens the files of Windows programs). Judged as the LSM judges mmap_file
 * (bpf/watch_mmap.bpf.h): in the client's prefix only the manifest's files; the SIGKILL lands
 * before mmap returns, so no code of the image runs. Native clients keep the open judgement
 * (bpf/watch_open.bpf.h). */
static __always_inline int on_mmap(struct task_struct *task, __u32 tgid, __u64 prot, long fd)
{
	struct wxg_client_cfg *cc;
	struct files_struct *files;
	struct file **fda, *file = NULL;
	struct fdtable *fdt;
	struct wxg_watch *w;
	__u32 idx;

	if (!(prot & PROT_EXEC) || fd < 0)
		return 0;
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w || !(w->flags & WXG_W_CLIENT))
		return 0;
	idx = w->client;
	cc = bpf_map_lookup_elem(&clients, &idx);
	if (!cc || !(cc->flags & WXG_C_WINE))
		return 0;
	files = BPF_CORE_READ(task, files);
	fdt = BPF_CORE_READ(files, fdt);
	if ((__u64)fd >= (__u64)BPF_CORE_READ(fdt, max_fds))
		return 0;
	fda = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(file), &fda[fd]);
	judge_exec_mapping(file, prot, WXG_OPEN_MMAP, false);
	return 0;
}

/* Runs on every syscall of the machine: the common path is the compares of the first test.
 * Opens cost one more hash lookup (is this the approved client?) before any argument is
 * read; ptrace and process_vm_writev, rare, look up their target. */
SEC("raw_tp/sys_enter")
int BPF_PROG(handle_sys_enter, struct pt_regs *regs, long id)
{
	const struct wxg_config *cfg;
	struct task_struct *task;
	struct wxg_watch *w;
	__u32 tgid;

	if (id != nr_openat && id != nr_open && id != nr_openat2 && id != nr_ptrace &&
	    id != nr_process_vm_writev && id != nr_mmap)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	task = (struct task_struct *)bpf_get_current_task();
	if (id == nr_mmap)
		return sys_enter_opens ? on_mmap(task, tgid, PT_REGS_PARM3_CORE_SYSCALL(regs),
						 PT_REGS_PARM5_CORE_SYSCALL(regs))
				       : 0;
	if (id == nr_openat || id == nr_open || id == nr_openat2) {
		if (!sys_enter_opens)
			return 0;
		/* the agent is never watched */
		w = bpf_map_lookup_elem(&watched, &tgid);
		if (!w || !(w->flags & WXG_W_CLIENT) || !get_config())
			return 0;
		if (id == nr_openat)
			return on_open(task, w, tgid,
				       (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				       PT_REGS_PARM3_CORE_SYSCALL(regs));
		if (id == nr_open)
			return on_open(task, w, tgid,
				       (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
				       PT_REGS_PARM2_CORE_SYSCALL(regs));
		{
			struct open_how *how = (struct open_how *)PT_REGS_PARM3_CORE_SYSCALL(regs);
			__u64 fl = 0;

			bpf_probe_read_user(&fl, sizeof(fl), &how->flags);
			return on_open(task, w, tgid,
				       (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), fl);
		}
	}
	cfg = get_config();
	if (!sys_enter_inject || !cfg || tgid == cfg->agent_tgid)
		return 0;
	if (id == nr_ptrace) {
		long req = PT_REGS_PARM1_CORE_SYSCALL(regs);

		if (req != PTRACE_ATTACH && req != PTRACE_SEIZE && req != PTRACE_POKETEXT &&
		    req != PTRACE_POKEDATA && req != PTRACE_POKEUSER && req != PTRACE_SETREGS &&
		    req != PTRACE_SETFPREGS && req != PTRACE_SETREGSET)
			return 0;
		return on_inject(cfg, task, tgid, req, PT_REGS_PARM2_CORE_SYSCALL(regs),
				 WXG_R_PTRACE);
	}
	/* process_vm_writev. The SIGKILL is pending before the copy starts: pinning the
	 * target's pages fails with -EINTR, nothing is written. */
	return on_inject(cfg, task, tgid, 0, PT_REGS_PARM1_CORE_SYSCALL(regs), WXG_R_VM_WRITE);
}
