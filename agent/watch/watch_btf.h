/* What the running kernel offers the BPF rungs of the watcher before anything is loaded: its
 * BTF (libbpf's CO-RE needs it; where the kernel has none in /sys/kernel/btf/vmlinux, a debug
 * vmlinux or a BTF file shipped with wxguard will do, passed as btf_custom_path) and the BPF
 * ring buffer (5.8+), without which the watcher cannot load at all. The backend ladder
 * (agent/watch/watch.c, watch_probe()) asks these before choosing a rung. docs/kernels.md. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "agent/host/sysroot.h"

/* BTF files shipped with the agent, one per kernel release: <dir>/<release>.btf (BTFHub). */
#define WATCH_BTF_SHIPPED_DIR "/usr/lib/wxguard/btf"

enum watch_btf_source {
	WATCH_BTF_NONE = 0,
	WATCH_BTF_KERNEL = 1,  /* /sys/kernel/btf/vmlinux: the kernel's own */
	WATCH_BTF_VMLINUX = 2, /* a vmlinux (ELF with a .BTF section) in /boot or /lib/modules */
	WATCH_BTF_SHIPPED = 3, /* WATCH_BTF_SHIPPED_DIR/<release>.btf */
};

struct watch_btf {
	enum watch_btf_source source;
	char path[160];   /* the file found, under the sysroot ("" when none) */
	char looked[640]; /* every place looked in, in order, ", "-separated */
};

/* Look for the BTF of kernel `release` (NULL: uname -r) under sr, in this order:
 * /sys/kernel/btf/vmlinux, /boot/vmlinux-R, /lib/modules/R/vmlinux, /lib/modules/R/build/vmlinux,
 * WATCH_BTF_SHIPPED_DIR/R.btf. A candidate counts when libbpf parses it (raw BTF, or an ELF
 * with a .BTF section) and it describes a kernel (it has struct task_struct): an empty file (a
 * /dev/null bind mount), an ELF without .BTF or a module's BTF is passed over. The kernel's own
 * counts when it is a non-empty file starting with the BTF magic (not parsed twice). Returns 0 with
 * ret filled, -ENOENT when none was found (ret->looked says where it looked). */
int watch_btf_find(const struct sysroot *sr, const char *release, struct watch_btf *ret);

/* What to pass as bpf_object_open_opts.btf_custom_path: NULL for the kernel's own BTF (libbpf
 * finds it itself), else the file found. */
const char *watch_btf_custom_path(const struct watch_btf *b);

/* "none" "kernel" "vmlinux" "shipped" */
const char *watch_btf_source_to_string(enum watch_btf_source s);

/* One line for the status and the log when no BTF was found:
 * "kernel 5.10.0-x has no BTF (looked in: ...)". */
void watch_btf_explain(const struct watch_btf *b, const char *release, char *buf, size_t size);

struct watch_kernel_features {
	bool bpf;     /* bpf() creates a plain array: BPF is there and allowed */
	bool ringbuf; /* BPF_MAP_TYPE_RINGBUF (5.8): every BPF rung reports through it */
};

/* Probe the running kernel (needs CAP_BPF; -errno when it cannot be asked, e.g. -EPERM). */
int watch_kernel_features(struct watch_kernel_features *ret);

/* Can the BPF rungs run on this kernel at all? false with why ("kernel 5.4.0-x has no BPF ring
 * buffer (5.8 and later)", or the BTF explanation) when not. */
bool watch_kernel_bpf_usable(const struct watch_btf *b, const struct watch_kernel_features *f,
			     const char *release, char *why, size_t size);
