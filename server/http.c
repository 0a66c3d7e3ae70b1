#include "server/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"
#include "server/api/api.h"
#include "server/store/store.h"
#include "server/tls.h"

struct worker {
	struct http_server *h;
	struct event_base *base;
	struct evhttp *http;
	struct store *st;
	struct event *tick;
	pthread_t thread;
	bool started;
};

struct http_server {
	struct srv *srv;
	SSL_CTX *ssl;
	int fd, port;
	struct worker *w;
	int nw;
	struct event_base *main_base;
	struct event *sigint, *sigterm;
	atomic_bool stopping; /* each worker polls it: no cross-thread libevent calls */
};

/* Count every 413 this connection sends. Bodies over 4 x max_body are refused by evhttp
 * itself before any callback of ours runs (the request's path is already gone by then), so
 * this is the only place they can be seen: each status line is one evbuffer_add_printf() into
 * the connection's (plaintext) output buffer. */
static void on_output(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct srv *s = arg;
	struct evbuffer_ptr at;
	char head[13];

	if (info->n_added < sizeof(head) ||
	    evbuffer_ptr_set(buf, &at, info->orig_size - info->n_deleted, EVBUFFER_PTR_SET) < 0 ||
	    evbuffer_copyout_from(buf, &at, head, sizeof(head)) != (ev_ssize_t)sizeof(head))
		return;
	if (memcmp(head, "HTTP/1.", 7) == 0 && memcmp(head + 8, " 413 ", 5) == 0)
		atomic_fetch_add(&s->m.http_too_large, 1);
}

static struct bufferevent *bevcb(struct event_base *base, void *arg)
{
	struct worker *w = arg;
	SSL *ssl = SSL_new(w->h->ssl);
	struct bufferevent *bev;

	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev)
		evbuffer_add_cb(bufferevent_get_output(bev), on_output, w->h->srv);
	return bev;
}

static const char *method_name(enum evhttp_cmd_type c)
{
	switch (c) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	default: return "OTHER";
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct worker *w = arg;
	struct srv *s = w->h->srv;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct evkeyvalq *in = evhttp_request_get_input_headers(req),
			 *out = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req), *reply;
	struct api_request rq = { 0 };
	struct api_response rs;
	size_t len = evbuffer_get_length(body);
	char *decoded = NULL;

	rq.method = method_name(evhttp_request_get_command(req));
	rq.path = uri ? evhttp_uri_get_path(uri) : NULL;
	rq.query = uri ? evhttp_uri_get_query(uri) : NULL;
	if (!rq.path || !*rq.path)
		rq.path = "/";
	decoded = evhttp_decode_uri(rq.path);
	if (decoded)
		rq.path = decoded;
	rq.authorization = evhttp_find_header(in, "Authorization");
	rq.device = evhttp_find_header(in, "X-Wxguard-Device");
	rq.body = len ? (const char *)evbuffer_pullup(body, -1) : "";
	rq.body_len = len;

	if (!w->st && srv_store_open(s, &w->st) < 0) {
		w->st = NULL;
		srv_db_error(s, NULL, -EIO, "connect");
	}
	if ((long long)len > s->cfg.max_body) {
		atomic_fetch_add(&s->m.http_requests, 1);
		atomic_fetch_add(&s->m.http_errors, 1);
		if (strcmp(rq.path, "/api/v1/report") == 0)
			atomic_fetch_add(&s->m.reports_refused[SRV_TOO_LARGE], 1);
		else if (strcmp(rq.path, "/api/v1/events") == 0)
			atomic_fetch_add(&s->m.events_refused[SRV_TOO_LARGE], 1);
		rs.status = 413;
		rs.content_type = "application/json";
		rs.body = strdup("{\"error\":\"too_large\",\"message\":\"request body is larger "
				 "than the server's max_body\"}");
		rs.body_len = rs.body ? strlen(rs.body) : 0;
	} else if (!w->st && strcmp(rq.path, "/") != 0 && strcmp(rq.path, "/dashboard") != 0 &&
		   strcmp(rq.path, "/metrics") !=
			   0) { /* metrics render without a database (wxguard_up 0) */
		atomic_fetch_add(&s->m.http_requests, 1);
		atomic_fetch_add(&s->m.http_errors, 1);
		api_count_unavailable(s, rq.path);
		rs.status = 503;
		rs.content_type = "application/json";
		rs.body = strdup("{\"error\":\"unavailable\",\"message\":\"database unavailable, "
				 "retry later\"}");
		rs.body_len = rs.body ? strlen(rs.body) : 0;
	} else {
		api_handle(s, w->st, &rq, &rs, (long long)time(NULL));
	}
	free(decoded);
	if (!rs.body) {
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evhttp_add_header(out, "Content-Type", rs.content_type);
	evhttp_add_header(out, "Cache-Control", "no-store");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	if (strncmp(rs.content_type, "text/html", 9) == 0) {
		evhttp_add_header(out, "Content-Security-Policy",
				  "default-src 'none'; script-src 'unsafe-inline'; style-src "
				  "'unsafe-inline'; "
				  "connect-src 'self'; img-src data:; frame-ancestors 'none'");
		evhttp_add_header(out, "X-Frame-Options", "DENY");
	}
	reply = evbuffer_new();
	if (!reply) {
		free(rs.body);
		evhttp_send_error(req, 500, "Internal Server Error");
		return;
	}
	evbuffer_add(reply, rs.body, rs.body_len);
	free(rs.body);
	evhttp_send_reply(req, rs.status, rs.status < 400 ? "OK" : "Error", reply);
	evbuffer_free(reply);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (atomic_load(&w->h->stopping))
		event_base_loopbreak(w->base);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { 0, 100 * 1000 };

	w->tick = event_new(w->base, -1, EV_PERSIST, on_tick, w);
	if (w->tick)
		event_add(w->tick, &tv);
	event_base_dispatch(w->base);
	return NULL;
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct http_server *h = arg;

	log_info("signal %d: stopping", (int)sig);
	event_base_loopbreak(h->main_base);
}

