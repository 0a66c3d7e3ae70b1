/* The HTTPS front end: libevent evhttp over OpenSSL bufferevents, cfg.workers event-loop
 * threads sharing one listening socket, each with its own database connection. */
#pragma once
#include "server/srv.h"

struct http_server;

/* Bind (port 0: any free port) and start the worker threads. */
int http_server_start(struct srv *s, struct http_server **ret);
int http_server_port(const struct http_server *h);
/* Block until SIGINT/SIGTERM or http_server_stop(). */
int http_server_wait(struct http_server *h);
void http_server_stop(struct http_server *h);
void http_server_free(struct http_server *h);
