/* wxguard-server's shared context: configuration (srv_config.c), keys, counters, the database
 * outage state (srv.c). A struct srv is read-only after srv_init() except for the atomic
 * counters, so worker threads share it; each thread has its own struct store (database
 * connection). Below everything else in server/: it calls nothing there but the store. */
#pragma once
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/sign.h"

struct store;

struct srv_config {
	char *listen;           /* [server] listen = 127.0.0.1 (an IPv4 or IPv6 address) */
	int port;               /* [server] port = 8443 */
	int workers;            /* [server] workers = 4 (event-loop threads) */
	long long max_body;     /* [server] max_body = 1048576 bytes */
	char *state_dir;        /* [server] state_dir = /var/lib/wxguard-server */
	char *server_key;       /* [server] server_key = <state_dir>/server-key.pem (Ed25519) */
	char *admin_token_file; /* [server] admin_token_file = <state_dir>/admin.token */
	bool metrics_public;    /* [server] metrics_public = true (else needs the admin token) */
	char *database; /* [database] url = sqlite:<state_dir>/wxguard.db | postgresql://... */
	char *tls_cert, *tls_key;  /* [tls] cert, key: generated under state_dir/tls when unset */
	char *tls_ca;              /* [tls] ca: the CA agents pin (generated with the cert) */
	long long report_interval; /* [reports] interval = 300 (unless the policy says otherwise) */
	long long max_skew;        /* [reports] max_skew = 300 seconds */
	long long stale_grace;     /* [reports] stale_grace = 300 seconds */
	long long challenge_ttl;   /* [reports] challenge_ttl = 300 seconds */
	char *wecom_url;           /* [alerts] wecom_webhook =
				      https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=... */
	char *webhook_url;         /* [alerts] json_webhook = https://... */
	bool syslog;               /* [alerts] syslog = false */
	long long rate_limit;      /* [alerts] rate_limit = 5 alerts per device and rule ... */
	long long rate_window;     /* [alerts] rate_window = 3600 seconds */
	long long retry_max;       /* [alerts] retry_max = 8 attempts */
	long long retry_base; /* [alerts] retry_base = 2 seconds (doubles per attempt, max 600) */
	long long sweep_ms;   /* [alerts] sweep_ms = 1000 (delivery and stale sweep period) */
	bool tls_insecure_webhooks; /* [alerts] insecure_tls = false (tests: self-signed receivers)
				     */
};

enum srv_reason {
	SRV_OK = 0,
	SRV_MALFORMED,
	SRV_TOO_LARGE,
	SRV_BAD_SIGNATURE,
	SRV_UNKNOWN_DEVICE,
	SRV_REVOKED,
	SRV_NOT_APPROVED,
	SRV_REPLAY,
	SRV_BAD_NONCE,
	SRV_CLOCK_SKEW,
	SRV_BAD_TOKEN,
	SRV_BAD_CHALLENGE,
	SRV_CONFLICT,
	SRV_UNAUTHORIZED,
	SRV_NOT_FOUND,
	SRV_METHOD,
	SRV_UNAVAILABLE,
	_SRV_REASON_MAX,
};
const char *srv_reason_code(enum srv_reason r); /* "bad_signature", ... (the wire codes) */
int srv_reason_status(enum srv_reason r);       /* HTTP status */

enum srv_sink {
	SINK_WECOM = 0,
	SINK_WEBHOOK = 1,
	SINK_SYSLOG = 2,
	_SINK_MAX
};
const char *srv_sink_name(enum srv_sink s);

struct srv_metrics {
	atomic_ullong reports_accepted;
	atomic_ullong reports_refused[_SRV_REASON_MAX];
	atomic_ullong chain_gaps;
	atomic_ullong enrolls_accepted;
	atomic_ullong enrolls_refused[_SRV_REASON_MAX];
	atomic_ullong events_accepted, events_duplicate;
	atomic_ullong events_refused[_SRV_REASON_MAX];
	atomic_ullong http_requests, http_errors;
	atomic_ullong
		http_too_large; /* every 413 sent, including evhttp's own (bodies > 4 x max_body) */
	atomic_ullong alerts_raised, alerts_suppressed;
	atomic_ullong deliveries[_SINK_MAX], delivery_failures[_SINK_MAX];
	atomic_ullong db_errors;
};

struct srv {
	struct srv_config cfg;
	struct sign_key *key;
	char *public_key_b64;
	char admin_sha256[65];
	unsigned char enroll_secret[32];
	struct srv_metrics m;
	atomic_int db_down; /* logged once per outage */
};

/* srv_config.c: defaults, then the INI file (path may be NULL: defaults only). -errno, or a
 * positive line. */
int srv_config_load(struct srv_config *c, const char *path);
void srv_config_free(struct srv_config *c);
/* Load (or create) the server key and admin token, and the enrollment secret from st. */
int srv_init(struct srv *s, struct store *st);
void srv_done(struct srv *s);
/* Open a database connection for one thread. */
int srv_store_open(struct srv *s, struct store **ret);
/* Record a database error: logged once until srv_db_ok() sees it recover. */
void srv_db_error(struct srv *s, struct store *st, int r, const char *what);
void srv_db_ok(struct srv *s);

/* Durations: "90", "45s", "30m", "12h", "7d". -EINVAL otherwise. */
int srv_parse_duration(const char *s, long long *ret);
/* A random UUID v4 / random hex / random base64 (n bytes). */
void srv_uuid(char out[37]);
void srv_random_hex(char *out, size_t nbytes);
int srv_random_b64(size_t nbytes, char *out, size_t outlen);
