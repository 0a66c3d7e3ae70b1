// SPDX-License-Identifier: GPL-2.0
/* The watcher: judges execs, comm renames, library opens and injection aimed at the approved
 * chat client, from maps user space fills from the policy (agent/watch/watch.c). Base hooks are raw
 * tracepoints (no tracefs, no kprobes); where the kernel has BPF LSM, handle_bprm_check
 * refuses the exec with -EPERM instead of killing it after the fact. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "bpf/wxg_abi.h"

char LICENSE[] SEC("license") = "GPL";

#define SIGKILL 9
#define EPERM 1
#define SCRATCH_LEN 4096
#define ENV_MAX_STRINGS 256
#define ARGV_SCAN 6

/* ptrace requests that attach to or write into the target. */
#define PTRACE_POKETEXT 4
#define PTRACE_POKEDATA 5
#define PTRACE_POKEUSER 6
#define PTRACE_SETREGS 13
#define PTRACE_SETFPREGS 15
#define PTRACE_ATTACH 16
#define PTRACE_SETREGSET 0x4205
#define PTRACE_SEIZE 0x4206

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000

/* Syscall numbers of the running architecture, set by user space from <sys/syscall.h>;
 * -1 when the architecture has no such call. */
const volatile long nr_open = -1;
const volatile long nr_openat = -1;
const volatile long nr_openat2 = -1;
const volatile long nr_ptrace = -1;
const volatile long nr_process_vm_writev = -1;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);   /* 1 MiB: ~2700 exec records */
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WXG_CNT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct wxg_config);
} settings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, struct wxg_inode_key);
	__type(value, struct wxg_inode_val);
} inodes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wxg_name_key);
	__type(value, struct wxg_name_val);
} comm_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wxg_name_key);
	__type(value, struct wxg_name_val);
} arg_names SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct wxg_watch);
} watched SEC(".maps");

/* Non-leader threads of watched processes: tid -> tgid (ptrace targets are thread ids). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} threads SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct wxg_instance_key);
	__type(value, __u32);
} instances SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, WXG_MAX_CLIENTS);
	__type(key, __u32);
	__type(value, struct wxg_client_cfg);
} clients SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct wxg_inode_key);
	__type(value, struct wxg_written_val);
} written SEC(".maps");

struct scratch {
	char buf[SCRATCH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/* Older kernels keep the times in timespec64s: i_atime / i_ctime up to 6.5, __i_ctime from
 * 6.6 and __i_atime from 6.7 up to 6.10. */
struct inode___ts {
	struct timespec64 i_atime;
	struct timespec64 i_ctime;
} __attribute__((preserve_access_index));

struct inode___ts2 {
	struct timespec64 __i_atime;
	struct timespec64 __i_ctime;
} __attribute__((preserve_access_index));

#define S_IFMT 0170000
#define S_IFREG 0100000
#define TMPFS_MAGIC 0x01021994

static __always_inline void cnt_add(__u32 idx, __u64 n)
{
	__u64 *c = bpf_map_lookup_elem(&counters, &idx);

	if (c)
		*c += n;
}

static __always_inline const struct wxg_config *get_config(void)
{
	__u32 zero = 0;
	const struct wxg_config *cfg = bpf_map_lookup_elem(&settings, &zero);

	if (!cfg || !(cfg->flags & WXG_CFG_ARMED))
		return NULL;
	return cfg;
}

static __always_inline void *ev_reserve(__u64 size)
{
	void *e = bpf_ringbuf_reserve(&events, size, 0);

	if (!e)
		cnt_add(WXG_CNT_DROPS, 1);
	return e;
}

static __always_inline void ev_submit(void *e)
{
	bpf_ringbuf_submit(e, 0);
	cnt_add(WXG_CNT_EVENTS, 1);
}

static __always_inline void fill_hdr(struct wxg_ev_hdr *h, __u16 type, __u16 size, __u32 tgid)
{
	h->type = type;
	h->size = size;
	h->tgid = tgid;
	h->ts_ns = bpf_ktime_get_boot_ns();
}

static __always_inline void fill_task(struct wxg_ev_task *t, struct task_struct *task, __u32 wflags)
{
	t->pid = BPF_CORE_READ(task, pid);
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = BPF_CORE_READ(task, real_cred, uid.val);
	t->wflags = wflags;
	t->start_ns = BPF_CORE_READ(task, start_boottime);
	BPF_CORE_READ_STR_INTO(&t->comm, task, comm);
}

/* In enforce mode a denied verdict kills the acting (current) process: the SIGKILL is
 * delivered before it returns to user space. */
static __always_inline __u16 act(const struct wxg_config *cfg, __u16 verdict)
{
	if (verdict != WXG_V_DENY || cfg->mode != WXG_MODE_ENFORCE)
		return WXG_A_NONE;
	bpf_send_signal(SIGKILL);
	cnt_add(WXG_CNT_KILLS, 1);
	return WXG_A_KILL;
}

static __always_inline void inode_key(struct inode *inode, struct wxg_inode_key *k)
{
	k->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	k->_pad = 0;
	k->ino = BPF_CORE_READ(inode, i_ino);
}

