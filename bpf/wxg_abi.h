/* The one header the watcher's BPF programs (bpf/watch.bpf.c) and user space (agent/watch/watch.c)
 * share: ring-buffer records, map keys and values, counters. No includes of its own: the BPF
 * side gets __u32 & co. from vmlinux.h, user space from <linux/types.h>. Fixed-width types,
 * explicit padding, explicit enum values; user space asserts every size (agent/watch/watch.c). */
#ifndef WXG_ABI_H
#define WXG_ABI_H

#define WXG_COMM_LEN 16
#define WXG_NAME_LEN 32 /* basenames of argv[0] / the exec'd file / Windows paths */
#define WXG_PATH_LEN 256
#define WXG_MAX_CLIENTS 64 /* policy clients (index into the clients map) */
#define WXG_CLIENT_NONE 0xffff

enum wxg_ev_type {
	WXG_EV_EXEC = 1,   /* an exec worth reporting (struct wxg_ev_exec) */
	WXG_EV_RENAME = 2, /* comm rename to a client-family name (struct wxg_ev_rename) */
	WXG_EV_OPEN = 3,   /* a watched client opened a library / DLL (struct wxg_ev_open) */
	WXG_EV_INJECT = 4, /* ptrace / process_vm_writev aimed at a watched client */
};

enum wxg_verdict {
	WXG_V_ALLOW = 0,   /* reported for information (watched tree) */
	WXG_V_DENY = 1,    /* killed in enforce mode (or refused by BPF LSM) */
	WXG_V_PENDING = 2, /* the kernel cannot tell: user space judges (Wine, libraries) */
};

enum wxg_reason {
	WXG_R_NONE = 0,
	WXG_R_APPROVED = 1,     /* approved executable (dev, inode, size, ctime) */
	WXG_R_DENIED_INODE = 2, /* executable on the deny list */
	WXG_R_DENIED_NAME = 3,  /* name of a denied client family */
	WXG_R_UNAPPROVED = 4,   /* name of an approved family, executable not approved */
	WXG_R_MODIFIED = 5,     /* approved inode whose size or ctime changed since it was hashed */
	WXG_R_ATTACHMENT = 6,   /* file written by a watched client, now executed */
	WXG_R_MEMFD = 7,     /* fileless: the executable has no name (memfd, O_TMPFILE, deleted) */
	WXG_R_PRELOAD = 8,   /* LD_PRELOAD / LD_AUDIT in the approved client's environment */
	WXG_R_INSTANCES = 9, /* more instances than max_instances */
	WXG_R_CHILD = 10,    /* exec inside a watched client's process tree */
	WXG_R_WINE = 11,     /* approved Wine loader: user space judges the .exe and prefix */
	WXG_R_LIBRARY = 12,  /* library / DLL opened by an approved client */
	WXG_R_PTRACE = 13,   /* ptrace attach / seize / poke aimed at a watched client */
	WXG_R_VM_WRITE = 14, /* process_vm_writev aimed at a watched client */
	WXG_R_RENAME = 15,   /* comm renamed to a client-family name by an unapproved process */
};

enum wxg_action {
	WXG_A_NONE = 0,
	WXG_A_KILL = 1,      /* bpf_send_signal(SIGKILL) to the acting process */
	WXG_A_LSM_DENY = 2,  /* BPF LSM refused it (-EPERM): exec, mapping, ptrace access */
	WXG_A_FAN_DENY = 3,  /* user space only: a fanotify permission event answered FAN_DENY */
	WXG_A_KILL_USER = 4, /* user space only: SIGKILL sent by the agent (fanotify rung) */
	WXG_A_HOLD = 5,      /* stopped (SIGSTOP) in its exec, before its first instruction:
			      * user space judges it, then continues (SIGCONT) or kills it */
};

/* Every ring-buffer record starts with this. */
struct wxg_ev_hdr {
	__u16 type; /* enum wxg_ev_type */
	__u16 size; /* whole record, bytes */
	__u32 tgid;
	__u64 ts_ns; /* bpf_ktime_get_boot_ns() */
};

/* Who acted (the process the record is about). */
struct wxg_ev_task {
	__u32 pid;      /* thread id (for exec: the id before exec, see old_pid) */
	__u32 ppid;     /* real parent's tgid */
	__u32 uid;      /* real uid */
	__u32 wflags;   /* enum wxg_watch_flags of the process, after this event */
	__u64 start_ns; /* task start_boottime: tells a reused PID apart */
	char comm[WXG_COMM_LEN];
};

struct wxg_ev_verdict {
	__u16 verdict; /* enum wxg_verdict */
	__u16 reason;  /* enum wxg_reason */
	__u16 action;  /* enum wxg_action */
	__u16 client;  /* policy client / deny index, WXG_CLIENT_NONE if none */
};

