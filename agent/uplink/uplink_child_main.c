/* The uplink child's process (agent/uplink/uplink_child_main.h): unprivileged, it speaks HTTPS
 * for the agent and parses the server's replies. Entered from main() (agent/main.c). */
#include "agent/uplink/uplink_child_main.h"

#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/uplink/privsep.h"
#include "agent/uplink/uplink_chan.h"
#include "agent/uplink/uplink_internal.h"
#include "agent/uplink/uplink_msg.h"
#include "agent/uplink/uplink_reply.h"

struct creq {
	uint64_t id;
	uint32_t kind;
	struct child_state *st;
	struct creq *next, *prev;
};

struct child_state {
	sd_event *event;
	sd_event_source *io;
	struct uplink_chan *chan;
	struct uplink_curl *curl;
	struct creq *reqs;
};

static void child_update_io(struct child_state *st)
{
	sd_event_source_set_io_events(st->io,
				      EPOLLIN | (uplink_chan_pending(st->chan) ? EPOLLOUT : 0));
}

/* Send an encoded message; r is the encoder's result. A child that cannot talk to its parent
 * has nothing left to do. */
static void child_send(struct child_state *st, uint16_t type, uint64_t id, int r, char *p, size_t n)
{
	if (r < 0) {
		sd_event_exit(st->event, 1);
		return;
	}
	r = uplink_chan_send(st->chan, type, id, p, n);
	if (r < 0) {
		sd_event_exit(st->event, 1);
		return;
	}
	child_update_io(st);
}

static void child_send_error(struct child_state *st, uint64_t id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void child_send_error(struct child_state *st, uint64_t id, const char *fmt, ...)
{
	char text[1024], *p = NULL;
	size_t n = 0;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	r = uplink_msg_encode_text(text, &p, &n);
	child_send(st, UPLINK_MSG_ERROR, id, r, p, n);
}

static void child_send_resp(struct child_state *st, uint64_t id, const struct uplink_msg_resp *m)
{
	char *p = NULL;
	size_t n = 0;
	int r = uplink_msg_encode_resp(m, &p, &n);

	child_send(st, UPLINK_MSG_RESP, id, r, p, n);
}

static void creq_unlink(struct child_state *st, struct creq *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		st->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
}

static void child_on_done(void *userdata, const struct uplink_response *resp)
{
	struct creq *q = userdata;
	struct child_state *st = q->st;
	struct uplink_reply_buf b;
	struct uplink_msg_resp m;

	/* A typed request: the server's JSON is parsed and checked here, only fields go up. */
	uplink_reply_make_resp(q->kind, resp, &m, &b);
	creq_unlink(st, q);
	child_send_resp(st, q->id, &m);
	uplink_reply_buf_clear(&b);
	free(q);
}

static void child_handle(struct child_state *st, struct uplink_msg *m)
{
	struct uplink_msg_req req;
	const char *why = NULL;
	struct creq *q;
	int r;

	switch (m->type) {
	case UPLINK_MSG_REQ:
		if (uplink_msg_decode_req(m->payload, m->len, &req, &why) < 0) {
			child_send_resp(st, m->id,
					&(struct uplink_msg_resp){
						.err = -EBADMSG, .body = "", .error = why });
			return;
		}
		for (q = st->reqs; q && q->id != m->id; q = q->next)
			;
		if (q) {
			child_send_error(
				st, m->id,
				"uplink child refused a request: id %llu is already in flight",
				(unsigned long long)m->id);
			return;
		}
		q = calloc(1, sizeof(*q));
		if (!q) {
			child_send_resp(st, m->id,
					&(struct uplink_msg_resp){ .err = -ENOMEM,
								   .body = "",
								   .error = "out of memory" });
			return;
		}
		q->id = m->id;
		q->kind = req.kind;
		q->st = st;
		r = uplink_curl_request(st->curl, UPLINK_REPLY_RAW, req.method, req.path,
					req.headers, req.body, req.len, child_on_done, q);
		if (r < 0) {
			child_send_resp(
				st, m->id,
				&(struct uplink_msg_resp){ .err = r,
							   .body = "",
							   .error = "cannot start the request" });
			free(q);
			return;
		}
		q->next = st->reqs;
		if (st->reqs)
			st->reqs->prev = q;
		st->reqs = q;
		return;
	case UPLINK_MSG_CANCEL:
		for (q = st->reqs; q && q->id != m->id; q = q->next)
			;
		if (q) {
			uplink_curl_cancel(st->curl, q);
			creq_unlink(st, q);
			free(q);
		}
		return;
	default: child_send_error(st, m->id, "uplink child refused a message of type %u", m->type);
	}
}

static int child_on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct child_state *st = userdata;
	const char *why = NULL;
	int r;

	if (revents & EPOLLOUT) {
		r = uplink_chan_flush(st->chan);
		if (r < 0)
			return sd_event_exit(st->event, 1), 0;
	}
	for (int i = 0; i < 256; i++) {
		struct uplink_msg m;

		r = uplink_chan_recv(st->chan, &m, &why);
		if (r == 0)
			break;
		if (r == -EBADMSG) {
			child_send_error(st, 0, "uplink child refused a malformed message: %s",
					 why);
			continue;
		}
		if (r < 0)
			return sd_event_exit(st->event, 0), 0; /* the parent closed: done */
		child_handle(st, &m);
		free(m.payload);
	}
	if ((revents & (EPOLLHUP | EPOLLERR)) && !(revents & EPOLLIN))
		return sd_event_exit(st->event, 0), 0;
	child_update_io(st);
	return 0;
}

