/* The parent's side of the uplink child (agent/uplink/uplink.h "Privilege separation",
 * docs/attestation.md); the child itself is agent/uplink/uplink_child_main.c.
 *
 * Spawns the child (fork, then execve of /proc/self/exe with WXGUARD_UPLINK_CHILD=1 and
 * the socket on fd 3: a fresh address space without the device key), sends INIT, queues
 * requests until READY, forwards them as REQ and hands RESP to the callbacks. The socket and a
 * pidfd are sd-event I/O sources: nothing blocks. A child that exits, closes the socket or sends
 * a malformed message is killed and reaped; its requests fail (UPLINK_ECHILD or -EBADMSG), and
 * a new child is started with backoff. */
#include "agent/uplink/uplink_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/uplink/privsep.h"
#include "agent/uplink/uplink_chan.h"
#include "agent/uplink/uplink_child_main.h"
#include "agent/uplink/uplink_msg.h"
#include "common/fileio.h"
#include "common/retry.h"
#include "common/random.h"

#define RESTART_BASE_USEC 100000ull
#define RESTART_MAX_USEC (30ull * 1000000)

extern char **environ;

struct preq {
	uint64_t id;
	uint64_t deadline; /* CLOCK_MONOTONIC usec, once sent */
	bool sent, doomed;
	unsigned gen;  /* the child it was sent to */
	uint32_t kind; /* enum uplink_reply_kind */
	uplink_done_fn cb;
	void *userdata;
	char *payload; /* encoded REQ while queued */
	size_t len;
	struct preq *next, *prev;
};

struct uplink_child {
	sd_event *event;
	char *base_url, *ca, *pin, *proxy, *ca_pem;
	size_t ca_pem_len;
	unsigned timeout_s;
	bool drop;
	uid_t uid;
	gid_t gid;

	/* the current child */
	pid_t pid;
	int pidfd;
	unsigned gen;
	struct uplink_chan *chan;
	sd_event_source *io, *pid_src;
	bool ready, dying;
	int dying_err;
	char dying_why[512];
	char child_said[512]; /* its ERROR text, if any */

	sd_event_source *restart, *watchdog;
	unsigned attempt, starts;
	char last_error[1024];

	struct preq *reqs;
	unsigned n_reqs;
	uint64_t next_id;
};

static void preq_unlink(struct uplink_child *c, struct preq *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		c->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->next = q->prev = NULL;
	c->n_reqs--;
}

static void preq_free(struct preq *q)
{
	if (!q)
		return;
	free(q->payload);
	free(q);
}

static void update_io(struct uplink_child *c)
{
	if (c->io && c->chan)
		sd_event_source_set_io_events(
			c->io, EPOLLIN | (uplink_chan_pending(c->chan) ? EPOLLOUT : 0));
}

static void child_kill(struct uplink_child *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The child's own libcurl timeout ends every request; a child that does not answer well after
 * it (stopped, wedged) is killed like a dead one. */
#define WATCHDOG_GRACE_USEC (30ull * 1000000)

static void watchdog_arm(struct uplink_child *c)
{
	uint64_t first = UINT64_MAX;

	for (struct preq *q = c->reqs; q; q = q->next)
		if (q->sent && q->gen == c->gen && q->deadline < first)
			first = q->deadline;
	if (first == UINT64_MAX || !c->pid || c->dying) {
		sd_event_source_set_enabled(c->watchdog, SD_EVENT_OFF);
		return;
	}
	sd_event_source_set_time(c->watchdog, first);
	sd_event_source_set_enabled(c->watchdog, SD_EVENT_ONESHOT);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink_child *c = userdata;

	child_kill(c, UPLINK_ECHILD, "uplink child did not answer within %u s",
		   (c->timeout_s ? c->timeout_s : 30) + 30);
	return 0;
}

static void child_kill(struct uplink_child *c, int err, const char *fmt, ...)
{
	va_list ap;

	if (!c->pid || c->dying)
		return;
	c->dying = true;
	c->dying_err = err;
	c->dying_why[0] = 0;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(c->dying_why, sizeof(c->dying_why), fmt, ap);
		va_end(ap);
	}
	if (pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0) < 0)
		kill(c->pid, SIGKILL);
	c->io = sd_event_source_disable_unref(c->io);
	uplink_chan_free(c->chan);
	c->chan = NULL;
	sd_event_source_set_enabled(c->watchdog, SD_EVENT_OFF);
	/* on_pidfd reaps it and fails its requests. */
}