static __always_inline void inode_ctime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(inode->i_ctime_sec)) {
		*sec = BPF_CORE_READ(inode, i_ctime_sec);
		/* multigrain timestamps (6.13+) keep a "queried" flag in bit 31 */
		*nsec = BPF_CORE_READ(inode, i_ctime_nsec) & 0x3fffffff;
	} else if (bpf_core_field_exists(((struct inode___ts2 *)inode)->__i_ctime)) {
		*sec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_ctime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_ctime.tv_nsec);
	} else {
		*sec = BPF_CORE_READ((struct inode___ts *)inode, i_ctime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts *)inode, i_ctime.tv_nsec);
	}
}

static __always_inline void inode_atime(struct inode *inode, __s64 *sec, __u32 *nsec)
{
	if (bpf_core_field_exists(inode->i_atime_sec)) {
		*sec = BPF_CORE_READ(inode, i_atime_sec);
		*nsec = BPF_CORE_READ(inode, i_atime_nsec);
	} else if (bpf_core_field_exists(((struct inode___ts2 *)inode)->__i_atime)) {
		*sec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_atime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts2 *)inode, __i_atime.tv_nsec);
	} else {
		*sec = BPF_CORE_READ((struct inode___ts *)inode, i_atime.tv_sec);
		*nsec = BPF_CORE_READ((struct inode___ts *)inode, i_atime.tv_nsec);
	}
}

/* Written by a watched process (the same file, not a later one with the same inode number)? */
static __always_inline bool was_written(struct inode *inode, const struct wxg_inode_key *ik)
{
	const struct wxg_written_val *wv = bpf_map_lookup_elem(&written, ik);

	return wv && (!wv->generation || wv->generation == BPF_CORE_READ(inode, i_generation));
}

/* Lowercased basename (after the last '/' or '\') of the string in the per-CPU scratch
 * buffer, [0..len). bpf_loop keeps the verifier from walking every byte of every path. */
struct name_scan {
	long len;
	__u32 start;
	__u32 found;
	struct wxg_name_key k;
};

static long find_sep(__u32 i, struct name_scan *ns)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	char c;

	if (!s || i >= ns->len)
		return 1;
	c = s->buf[i & (SCRATCH_LEN - 1)];
	if (c == '/' || c == '\\')
		ns->start = i + 1;
	return 0;
}

static long copy_lower(__u32 j, struct name_scan *ns)
{
	__u32 zero = 0, i = ns->start + j;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	__u64 idx;
	char c;

	if (!s || i >= ns->len || j >= WXG_NAME_LEN - 1)
		return 1;
	c = s->buf[i & (SCRATCH_LEN - 1)];
	if (!c)
		return 1;
	if (c >= 'A' && c <= 'Z')
		c += 'a' - 'A';
	idx = j;
	barrier_var(idx);
	idx &= WXG_NAME_LEN - 1;
	ns->k.name[idx] = c;
	ns->found = j + 1;   /* length so far */
	return 0;
}

static __always_inline __u32 name_from_scratch(long len, struct wxg_name_key *k)
{
	struct name_scan ns = { .len = len };

	if (len > 0) {
		bpf_loop(WXG_PATH_LEN, find_sep, &ns, 0);
		bpf_loop(WXG_NAME_LEN - 1, copy_lower, &ns, 0);
	}
	*k = ns.k;
	return ns.found;
}

static __always_inline bool ends_with_exe(const struct wxg_name_key *k, __u32 len)
{
	if (len < 5 || len >= WXG_NAME_LEN)
		return false;
	return k->name[(len - 4) & (WXG_NAME_LEN - 1)] == '.' &&
	       k->name[(len - 3) & (WXG_NAME_LEN - 1)] == 'e' &&
	       k->name[(len - 2) & (WXG_NAME_LEN - 1)] == 'x' &&
	       k->name[(len - 1) & (WXG_NAME_LEN - 1)] == 'e';
}

static __always_inline bool str_prefix(const char *buf, const char *prefix, __u32 n)
{
	for (__u32 i = 0; i < n; i++)
		if (buf[i] != prefix[i])
			return false;
	return true;
}

struct env_scan {
	unsigned long p, end;
	__u32 flags;
	bool cont;
};

static long env_scan_one(__u32 idx, struct env_scan *es)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	char *buf;
	long n;

	if (!s || es->p >= es->end)
		return 1;
	buf = s->buf;
	n = bpf_probe_read_user_str(buf, SCRATCH_LEN, (const void *)es->p);
	if (n <= 0)
		return 1;
	if (!es->cont && buf[0] == 'L' && buf[1] == 'D' && buf[2] == '_') {
		if (str_prefix(buf + 3, "PRELOAD=", 8))
			es->flags |= WXG_EXEC_F_PRELOAD;
		else if (str_prefix(buf + 3, "AUDIT=", 6))
			es->flags |= WXG_EXEC_F_AUDIT;
	}
	es->cont = n == SCRATCH_LEN;
	es->p += es->cont ? SCRATCH_LEN - 1 : n;
	return 0;
}

/* LD_PRELOAD= / LD_AUDIT= in the new image's environment (the strings are on its stack).
 * bpf_loop: the verifier checks the body once, not once per string. */