/* Wait (blocking: nothing else to do yet) for INIT and decode it into *init (pointers into
 * m->payload). */
static int child_read_init(struct uplink_chan *ch, struct uplink_msg *m,
			   struct uplink_msg_init *init, const char **why)
{
	for (;;) {
		struct pollfd p = { .fd = uplink_chan_fd(ch), .events = POLLIN };
		int r = poll(&p, 1, 30000);

		if (r == 0)
			return -ETIMEDOUT;
		if (r < 0 && errno != EINTR)
			return -errno;
		r = uplink_chan_recv(ch, m, why);
		if (r < 0)
			return r;
		if (r == 0)
			continue;
		if (m->type != UPLINK_MSG_INIT) {
			*why = "first message is not INIT";
			return -EBADMSG;
		}
		return uplink_msg_decode_init(m->payload, m->len, init, why);
	}
}

/* Before the event loop runs: an ERROR the parent keeps as the reason the child went away. */
static void tell_parent(struct uplink_chan *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tell_parent(struct uplink_chan *ch, const char *fmt, ...)
{
	char text[512], *p;
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (uplink_msg_encode_text(text, &p, &n) >= 0)
		uplink_chan_send(ch, UPLINK_MSG_ERROR, 0, p, n);
}

int uplink_child_main(void)
{
	struct child_state st = { 0 };
	struct uplink_msg_init init;
	struct uplink_msg m = { 0 };
	struct uplink_msg_ready rd;
	const char *why = NULL, *step = NULL;
	struct rlimit rl = { 0, 0 };
	sigset_t all;
	char *p;
	size_t n;
	int r;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_IGN);
	syscall(SYS_close_range, UPLINK_CHILD_FD + 1, ~0u, 0);
	setrlimit(RLIMIT_CORE, &rl);
	if (chdir("/") < 0)
		return 1;
	r = uplink_chan_new(UPLINK_CHILD_FD, &st.chan);
	if (r < 0)
		return 1;
	r = child_read_init(st.chan, &m, &init, &why);
	if (r < 0) {
		tell_parent(st.chan,
			    "uplink child refused a malformed message: no valid INIT from the "
			    "parent (%s)",
			    why ? why : strerror(-r));
		return 2;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 3;
	r = privsep_drop(init.flags & UPLINK_INIT_DROP, init.uid, init.gid, &step);
	if (r < 0) {
		tell_parent(st.chan, "uplink child cannot drop privileges to uid %u (%s): %s",
			    init.uid, step, strerror(-r));
		return 4;
	}
	if (sd_event_new(&st.event) < 0)
		return 5;
	r = uplink_curl_new(st.event,
			    &(struct uplink_curl_opts){
				    .base_url = init.base_url,
				    .ca = init.ca[0] ? init.ca : NULL,
				    .ca_pem = init.ca_pem,
				    .ca_pem_len = init.ca_pem_len,
				    .pin_sha256 = init.pin[0] ? init.pin : NULL,
				    .proxy = init.proxy[0] ? init.proxy : NULL,
				    .timeout_s = init.timeout_s,
			    },
			    &st.curl);
	free(m.payload);
	if (r < 0)
		return 6;
	if (sd_event_add_io(st.event, &st.io, UPLINK_CHILD_FD, EPOLLIN, child_on_io, &st) < 0)
		return 7;
	rd = (struct uplink_msg_ready){ .uid = getuid(), .gid = getgid() };
	r = uplink_msg_encode_ready(&rd, &p, &n);
	child_send(&st, UPLINK_MSG_READY, 0, r, p, n);
	r = sd_event_loop(st.event);
	return r < 0 ? 8 : r;
}

bool uplink_child_main_wanted(void)
{
	const char *v = getenv(UPLINK_CHILD_ENV);
	int type = 0;
	socklen_t sl = sizeof(type);

	if (!v || strcmp(v, "1") != 0)
		return false;
	unsetenv(UPLINK_CHILD_ENV);
	/* Only when fd 3 really is our socket; otherwise this is an ordinary run. */
	return getsockopt(UPLINK_CHILD_FD, SOL_SOCKET, SO_TYPE, &type, &sl) == 0 &&
	       type == SOCK_SEQPACKET;
}
