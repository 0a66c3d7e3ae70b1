/* The fanotify rung (no BPF): a worker thread answers fanotify permission events for execs
 * (FAN_OPEN_EXEC_PERM: refused before the file is used), records files a client writes
 * (FAN_CLOSE_WRITE, for attachment_exec), and follows the netlink process connector (renames,
 * ptrace attaches, the client's process tree, instance counts). It judges with the tables the
 * BPF rungs use (w->tables, w->policy, under f->lock) and queues wxg_ev_* records for the main
 * loop, which reports them through watch_judge_record(): the same events, messages and
 * notifications as the BPF rungs. Every permission event gets a response, whatever fails: an
 * unanswered one would hang the opener. Design: docs/watch.md "The fanotify rung". */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "agent/host/proc.h"
#include "agent/watch/watch_fanotify_internal.h"
#include "common/log.h"
#include "common/policy/policy_match.h"

/* A forked child must not keep the group open: one that execs is itself held by the group
 * until answered (FAN_CLOEXEC closes the fd only once the exec is past the permission check),
 * so after the agent died it would wait on itself forever, and every other exec on the
 * machine with it. Every fork of the agent (notifications, the uplink child, package queries)
 * closes it at once. One group per process. */
static atomic_int child_close_fd = -1;
static bool atfork_registered;

/* ---- the queue to the main loop ---- */

void fan_push(struct watch_fan *f, const void *rec, size_t size)
{
	uint64_t one = 1;

	pthread_mutex_lock(&f->qlock);
	if (f->qn == f->qcap) {
		size_t cap = f->qcap ? f->qcap * 2 : 256;
		union fan_rec *nq = cap <= QUEUE_MAX ? realloc(f->q, cap * sizeof(*nq)) : NULL;

		if (!nq) {
			pthread_mutex_unlock(&f->qlock);
			f->drops++;
			return;
		}
		f->q = nq;
		f->qcap = cap;
	}
	memcpy(&f->q[f->qn++], rec, size);
	pthread_mutex_unlock(&f->qlock);
	f->events++;
	if (write(f->ev_fd, &one, sizeof(one)) < 0)
		log_debug("fanotify: eventfd: %m");
}

int watch_fanotify_dispatch(struct watch_fan *f, watch_fan_record_fn fn, void *ud)
{
	union fan_rec *q;
	uint64_t v;
	size_t n;

	if (read(f->ev_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	pthread_mutex_lock(&f->qlock);
	q = f->q;
	n = f->qn;
	f->q = NULL;
	f->qn = f->qcap = 0;
	pthread_mutex_unlock(&f->qlock);
	for (size_t i = 0; i < n; i++)
		fn(ud, &q[i].hdr);
	free(q);
	return (int)n;
}

int watch_fanotify_fd(const struct watch_fan *f)
{
	return f->ev_fd;
}

void watch_fanotify_lock(struct watch_fan *f)
{
	pthread_mutex_lock(&f->lock);
}

void watch_fanotify_unlock(struct watch_fan *f)
{
	pthread_mutex_unlock(&f->lock);
}

static ssize_t vm_read(pid_t pid, uint64_t addr, void *buf, size_t len)
{
	struct iovec l = { buf, len }, r = { (void *)(uintptr_t)addr, len };

	return process_vm_readv(pid, &l, 1, &r, 1, 0);
}

/* A NUL-terminated string at addr in pid, reading no page it does not need. */
static ssize_t vm_str(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	while (got + 1 < size) {
		size_t want = 4096 - ((addr + got) & 4095);
		ssize_t n;
		char *nul;

		if (want > size - 1 - got)
			want = size - 1 - got;
		n = vm_read(pid, addr + got, buf + got, want);
		if (n <= 0)
			return got ? (ssize_t)got : -1;
		nul = memchr(buf + got, 0, n);
		if (nul)
			return nul - buf;
		got += n;
	}
	buf[got] = 0;
	return got;
}

/* The blocked execve()/execveat(): its nr and arguments, from /proc/TID/syscall. */
static bool exec_args_of(pid_t tid, unsigned long long a[6])
{
	char path[64], buf[512];
	long nr;
	ssize_t n = 0;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/syscall", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	/* The exec'ing task queues the event and wakes us before it sleeps: until it does, the
	 * kernel says "running". It sleeps within microseconds; give it up to ~2 ms. */
	for (int i = 0; i < 2000; i++) {
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		if (n <= 0 || strncmp(buf, "running", 7) != 0)
			break;
		if (i > 20)
			usleep(1);
		else
			sched_yield();
	}
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	if (sscanf(buf, "%ld %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2], &a[3], &a[4],
		   &a[5]) != 7)
		return false;
	if (nr == SYS_execve) {
		a[4] = 0;
		a[3] = a[2]; /* envp */
		a[2] = a[1]; /* argv */
		a[1] = a[0]; /* filename */
		a[0] = (unsigned long long)AT_FDCWD;
		return true;
	}
	return nr == SYS_execveat;
}

/* Find the thread of tgid blocked in execve: the leader, else any of its threads. */
static pid_t exec_thread(pid_t tgid, unsigned long long a[6])
{
	char path[64];
	struct dirent *de;
	pid_t found = 0;
	DIR *d;

	if (exec_args_of(tgid, a))
		return tgid;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)tgid);
	d = opendir(path);
	if (!d)
		return 0;
	while (!found && (de = readdir(d)))
		if (de->d_name[0] != '.' && exec_args_of(atoi(de->d_name), a))
			found = atoi(de->d_name);
	closedir(d);
	return found;
}

