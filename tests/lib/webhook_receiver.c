/* The loopback alert-sink receiver (tests/lib/webhook_receiver.h). */
#include "testlib.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "webhook_receiver.h"

static void *receiver_main(void *arg)
{
	struct webhook_receiver *rv = arg;

	for (;;) {
		char buf[65536], path[256] = "";
		size_t have = 0;
		long clen = 0;
		char *hdr_end = NULL, *cl;
		int c = accept(rv->fd, NULL, NULL);
		bool fail = false;

		if (c < 0)
			return NULL;
		while (have < sizeof(buf) - 1) {
			ssize_t n = read(c, buf + have, sizeof(buf) - 1 - have);

			if (n <= 0)
				break;
			have += (size_t)n;
			buf[have] = 0;
			hdr_end = strstr(buf, "\r\n\r\n");
			if (hdr_end) {
				cl = strcasestr(buf, "Content-Length:");
				clen = cl ? atol(cl + 15) : 0;
				if ((long)(have - (size_t)(hdr_end + 4 - buf)) >= clen)
					break;
			}
		}
		if (hdr_end) {
			sscanf(buf, "POST %255s", path);
			pthread_mutex_lock(&rv->lock);
			if (strncmp(path, "/hook", 5) == 0 && rv->fail_first_json) {
				rv->fail_first_json = 0;
				fail = true;
			} else if (rv->n < 256) {
				rv->bodies[rv->n] = strndup(hdr_end + 4, (size_t)clen);
				rv->paths[rv->n] = strdup(path);
				rv->n++;
			}
			pthread_mutex_unlock(&rv->lock);
		}
		{
			const char *ok =
				"HTTP/1.1 200 OK\r\nContent-Type: "
				"application/json\r\nContent-Length: 27\r\n"
				"Connection: close\r\n\r\n{\"errcode\":0,\"errmsg\":\"ok\"}";
			const char *bad = "HTTP/1.1 500 Oops\r\nContent-Length: 0\r\nConnection: "
					  "close\r\n\r\n";
			const char *rep = fail ? bad : ok;

			if (write(c, rep, strlen(rep)) < 0)
				perror("receiver write");
		}
		close(c);
	}
}

void webhook_receiver_start(struct webhook_receiver *rv)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(a);

	pthread_mutex_init(&rv->lock, NULL);
	rv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(rv->fd >= 0);
	assert_int_equal(bind(rv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(rv->fd, 16), 0);
	getsockname(rv->fd, (struct sockaddr *)&a, &sl);
	rv->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&rv->thread, NULL, receiver_main, rv), 0);
}

void webhook_receiver_stop(struct webhook_receiver *rv)
{
	shutdown(rv->fd, SHUT_RDWR);
	close(rv->fd);
	pthread_join(rv->thread, NULL);
	for (int i = 0; i < rv->n; i++) {
		free(rv->bodies[i]);
		free(rv->paths[i]);
	}
	rv->n = 0;
}

int webhook_receiver_count(struct webhook_receiver *rv, const char *prefix, const char *needle)
{
	int n = 0;

	pthread_mutex_lock(&rv->lock);
	for (int i = 0; i < rv->n; i++)
		n += strncmp(rv->paths[i], prefix, strlen(prefix)) == 0 &&
		     strstr(rv->bodies[i], needle) != NULL;
	pthread_mutex_unlock(&rv->lock);
	return n;
}

char *webhook_receiver_wait(struct webhook_receiver *rv, const char *prefix, const char *needle,
			    int seconds)
{
	for (int t = 0; t < seconds * 10; t++) {
		pthread_mutex_lock(&rv->lock);
		for (int i = 0; i < rv->n; i++)
			if (strncmp(rv->paths[i], prefix, strlen(prefix)) == 0 &&
			    strstr(rv->bodies[i], needle)) {
				char *r = strdup(rv->bodies[i]);

				pthread_mutex_unlock(&rv->lock);
				return r;
			}
		pthread_mutex_unlock(&rv->lock);
		usleep(100 * 1000);
	}
	return NULL;
}