static __always_inline __u32 scan_env(struct task_struct *task)
{
	struct env_scan es = {
		.p = BPF_CORE_READ(task, mm, env_start),
		.end = BPF_CORE_READ(task, mm, env_end),
	};

	bpf_loop(ENV_MAX_STRINGS, env_scan_one, &es, 0);
	return es.flags;
}

struct judgement {
	__u16 verdict;
	__u16 reason;
	__u16 client;
	__u16 _pad;
	__u32 flags;
	struct wxg_name_key name;
};

static __always_inline bool lookup_name(void *map, const struct wxg_name_key *k, struct judgement *j)
{
	const struct wxg_name_val *nv = bpf_map_lookup_elem(map, k);

	if (!nv)
		return false;
	j->name = *k;
	j->client = nv->client;
	if (nv->kind == WXG_NAME_DENIED) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_DENIED_NAME;
		j->flags |= WXG_EXEC_F_DENIED_FAMILY;
	} else {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_UNAPPROVED;
	}
	return true;
}

/* Does this exec look like a client family by name? comm (exact), the exec'd file's basename,
 * argv[0]'s basename, and for Wine loaders / ld.so / interpreters the .exe or file arguments. */
struct argv_scan {
	unsigned long arg, arg_end;
	long n;
	bool wine, found;
	struct wxg_name_key k;
};

static long argv_scan_one(__u32 idx, struct argv_scan *as)
{
	__u32 zero = 0, len;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);

	if (!s || as->n <= 0)
		return 1;
	as->arg += as->n;
	if (as->arg >= as->arg_end)
		return 1;
	as->n = bpf_probe_read_user_str(s->buf, WXG_PATH_LEN, (const void *)as->arg);
	if (as->n <= 1 || s->buf[0] == '-')
		return 0;
	len = name_from_scratch(as->n, &as->k);
	if (as->wine && !ends_with_exe(&as->k, len))
		return 0;
	if (bpf_map_lookup_elem(&arg_names, &as->k)) {
		as->found = true;
		return 1;
	}
	return 0;
}

static __always_inline bool judge_names(struct task_struct *task, struct linux_binprm *bprm,
					const struct wxg_inode_val *iv, char *buf, struct judgement *j)
{
	struct wxg_name_key k;
	unsigned long arg, arg_end;
	char comm[WXG_COMM_LEN];
	bool wine, loader;
	long n;

	__builtin_memset(&k, 0, sizeof(k));
	BPF_CORE_READ_STR_INTO(&comm, task, comm);
	__builtin_memcpy(k.name, comm, WXG_COMM_LEN);
	if (lookup_name(&comm_names, &k, j))
		return true;

	/* comm is the file's basename, cut at 15 bytes: lowercase it for arg_names, and read
	 * the whole basename only when it was cut. */
	for (int i = 0; i < WXG_COMM_LEN; i++)
		if (k.name[i] >= 'A' && k.name[i] <= 'Z')
			k.name[i] += 'a' - 'A';
	if (lookup_name(&arg_names, &k, j))
		return true;
	if (comm[WXG_COMM_LEN - 2]) {
		n = bpf_probe_read_kernel_str(buf, WXG_PATH_LEN, BPF_CORE_READ(bprm, filename));
		name_from_scratch(n, &k);
		if (lookup_name(&arg_names, &k, j))
			return true;
	}

	arg = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	n = bpf_probe_read_user_str(buf, WXG_PATH_LEN, (const void *)arg);
	name_from_scratch(n, &k);
	if (lookup_name(&arg_names, &k, j))
		return true;

	wine = (iv && (iv->flags & WXG_I_WINE)) ||
	       (comm[0] == 'w' && comm[1] == 'i' && comm[2] == 'n' && comm[3] == 'e');
	loader = iv && (iv->flags & WXG_I_LOADER);
	if (!wine && !loader)
		return false;
	{
		struct argv_scan as = { .arg = arg, .arg_end = arg_end, .n = n, .wine = wine };

		bpf_loop(ARGV_SCAN - 1, argv_scan_one, &as, 0);
		/* an unapproved loader starting a family .exe / file */
		if (as.found && lookup_name(&arg_names, &as.k, j))
			return true;
	}
	return false;
}

static __always_inline struct wxg_watch *lookup_watched(__u32 tgid, __u64 start_ns)
{
	struct wxg_watch *w = bpf_map_lookup_elem(&watched, &tgid);

	if (w && w->start_ns && w->start_ns != start_ns) {
		/* A reused PID: the watched process is long gone. */
		bpf_map_delete_elem(&watched, &tgid);
		return NULL;
	}
	return w;
}

static __always_inline void instance_put(__u32 uid, __u16 client)
{
	struct wxg_instance_key ik = { .uid = uid, .client = client };
	__u32 *cnt = bpf_map_lookup_elem(&instances, &ik);

	if (cnt && *cnt > 0)
		__sync_fetch_and_add(cnt, -1);
}