static void read_args(struct facts *x, pid_t tid, uint64_t argv, bool want_env, uint64_t envp)
{
	size_t used = 0;
	uint64_t ptrs[MAX_ARGS];
	ssize_t n = vm_read(tid, argv, ptrs, sizeof(ptrs));

	for (size_t i = 0; n > 0 && i < (size_t)n / 8 && ptrs[i] && used < sizeof(x->argbuf) - 1;
	     i++) {
		ssize_t l = vm_str(tid, ptrs[i], x->argbuf + used, sizeof(x->argbuf) - used);

		if (l < 0)
			break;
		x->argv[x->argc++] = x->argbuf + used;
		used += l + 1;
	}
	x->argv[x->argc] = NULL;
	if (!want_env)
		return;
	for (size_t base = 0; base < 1024; base += MAX_ARGS) {
		n = vm_read(tid, envp + base * 8, ptrs, sizeof(ptrs));
		for (size_t i = 0; n > 0 && i < (size_t)n / 8; i++) {
			char s[16] = "";

			if (!ptrs[i])
				return;
			if (vm_str(tid, ptrs[i], s, sizeof(s)) < 0)
				continue;
			x->preload |= strncmp(s, "LD_PRELOAD=", 11) == 0 && s[11];
			x->audit |= strncmp(s, "LD_AUDIT=", 9) == 0 && s[9];
		}
		if (n < (ssize_t)sizeof(ptrs))
			return;
	}
}

/* Facts of an exec held by a permission event (fd: the file; pid: the exec'ing process). The
 * process is blocked in execve: its argv and environment are still in its old memory. */
static int perm_facts(struct watch_fan *f, int fd, pid_t pid, struct facts *x)
{
	unsigned long long a[6] = {};
	char link[64], where[PATH_MAX + 64];
	ssize_t n;
	pid_t tid;

	x->tgid = pid;
	x->btime_ns = fan_btime_ns(fd);
	if (fstat(fd, &x->st) < 0)
		return -errno;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, x->path, sizeof(x->path) - 1);
	x->path[n > 0 ? n : 0] = 0;
	x->nameless = x->st.st_nlink == 0 || strncmp(x->path, "/memfd:", 7) == 0;
	x->top = true;
	tid = exec_thread(pid, a);
	x->have_args = tid != 0;
	if (tid) {
		struct stat st;

		if (vm_str(tid, a[1], x->filename, sizeof(x->filename)) < 0)
			x->filename[0] = 0;
		if (x->filename[0] == '/')
			snprintf(where, sizeof(where), "/proc/%d/root%s", (int)tid, x->filename);
		else if ((int)a[0] == AT_FDCWD)
			snprintf(where, sizeof(where), "/proc/%d/cwd/%s", (int)tid, x->filename);
		else
			snprintf(where, sizeof(where), "/proc/%d/fd/%d/%s", (int)tid, (int)a[0],
				 x->filename);
		/* The interpreter of a script, or ld.so for a dynamic program, is opened within
		 * the same execve: only the file it named is judged by name. */
		if (x->filename[0] && stat(where, &st) == 0)
			x->top = st.st_dev == x->st.st_dev && st.st_ino == x->st.st_ino;
		read_args(x, tid, a[2], true, a[3]);
	}
	fan_cpy(x->comm, sizeof(x->comm), path_basename(x->filename[0] ? x->filename : x->path));
	return 0;
}

