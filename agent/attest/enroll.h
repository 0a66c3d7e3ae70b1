/* Enrollment (docs/protocol.md "Enrollment"): proof of possession of the device key.
 *   1. POST /api/v1/enroll/challenge                        -> {"challenge", "expires"}
 *   2. POST /api/v1/enroll {"enroll": {token, challenge, public_key, facts}, "signature"}
 *                                                            -> {"device_id", "nonce",
 *                                                                "server_public_key",
 * "report_interval", "approved"} Asynchronous, on the uplink's event loop; on success the
 * identity's enrollment is saved. The replies arrive as typed fields (UPLINK_REPLY_CHALLENGE,
 * UPLINK_REPLY_ENROLL): the JSON is parsed and checked in the uplink child. */
#pragma once
#include <stdbool.h>

#include "agent/attest/identity.h"
#include "agent/host/sysroot.h"
#include "agent/uplink/uplink.h"

struct enroll;

struct enroll_result {
	int r;               /* 0, -errno transport, -EACCES refused, -EBADMSG bad reply */
	const char *error;   /* server's error code or transport text ("" on success) */
	const char *message; /* server's message, "" if none */
	const char *device_id;
	const char *nonce;
	unsigned report_interval; /* 0 when absent */
	bool approved;
};

typedef void (*enroll_done_fn)(void *userdata, const struct enroll_result *res);

/* Start enrolling id with token; server_url and server_ca are recorded in the enrollment.
 * cb is called once from the loop (not from inside enroll_start). */
int enroll_start(struct uplink *u, struct identity *id, const struct sysroot *root,
		 const char *token, const char *server_url, const char *server_ca,
		 enroll_done_fn cb, void *userdata, struct enroll **ret);
/* Cancel (the callback is not called afterwards). */
void enroll_free(struct enroll *en);