enum wxg_exec_flags {
	WXG_EXEC_F_SCRIPT = 1 << 0,  /* went through an interpreter (#!): filename is the script */
	WXG_EXEC_F_FD = 1 << 1,      /* execveat(fd, "", AT_EMPTY_PATH) / fexecve */
	WXG_EXEC_F_NOLINK = 1 << 2,  /* the executable has no name (i_nlink == 0) */
	WXG_EXEC_F_PRELOAD = 1 << 3, /* LD_PRELOAD= in the environment */
	WXG_EXEC_F_AUDIT = 1 << 4,   /* LD_AUDIT= in the environment */
	WXG_EXEC_F_THREAD = 1 << 5,  /* a non-leader thread exec'd (old pid != tgid) */
	WXG_EXEC_F_LOADER = 1 << 6,  /* the executable is a dynamic loader / interpreter */
	WXG_EXEC_F_DENIED_FAMILY = 1 << 7, /* name matched a [deny.*] (client = deny index) */
};

struct wxg_ev_exec {
	struct wxg_ev_hdr hdr;
	struct wxg_ev_task task;
	struct wxg_ev_verdict v;
	__u32 flags; /* enum wxg_exec_flags */
	__u32 dev;   /* executable's st_dev, kernel encoding (major << 20 | minor) */
	__u64 ino;
	__u64 size;
	char name[WXG_NAME_LEN];     /* the name that matched a client family, lowercase for argv */
	char filename[WXG_PATH_LEN]; /* bprm->filename as passed to execve */
};

struct wxg_ev_rename {
	struct wxg_ev_hdr hdr;
	struct wxg_ev_task task; /* comm is the old name */
	struct wxg_ev_verdict v;
	char new_comm[WXG_COMM_LEN];
};

enum wxg_open_how {
	WXG_OPEN_OPEN = 0,     /* open(at) by name (raw_tp/sys_enter): user space judges the path */
	WXG_OPEN_MMAP = 1,     /* mmap PROT_EXEC of the file (LSM mmap_file, tracing) */
	WXG_OPEN_MPROTECT = 2, /* mprotect PROT_EXEC of a mapping of the file */
};

struct wxg_ev_open {
	struct wxg_ev_hdr hdr;
	struct wxg_ev_task task;
	struct wxg_ev_verdict v;
	__u32 open_flags; /* WXG_OPEN_OPEN: the open flags; else the protection asked for */
	__u32 how;        /* enum wxg_open_how */
	/* WXG_OPEN_OPEN: as passed to open(at), maybe relative; else the file's path from the
	 * process's root, rebuilt from its dentries (cut at WXG_PATH_LEN from the end) */
	char path[WXG_PATH_LEN];
};

/* wxg_ev_inject.request of a ptrace access check (LSM ptrace_access_check, or tracing on
 * security_ptrace_access_check): ptrace attach, /proc/PID/mem, process_vm_readv/writev,
 * pidfd_getfd. The low bits are the kernel's PTRACE_MODE_* flags. */
#define WXG_INJECT_ACCESS (1ULL << 32)

struct wxg_ev_inject {
	struct wxg_ev_hdr hdr;
	struct wxg_ev_task task; /* the injector */
	struct wxg_ev_verdict v;
	__u64 request; /* ptrace request, 0 for process_vm_writev, WXG_INJECT_ACCESS | mode */
	__u32 target_tgid;
	__u32 target_pid; /* as passed (a thread id) */
	__u64 target_start_ns;
};

/* ---- maps ---- */

/* inodes: (dev, ino) -> what user space knows about an executable. */
struct wxg_inode_key {
	__u32 dev; /* kernel encoding */
	__u32 _pad;
	__u64 ino;
};

enum wxg_inode_flags {
	WXG_I_APPROVED = 1 << 0, /* hashed / package-verified build of client `client` */
	WXG_I_DENIED = 1 << 1,   /* a denied client's executable (deny index in `client`) */
	WXG_I_WINE = 1 << 2,     /* a Wine loader: family .exe arguments are judged in user space */
	WXG_I_LOADER = 1 << 3,   /* ld.so or a script interpreter */
	WXG_I_WINESERVER = 1 << 4, /* Wine's server: its ptrace and memory writes serve its
				    * processes, whose programs are judged at exec (issue 10) */
	WXG_I_SHELL = 1 << 5,      /* a shell (also WXG_I_LOADER): a Wine client's launcher
				    * script (Debian's `wine`) runs under it */
	WXG_I_WINE_IMAGE = 1 << 6, /* a file of the client's Wine prefix listed in its manifest
				    * with this digest (size, ctime as hashed): may be mapped */
};

struct wxg_inode_val {
	__u64 size;      /* i_size when hashed */
	__s64 ctime_sec; /* i_ctime when hashed: any write or chmod changes it */
	__u32 ctime_nsec;
	__u16 flags; /* enum wxg_inode_flags */
	__u16 client;
};

