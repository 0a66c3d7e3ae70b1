#include "tests/lib/uplink_loopback.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define LOOPBACK_MAX_REQUEST (16u * 1024 * 1024)

struct uplink_loopback {
	int fd;
	int stop_pipe[2];
	unsigned port;
	char url[64];
	SSL_CTX *ctx;
	uplink_loopback_fn fn;
	void *userdata;
	pthread_t thread;
	pthread_mutex_t lock;
};

struct conn {
	int fd;
	SSL *ssl;
};

static ssize_t conn_read(struct conn *c, void *buf, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, buf, (int)n);

		return r > 0 ? r : (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1);
	}
	return read(c->fd, buf, n);
}

static int conn_write(struct conn *c, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = c->ssl ? SSL_write(c->ssl, p, (int)n) : write(c->fd, p, n);

		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void serve(struct uplink_loopback *s, int fd)
{
	struct conn c = { .fd = fd };
	struct uplink_loopback_req req = { 0 };
	char *buf = NULL, *hdr_end, *body = NULL, *resp = NULL, method[16], path[1024], head[256];
	size_t len = 0, cap = 0, need = 0, clen = 0;
	int status = 500;
	bool answer;

	if (s->ctx) {
		c.ssl = SSL_new(s->ctx);
		if (!c.ssl)
			goto out;
		SSL_set_fd(c.ssl, fd);
		if (SSL_accept(c.ssl) <= 0)
			goto out;
	}
	for (;;) {
		ssize_t n;

		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 65536;
			if (cap > LOOPBACK_MAX_REQUEST)
				goto out;
			nb = realloc(buf, cap);
			if (!nb)
				goto out;
			buf = nb;
		}
		n = conn_read(&c, buf + len, cap - len - 1);
		if (n <= 0)
			goto out;
		len += (size_t)n;
		buf[len] = 0;
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end)
			continue;
		if (!need) {
			char *cl = strcasestr(buf, "\r\nContent-Length:");

			clen = cl && cl < hdr_end ? strtoul(cl + 17, NULL, 10) : 0;
			need = (size_t)(hdr_end + 4 - buf) + clen;
		}
		if (len >= need)
			break;
	}
	if (sscanf(buf, "%15s %1023s", method, path) != 2)
		goto out;
	*hdr_end = 0;
	body = hdr_end + 4;
	body[clen] = 0;
	req = (struct uplink_loopback_req){
		.method = method, .path = path, .headers = buf, .body = body, .len = clen
	};
	pthread_mutex_lock(&s->lock);
	answer = s->fn(s->userdata, &req, &status, &resp);
	pthread_mutex_unlock(&s->lock);
	if (!answer)
		goto out;
	snprintf(head, sizeof(head),
		 "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: "
		 "%zu\r\nConnection: close\r\n\r\n",
		 status, resp ? strlen(resp) : 0);
	if (conn_write(&c, head, strlen(head)) == 0 && resp)
		conn_write(&c, resp, strlen(resp));
	if (c.ssl)
		SSL_shutdown(c.ssl);
out:
	free(resp);
	free(buf);
	if (c.ssl)
		SSL_free(c.ssl);
	close(fd);
}

static void *loop(void *arg)
{
	struct uplink_loopback *s = arg;
	sigset_t sigs;

	/* A client that goes away (a killed uplink child) must not take the test down with SIGPIPE:
	 * blocked, the signal stays pending on this thread and the write fails with EPIPE. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	for (;;) {
		struct pollfd p[2] = { { .fd = s->fd, .events = POLLIN },
				       { .fd = s->stop_pipe[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			serve(s, fd);
	}
	return NULL;
}

int uplink_loopback_start(unsigned port, const char *cert, const char *key, uplink_loopback_fn fn,
			  void *userdata, struct uplink_loopback **ret)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)port) };
	socklen_t alen = sizeof(a);
	struct uplink_loopback *s;
	int one = 1, r;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->fn = fn;
	s->userdata = userdata;
	s->stop_pipe[0] = s->stop_pipe[1] = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || pipe2(s->stop_pipe, O_CLOEXEC) < 0) {
		r = -errno;
		goto fail;
	}
	setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s->fd, 64) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) < 0) {
		r = -errno;
		goto fail;
	}
	s->port = ntohs(a.sin_port);
	if (cert) {
		s->ctx = SSL_CTX_new(TLS_server_method());
		if (!s->ctx || SSL_CTX_use_certificate_chain_file(s->ctx, cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(s->ctx, key, SSL_FILETYPE_PEM) != 1) {
			r = -EINVAL;
			goto fail;
		}
	}
	snprintf(s->url, sizeof(s->url), "%s://127.0.0.1:%u", cert ? "https" : "http", s->port);
	r = -pthread_create(&s->thread, NULL, loop, s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	if (s->stop_pipe[0] >= 0) {
		close(s->stop_pipe[0]);
		close(s->stop_pipe[1]);
	}
	SSL_CTX_free(s->ctx);
	pthread_mutex_destroy(&s->lock);
	free(s);
	return r;
}

const char *uplink_loopback_url(const struct uplink_loopback *s)
{
	return s->url;
}

unsigned uplink_loopback_port(const struct uplink_loopback *s)
{
	return s->port;
}

void uplink_loopback_lock(struct uplink_loopback *s)
{
	pthread_mutex_lock(&s->lock);
}

void uplink_loopback_unlock(struct uplink_loopback *s)
{
	pthread_mutex_unlock(&s->lock);
}

void uplink_loopback_stop(struct uplink_loopback *s)
{
	if (!s)
		return;
	if (write(s->stop_pipe[1], "x", 1) < 0) {
		/* cannot happen with an open pipe; the join below would then hang, so abort */
		abort();
	}
	pthread_join(s->thread, NULL);
	close(s->fd);
	close(s->stop_pipe[0]);
	close(s->stop_pipe[1]);
	SSL_CTX_free(s->ctx);
	pthread_mutex_destroy(&s->lock);
	free(s);
}