/* Count one more instance; false when that goes over the client's limit. */
static __always_inline bool instance_get(__u32 uid, __u16 client, bool over_ok)
{
	struct wxg_instance_key ik = { .uid = uid, .client = client };
	__u32 idx = client, zero = 0, *cnt;
	struct wxg_client_cfg *cc = bpf_map_lookup_elem(&clients, &idx);

	cnt = bpf_map_lookup_elem(&instances, &ik);
	if (!cnt) {
		bpf_map_update_elem(&instances, &ik, &zero, BPF_NOEXIST);
		cnt = bpf_map_lookup_elem(&instances, &ik);
		if (!cnt)
			return true;
	}
	if (cc && cc->max_instances && *cnt >= cc->max_instances) {
		if (over_ok)
			__sync_fetch_and_add(cnt, 1);
		return false;
	}
	__sync_fetch_and_add(cnt, 1);
	return true;
}

/* Everything the exec judgement and its consequences need, scalars only: the two halves
 * below are global functions, verified once each instead of once per path through both. */
struct exec_state {
	struct judgement j;
	struct wxg_inode_key ik;
	struct wxg_watch w;      /* copy of the watched entry, when has_w */
	__u64 size;
	__u64 start_ns;
	__u32 tgid;
	__u32 old_pid;
	__u32 uid;
	__u32 has_w;
	__u32 family;
	__u32 _pad;
};

__noinline int exec_judge(__u64 task_ptr, __u64 bprm_ptr, struct exec_state *x)
{
	struct task_struct *task = (struct task_struct *)task_ptr;
	struct linux_binprm *bprm = (struct linux_binprm *)bprm_ptr;
	const struct wxg_config *cfg = get_config();
	struct judgement *j;
	struct wxg_inode_val *iv;
	struct wxg_watch *w;
	struct inode *inode;
	struct scratch *s;
	__u32 zero = 0;

	if (!x || !cfg)
		return 0;
	j = &x->j;
	if (x->tgid == cfg->agent_tgid)
		return 0;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	if (x->old_pid != x->tgid) {
		__u32 op = x->old_pid;

		j->flags |= WXG_EXEC_F_THREAD;
		bpf_map_delete_elem(&threads, &op);
	}
	if (BPF_CORE_READ(bprm, interp) != BPF_CORE_READ(bprm, filename))
		j->flags |= WXG_EXEC_F_SCRIPT;
	if (BPF_CORE_READ(bprm, fdpath))
		j->flags |= WXG_EXEC_F_FD;

	inode = BPF_CORE_READ(bprm, file, f_inode);
	inode_key(inode, &x->ik);
	x->size = BPF_CORE_READ(inode, i_size);
	if (BPF_CORE_READ(inode, i_nlink) == 0)
		j->flags |= WXG_EXEC_F_NOLINK;
	iv = bpf_map_lookup_elem(&inodes, &x->ik);
	if (iv && (iv->flags & WXG_I_LOADER))
		j->flags |= WXG_EXEC_F_LOADER;
	w = lookup_watched(x->tgid, x->start_ns);
	if (w) {
		x->w = *w;
		x->has_w = 1;
	}

	if (iv && (iv->flags & WXG_I_DENIED)) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_DENIED_INODE;
		j->client = iv->client;
		j->flags |= WXG_EXEC_F_DENIED_FAMILY;
	} else if ((cfg->flags & WXG_CFG_ATTACHMENT_EXEC) &&
		   !((j->flags & WXG_EXEC_F_NOLINK) && x->has_w) &&   /* fileless, below */
		   was_written(inode, &x->ik)) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_ATTACHMENT;
	} else if (iv && (iv->flags & WXG_I_APPROVED)) {
		__s64 csec;
		__u32 cnsec;

		inode_ctime(inode, &csec, &cnsec);
		j->client = iv->client;
		if (iv->size != x->size || iv->ctime_sec != csec || iv->ctime_nsec != cnsec) {
			j->verdict = WXG_V_DENY;
			j->reason = WXG_R_MODIFIED;
		} else {
			x->family = 1;
			j->verdict = WXG_V_ALLOW;
			j->reason = WXG_R_APPROVED;
			j->flags |= scan_env(task);
			if (j->flags & (WXG_EXEC_F_PRELOAD | WXG_EXEC_F_AUDIT)) {
				j->verdict = WXG_V_DENY;
				j->reason = WXG_R_PRELOAD;
			} else if (iv->flags & WXG_I_WINE) {
				/* An approved Wine loader: which .exe, which prefix is for user space. */
				j->verdict = WXG_V_PENDING;
				j->reason = WXG_R_WINE;
			}
		}
	} else if (judge_names(task, bprm, iv, s->buf, j)) {
		x->family = 1;
	}

	if (j->reason == WXG_R_NONE && (j->flags & WXG_EXEC_F_NOLINK) && x->has_w) {
		j->verdict = WXG_V_DENY;
		j->reason = WXG_R_MEMFD;
	}
	if (j->reason == WXG_R_NONE && x->has_w) {
		j->verdict = WXG_V_ALLOW;
		j->reason = WXG_R_CHILD;
		j->client = x->w.client;
	}
	return j->reason != WXG_R_NONE;
}