/* Send a queued request to a ready child. */
static void send_req(struct uplink_child *c, struct preq *q)
{
	int r;

	q->sent = true;
	q->gen = c->gen;
	if (sd_event_now(c->event, CLOCK_MONOTONIC, &q->deadline) < 0)
		q->deadline = 0;
	q->deadline += (uint64_t)(c->timeout_s ? c->timeout_s : 30) * 1000000 + WATCHDOG_GRACE_USEC;
	r = uplink_chan_send(c->chan, UPLINK_MSG_REQ, q->id, q->payload, q->len);
	q->payload = NULL;
	if (r < 0)
		child_kill(c, UPLINK_ECHILD, "cannot write to the uplink child: %s", strerror(-r));
	else
		update_io(c);
	watchdog_arm(c);
}

static void fail_doomed(struct uplink_child *c, int err, const char *text)
{
	struct preq *q;

	for (;;) {
		for (q = c->reqs; q && !q->doomed; q = q->next)
			;
		if (!q)
			return;
		preq_unlink(c, q);
		if (q->cb)
			q->cb(q->userdata,
			      &(struct uplink_response){ .err = err, .body = "", .error = text });
		preq_free(q);
	}
}

static int spawn(struct uplink_child *c);

static int on_restart(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink_child *c = userdata;
	int r;

	r = spawn(c);
	if (r < 0) {
		snprintf(c->last_error, sizeof(c->last_error), "cannot start the uplink child: %s",
			 strerror(-r));
		for (struct preq *q = c->reqs; q; q = q->next)
			q->doomed = !q->sent;
		fail_doomed(c, r, c->last_error);
		sd_event_source_set_time_relative(
			c->restart, retry_backoff_usec(c->attempt++, RESTART_BASE_USEC,
						       RESTART_MAX_USEC, random_u64()));
		sd_event_source_set_enabled(c->restart, SD_EVENT_ONESHOT);
	}
	return 0;
}

static void describe_exit(char *buf, size_t size, pid_t pid, const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		snprintf(buf, size, "uplink child (pid %d) exited with status %d", (int)pid,
			 si->si_status);
	else
		snprintf(buf, size, "uplink child (pid %d) was killed by signal %d (%s)", (int)pid,
			 si->si_status, strsignal(si->si_status));
}

static int on_pidfd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct uplink_child *c = userdata;
	siginfo_t si = { 0 };
	char how[256], text[1024];
	bool was_ready = c->ready;
	unsigned gen = c->gen;
	int err;

	if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return 0; /* not yet */
	describe_exit(how, sizeof(how), c->pid, &si);
	err = c->dying ? c->dying_err : UPLINK_ECHILD;
	if (c->dying_why[0])
		snprintf(c->last_error, sizeof(c->last_error), "%.500s (%.200s)", c->dying_why,
			 how);
	else if (c->child_said[0])
		snprintf(c->last_error, sizeof(c->last_error), "%.500s (%.200s)", c->child_said,
			 how);
	else
		snprintf(c->last_error, sizeof(c->last_error), "%s", how);
	c->io = sd_event_source_disable_unref(c->io);
	c->pid_src = sd_event_source_disable_unref(c->pid_src);
	uplink_chan_free(c->chan);
	c->chan = NULL;
	close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	c->ready = c->dying = false;
	c->dying_why[0] = c->child_said[0] = 0;

	for (struct preq *q = c->reqs; q; q = q->next)
		q->doomed = (q->sent && q->gen == gen) || (!q->sent && !was_ready);
	snprintf(text, sizeof(text), "%s: %.900s; the request was not completed",
		 was_ready ? "uplink child died" : "uplink child failed to start", c->last_error);
	sd_event_source_set_time_relative(c->restart,
					  retry_backoff_usec(c->attempt++, RESTART_BASE_USEC,
							     RESTART_MAX_USEC, random_u64()));
	sd_event_source_set_enabled(c->restart, SD_EVENT_ONESHOT);
	fail_doomed(c, err, text);
	return 0;
}

