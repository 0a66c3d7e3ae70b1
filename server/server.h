/* The serve loop: the HTTPS front end (http.c: worker threads, each with its own database
 * connection) and the alert worker (alerts.c), until SIGINT or SIGTERM. */
#pragma once
#include "server/srv.h"

/* Prints "listening port N" on stdout and tells systemd READY=1 once it listens. 0 after a
 * clean stop, -errno when it could not start (logged). */
int server_serve(struct srv *s);
