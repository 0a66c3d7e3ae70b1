/* A loopback HTTP receiver for the server's alert sinks in e2e tests: it accepts POSTs on
 * 127.0.0.1 (an ephemeral port), keeps each body and path, and answers as the WeCom group robot
 * does (200 {"errcode":0}). Point [alerts] wecom_webhook at
 * http://127.0.0.1:PORT/cgi-bin/webhook/send?key=... and json_webhook at .../hook. */
#pragma once
#include <pthread.h>
#include <stdbool.h>

struct webhook_receiver {
	int fd, port;
	pthread_t thread;
	pthread_mutex_t lock;
	char *bodies[256];
	char *paths[256];
	int n;
	int fail_first_json; /* answer the first POST to /hook with 500 (tests retries) */
};

/* Listen and serve in a thread; a failure fails the test. */
void webhook_receiver_start(struct webhook_receiver *rv);
/* Stop listening (the thread ends at its next accept) and free what was received. */
void webhook_receiver_stop(struct webhook_receiver *rv);
/* Wait up to seconds for a body containing needle whose path starts with prefix: a copy
 * (free it), or NULL. */
char *webhook_receiver_wait(struct webhook_receiver *rv, const char *prefix, const char *needle,
			    int seconds);
/* How many bodies so far contain needle under prefix. */
int webhook_receiver_count(struct webhook_receiver *rv, const char *prefix, const char *needle);