__noinline int exec_finish(__u64 task_ptr, __u64 bprm_ptr, struct exec_state *x)
{
	struct task_struct *task = (struct task_struct *)task_ptr;
	struct linux_binprm *bprm = (struct linux_binprm *)bprm_ptr;
	const struct wxg_config *cfg = get_config();
	struct wxg_watch nw = {};
	struct wxg_ev_exec *e;
	struct judgement *j;
	bool report, enforce;
	__u32 tgid;
	__u16 a;

	if (!x || !cfg)
		return 0;
	j = &x->j;
	tgid = x->tgid;
	enforce = cfg->mode == WXG_MODE_ENFORCE;

	/* The approved client: count the instance (a client re-exec'ing itself stays counted). */
	if (j->reason == WXG_R_APPROVED) {
		bool counted = x->has_w && (x->w.flags & WXG_W_INSTANCE);

		if (!counted) {
			bool ok = instance_get(x->uid, j->client, !enforce);

			if (!ok) {
				j->verdict = WXG_V_DENY;
				j->reason = WXG_R_INSTANCES;
			}
			counted = ok || !enforce;
		}
		nw.flags = WXG_W_CLIENT | (counted ? WXG_W_INSTANCE : 0);
	} else if (x->has_w && (x->w.flags & WXG_W_INSTANCE)) {
		instance_put(x->w.uid, x->w.client);
	}

	/* Don't repeat a report for a process already reported as denied (audit mode). */
	report = !(x->has_w && (x->w.flags & WXG_W_REPORTED) && j->verdict == WXG_V_DENY &&
		   (j->reason == WXG_R_DENIED_NAME || j->reason == WXG_R_UNAPPROVED));

	a = act(cfg, j->verdict);

	/* Keep watching what runs on: the client, its tree, and (audit) what was denied. */
	nw.start_ns = x->start_ns;
	nw.uid = x->uid;
	nw.client = j->client;
	if (j->reason == WXG_R_APPROVED || j->reason == WXG_R_INSTANCES) {
		/* flags set above */
	} else if (j->reason == WXG_R_PRELOAD || j->reason == WXG_R_WINE) {
		nw.flags = WXG_W_CLIENT | (j->reason == WXG_R_WINE ? WXG_W_PENDING : WXG_W_REPORTED);
	} else if (j->verdict == WXG_V_DENY && x->family) {
		nw.flags = WXG_W_DENIED | WXG_W_REPORTED;
	} else if (x->has_w) {
		nw.flags = (x->w.flags & (WXG_W_REPORTED | WXG_W_DENIED)) | WXG_W_CHILD;
		nw.client = x->w.client;
	} else {
		nw.flags = WXG_W_CHILD;
	}
	/* A killed process keeps its (updated) entry until exit, so the instance it held is
	 * released exactly once. */
	if (a == WXG_A_NONE || x->has_w || (nw.flags & WXG_W_INSTANCE))
		bpf_map_update_elem(&watched, &tgid, &nw, BPF_ANY);
	if (!report)
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_EXEC, sizeof(*e), tgid);
	fill_task(&e->task, task, nw.flags);
	e->task.pid = x->old_pid;
	e->v.verdict = j->verdict;
	e->v.reason = j->reason;
	e->v.action = a;
	e->v.client = j->client;
	e->flags = j->flags;
	e->dev = x->ik.dev;
	e->ino = x->ik.ino;
	e->size = x->size;
	__builtin_memcpy(e->name, j->name.name, WXG_NAME_LEN);
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	ev_submit(e);
	return 0;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(handle_sched_process_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct exec_state x = {};

	cnt_add(WXG_CNT_EXECS, 1);
	x.j.client = WXG_CLIENT_NONE;
	x.tgid = BPF_CORE_READ(task, tgid);
	x.old_pid = old_pid;
	x.start_ns = BPF_CORE_READ(task, start_boottime);
	x.uid = BPF_CORE_READ(task, real_cred, uid.val);
	if (exec_judge((__u64)task, (__u64)bprm, &x))
		exec_finish((__u64)task, (__u64)bprm, &x);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(handle_sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = BPF_CORE_READ(parent, tgid);
	__u32 pid = BPF_CORE_READ(child, pid), tgid = BPF_CORE_READ(child, tgid);
	struct wxg_watch *w, nw;

	w = bpf_map_lookup_elem(&watched, &ptgid);
	if (!w)
		return 0;
	if (pid != tgid) {
		bpf_map_update_elem(&threads, &pid, &tgid, BPF_ANY);
		return 0;
	}
	nw = *w;
	nw.start_ns = BPF_CORE_READ(child, start_boottime);
	nw.flags &= ~WXG_W_INSTANCE;   /* a fork of the client is not another instance */
	bpf_map_update_elem(&watched, &tgid, &nw, BPF_ANY);
	return 0;
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(handle_sched_process_exit, struct task_struct *task)
{
	__u32 pid = BPF_CORE_READ(task, pid), tgid = BPF_CORE_READ(task, tgid);
	struct wxg_watch *w;

	if (pid != tgid)
		bpf_map_delete_elem(&threads, &pid);
	/* Only the last thread of the group ends the process (threads may outlive the leader). */
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w)
		return 0;
	if (w->flags & WXG_W_INSTANCE)
		instance_put(w->uid, w->client);
	bpf_map_delete_elem(&watched, &tgid);
	return 0;
}

SEC("raw_tp/task_rename")
int BPF_PROG(handle_task_rename, struct task_struct *task, const char *comm)
{
	const struct wxg_config *cfg = get_config();
	struct judgement j = { .client = WXG_CLIENT_NONE };
	struct wxg_ev_rename *e;
	struct wxg_name_key k;
	struct wxg_watch *w;
	__u32 tgid;
	__u16 a;

	if (!cfg)
		return 0;
	/* exec sets comm from the file name: handle_sched_process_exec judges that. */
	if (BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	tgid = BPF_CORE_READ(task, tgid);
	if (tgid == cfg->agent_tgid)
		return 0;
	__builtin_memset(&k, 0, sizeof(k));
	bpf_probe_read_kernel_str(k.name, WXG_COMM_LEN, comm);
	if (!lookup_name(&comm_names, &k, &j)) {
		for (int i = 0; i < WXG_COMM_LEN; i++)
			if (k.name[i] >= 'A' && k.name[i] <= 'Z')
				k.name[i] += 'a' - 'A';
		if (!lookup_name(&arg_names, &k, &j))
			return 0;
	}
	w = bpf_map_lookup_elem(&watched, &tgid);
	if (w && (w->flags & WXG_W_CLIENT) && j.reason == WXG_R_UNAPPROVED && w->client == j.client)
		return 0;   /* the approved client naming itself or its threads */
	if (w && (w->flags & WXG_W_REPORTED))
		return 0;
	j.reason = WXG_R_RENAME;
	if (w && (w->flags & WXG_W_PENDING))
		j.verdict = WXG_V_PENDING;
	a = act(cfg, j.verdict);
	if (w && a == WXG_A_NONE && j.verdict == WXG_V_DENY)
		w->flags |= WXG_W_REPORTED | WXG_W_DENIED;
	else if (!w && a == WXG_A_NONE) {
		struct wxg_watch nw = {
			.start_ns = BPF_CORE_READ(task, start_boottime),
			.flags = WXG_W_REPORTED | WXG_W_DENIED,
			.uid = BPF_CORE_READ(task, real_cred, uid.val),
			.client = j.client,
		};

		bpf_map_update_elem(&watched, &tgid, &nw, BPF_ANY);
	}
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_RENAME, sizeof(*e), tgid);
	fill_task(&e->task, task, w ? w->flags : WXG_W_REPORTED | WXG_W_DENIED);
	e->v.verdict = j.verdict;
	e->v.reason = j.reason;
	e->v.action = a;
	e->v.client = j.client;
	__builtin_memcpy(e->new_comm, k.name, WXG_COMM_LEN);
	bpf_probe_read_kernel_str(e->new_comm, WXG_COMM_LEN, comm);
	ev_submit(e);
	return 0;
}

static __always_inline struct wxg_watch *lookup_target(__u32 pid, __u32 *tgid)
{
	struct wxg_watch *w = bpf_map_lookup_elem(&watched, &pid);
	__u32 *t;

	*tgid = pid;
	if (w)
		return w;
	t = bpf_map_lookup_elem(&threads, &pid);
	if (!t)
		return NULL;
	*tgid = *t;
	return bpf_map_lookup_elem(&watched, t);
}

static __always_inline int on_inject(const struct wxg_config *cfg, struct task_struct *task,
				     __u32 tgid, __u64 request, __u32 target, __u16 reason)
{
	struct wxg_watch *tw, *self;
	struct wxg_ev_inject *e;
	__u32 target_tgid;
	__u16 client, a;
	__u64 tstart;

	tw = lookup_target(target, &target_tgid);
	if (!tw || !(tw->flags & WXG_W_CLIENT) || target_tgid == tgid)
		return 0;
	client = tw->client;
	tstart = tw->start_ns;
	self = bpf_map_lookup_elem(&watched, &tgid);
	if (self && (self->flags & WXG_W_CLIENT) && self->client == client)
		return 0;   /* the client's own crash handler */
	a = act(cfg, WXG_V_DENY);
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_INJECT, sizeof(*e), tgid);
	fill_task(&e->task, task, self ? self->flags : 0);
	e->v.verdict = WXG_V_DENY;
	e->v.reason = reason;
	e->v.action = a;
	e->v.client = client;
	e->request = request;
	e->target_tgid = target_tgid;
	e->target_pid = target;
	e->target_start_ns = tstart;
	ev_submit(e);
	return 0;
}

