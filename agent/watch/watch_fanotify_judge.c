/* The fanotify rung's judgement of an exec, with the tables the BPF rungs use (w->tables,
 * w->policy), in the order bpf/watch_exec.bpf.h judges; and what it keeps about the client's
 * process tree (instances, audit repeats, files the client wrote). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/host/proc.h"
#include "agent/watch/watch_fanotify_internal.h"
#include "common/log.h"
#include "common/policy/policy_match.h"

/* ---- processes of a client's tree (plock held) ---- */

struct fan_proc *fan_proc_find(struct watch_fan *f, pid_t tgid, bool dead_too)
{
	for (size_t i = 0; i < f->n_procs; i++)
		if (f->procs[i].tgid == tgid && (dead_too || !(f->procs[i].flags & P_DEAD)))
			return &f->procs[i];
	return NULL;
}

struct fan_proc *fan_proc_add(struct watch_fan *f, pid_t tgid)
{
	struct fan_proc *p = fan_proc_find(f, tgid, true), *np;

	if (p) {
		memset(p, 0, sizeof(*p));
		p->tgid = tgid;
		return p;
	}
	np = realloc(f->procs, (f->n_procs + 1) * sizeof(*np));
	if (!np)
		return NULL;
	f->procs = np;
	p = &f->procs[f->n_procs++];
	memset(p, 0, sizeof(*p));
	p->tgid = tgid;
	return p;
}

void fan_procs_purge(struct watch_fan *f, uint64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < f->n_procs; i++)
		if (!(f->procs[i].flags & P_DEAD) || now - f->procs[i].dead_ns < DEAD_KEEP_NS)
			f->procs[j++] = f->procs[i];
	f->n_procs = j;
}

void watch_fanotify_seed(struct watch_fan *f, pid_t tgid, uid_t uid, unsigned client, bool instance)
{
	struct fan_proc *p;

	pthread_mutex_lock(&f->plock);
	p = fan_proc_add(f, tgid);
	if (p) {
		p->flags = P_CLIENT | (instance ? P_INSTANCE : 0);
		p->uid = uid;
		p->client = client;
	}
	pthread_mutex_unlock(&f->plock);
}

/* Start time of a live process (ns since boot, clock-tick resolution), 0 when gone or a
 * zombie. */
uint64_t fan_start_of(struct watch_fan *f, pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ticks;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	for (int i = 0; p && i < 20; i++) /* ") S" is field 3: field 22 is 19 spaces on */
		p = strchr(p + 1, ' ');
	if (!p)
		return 0;
	ticks = strtoull(p + 1, NULL, 10);
	return ticks * (1000000000ull / (uint64_t)f->w->clk_tck);
}

/* SIGKILL (or sig) pid if it is still the process judged (start_ns 0: any). */
int fan_kill(struct watch_fan *f, pid_t pid, uint64_t start_ns, int sig)
{
	int pidfd, r = 0;
	uint64_t s;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	s = fan_start_of(f, pid); /* 0: gone or a zombie, which a signal would not stop */
	if (!s || (start_ns && (s + 20000000ull < start_ns || s > start_ns + 20000000ull))) {
		r = -ESRCH;
		goto out;
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		r = -errno;
	else if (sig == SIGKILL)
		f->kills++;
out:
	close(pidfd);
	return r;
}

/* ---- the judgement (lock held) ---- */

bool fan_written_has(struct watch_fan *f, uint32_t dev, uint64_t ino, uint64_t btime_ns)
{
	for (size_t i = 0; i < f->n_written; i++)
		if (f->written[i].dev == dev && f->written[i].ino == ino &&
		    (!f->written[i].btime_ns || !btime_ns || f->written[i].btime_ns == btime_ns))
			return true;
	return false;
}

uint64_t fan_btime_ns(int fd)
{
	struct statx sx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_BTIME, &sx) < 0 || !(sx.stx_mask & STATX_BTIME))
		return 0;
	return (uint64_t)sx.stx_btime.tv_sec * 1000000000ULL + sx.stx_btime.tv_nsec;
}

static unsigned live_instances(struct watch_fan *f, uid_t uid, unsigned client, pid_t except)
{
	unsigned n = 0;

	for (size_t i = 0; i < f->n_procs; i++) {
		struct fan_proc *p = &f->procs[i];

		if ((p->flags & (P_INSTANCE | P_DEAD)) == P_INSTANCE && p->uid == uid &&
		    p->client == client && p->tgid != except)
			n++;
	}
	return n;
}

/* Over max_instances? Before refusing, make sure the count is current: the connector's exit
 * messages may wait unread, and a process may be gone without one (lost messages). */
