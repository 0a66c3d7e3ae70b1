/* The uplink: HTTPS requests to wxguard-server without blocking the sd-event loop.
 *
 * libcurl's multi interface is driven by sd-event: CURLMOPT_SOCKETFUNCTION adds, changes and
 * removes sd-event I/O sources for curl's sockets; CURLMOPT_TIMERFUNCTION arms one sd-event
 * timer. Completion calls the request's callback from the loop (never from inside curl).
 *
 * TLS: the server's CA is pinned (CURLOPT_CAINFO = [server] ca, the system store is NOT used
 * when a CA is configured), optionally its public key too (CURLOPT_PINNEDPUBLICKEY); no
 * redirects; plain http:// is accepted only for loopback addresses (tests). Proxies: [server]
 * proxy, else libcurl honours https_proxy / no_proxy from the environment.
 *
 * Privilege separation (docs/attestation.md "Privilege separation"): by default, when the agent
 * runs as root, uplink_new() starts a child process (fork + exec of the agent's own binary, so
 * the child's memory holds no copy of the device key or the agent's state) that switches to an
 * unprivileged user, drops every capability, sets no_new_privs and speaks HTTPS. Parent and
 * child exchange typed, length-checked messages over a SOCK_SEQPACKET socketpair
 * (agent/uplink/uplink_msg.h): request {id, method, path, headers, body, reply kind} -> response
 * {id, err, status, error, body or typed reply fields}; the server's JSON replies are parsed in the
 * child, the parent gets typed fields (uplink_request_typed). The parent's side is an sd-event I/O
 * source; a child that dies or sends a malformed message is killed and restarted with backoff, and
 * its requests fail with UPLINK_ECHILD / -EBADMSG. The callers (attest, enroll, policy_fetch) see
 * the same API in both modes. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct uplink;

enum uplink_isolation {
	UPLINK_ISOLATION_AUTO = 0, /* root: UPLINK_ISOLATION_CHILD; otherwise: _NONE */
	UPLINK_ISOLATION_NONE,     /* libcurl in the caller's process (tests, unprivileged runs) */
	UPLINK_ISOLATION_CHILD,    /* a child process; started as root it switches to the user
				    * below and drops all capabilities; otherwise it only sets
				    * no_new_privs and non-dumpable (no uid to switch to) */
};

struct uplink_opts {
	const char *base_url;   /* "https://server[:port]" without trailing slash */
	const char *ca;         /* PEM file; NULL: the system store */
	const char *pin_sha256; /* "sha256//..." or NULL */
	const char *proxy;      /* NULL: libcurl's environment handling */
	unsigned timeout_s;     /* whole request; 0: 30 */
	enum uplink_isolation isolation;
	const char *user; /* the child's user; NULL: "wxguard", else "_wxguard", else
			   * "nobody", else uid/gid 65534 */
};

/* What the uplink runs as, for `wxguard status` and tests. */
struct uplink_info {
	enum uplink_isolation isolation; /* _NONE or _CHILD (never _AUTO) */
	int child_pid;                   /* 0 when no child runs (restarting, or in process) */
	bool child_ready;                /* the child has dropped privileges and serves requests */
	unsigned child_starts;           /* children started so far */
	const char *last_error;          /* why the last child went away, "" if none */
};

/* What the reply body of a request is expected to be (docs/protocol.md). For every kind but
 * _RAW the body is parsed and validated where the HTTPS is spoken (the uplink child, or the
 * engine in process) and the callback gets typed, length-checked fields (struct uplink_reply)
 * instead of the body: the privileged agent never runs a JSON parser on the server's bytes. */
enum uplink_reply_kind {
	UPLINK_REPLY_RAW = 0,       /* the body as received (tests, diagnostics) */
	UPLINK_REPLY_REPORT = 1,    /* POST /api/v1/report */
	UPLINK_REPLY_EVENTS = 2,    /* POST /api/v1/events */
	UPLINK_REPLY_CHALLENGE = 3, /* POST /api/v1/enroll/challenge */
	UPLINK_REPLY_ENROLL = 4,    /* POST /api/v1/enroll */
	UPLINK_REPLY_POLICY =
		5, /* GET /api/v1/policy (text and signature: verified by the caller) */
};
#define UPLINK_REPLY_KIND_MAX 5