static long find_so(__u32 i, struct name_scan *ns)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch_map, &zero);
	char c;

	if (!s || i + 3 >= ns->len)
		return 1;
	if (s->buf[i & (SCRATCH_LEN - 1)] != '.' || s->buf[(i + 1) & (SCRATCH_LEN - 1)] != 's' ||
	    s->buf[(i + 2) & (SCRATCH_LEN - 1)] != 'o')
		return 0;
	c = s->buf[(i + 3) & (SCRATCH_LEN - 1)];
	if (c == 0 || c == '.') {
		ns->found = 1;
		return 1;
	}
	return 0;
}

/* *.so, *.so.N..., *.dll, *.drv (case-insensitive for Windows names), in the scratch buffer. */
static __always_inline bool is_library(const char *p, long n)
{
	struct name_scan ns = { .len = n };
	char c0, c1, c2, c3;

	if (n < 5 || n > WXG_PATH_LEN)
		return false;
	bpf_loop(WXG_PATH_LEN, find_so, &ns, 0);
	if (ns.found)
		return true;
	c0 = p[(n - 5) & (SCRATCH_LEN - 1)];
	c1 = p[(n - 4) & (SCRATCH_LEN - 1)] | 0x20;
	c2 = p[(n - 3) & (SCRATCH_LEN - 1)] | 0x20;
	c3 = p[(n - 2) & (SCRATCH_LEN - 1)] | 0x20;
	if (c0 != '.')
		return false;
	return (c1 == 'd' && c2 == 'l' && c3 == 'l') || (c1 == 'd' && c2 == 'r' && c3 == 'v');
}

