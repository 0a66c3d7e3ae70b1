/* The kernel's BTF, wherever it is, and the kernel features the BPF rungs cannot do without
 * (agent/watch/watch_btf.h). */
#include "agent/watch/watch_btf.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

#include "common/log.h"

const char *watch_btf_source_to_string(enum watch_btf_source s)
{
	switch (s) {
	case WATCH_BTF_KERNEL: return "kernel";
	case WATCH_BTF_VMLINUX: return "vmlinux";
	case WATCH_BTF_SHIPPED: return "shipped";
	default: return "none";
	}
}

/* Does the file start with the BTF magic? The kernel's own is trusted on that: parsing its
 * 5 MB costs a second at start under emulation, and libbpf parses it anyway. */
static bool has_btf_magic(const char *path)
{
	uint16_t magic = 0;
	FILE *f = fopen(path, "re");
	bool r;

	if (!f)
		return false;
	r = fread(&magic, sizeof(magic), 1, f) == 1 && magic == BTF_MAGIC;
	fclose(f);
	return r;
}

/* Is path (real) the BTF of a kernel? libbpf parses raw BTF and ELF files with a .BTF section;
 * a kernel's has struct task_struct (a module's split BTF would not parse on its own). */
static bool is_kernel_btf(const char *path, bool trusted)
{
	struct btf *btf;
	struct stat st;
	bool r;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return false;
	if (trusted)
		return has_btf_magic(path);
	btf = btf__parse(path, NULL);
	if (!btf) {
		log_debug("btf: %s: %s", path, strerror(errno));
		return false;
	}
	r = btf__find_by_name_kind(btf, "task_struct", BTF_KIND_STRUCT) > 0;
	if (!r)
		log_debug("btf: %s: no struct task_struct, not a kernel's BTF", path);
	btf__free(btf);
	return r;
}

static void add_looked(struct watch_btf *b, const char *abs)
{
	size_t n = strlen(b->looked);
	int r;

	r = snprintf(b->looked + n, sizeof(b->looked) - n, "%s%s", n ? ", " : "", abs);
	if (r < 0 || (size_t)r >= sizeof(b->looked) - n)
		b->looked[n] = 0; /* keep whole names only */
}

int watch_btf_find(const struct sysroot *sr, const char *release, struct watch_btf *ret)
{
	static const struct {
		const char *fmt; /* %s: the release */
		enum watch_btf_source source;
	} places[] = {
		{ "/sys/kernel/btf/vmlinux", WATCH_BTF_KERNEL },
		{ "/boot/vmlinux-%s", WATCH_BTF_VMLINUX },
		{ "/lib/modules/%s/vmlinux", WATCH_BTF_VMLINUX },
		{ "/lib/modules/%s/build/vmlinux", WATCH_BTF_VMLINUX },
		{ WATCH_BTF_SHIPPED_DIR "/%s.btf", WATCH_BTF_SHIPPED },
	};
	struct watch_btf b = {};
	struct utsname u;

	if (!release) {
		if (uname(&u) < 0)
			return -errno;
		release = u.release;
	}
	for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
		char abs[PATH_MAX], real[PATH_MAX];

		if (snprintf(abs, sizeof(abs), places[i].fmt, release) >= (int)sizeof(abs) ||
		    sysroot_path(sr, abs, real, sizeof(real)) < 0)
			continue;
		add_looked(&b, abs);
		if (!is_kernel_btf(real, places[i].source == WATCH_BTF_KERNEL))
			continue;
		if (snprintf(b.path, sizeof(b.path), "%s", real) >= (int)sizeof(b.path))
			continue;
		b.source = places[i].source;
		*ret = b;
		return 0;
	}
	*ret = b;
	return -ENOENT;
}

const char *watch_btf_custom_path(const struct watch_btf *b)
{
	return b->source == WATCH_BTF_KERNEL || !b->path[0] ? NULL : b->path;
}

void watch_btf_explain(const struct watch_btf *b, const char *release, char *buf, size_t size)
{
	struct utsname u;

	if (!release)
		release = uname(&u) == 0 ? u.release : "?";
	if (b->source != WATCH_BTF_NONE)
		snprintf(buf, size, "kernel %s: BTF from %s (%s)", release, b->path,
			 watch_btf_source_to_string(b->source));
	else
		snprintf(buf, size, "kernel %s has no BTF (looked in: %s)", release, b->looked);
}

int watch_kernel_features(struct watch_kernel_features *ret)
{
	int r;

	/* libbpf answers 0 both for a map type the kernel lacks and for a bpf() it refuses: a
	 * plain array tells the two apart. */
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY, NULL);
	if (r < 0)
		return r;
	ret->bpf = r > 0;
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (r < 0)
		return r;
	ret->ringbuf = r > 0;
	return 0;
}

bool watch_kernel_bpf_usable(const struct watch_btf *b, const struct watch_kernel_features *f,
			     const char *release, char *why, size_t size)
{
	struct utsname u;

	if (!release)
		release = uname(&u) == 0 ? u.release : "?";
	if (f && !f->bpf) {
		snprintf(why, size,
			 "bpf() is refused here (no CAP_BPF, kernel lockdown or a system call "
			 "filter)");
		return false;
	}
	if (f && !f->ringbuf) {
		snprintf(why, size, "kernel %s has no BPF ring buffer (5.8 and later)", release);
		return false;
	}
	if (b->source == WATCH_BTF_NONE) {
		watch_btf_explain(b, release, why, size);
		return false;
	}
	return true;
}