static uint32_t on_exec_perm(struct watch_fan *f, int fd, pid_t pid)
{
	struct watch *w = f->w;
	struct facts *x;
	struct wxg_ev_exec e;
	struct fan_proc *caller;
	uint32_t resp = FAN_ALLOW;
	bool enforce, report;

	f->execs++;
	if (pid == f->self)
		return FAN_ALLOW;
	x = calloc(1, sizeof(*x));
	if (!x || perm_facts(f, fd, pid, x) < 0) {
		free(x);
		return FAN_ALLOW;
	}
	fan_fill_exec(x, &e);
	pthread_mutex_lock(&f->lock);
	pthread_mutex_lock(&f->plock);
	if (!w->policy) {
		pthread_mutex_unlock(&f->plock);
		pthread_mutex_unlock(&f->lock);
		free(x);
		return FAN_ALLOW; /* not armed yet */
	}
	enforce = watch_enforcing(w);
	/* without argv, the connector's exec message judges it again */
	f->seen[f->seen_next] = (struct fan_seen){ pid, watch_kdev(x->st.st_dev), x->st.st_ino,
						   !x->have_args };
	f->seen_next = (f->seen_next + 1) % SEEN_MAX;
	caller = fan_proc_find(f, pid, false);
	if (caller && caller->start_ns)
		fan_facts_task(f, x);
	if (caller && caller->start_ns && x->start_ns &&
	    (caller->start_ns + 20000000ull < x->start_ns ||
	     caller->start_ns > x->start_ns + 20000000ull)) {
		caller->flags |= P_DEAD; /* a reused PID */
		caller = NULL;
	}
	fan_judge_exec(f, x, caller, &e);
	caller = fan_proc_find(f, pid, false); /* the judgement may have grown the table */
	report = e.v.verdict == WXG_V_DENY
			 ? !(caller && (caller->flags & P_REPORTED))
			 : e.v.reason == WXG_R_APPROVED || e.v.reason == WXG_R_CHILD;
	if (e.v.verdict == WXG_V_DENY && enforce) {
		resp = FAN_DENY;
		e.v.action = WXG_A_FAN_DENY;
		f->denies++;
	}
	if (report || e.v.verdict == WXG_V_DENY || e.v.reason == WXG_R_WINE) {
		fan_facts_task(f, x); /* who: for the event and the process table */
		e.task.ppid = x->ppid;
		e.task.uid = x->uid;
		e.task.start_ns = x->start_ns;
	}
	fan_after_exec(f, x, caller, &e, enforce);
	pthread_mutex_unlock(&f->plock);
	pthread_mutex_unlock(&f->lock);
	if (report)
		fan_push(f, &e, sizeof(e));
	free(x);
	return resp;
}

static void on_close_write(struct watch_fan *f, int fd, pid_t pid)
{
	struct fan_proc *p;
	struct stat st;
	uint64_t btime;
	bool rec;

	pthread_mutex_lock(&f->plock);
	p = fan_proc_find(f, pid, true);
	rec = p && (p->flags & (P_CLIENT | P_CHILD));
	pthread_mutex_unlock(&f->plock);
	if (!rec || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	btime = fan_btime_ns(fd);
	if (fan_written_has(f, watch_kdev(st.st_dev), st.st_ino, btime))
		return;
	f->written[f->written_next] = (struct fan_file){ watch_kdev(st.st_dev), st.st_ino, btime };
	f->written_next = (f->written_next + 1) % WRITTEN_MAX;
	if (f->n_written < WRITTEN_MAX)
		f->n_written++;
	f->n_written_total++;
}

static void handle_fan(struct watch_fan *f)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct fanotify_event_metadata))));
	ssize_t len;

	while ((len = read(f->fan_fd, buf, sizeof(buf))) > 0) {
		struct fanotify_event_metadata *m = (void *)buf;

		for (; FAN_EVENT_OK(m, len); m = FAN_EVENT_NEXT(m, len)) {
			if (m->mask & FAN_Q_OVERFLOW)
				f->drops++;
			if (m->fd < 0)
				continue;
			if (m->mask & (FAN_OPEN_EXEC_PERM | FAN_OPEN_PERM)) {
				struct fanotify_response r = { .fd = m->fd, .response = FAN_ALLOW };

				if (m->mask & FAN_OPEN_EXEC_PERM)
					r.response = on_exec_perm(f, m->fd, m->pid);
				/* Always answered: an unanswered event hangs the exec. */
				while (write(f->fan_fd, &r, sizeof(r)) < 0 && errno == EINTR)
					;
			}
			if (m->mask & FAN_CLOSE_WRITE)
				on_close_write(f, m->fd, m->pid);
			close(m->fd);
		}
	}
}

/* ---- the worker ---- */