static void handle_msg(struct uplink_child *c, struct uplink_msg *m)
{
	const char *why = NULL, *text;
	struct uplink_msg_ready rd;
	struct uplink_msg_resp rs;
	struct preq *q;

	switch (m->type) {
	case UPLINK_MSG_READY:
		if (c->ready || uplink_msg_decode_ready(m->payload, m->len, &rd, &why) < 0) {
			child_kill(c, -EBADMSG, "uplink child sent a malformed message: %s",
				   why ? why : "READY twice");
			return;
		}
		c->ready = true;
		for (q = c->reqs; q && c->chan; q = q->next)
			if (!q->sent)
				send_req(c, q);
		return;
	case UPLINK_MSG_RESP:
		if (!c->ready || uplink_msg_decode_resp(m->payload, m->len, &rs, &why) < 0) {
			child_kill(c, -EBADMSG, "uplink child sent a malformed message: %s",
				   why ? why : "RESP before READY");
			return;
		}
		c->attempt = 0;
		for (q = c->reqs; q && !(q->sent && q->id == m->id && q->gen == c->gen);
		     q = q->next)
			;
		if (!q)
			return; /* cancelled meanwhile */
		/* Its request fails with -EBADMSG when the child is reaped. */
		if (rs.err == 0 && (q->kind != UPLINK_REPLY_RAW) != rs.has_reply) {
			child_kill(c, -EBADMSG, "uplink child sent a malformed message: %s",
				   rs.has_reply ? "typed reply to a raw request"
						: "raw reply to a typed request");
			return;
		}
		if (rs.has_reply && rs.reply.kind != q->kind) {
			child_kill(c, -EBADMSG,
				   "uplink child sent a malformed message: reply of another kind");
			return;
		}
		preq_unlink(c, q);
		watchdog_arm(c);
		if (q->cb)
			q->cb(q->userdata, &(struct uplink_response){
						   .err = rs.err,
						   .status = rs.err ? 0 : rs.status,
						   .body = rs.body,
						   .len = rs.len,
						   .error = rs.err ? rs.error : "",
						   .reply = rs.has_reply ? &rs.reply : NULL });
		preq_free(q);
		return;
	case UPLINK_MSG_ERROR:
		if (uplink_msg_decode_text(m->payload, m->len, &text, &why) < 0) {
			child_kill(c, -EBADMSG, "uplink child sent a malformed message: %s", why);
			return;
		}
		snprintf(c->child_said, sizeof(c->child_said), "%s", text);
		snprintf(c->last_error, sizeof(c->last_error), "%s", text);
		return;
	default:
		child_kill(c, -EBADMSG,
			   "uplink child sent a malformed message: type %u is not for the parent",
			   m->type);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct uplink_child *c = userdata;
	unsigned gen = c->gen;
	const char *why = NULL;
	int r;

	if (revents & EPOLLOUT) {
		r = uplink_chan_flush(c->chan);
		if (r < 0) {
			child_kill(c, UPLINK_ECHILD, "cannot write to the uplink child: %s",
				   strerror(-r));
			return 0;
		}
	}
	for (int i = 0; i < 256; i++) {
		struct uplink_msg m;

		r = uplink_chan_recv(c->chan, &m, &why);
		if (r == 0)
			break;
		if (r == -EBADMSG) {
			child_kill(c, -EBADMSG, "uplink child sent a malformed message: %s", why);
			return 0;
		}
		if (r < 0) {
			/* EOF: the child is exiting; reap it for its status. */
			child_kill(c, UPLINK_ECHILD, NULL);
			return 0;
		}
		handle_msg(c, &m);
		free(m.payload);
		if (c->gen != gen || !c->chan)
			return 0;
	}
	if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN))
		child_kill(c, UPLINK_ECHILD, NULL);
	else
		update_io(c);
	return 0;
}

