/* The netlink process connector (NETLINK_CONNECTOR, CN_IDX_PROC): fork, exec, comm, ptrace and
 * exit of every process on the machine, as the kernel announces them after the fact. The
 * fanotify rung (agent/watch/watch_fanotify.c) uses it for what fanotify cannot see: renames,
 * ptrace attaches, the process tree of a client, instance counts. Needs CONFIG_PROC_EVENTS and
 * CAP_NET_ADMIN. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/host/proc.h"
#include "agent/watch/watch_fanotify_internal.h"
#include "common/policy/policy_match.h"

static int send_op(int fd, enum proc_cn_mcast_op op)
{
	struct {
		struct nlmsghdr nl;
		struct cn_msg cn;
		enum proc_cn_mcast_op op;
	} __attribute__((packed)) msg = {};

	msg.nl.nlmsg_len = sizeof(msg);
	msg.nl.nlmsg_type = NLMSG_DONE;
	msg.nl.nlmsg_pid = 0; /* let the kernel address us by socket */
	msg.cn.id.idx = CN_IDX_PROC;
	msg.cn.id.val = CN_VAL_PROC;
	msg.cn.len = sizeof(enum proc_cn_mcast_op);
	msg.op = op;
	if (send(fd, &msg, sizeof(msg), 0) < 0)
		return -errno;
	return 0;
}

int watch_pc_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC };
	int fd, rcv = 4 << 20, r;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	if (fd < 0)
		return -errno;
	/* Bursts of forks (a build, an exec storm) must not overflow the socket: 4 MiB. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	r = send_op(fd, PROC_CN_MCAST_LISTEN);
	if (r < 0)
		goto fail;
	return fd;
fail:
	close(fd);
	return r;
}

void watch_pc_close(int fd)
{
	if (fd < 0)
		return;
	send_op(fd, PROC_CN_MCAST_IGNORE);
	close(fd);
}

static void parse(const struct proc_event *pe, watch_pc_fn fn, void *ud)
{
	struct watch_pc_event e = {};

	switch (pe->what) {
	case PROC_EVENT_FORK:
		e.what = WATCH_PC_FORK;
		e.pid = pe->event_data.fork.child_pid;
		e.tgid = pe->event_data.fork.child_tgid;
		e.other_pid = pe->event_data.fork.parent_pid;
		e.other_tgid = pe->event_data.fork.parent_tgid;
		break;
	case PROC_EVENT_EXEC:
		e.what = WATCH_PC_EXEC;
		e.pid = pe->event_data.exec.process_pid;
		e.tgid = pe->event_data.exec.process_tgid;
		break;
	case PROC_EVENT_COMM:
		e.what = WATCH_PC_COMM;
		e.pid = pe->event_data.comm.process_pid;
		e.tgid = pe->event_data.comm.process_tgid;
		memcpy(e.comm, pe->event_data.comm.comm, sizeof(e.comm) - 1);
		break;
	case PROC_EVENT_PTRACE:
		e.what = WATCH_PC_PTRACE;
		e.pid = pe->event_data.ptrace.process_pid;
		e.tgid = pe->event_data.ptrace.process_tgid;
		e.other_pid = pe->event_data.ptrace.tracer_pid;
		e.other_tgid = pe->event_data.ptrace.tracer_tgid;
		break;
	case PROC_EVENT_EXIT:
		e.what = WATCH_PC_EXIT;
		e.pid = pe->event_data.exit.process_pid;
		e.tgid = pe->event_data.exit.process_tgid;
		break;
	default: return;
	}
	fn(&e, ud);
}

int watch_pc_read(int fd, watch_pc_fn fn, void *ud, unsigned *lost)
{
	char buf[8192] __attribute__((aligned(NLMSG_ALIGNTO)));
	int n = 0;

	for (;;) {
		ssize_t len = recv(fd, buf, sizeof(buf), 0);
		struct nlmsghdr *nh;

		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* the socket overflowed: events were lost */
				(*lost)++;
				continue;
			}
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)len);
		     nh = NLMSG_NEXT(nh, len)) {
			const struct cn_msg *cn = NLMSG_DATA(nh);

			if (nh->nlmsg_type == NLMSG_NOOP || nh->nlmsg_type == NLMSG_ERROR)
				continue;
			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*cn) + sizeof(struct proc_event)) ||
			    cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC)
				continue;
			{
				/* cn->data sits 36 bytes into the message: not aligned for
				 * proc_event's 64-bit fields. Copy it out. */
				struct proc_event pe;

				memcpy(&pe, cn->data, sizeof(pe));
				parse(&pe, fn, ud);
			}
			n++;
		}
	}
	return n;
}

