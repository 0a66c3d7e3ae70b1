/* A minimal HTTP/1.1 (optionally TLS) responder on 127.0.0.1, for tests of the uplink, the
 * enrollment and the attestation loop. Not used by the agent itself. One request per connection
 * (Connection: close); a thread accepts and calls the handler with the server's lock held. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct uplink_loopback;

struct uplink_loopback_req {
	const char *method;
	const char *path;
	const char *headers; /* raw header block, "Name: value\r\n"... */
	const char *body;    /* NUL-terminated */
	size_t len;
};

/* Fill *status and *body (malloc'd, may stay NULL for an empty body). Return false to drop the
 * connection without answering (a crash-like failure). */
typedef bool (*uplink_loopback_fn)(void *userdata, const struct uplink_loopback_req *req,
				   int *status, char **body);

/* cert and key: PEM files for TLS, or NULL for plain HTTP. port 0: any free port. */
int uplink_loopback_start(unsigned port, const char *cert, const char *key, uplink_loopback_fn fn,
			  void *userdata, struct uplink_loopback **ret);
/* "http(s)://127.0.0.1:<port>" */
const char *uplink_loopback_url(const struct uplink_loopback *s);
unsigned uplink_loopback_port(const struct uplink_loopback *s);
/* Take the lock the handler runs under (to read the handler's state safely). */
void uplink_loopback_lock(struct uplink_loopback *s);
void uplink_loopback_unlock(struct uplink_loopback *s);
void uplink_loopback_stop(struct uplink_loopback *s);