static bool over_instances(struct watch_fan *f, struct facts *x, unsigned client)
{
	const struct policy_client *c = watch_client_of(f->w, client);

	if (c && c->max_instances)
		fan_facts_task(f, x);
	if (!c || !c->max_instances ||
	    live_instances(f, x->uid, client, x->tgid) < c->max_instances)
		return false;
	fan_pc_all(f);
	for (size_t i = 0; i < f->n_procs; i++) {
		struct fan_proc *p = &f->procs[i];

		if ((p->flags & (P_INSTANCE | P_DEAD)) == P_INSTANCE && !fan_start_of(f, p->tgid)) {
			p->flags |= P_DEAD;
			p->dead_ns = fan_now_ns();
		}
	}
	return live_instances(f, x->uid, client, x->tgid) >= c->max_instances;
}

/* ld.so's options that take a value (ld.so --help, glibc 2.31 to 2.40). */
static bool ldso_option_has_value(const char *a)
{
	static const char *const with_value[] = {
		"--argv0",         "--library-path",         "--preload",           "--audit",
		"--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask",
	};

	for (size_t i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (strcmp(a, with_value[i]) == 0)
			return true;
	return false;
}

/* The program a loader or interpreter was asked to run: its first argument that is neither an
 * option nor an option's value ("ld.so --argv0 NAME PROGRAM"); 0 when there is none. */
static size_t loader_program(const struct facts *x)
{
	for (size_t i = 1; i < x->argc; i++) {
		const char *a = x->argv[i];

		if (strcmp(a, "--") == 0)
			return i + 1 < x->argc ? i + 1 : 0;
		if (a[0] != '-')
			return i;
		if (ldso_option_has_value(a))
			i++;
	}
	return 0;
}

/* Judge one candidate name; true once it is denied (the strongest verdict). */
static bool name_judge_one(const struct policy *p, const struct facts *x, const char *name,
			   bool approved_too, struct wxg_ev_exec *e)
{
	struct policy_match m;

	policy_match_process(p, name, x->path, x->argv, x->argc, &m);
	if (m.kind == POLICY_MATCH_DENIED) {
		e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_DENIED_NAME, 0,
						(uint16_t)(m.deny - p->denies) };
		e->flags |= WXG_EXEC_F_DENIED_FAMILY;
		fan_cpy(e->name, sizeof(e->name), name);
		return true;
	}
	if (approved_too && m.kind == POLICY_MATCH_APPROVED && e->v.verdict != WXG_V_DENY) {
		e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_UNAPPROVED, 0,
						(uint16_t)(m.client - p->clients) };
		fan_cpy(e->name, sizeof(e->name), name);
	}
	return false;
}

/* By name: the comm and argv[0]; for ld.so or an interpreter started directly, the program it
 * runs (an approved client's name there is an unapproved start), and, as the BPF argv scan
 * does, any argument naming a denied client. */
static void name_judge(struct watch_fan *f, const struct facts *x, const struct watch_inode *wi,
		       struct wxg_ev_exec *e)
{
	const struct policy *p = f->w->policy;
	char c[WXG_COMM_LEN];
	size_t prog;

	if (name_judge_one(p, x, x->comm, true, e))
		return;
	if (x->argc) {
		fan_cpy(c, sizeof(c), path_basename(x->argv[0]));
		if (name_judge_one(p, x, c, true, e))
			return;
	}
	if (!wi || !(wi->val.flags & WXG_I_LOADER))
		return;
	prog = loader_program(x);
	for (size_t i = 1; i < x->argc; i++) {
		if (x->argv[i][0] == '-' && i != prog)
			continue;
		fan_cpy(c, sizeof(c), path_basename(x->argv[i]));
		if (name_judge_one(p, x, c, i == prog, e))
			return;
	}
	/* A shell running a Wine client's program: its launcher script (Debian's `wine`); user
	 * space tells the client's own launcher from any other script (watch_wine.c), as on the
	 * BPF rungs (bpf/watch_exec.bpf.h). */
	if ((wi->val.flags & WXG_I_SHELL) && e->v.reason == WXG_R_UNAPPROVED &&
	    e->v.client < p->n_clients && p->clients[e->v.client].wine_prefix) {
		e->v.verdict = WXG_V_PENDING;
		e->v.reason = WXG_R_WINE;
	}
}

/* Fill e's verdict for the exec x describes. */
void fan_judge_exec(struct watch_fan *f, struct facts *x, struct fan_proc *caller,
		    struct wxg_ev_exec *e)
{
	struct watch *w = f->w;
	uint32_t dev = watch_kdev(x->st.st_dev);
	const struct watch_inode *wi = watch_tables_find(&w->tables, dev, x->st.st_ino);
	bool in_tree = caller && (caller->flags & (P_CLIENT | P_CHILD));