#define UPLINK_REPLY_MAX_ERROR 64      /* error code: [a-z0-9_] */
#define UPLINK_REPLY_MAX_MESSAGE 512   /* server's message: printable (controls become spaces) */
#define UPLINK_REPLY_MAX_ID 128        /* device_id: [A-Za-z0-9._:-] */
#define UPLINK_REPLY_MAX_CHALLENGE 512 /* printable ASCII, no spaces */
#define UPLINK_REPLY_MAX_NAME 256      /* policy name/version: printable */
#define UPLINK_REPLY_NONCE_MIN 8       /* nonce: strict base64 of 8..64 bytes */
#define UPLINK_REPLY_NONCE_MAX 64
#define UPLINK_REPLY_MAX_INTERVAL (7u * 86400 - 1)

/* Typed fields of a reply. Strings are NUL-terminated and never NULL ("" = absent). Fields that
 * do not belong to the reply's kind are empty / 0. */
struct uplink_reply {
	uint32_t kind;       /* enum uplink_reply_kind */
	bool valid;          /* a JSON object whose members checked out; for a 2xx status
			      * also every member the kind requires. When false every field
			      * below is empty and invalid says why. */
	const char *invalid; /* "" when valid */
	/* any reply, usually refusals (4xx) */
	const char *error;   /* error code, [a-z0-9_]{1,64} */
	const char *message; /* printable, <= UPLINK_REPLY_MAX_MESSAGE bytes */
	const char *nonce;   /* strict base64 of 8..64 bytes */
	int64_t last_seq;    /* replay refusals: >= 0; -1 absent */
	bool duplicate;      /* replay refusals */
	int64_t server_time; /* clock_skew refusals; 0 absent */
	/* report (2xx: nonce required) */
	const char *status;        /* "accepted", or a [a-z_] word; "" absent */
	const char *policy_sha256; /* 64 lowercase hex; "" absent or null */
	uint32_t report_interval;  /* report and enroll: 1..UPLINK_REPLY_MAX_INTERVAL; 0 absent */
	bool chain_gap;
	/* events */
	uint32_t accepted, duplicates;
	/* challenge (2xx: challenge required) */
	const char *challenge;
	int64_t expires; /* >= 0; 0 absent */
	/* enroll (2xx: device_id and server_public_key required) */
	const char *device_id;
	const char *server_public_key; /* strict base64 of 32 bytes */
	bool approved;
	/* policy (2xx: sha256, text and signature required) */
	const char *name, *version;
	const char *sha256; /* 64 lowercase hex */
	const char *text;   /* no NUL, <= 8 MiB; NOT verified: the caller checks signature */
	size_t text_len;
	const char *signature; /* strict base64 of 64 bytes */
};

struct uplink_response {
	int err;          /* 0, or -errno for transport failure (no HTTP status) */
	long status;      /* HTTP status when err == 0 */
	const char *body; /* NUL-terminated, may be ""; always "" for typed requests */
	size_t len;
	const char *error;                /* human-readable transport error ("" when none) */
	const struct uplink_reply *reply; /* typed requests with err == 0, else NULL */
};

/* Called once per request from the event loop. The callback may start new requests; it must
 * not free the uplink. */
typedef void (*uplink_done_fn)(void *userdata, const struct uplink_response *resp);

/* Transport error codes. */
#define UPLINK_ETLS (-EKEYREJECTED)   /* certificate or pin did not verify */
#define UPLINK_ECHILD (-ECONNABORTED) /* the uplink child died with the request in flight */
/* -EBADMSG: the uplink child sent a malformed message (it was killed and is restarted). */

int uplink_new(sd_event *e, const struct uplink_opts *o, struct uplink **ret);
/* Cancels requests in flight; their callbacks are not called. */
void uplink_free(struct uplink *u);
/* Start a request. path starts with "/". headers: NULL-terminated "Name: value" list or NULL.
 * body (copied) may be NULL for GET; a body is sent as application/json. */
int uplink_request(struct uplink *u, const char *method, const char *path,
		   const char *const *headers, const char *body, size_t len, uplink_done_fn cb,
		   void *userdata);
/* The same, with the reply parsed and validated as kind (see enum uplink_reply_kind). */
int uplink_request_typed(struct uplink *u, enum uplink_reply_kind kind, const char *method,
			 const char *path, const char *const *headers, const char *body, size_t len,
			 uplink_done_fn cb, void *userdata);
unsigned uplink_in_flight(const struct uplink *u);
void uplink_get_info(const struct uplink *u, struct uplink_info *ret);
/* Cancel every request started with this userdata; their callbacks are not called. */
void uplink_cancel(struct uplink *u, void *userdata);