/* ---- what the fanotify rung does with them (f->lock and f->plock held) ---- */

/* ---- the process connector (f->lock and f->plock held) ---- */

/* Facts of an exec that already happened (kernels without FAN_OPEN_EXEC_PERM). */
int fan_exec_facts_after(struct watch_fan *f, pid_t pid, struct facts *x)
{
	struct proc_info pi = {};
	char path[64];
	size_t used = 0;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	if (stat(path, &x->st) < 0)
		return -errno;
	r = proc_read(f->w->sr, pid, PROC_WANT_ARGV | PROC_WANT_ENV, &pi);
	if (r < 0)
		return r;
	x->tgid = pid;
	x->ppid = pi.ppid;
	x->uid = pi.uid;
	x->start_ns = pi.start_time * (1000000000ull / (uint64_t)f->w->clk_tck);
	x->have_task = true;
	fan_cpy(x->path, sizeof(x->path), pi.exe ? pi.exe : "");
	fan_cpy(x->filename, sizeof(x->filename), x->path);
	fan_cpy(x->comm, sizeof(x->comm), pi.comm);
	x->nameless = x->st.st_nlink == 0 || strncmp(x->path, "/memfd:", 7) == 0;
	x->top = true;
	for (size_t i = 0; i < pi.argv.n && x->argc < MAX_ARGS; i++) {
		size_t l = strlen(pi.argv.v[i]);

		if (used + l + 1 > sizeof(x->argbuf))
			break;
		memcpy(x->argbuf + used, pi.argv.v[i], l + 1);
		x->argv[x->argc++] = x->argbuf + used;
		used += l + 1;
	}
	x->preload = proc_getenv(&pi, "LD_PRELOAD") != NULL;
	x->audit = proc_getenv(&pi, "LD_AUDIT") != NULL;
	proc_info_clear(&pi);
	return 0;
}

/* Did a permission event judge the image tgid runs now? 1: yes, 2: without its argv (judge
 * again, report only a denial), 0: no (a file no mark covers). Forgets it either way. */
static int seen_exec(struct watch_fan *f, pid_t tgid)
{
	char path[64];
	struct stat st;
	int found = 0;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)tgid);
	if (stat(path, &st) < 0)
		return 1; /* gone: nothing left to stop */
	for (size_t i = 0; i < SEEN_MAX; i++)
		if (f->seen[i].tgid == tgid) {
			if (f->seen[i].dev == watch_kdev(st.st_dev) && f->seen[i].ino == st.st_ino)
				found = f->seen[i].again ? 2 : 1;
			f->seen[i].tgid = 0;
		}
	return found;
}

static bool kill_after(const struct wxg_ev_exec *e)
{
	switch (e->v.reason) {
	case WXG_R_MEMFD:
	case WXG_R_DENIED_INODE:
	case WXG_R_DENIED_NAME:
	case WXG_R_UNAPPROVED:
	case WXG_R_ATTACHMENT: return true;
	default: return false;
	}
}