static void *worker(void *arg)
{
	struct watch_fan *f = arg;
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	for (;;) {
		struct epoll_event evs[4];
		int n = epoll_wait(f->ep_fd, evs, 4, 1000);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++)
			if (evs[i].data.fd == f->stop_fd)
				return NULL;
		/* Permission events first: a process waits on each of them. */
		handle_fan(f);
		pthread_mutex_lock(&f->lock);
		pthread_mutex_lock(&f->plock);
		fan_pc_all(f);
		fan_procs_purge(f, fan_now_ns());
		pthread_mutex_unlock(&f->plock);
		pthread_mutex_unlock(&f->lock);
	}
	return NULL;
}

static bool pseudo_fs(const char *t)
{
	static const char *const skip[] = {
		"proc",        "sysfs",    "cgroup",      "cgroup2",         "devpts",
		"mqueue",      "debugfs",  "tracefs",     "securityfs",      "pstore",
		"bpf",         "configfs", "fusectl",     "hugetlbfs",       "autofs",
		"binfmt_misc", "efivarfs", "nsfs",        "rpc_pipefs",      "selinuxfs",
		"devtmpfs",    "ramfs",    "fuse.portal", "fuse.gvfsd-fuse",
	};

	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcmp(t, skip[i]) == 0)
			return true;
	return false;
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = 0;
}

/* Mark every filesystem that can hold executables (one mark per superblock; per mount where
 * the kernel lacks FAN_MARK_FILESYSTEM, 4.20). Returns the number marked or -errno. */
static int mark_all(int fan_fd, uint64_t mask)
{
	char line[4096], mnt[PATH_MAX], fstype[64];
	unsigned maj, min, seen_n = 0, seen[256][2];
	int n = 0, r = -ENOENT;
	FILE *fp = fopen("/proc/self/mountinfo", "re");

	if (!fp)
		return -errno;
	while (fgets(line, sizeof(line), fp)) {
		char *dash = strstr(line, " - ");
		bool dup = false;

		if (!dash || sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mnt) != 3 ||
		    sscanf(dash + 3, "%63s", fstype) != 1 || pseudo_fs(fstype))
			continue;
		unescape(mnt);
		for (unsigned i = 0; i < seen_n; i++)
			dup |= seen[i][0] == maj && seen[i][1] == min;
		if (dup)
			continue;
		if (fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_FILESYSTEM, mask, AT_FDCWD, mnt) <
			    0 &&
		    (errno != EINVAL || fanotify_mark(fan_fd, FAN_MARK_ADD | FAN_MARK_MOUNT, mask,
						      AT_FDCWD, mnt) < 0)) {
			r = -errno;
			log_debug("fanotify: cannot mark %s (%s): %m", mnt, fstype);
			continue;
		}
		if (seen_n < 256) {
			seen[seen_n][0] = maj;
			seen[seen_n++][1] = min;
		}
		n++;
	}
	fclose(fp);
	return n ? n : r;
}