static int send_init(struct uplink_child *c)
{
	struct uplink_msg_init m = { .flags = (c->drop ? UPLINK_INIT_DROP : 0) |
					      (c->ca_pem ? UPLINK_INIT_HAS_CA_PEM : 0),
				     .uid = c->uid,
				     .gid = c->gid,
				     .timeout_s = c->timeout_s,
				     .base_url = c->base_url,
				     .ca = c->ca,
				     .ca_pem = c->ca_pem,
				     .ca_pem_len = c->ca_pem_len,
				     .pin = c->pin,
				     .proxy = c->proxy };
	char *p;
	size_t n;
	int r;

	r = uplink_msg_encode_init(&m, &p, &n);
	if (r < 0)
		return r;
	return uplink_chan_send(c->chan, UPLINK_MSG_INIT, 0, p, n);
}

static int spawn(struct uplink_child *c)
{
	char *argv[] = { (char *)"wxguard-uplink", NULL }, **envp = NULL;
	size_t n = 0, k = 0;
	int sv[2] = { -1, -1 }, r;
	pid_t pid;

	for (char **e = environ; e && *e; e++)
		n++;
	envp = calloc(n + 2, sizeof(char *));
	if (!envp)
		return -ENOMEM;
	for (char **e = environ; e && *e; e++)
		if (strncmp(*e, UPLINK_CHILD_ENV "=", sizeof(UPLINK_CHILD_ENV)) != 0)
			envp[k++] = *e;
	envp[k++] = (char *)UPLINK_CHILD_ENV "=1";
	envp[k] = NULL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		r = -errno;
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		r = -errno;
		goto fail;
	}
	if (pid == 0) {
		/* Only async-signal-safe calls until execve: the parent may have threads. */
		if (sv[1] == UPLINK_CHILD_FD)
			fcntl(UPLINK_CHILD_FD, F_SETFD, 0);
		else if (dup2(sv[1], UPLINK_CHILD_FD) < 0)
			_exit(126);
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(sv[1]);
	sv[1] = -1;
	free(envp);
	envp = NULL;
	c->pid = pid;
	c->gen++;
	c->starts++;
	c->ready = c->dying = false;
	c->pidfd = pidfd_open(pid, 0);
	if (c->pidfd < 0) {
		r = -errno;
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		c->pid = 0;
		goto fail;
	}
	r = uplink_chan_new(sv[0], &c->chan);
	if (r < 0)
		goto fail_child;
	sv[0] = -1;
	r = sd_event_add_io(c->event, &c->pid_src, c->pidfd, EPOLLIN, on_pidfd, c);
	if (r < 0)
		goto fail_child;
	r = sd_event_add_io(c->event, &c->io, uplink_chan_fd(c->chan), EPOLLIN, on_io, c);
	if (r < 0)
		goto fail_child;
	r = send_init(c);
	if (r < 0)
		goto fail_child;
	update_io(c);
	return 0;
fail_child:
	/* Reaped by on_pidfd when its source exists, else here. */
	if (c->pid_src) {
		child_kill(c, UPLINK_ECHILD, "cannot set up the uplink child: %s", strerror(-r));
		return 0;
	}
	pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
	waitpid(c->pid, NULL, 0);
	close(c->pidfd);
	c->pidfd = -1;
	c->pid = 0;
	c->io = sd_event_source_disable_unref(c->io);
	uplink_chan_free(c->chan);
	c->chan = NULL;
fail:
	if (sv[0] >= 0)
		close(sv[0]);
	if (sv[1] >= 0)
		close(sv[1]);
	free(envp);
	return r;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src || !*src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int uplink_child_new(sd_event *e, const struct uplink_child_opts *o, struct uplink_child **ret)
{
	struct uplink_child *c;
	size_t len;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->event = sd_event_ref(e);
	c->pidfd = -1;
	c->timeout_s = o->timeout_s;
	if (dup_opt(&c->base_url, o->base_url) < 0 || dup_opt(&c->ca, o->ca) < 0 ||
	    dup_opt(&c->pin, o->pin_sha256) < 0 || dup_opt(&c->proxy, o->proxy) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	/* The CA is read here, while we can; the child may not be able to open it. When it
	 * cannot be read the child gets the path and fails the way the in-process uplink would. */
	if (c->ca && read_full_file(c->ca, UPLINK_MSG_MAX_CA, &c->ca_pem, &len) >= 0)
		c->ca_pem_len = len;
	c->drop = geteuid() == 0;
	if (c->drop) {
		r = privsep_lookup_user(o->user, &c->uid, &c->gid);
		if (r < 0)
			goto fail;
	}
	r = sd_event_add_time(e, &c->restart, CLOCK_MONOTONIC, UINT64_MAX, 0, on_restart, c);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(c->restart, SD_EVENT_OFF);
	r = sd_event_add_time(e, &c->watchdog, CLOCK_MONOTONIC, UINT64_MAX, 0, on_watchdog, c);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(c->watchdog, SD_EVENT_OFF);
	r = spawn(c);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	uplink_child_free(c);
	return r;
}

void uplink_child_free(struct uplink_child *c)
{
	if (!c)
		return;
	while (c->reqs) {
		struct preq *q = c->reqs;

		preq_unlink(c, q);
		preq_free(q);
	}
	c->io = sd_event_source_disable_unref(c->io);
	c->pid_src = sd_event_source_disable_unref(c->pid_src);
	uplink_chan_free(c->chan);
	if (c->pid > 0) {
		if (c->pidfd < 0 || pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0) < 0)
			kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (c->pidfd >= 0)
		close(c->pidfd);
	sd_event_source_disable_unref(c->restart);
	sd_event_source_disable_unref(c->watchdog);
	sd_event_unref(c->event);
	free(c->base_url);
	free(c->ca);
	free(c->ca_pem);
	free(c->pin);
	free(c->proxy);
	free(c);
}

int uplink_child_request(struct uplink_child *c, uint32_t kind, const char *method,
			 const char *path, const char *const *headers, const char *body, size_t len,
			 uplink_done_fn cb, void *userdata)
{
	struct uplink_msg_req m = {
		.method = method, .path = path, .body = body, .len = len, .kind = kind
	};
	const char *why;
	struct preq *q;
	size_t n = 0;
	int r;

	for (; headers && headers[n]; n++) {
		if (n >= UPLINK_MSG_MAX_HEADERS)
			return -E2BIG;
		m.headers[n] = headers[n];
	}
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	r = uplink_msg_encode_req(&m, &q->payload, &q->len);
	if (r < 0)
		goto fail;
	/* What the child would refuse is refused here, with the same check. */
	r = uplink_msg_decode_req(q->payload, q->len, &m, &why);
	if (r < 0) {
		r = -EINVAL;
		goto fail;
	}
	q->id = ++c->next_id;
	q->kind = kind;
	q->cb = cb;
	q->userdata = userdata;
	q->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = q;
	c->reqs = q;
	c->n_reqs++;
	if (c->ready && c->chan && !c->dying)
		send_req(c, q);
	else if (!c->pid && !sd_event_source_get_enabled(c->restart, NULL)) {
		sd_event_source_set_time_relative(c->restart, 0);
		sd_event_source_set_enabled(c->restart, SD_EVENT_ONESHOT);
	}
	return 0;
fail:
	preq_free(q);
	return r;
}

void uplink_child_cancel(struct uplink_child *c, void *userdata)
{
	for (struct preq *q = c->reqs, *next; q; q = next) {
		next = q->next;
		if (q->userdata != userdata)
			continue;
		if (q->sent && q->gen == c->gen && c->chan && !c->dying) {
			char *p = NULL;

			if (uplink_chan_send(c->chan, UPLINK_MSG_CANCEL, q->id, p, 0) < 0)
				child_kill(c, UPLINK_ECHILD, "cannot write to the uplink child");
			else
				update_io(c);
		}
		preq_unlink(c, q);
		preq_free(q);
	}
	watchdog_arm(c);
}

unsigned uplink_child_in_flight(const struct uplink_child *c)
{
	return c->n_reqs;
}

void uplink_child_get_info(const struct uplink_child *c, struct uplink_info *ret)
{
	*ret = (struct uplink_info){ .isolation = UPLINK_ISOLATION_CHILD,
				     .child_pid = c->dying ? 0 : c->pid,
				     .child_ready = c->ready && !c->dying,
				     .child_starts = c->starts,
				     .last_error = c->last_error };
}