/* An open by the approved client (w): a library or DLL outside lib_dirs is judged in user
 * space. */
static __always_inline int on_open(struct task_struct *task, struct wxg_watch *w, __u32 tgid,
				   const char *upath, __u32 flags)
{
	struct wxg_client_cfg *cc;
	struct wxg_ev_open *e;
	struct scratch *s;
	__u32 idx, zero = 0;
	long n;

	/* Opened for writing: not a library load. What is written is recorded where it is
	 * written (handle_writeback_mark_inode_dirty). */
	if (flags & (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC))
		return 0;
	idx = w->client;
	cc = bpf_map_lookup_elem(&clients, &idx);
	if (!cc || !(cc->flags & WXG_C_LIB_DIRS))
		return 0;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	n = bpf_probe_read_user_str(s->buf, WXG_PATH_LEN, upath);
	if (!is_library(s->buf, n))
		return 0;
	e = ev_reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_hdr(&e->hdr, WXG_EV_OPEN, sizeof(*e), tgid);
	fill_task(&e->task, task, w->flags);
	e->v.verdict = WXG_V_PENDING;
	e->v.reason = WXG_R_LIBRARY;
	e->v.action = WXG_A_NONE;
	e->v.client = w->client;
	e->open_flags = flags;
	e->_pad = 0;
	bpf_probe_read_kernel_str(e->path, sizeof(e->path), s->buf);
	ev_submit(e);
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
	    id != nr_process_vm_writev)
		return 0;
	tgid = bpf_get_current_pid_tgid() >> 32;
	task = (struct task_struct *)bpf_get_current_task();
	if (id == nr_openat || id == nr_open || id == nr_openat2) {
		/* the agent is never watched */
		w = bpf_map_lookup_elem(&watched, &tgid);
		if (!w || !(w->flags & WXG_W_CLIENT) || !get_config())
			return 0;
		if (id == nr_openat)
			return on_open(task, w, tgid, (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs),
				       PT_REGS_PARM3_CORE_SYSCALL(regs));
		if (id == nr_open)
			return on_open(task, w, tgid, (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs),
				       PT_REGS_PARM2_CORE_SYSCALL(regs));
		{
			struct open_how *how = (struct open_how *)PT_REGS_PARM3_CORE_SYSCALL(regs);
			__u64 fl = 0;

			bpf_probe_read_user(&fl, sizeof(fl), &how->flags);
			return on_open(task, w, tgid, (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs), fl);
		}
	}
	cfg = get_config();
	if (!cfg || tgid == cfg->agent_tgid)
		return 0;
	if (id == nr_ptrace) {
		long req = PT_REGS_PARM1_CORE_SYSCALL(regs);

		if (req != PTRACE_ATTACH && req != PTRACE_SEIZE && req != PTRACE_POKETEXT &&
		    req != PTRACE_POKEDATA && req != PTRACE_POKEUSER && req != PTRACE_SETREGS &&
		    req != PTRACE_SETFPREGS && req != PTRACE_SETREGSET)
			return 0;
		return on_inject(cfg, task, tgid, req, PT_REGS_PARM2_CORE_SYSCALL(regs), WXG_R_PTRACE);
	}
	/* process_vm_writev. The SIGKILL is pending before the copy starts: pinning the
	 * target's pages fails with -EINTR, nothing is written. */
	return on_inject(cfg, task, tgid, 0, PT_REGS_PARM1_CORE_SYSCALL(regs), WXG_R_VM_WRITE);
}

/* Files a watched process (client or its tree) writes, for the attachment_exec judgement:
 * recorded in the writer's context by two tracepoints far rarer than syscalls (they replaced
 * a sys_exit program that ran on every syscall of the machine). Measured on 6.18, ext4 and
 * tmpfs: docs/watch.md. */
static __always_inline int note_written(struct inode *inode, bool pages)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct wxg_written_val wv = {}, *old;
	struct wxg_inode_key ik;
	struct wxg_watch *w;

	w = bpf_map_lookup_elem(&watched, &tgid);
	if (!w || !(w->flags & (WXG_W_CLIENT | WXG_W_CHILD)))
		return 0;
	/* Regular files with a name (a memfd is still recorded once: its ctime is set while it
	 * has its first link; a watched process exec'ing it is judged fileless all the same). */
	if ((BPF_CORE_READ(inode, i_mode) & S_IFMT) != S_IFREG || BPF_CORE_READ(inode, i_nlink) == 0)
		return 0;
	if (!pages) {
		__s64 asec, csec;
		__u32 ansec, cnsec;

		/* An access-time update (read, mmap, exec) leaves the ctime behind the new atime. */
		inode_atime(inode, &asec, &ansec);
		inode_ctime(inode, &csec, &cnsec);
		if (asec > csec || (asec == csec && ansec > cnsec))
			return 0;
	}
	inode_key(inode, &ik);
	/* tmpfs sets i_generation after the ctime of a new inode (the event that records it):
	 * 0 matches any, and tmpfs does not reuse inode numbers (a per-mount counter). */
	if (BPF_CORE_READ(inode, i_sb, s_magic) != TMPFS_MAGIC)
		wv.generation = BPF_CORE_READ(inode, i_generation);
	old = bpf_map_lookup_elem(&written, &ik);
	if (old && old->tgid == tgid && old->generation == wv.generation)
		return 0;   /* the next page of the same file */
	wv.ts_ns = bpf_ktime_get_boot_ns();
	wv.tgid = tgid;
	bpf_map_update_elem(&written, &ik, &wv, BPF_ANY);
	cnt_add(WXG_CNT_WRITTEN, 1);
	return 0;
}