static int fan_init(void)
{
	int fd = fanotify_init(FAN_CLASS_CONTENT | FAN_CLOEXEC | FAN_NONBLOCK | FAN_UNLIMITED_QUEUE,
			       O_RDONLY | O_LARGEFILE | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int watch_fanotify_probe(char *why, size_t size)
{
	int fd = fan_init(), pc;

	why[0] = 0;
	if (fd < 0) {
		if (fd == -EPERM)
			snprintf(why, size,
				 "fanotify_init: %s (needs CAP_SYS_ADMIN: "
				 "/usr/lib/wxguard/write-backend-dropin)",
				 strerror(-fd));
		else
			snprintf(why, size,
				 "fanotify_init: %s (needs CONFIG_FANOTIFY_ACCESS_PERMISSIONS)",
				 strerror(-fd));
		return fd;
	}
	if (fanotify_mark(fd, FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_OPEN_EXEC_PERM, AT_FDCWD, "/") < 0)
		snprintf(why, size, "no FAN_OPEN_EXEC_PERM (Linux 5.0+): execs only reported");
	close(fd);
	pc = watch_pc_open();
	if (pc < 0) {
		size_t l = strlen(why);

		snprintf(why + l, size - l,
			 "%sno process connector (%s): renames and ptrace not seen", l ? "; " : "",
			 strerror(-pc));
		if (strstr(why, "FAN_OPEN_EXEC_PERM"))
			return -EOPNOTSUPP; /* execs neither refused nor stopped */
		return 0;
	}
	watch_pc_close(pc);
	return 0;
}

void watch_fanotify_free(struct watch_fan *f)
{
	uint64_t one = 1;

	if (!f)
		return;
	if (f->started) {
		if (write(f->stop_fd, &one, sizeof(one)) < 0)
			log_debug("fanotify: stop: %m");
		pthread_join(f->thread, NULL);
	}
	/* Closing the group allows every permission event still pending. */
	if (f->fan_fd >= 0) {
		atomic_compare_exchange_strong(&child_close_fd, &(int){ f->fan_fd }, -1);
		close(f->fan_fd);
	}
	watch_pc_close(f->pc_fd);
	if (f->ep_fd >= 0)
		close(f->ep_fd);
	if (f->ev_fd >= 0)
		close(f->ev_fd);
	if (f->stop_fd >= 0)
		close(f->stop_fd);
	pthread_mutex_destroy(&f->lock);
	pthread_mutex_destroy(&f->qlock);
	pthread_mutex_destroy(&f->plock);
	free(f->q);
	free(f->procs);
	free(f);
}

static void atfork_child(void)
{
	int fd = atomic_load(&child_close_fd);

	if (fd >= 0)
		close(fd);
}

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int watch_fanotify_new(struct watch *w, struct watch_fan **ret)
{
	struct watch_fan *f;
	int r;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->w = w;
	f->self = getpid();
	f->fan_fd = f->pc_fd = f->ep_fd = f->ev_fd = f->stop_fd = -1;
	pthread_mutex_init(&f->lock, NULL);
	pthread_mutex_init(&f->qlock, NULL);
	pthread_mutex_init(&f->plock, NULL);
	f->ev_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	f->ep_fd = epoll_create1(EPOLL_CLOEXEC);
	if (f->ev_fd < 0 || f->stop_fd < 0 || f->ep_fd < 0) {
		r = -errno;
		goto fail;
	}
	f->fan_fd = fan_init();
	if (f->fan_fd < 0) {
		r = f->fan_fd;
		goto fail;
	}
	if (!atfork_registered) {
		r = -pthread_atfork(NULL, NULL, atfork_child);
		if (r < 0)
			goto fail;
		atfork_registered = true;
	}
	atomic_store(&child_close_fd, f->fan_fd);
	f->pc_fd = watch_pc_open();
	if (f->pc_fd < 0)
		log_debug("fanotify: no process connector (%s)", strerror(-f->pc_fd));
	f->exec_perm = !getenv("WXG_FANOTIFY_NO_EXEC_PERM"); /* tests: the pre-5.0 path */
	r = f->exec_perm ? mark_all(f->fan_fd, FAN_OPEN_EXEC_PERM | FAN_CLOSE_WRITE) : -EINVAL;
	if (r == -EINVAL) { /* before 5.0: judged after the exec through the connector */
		f->exec_perm = false;
		r = mark_all(f->fan_fd, FAN_CLOSE_WRITE);
	}
	if (r < 0)
		goto fail;
	f->marks = r;
	if (!f->exec_perm && f->pc_fd < 0) {
		r = -EOPNOTSUPP;
		goto fail;
	}
	r = ep_add(f->ep_fd, f->fan_fd);
	if (r == 0 && f->pc_fd >= 0)
		r = ep_add(f->ep_fd, f->pc_fd);
	if (r == 0)
		r = ep_add(f->ep_fd, f->stop_fd);
	if (r < 0)
		goto fail;
	r = -pthread_create(&f->thread, NULL, worker, f);
	if (r < 0)
		goto fail;
	f->started = true;
	*ret = f;
	return 0;
fail:
	watch_fanotify_free(f);
	return r;
}

void watch_fanotify_state(const struct watch_fan *f, struct watch_state *s)
{
	struct watch_decision_state *d = s->decisions;
	bool pc = f->pc_fd >= 0;

	s->counters.execs = f->execs;
	s->counters.events = f->events;
	s->counters.drops = f->drops;
	s->counters.user_kills += f->kills;
	s->counters.written = f->n_written_total;
	s->counters.fan_denies = f->denies;
	d[WATCH_DEC_EXEC] = (struct watch_decision_state){ WATCH_BACKEND_FANOTIFY,
							   f->exec_perm ? WATCH_EFFECT_REFUSED
									: WATCH_EFFECT_REPORTED };
	d[WATCH_DEC_LIBRARIES] = (struct watch_decision_state){ WATCH_BACKEND_NONE,
								WATCH_EFFECT_NONE };
	d[WATCH_DEC_INJECTION] = (struct watch_decision_state){
		pc ? WATCH_BACKEND_FANOTIFY : WATCH_BACKEND_NONE,
		pc ? WATCH_EFFECT_STOPPED : WATCH_EFFECT_NONE
	};
	d[WATCH_DEC_RENAMES] = d[WATCH_DEC_INJECTION];
}