	e->v = (struct wxg_ev_verdict){ WXG_V_ALLOW, WXG_R_NONE, WXG_A_NONE, WXG_CLIENT_NONE };
	if (wi && (wi->val.flags & WXG_I_LOADER))
		e->flags |= WXG_EXEC_F_LOADER;
	if (wi && (wi->val.flags & WXG_I_DENIED)) {
		e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_DENIED_INODE, 0, wi->val.client };
		e->flags |= WXG_EXEC_F_DENIED_FAMILY;
	} else if (w->policy->watch.attachment_exec &&
		   fan_written_has(f, dev, x->st.st_ino, x->btime_ns)) {
		e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_ATTACHMENT, 0, WXG_CLIENT_NONE };
	} else if (!x->top) {
		return; /* an interpreter or ld.so: judged on its inode only */
	} else if (x->nameless && in_tree) {
		e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_MEMFD, 0, caller->client };
		e->flags |= WXG_EXEC_F_NOLINK;
	} else if (wi && (wi->val.flags & WXG_I_APPROVED)) {
		uint16_t c = wi->val.client;

		e->v = (struct wxg_ev_verdict){ WXG_V_ALLOW, WXG_R_APPROVED, 0, c };
		if ((uint64_t)x->st.st_size != wi->val.size ||
		    x->st.st_ctim.tv_sec != wi->val.ctime_sec ||
		    (uint32_t)x->st.st_ctim.tv_nsec != wi->val.ctime_nsec)
			e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_MODIFIED, 0, c };
		else if (x->preload || x->audit)
			e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_PRELOAD, 0, c };
		else if (!(caller && (caller->flags & P_INSTANCE) && caller->client == c) &&
			 over_instances(f, x, c))
			e->v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_INSTANCES, 0, c };
		else if (wi->val.flags & WXG_I_WINE)
			e->v.reason = WXG_R_WINE;
	} else {
		name_judge(f, x, wi, e);
		if (e->v.verdict == WXG_V_ALLOW && in_tree)
			e->v = (struct wxg_ev_verdict){ WXG_V_ALLOW, WXG_R_CHILD, 0,
							caller->client };
	}
	e->flags |= (x->preload ? WXG_EXEC_F_PRELOAD : 0) | (x->audit ? WXG_EXEC_F_AUDIT : 0) |
		    (x->filename[0] ? 0 : WXG_EXEC_F_FD) | (x->nameless ? WXG_EXEC_F_NOLINK : 0);
}

void fan_facts_task(struct watch_fan *f, struct facts *x)
{
	struct proc_info pi = {};

	if (x->have_task)
		return;
	x->have_task = true;
	if (proc_read(f->w->sr, x->tgid, 0, &pi) < 0)
		return;
	x->ppid = pi.ppid;
	x->uid = pi.uid;
	x->start_ns = pi.start_time * (1000000000ull / (uint64_t)f->w->clk_tck);
	proc_info_clear(&pi);
}

void fan_fill_exec(const struct facts *x, struct wxg_ev_exec *e)
{
	memset(e, 0, sizeof(*e));
	e->hdr = (struct wxg_ev_hdr){ WXG_EV_EXEC, sizeof(*e), (uint32_t)x->tgid, fan_now_ns() };
	e->task.pid = x->tgid;
	e->task.ppid = x->ppid;
	e->task.uid = x->uid;
	e->task.start_ns = x->start_ns;
	memcpy(e->task.comm, x->comm, sizeof(e->task.comm));
	e->dev = watch_kdev(x->st.st_dev);
	e->ino = x->st.st_ino;
	e->size = x->st.st_size;
	fan_cpy(e->filename, sizeof(e->filename), x->filename[0] ? x->filename : x->path);
}

/* Book-keeping after a judged exec (plock held): the client's tree, instances, audit
 * repeats. */
void fan_after_exec(struct watch_fan *f, const struct facts *x, struct fan_proc *caller,
		    const struct wxg_ev_exec *e, bool enforce)
{
	struct fan_proc *p;

	if (e->v.verdict == WXG_V_DENY) {
		if (!enforce && (p = caller ? caller : fan_proc_add(f, x->tgid))) {
			p->flags |= P_REPORTED;
			p->uid = x->uid;
		}
		return;
	}
	if (e->v.reason == WXG_R_APPROVED || e->v.reason == WXG_R_WINE) {
		bool counted = caller && (caller->flags & P_INSTANCE) &&
			       caller->client == e->v.client;

		p = caller ? caller : fan_proc_add(f, x->tgid);
		if (!p)
			return;
		p->flags = P_CLIENT | P_INSTANCE | (e->v.reason == WXG_R_WINE ? P_WINE : 0);
		(void)counted;
		p->uid = x->uid;
		p->client = e->v.client;
		p->start_ns = x->start_ns;
	} else if (caller && (caller->flags & P_CLIENT)) {
		caller->flags = (caller->flags & ~(P_CLIENT | P_INSTANCE | P_WINE)) | P_CHILD;
	}
}