/* Top of __mark_inode_dirty(inode, flags): a write dirtied a clean page of the file's page
 * cache (I_DIRTY_PAGES: write(2), copy_file_range, a write fault on a shared mapping; not on
 * tmpfs, which has no dirty accounting), or its timestamps moved (at most once per tick). */
SEC("raw_tp/writeback_mark_inode_dirty")
int BPF_PROG(handle_writeback_mark_inode_dirty, struct inode *inode, int flags)
{
	__u32 pages = bpf_core_enum_value_exists(enum inode_state_flags_t, I_DIRTY_PAGES) ?
		      bpf_core_enum_value(enum inode_state_flags_t, I_DIRTY_PAGES) : 1 << 2;

	return note_written(inode, flags & pages);
}

/* A multigrain file system (6.13+: ext4, xfs, btrfs, tmpfs) changed an inode's ctime: the
 * file was created, truncated, written in a new tick, chmod'ed, renamed or linked. Covers
 * what the hook above misses on tmpfs: a file created and written within one tick. Not
 * attached where the kernel lacks the tracepoint (agent/watch/watch.c). */
SEC("raw_tp/ctime_ns_xchg")
int BPF_PROG(handle_ctime_ns_xchg, struct inode *inode)
{
	return note_written(inode, true);
}

/* BPF LSM, loaded only where the kernel has it (agent/watch/watch.c probes): refuses the exec of a
 * denied or unapproved binary, a client-written file, or a family name on an unknown inode,
 * so the old image keeps running and gets -EPERM. Runs once per binfmt level (script, then
 * interpreter). What needs the new image (environment, instances) stays with the raw
 * tracepoint above. */
SEC("lsm/bprm_check_security")
int BPF_PROG(handle_bprm_check, struct linux_binprm *bprm, int ret)
{
	const struct wxg_config *cfg = get_config();
	struct judgement j = { .client = WXG_CLIENT_NONE };
	struct task_struct *task;
	struct wxg_inode_val *iv;
	struct wxg_inode_key ik;
	struct wxg_name_key k;
	struct wxg_ev_exec *e;
	struct inode *inode;
	struct scratch *s;
	__u32 tgid, zero = 0;
	long n;

	if (ret || !cfg || cfg->mode != WXG_MODE_ENFORCE)
		return ret;
	tgid = bpf_get_current_pid_tgid() >> 32;
	if (tgid == cfg->agent_tgid)
		return 0;
	s = bpf_map_lookup_elem(&scratch_map, &zero);
	if (!s)
		return 0;
	inode = BPF_CORE_READ(bprm, file, f_inode);
	inode_key(inode, &ik);
	iv = bpf_map_lookup_elem(&inodes, &ik);
	if (iv && (iv->flags & WXG_I_DENIED)) {
		j.reason = WXG_R_DENIED_INODE;
		j.client = iv->client;
	} else if ((cfg->flags & WXG_CFG_ATTACHMENT_EXEC) && was_written(inode, &ik)) {
		j.reason = WXG_R_ATTACHMENT;
	} else if (!iv || !(iv->flags & WXG_I_APPROVED)) {
		n = bpf_probe_read_kernel_str(s->buf, WXG_PATH_LEN, BPF_CORE_READ(bprm, filename));
		name_from_scratch(n, &k);
		if (!lookup_name(&arg_names, &k, &j))
			return 0;
		if (iv && (iv->flags & WXG_I_WINE))
			return 0;
	} else {
		return 0;
	}
	j.verdict = WXG_V_DENY;
	cnt_add(WXG_CNT_LSM_DENIES, 1);
	e = ev_reserve(sizeof(*e));
	if (e) {
		task = (struct task_struct *)bpf_get_current_task();
		fill_hdr(&e->hdr, WXG_EV_EXEC, sizeof(*e), tgid);
		fill_task(&e->task, task, 0);
		e->v.verdict = j.verdict;
		e->v.reason = j.reason;
		e->v.action = WXG_A_LSM_DENY;
		e->v.client = j.client;
		e->flags = j.flags;
		e->dev = ik.dev;
		e->ino = ik.ino;
		e->size = BPF_CORE_READ(inode, i_size);
		__builtin_memcpy(e->name, j.name.name, WXG_NAME_LEN);
		bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
		ev_submit(e);
	}
	return -EPERM;
}