static void pc_exec(struct watch_fan *f, pid_t tgid)
{
	struct fan_proc *p = fan_proc_find(f, tgid, false);
	struct wxg_ev_exec e;
	struct facts *x;
	bool enforce = watch_enforcing(f->w), report;
	int seen = f->exec_perm ? seen_exec(f, tgid) : 0;

	if (seen == 1) {
		if (!p || !(p->flags & P_WINE))
			return;
		/* An approved Wine loader runs: which .exe, which prefix (watch_judge.c). */
		p->flags &= ~P_WINE;
		x = calloc(1, sizeof(*x));
		if (x && fan_exec_facts_after(f, tgid, x) == 0) {
			fan_fill_exec(x, &e);
			e.v = (struct wxg_ev_verdict){ WXG_V_PENDING, WXG_R_WINE, WXG_A_NONE,
						       p->client };
			fan_push(f, &e, sizeof(e));
		}
		free(x);
		return;
	}
	/* No FAN_OPEN_EXEC_PERM (before 5.0), or a file no mark covers (memfd): judged once it
	 * runs, killed if denied. */
	if (seen == 0)
		f->execs++;
	x = calloc(1, sizeof(*x));
	if (!x || fan_exec_facts_after(f, tgid, x) < 0) {
		free(x);
		return;
	}
	fan_fill_exec(x, &e);
	fan_judge_exec(f, x, p, &e);
	p = fan_proc_find(f, tgid, false); /* the judgement may have grown the table */
	report = e.v.verdict == WXG_V_DENY
			 ? !(p && (p->flags & P_REPORTED))
			 : seen == 0 && (e.v.reason == WXG_R_APPROVED || e.v.reason == WXG_R_CHILD);
	/* Killed after the fact only for what cannot be the approved client (a memfd, a denied
	 * or unapproved build) and only where a permission event could not have refused it:
	 * the pre-5.0 path (exec_perm false) is not yet tested on a 4.19 kernel and reports only
	 * (docs/watch.md). */
	if (e.v.verdict == WXG_V_DENY && enforce && f->exec_perm && kill_after(&e) &&
	    fan_kill(f, tgid, x->start_ns, SIGKILL) == 0)
		e.v.action = WXG_A_KILL_USER;
	if (e.v.reason == WXG_R_WINE)
		e.v.verdict = WXG_V_PENDING;
	fan_after_exec(f, x, p, &e, enforce);
	if ((p = fan_proc_find(f, tgid, false)))
		p->flags &= ~P_WINE;
	if (report || e.v.reason == WXG_R_WINE)
		fan_push(f, &e, sizeof(e));
	free(x);
}

static void fill_task(struct watch_fan *f, pid_t tgid, pid_t tid, struct wxg_ev_task *t)
{
	struct proc_info pi = {};

	t->pid = tid;
	if (proc_read(f->w->sr, tgid, 0, &pi) == 0) {
		t->ppid = pi.ppid;
		t->uid = pi.uid;
		t->start_ns = pi.start_time * (1000000000ull / (uint64_t)f->w->clk_tck);
		memcpy(t->comm, pi.comm, sizeof(t->comm));
		proc_info_clear(&pi);
	}
}

/* comm renamed to a family name (Wine names itself after the .exe) by a process that is not
 * that family's approved client: killed after the rename. */
static void pc_comm(struct watch_fan *f, const struct watch_pc_event *ev)
{
	const struct policy *pol = f->w->policy;
	struct fan_proc *p = fan_proc_find(f, ev->tgid, false);
	struct wxg_ev_rename e = {};
	struct policy_match m;
	uint16_t client;

	if (ev->tgid == f->self || policy_match_comm(pol, ev->comm) == POLICY_MATCH_NONE)
		return;
	policy_match_process(pol, ev->comm, NULL, NULL, 0, &m);
	if (p && (p->flags & P_REPORTED))
		return;
	if (m.kind == POLICY_MATCH_APPROVED) {
		char path[64];
		struct stat st;
		const struct watch_inode *wi;

		client = m.client - pol->clients;
		if (p && (p->flags & P_CLIENT) && p->client == client)
			return; /* the approved client naming itself */
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)ev->tgid);
		wi = stat(path, &st) == 0
			     ? watch_tables_find(&f->w->tables, watch_kdev(st.st_dev), st.st_ino)
			     : NULL;
		if (wi && (wi->val.flags & WXG_I_APPROVED) && wi->val.client == client)
			return;
	} else {
		client = m.deny - pol->denies;
	}
	e.hdr = (struct wxg_ev_hdr){ WXG_EV_RENAME, sizeof(e), (uint32_t)ev->tgid, fan_now_ns() };
	fill_task(f, ev->tgid, ev->pid, &e.task);
	memcpy(e.new_comm, ev->comm, sizeof(e.new_comm));
	e.v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_RENAME, WXG_A_NONE, client };
	if (m.kind == POLICY_MATCH_DENIED)
		e.v.reason = WXG_R_DENIED_NAME;
	if (watch_enforcing(f->w)) {
		if (fan_kill(f, ev->tgid, 0, SIGKILL) == 0)
			e.v.action = WXG_A_KILL_USER;
	} else if ((p = p ? p : fan_proc_add(f, ev->tgid))) {
		p->flags |= P_REPORTED;
	}
	fan_push(f, &e, sizeof(e));
}