/* comm_names (exact comm) and arg_names (lowercase basename) -> family. */
struct wxg_name_key {
	char name[WXG_NAME_LEN]; /* NUL-padded */
};

enum wxg_name_kind {
	WXG_NAME_APPROVED = 1,
	WXG_NAME_DENIED = 2
};

struct wxg_name_val {
	__u16 kind;   /* enum wxg_name_kind */
	__u16 client; /* client or deny index */
	__u32 _pad;
};

/* watched: tgid -> a process of a client's tree (inherited on fork). */
enum wxg_watch_flags {
	WXG_W_CLIENT = 1 << 0, /* runs an approved client's image (exec'd it, or forked from it) */
	WXG_W_CHILD = 1 << 1,  /* descendant of a client that exec'd something else */
	WXG_W_INSTANCE = 1 << 2, /* counted in instances */
	WXG_W_PENDING = 1 << 3,  /* user space is judging it (Wine) */
	WXG_W_REPORTED = 1 << 4, /* already reported as denied (audit mode): no repeats */
	WXG_W_DENIED = 1 << 5,   /* a denied / unapproved client left running (audit mode) */
};

struct wxg_watch {
	__u64 start_ns; /* start_boottime of the process: a reused PID does not match */
	__u32 flags;    /* enum wxg_watch_flags */
	__u32 uid;
	__u16 client;
	__u16 _pad[3];
};

/* instances: (uid, client) -> running instance count. */
struct wxg_instance_key {
	__u32 uid;
	__u32 client;
};

/* clients[client index] */
struct wxg_client_cfg {
	__u32 max_instances; /* 0 = unlimited */
	__u32 flags;         /* enum wxg_client_flags */
};

enum wxg_client_flags {
	WXG_C_LIB_DIRS = 1 << 0, /* report library opens (user space checks lib_dirs) */
	WXG_C_WINE = 1 << 1,     /* runs under Wine */
	/* every lib_dirs entry is in the lib_dirs map (absolute, no glob, no ~/): the kernel
	 * refuses an executable mapping from elsewhere; without it user space judges the path */
	WXG_C_LIB_EXACT = 1 << 2,
	/* a Wine prefix with a manifest: below the prefix (lib_dirs prefixes) only the
	 * manifest's files (WXG_I_WINE_IMAGE) may be mapped executable */
	WXG_C_WINE_IMAGES = 1 << 3,
};

/* lib_dirs: a directory (dev, ino) -> the clients (bit = client index) whose lib_dirs
 * name it: a file below it may be mapped executable by those clients; and the clients whose
 * Wine prefix it is (a user's copy, with a wine_manifest): below it only the manifest's files
 * (WXG_I_WINE_IMAGE inodes) may be mapped, whatever lib_dirs say. */
struct wxg_lib_dir_val {
	__u64 clients;
	__u64 prefixes;
};

/* exec_stopped: tgid -> start_boottime of a process a tracing program killed in its exec
 * (security_bprm_check): the exec tracepoint does not judge it again. */

/* written: files a watched client created or wrote (LRU). */
struct wxg_written_val {
	__u64 ts_ns;
	__u32 tgid;       /* the writer */
	__u32 generation; /* i_generation (0: any, tmpfs): a reused inode number is not it */
};

/* settings[0] (struct wxg_config): switched as one value on reload. */
enum wxg_mode {
	WXG_MODE_AUDIT = 0,
	WXG_MODE_ENFORCE = 1
};

enum wxg_config_flags {
	WXG_CFG_ATTACHMENT_EXEC = 1 << 0, /* judge exec of files written by the client */
	WXG_CFG_LSM = 1 << 1,             /* BPF LSM is attached and denies execs */
	WXG_CFG_ARMED = 1 << 2,           /* a policy is loaded: before it, nothing is judged */
};

struct wxg_config {
	__u32 mode;       /* enum wxg_mode */
	__u32 flags;      /* enum wxg_config_flags */
	__u32 generation; /* policy generation, bumped on reload */
	__u32 agent_tgid; /* never judged, never killed */
};

/* counters: per-CPU array, one __u64 per index. */
enum wxg_counter {
	WXG_CNT_EXECS = 0,      /* execs seen */
	WXG_CNT_EVENTS = 1,     /* records submitted */
	WXG_CNT_DROPS = 2,      /* records lost: ring buffer full */
	WXG_CNT_KILLS = 3,      /* SIGKILLs sent */
	WXG_CNT_LSM_DENIES = 4, /* refused by BPF LSM (execs, mappings, ptrace access) */
	WXG_CNT_WRITTEN = 5,    /* files recorded as written by a client */
	WXG_CNT_MAX = 8,
};

#endif /* WXG_ABI_H */