static int listen_socket(const char *addr, int port, int *ret_fd, int *ret_port)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t sl;
	int fd, one = 1;

	if (strchr(addr, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, addr, &a->sin6_addr) != 1)
			return -EINVAL;
		sl = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, addr, &a->sin_addr) != 1)
			return -EINVAL;
		sl = sizeof(*a);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Inherited by accepted sockets on Linux: no Nagle/delayed-ACK stalls on small replies. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	sl = sizeof(ss);
	getsockname(fd, (struct sockaddr *)&ss, &sl);
	*ret_port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
						   : ((struct sockaddr_in *)&ss)->sin_port);
	*ret_fd = fd;
	return 0;
}

int http_server_start(struct srv *s, struct http_server **ret)
{
	struct http_server *h;
	int r;

	signal(SIGPIPE, SIG_IGN);
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->srv = s;
	h->fd = -1;
	r = tls_server_ctx(&s->cfg, &h->ssl);
	if (r < 0)
		goto fail;
	r = listen_socket(s->cfg.listen, s->cfg.port, &h->fd, &h->port);
	if (r < 0)
		goto fail;
	h->main_base = event_base_new();
	h->w = calloc((size_t)s->cfg.workers, sizeof(*h->w));
	if (!h->main_base || !h->w) {
		r = -ENOMEM;
		goto fail;
	}
	h->nw = s->cfg.workers;
	for (int i = 0; i < h->nw; i++) {
		struct worker *w = &h->w[i];
		struct evconnlistener *l;
		int fd = dup(h->fd);

		w->h = h;
		w->base = event_base_new();
		w->http = w->base ? evhttp_new(w->base) : NULL;
		if (!w->http || fd < 0) {
			if (fd >= 0)
				close(fd);
			r = -ENOMEM;
			goto fail;
		}
		l = evconnlistener_new(w->base, NULL, NULL,
				       LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
		if (!l || !evhttp_bind_listener(w->http, l)) {
			r = -EIO;
			goto fail;
		}
		evhttp_set_bevcb(w->http, bevcb, w);
		evhttp_set_gencb(w->http, on_request, w);
		/* Bodies up to 4 x max_body reach on_request and get a JSON 413 counted per
		 * endpoint; larger ones are cut by evhttp itself (a 413 counted by on_output only).
		 */
		evhttp_set_max_body_size(w->http, (ev_ssize_t)s->cfg.max_body * 4);
		evhttp_set_max_headers_size(w->http, 16 * 1024);
		evhttp_set_timeout(w->http, 30);
		evhttp_set_allowed_methods(w->http,
					   EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD);
		if (srv_store_open(s, &w->st) < 0) {
			w->st = NULL; /* retried per request; requests get 503 meanwhile */
			srv_db_error(s, NULL, -EIO, "connect");
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			r = -EAGAIN;
			goto fail;
		}
		w->started = true;
	}
	*ret = h;
	return 0;
fail:
	http_server_free(h);
	return r;
}

int http_server_port(const struct http_server *h)
{
	return h->port;
}

int http_server_wait(struct http_server *h)
{
	h->sigint = evsignal_new(h->main_base, SIGINT, on_signal, h);
	h->sigterm = evsignal_new(h->main_base, SIGTERM, on_signal, h);
	if (!h->sigint || !h->sigterm)
		return -ENOMEM;
	event_add(h->sigint, NULL);
	event_add(h->sigterm, NULL);
	event_base_loop(h->main_base, EVLOOP_NO_EXIT_ON_EMPTY);
	return 0;
}

void http_server_stop(struct http_server *h)
{
	if (h && h->main_base)
		event_base_loopbreak(h->main_base);
}

void http_server_free(struct http_server *h)
{
	if (!h)
		return;
	for (int i = 0; h->w && i < h->nw; i++) {
		struct worker *w = &h->w[i];

		atomic_store(&h->stopping, true);
		if (w->started)
			pthread_join(w->thread, NULL);
		if (w->tick)
			event_free(w->tick);
		if (w->http)
			evhttp_free(w->http);
		if (w->base)
			event_base_free(w->base);
		store_close(w->st);
	}
	free(h->w);
	if (h->sigint)
		event_free(h->sigint);
	if (h->sigterm)
		event_free(h->sigterm);
	if (h->main_base)
		event_base_free(h->main_base);
	if (h->fd >= 0)
		close(h->fd);
	SSL_CTX_free(h->ssl);
	free(h);
}