/* Is tgid's executable Wine's server (flagged WXG_I_WINESERVER in the tables)? */
static bool is_wineserver(struct watch_fan *f, pid_t tgid)
{
	const struct watch_inode *wi;
	char link[64];
	struct stat st;

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)tgid);
	if (stat(link, &st) < 0)
		return false;
	wi = watch_tables_find(&f->w->tables, watch_kdev(st.st_dev), st.st_ino);
	return wi && (wi->val.flags & WXG_I_WINESERVER);
}

/* ptrace attach/seize of a client: the tracer is killed once attached ("stopped after"), the
 * client continued (PTRACE_ATTACH queued a SIGSTOP). */
static void pc_ptrace(struct watch_fan *f, const struct watch_pc_event *ev)
{
	struct fan_proc *p = fan_proc_find(f, ev->tgid, false);
	struct wxg_ev_inject e = {};

	if (!ev->other_tgid || ev->other_tgid == f->self || !p || !(p->flags & P_CLIENT))
		return;
	if (is_wineserver(f, ev->other_tgid))
		return; /* Wine's server serves its processes (bpf/watch_inject.bpf.h) */
	e.hdr = (struct wxg_ev_hdr){ WXG_EV_INJECT, sizeof(e), (uint32_t)ev->other_tgid,
				     fan_now_ns() };
	fill_task(f, ev->other_tgid, ev->other_pid, &e.task);
	e.v = (struct wxg_ev_verdict){ WXG_V_DENY, WXG_R_PTRACE, WXG_A_NONE, p->client };
	e.request = 16; /* attach or seize: the connector does not say which */
	e.target_tgid = ev->tgid;
	e.target_pid = ev->pid;
	e.target_start_ns = p->start_ns;
	if (watch_enforcing(f->w) && fan_kill(f, ev->other_tgid, 0, SIGKILL) == 0) {
		e.v.action = WXG_A_KILL_USER;
		fan_kill(f, ev->tgid, 0, SIGCONT);
	}
	fan_push(f, &e, sizeof(e));
}

static void on_pc(const struct watch_pc_event *ev, void *ud)
{
	struct watch_fan *f = ud;
	struct fan_proc *p, *c;

	if (!f->w->policy)
		return;
	switch (ev->what) {
	case WATCH_PC_FORK:
		if (ev->pid != ev->tgid) /* a thread */
			return;
		/* Messages are read after the permission events: a child that has exec'd
		 * since is known already, from its exec. */
		if (fan_proc_find(f, ev->tgid, false))
			break;
		p = fan_proc_find(f, ev->other_tgid, false);
		if (p && (p->flags & (P_CLIENT | P_CHILD)) && (c = fan_proc_add(f, ev->tgid))) {
			p = fan_proc_find(f, ev->other_tgid,
					  false); /* proc_add may move the table */
			c->flags = p->flags & (P_CLIENT | P_CHILD);
			c->uid = p->uid;
			c->client = p->client;
		}
		break;
	case WATCH_PC_EXEC: pc_exec(f, ev->tgid); break;
	case WATCH_PC_COMM: pc_comm(f, ev); break;
	case WATCH_PC_PTRACE: pc_ptrace(f, ev); break;
	case WATCH_PC_EXIT:
		if (ev->pid == ev->tgid && (p = fan_proc_find(f, ev->tgid, false))) {
			p->flags |= P_DEAD;
			p->dead_ns = fan_now_ns();
		}
		break;
	}
}

void fan_pc_all(struct watch_fan *f)
{
	unsigned lost = 0;

	if (f->pc_fd < 0)
		return;
	watch_pc_read(f->pc_fd, on_pc, f, &lost);
	f->drops += lost;
}
