/* Configuration, server context, small helpers, /metrics. */
#include "server/server.h"

#include <errno.h>
#include <ini.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "common/b64.h"
#include "common/fileio.h"
#include "common/hash.h"
#include "common/log.h"
#include "common/random.h"
#include "server/store/store.h"

static const char *const reason_codes[_SRV_REASON_MAX] = {
	[SRV_OK] = "ok",
	[SRV_MALFORMED] = "malformed",
	[SRV_TOO_LARGE] = "too_large",
	[SRV_BAD_SIGNATURE] = "bad_signature",
	[SRV_UNKNOWN_DEVICE] = "unknown_device",
	[SRV_REVOKED] = "revoked",
	[SRV_NOT_APPROVED] = "not_approved",
	[SRV_REPLAY] = "replay",
	[SRV_BAD_NONCE] = "bad_nonce",
	[SRV_CLOCK_SKEW] = "clock_skew",
	[SRV_BAD_TOKEN] = "bad_token",
	[SRV_BAD_CHALLENGE] = "bad_challenge",
	[SRV_CONFLICT] = "conflict",
	[SRV_UNAUTHORIZED] = "unauthorized",
	[SRV_NOT_FOUND] = "not_found",
	[SRV_METHOD] = "method_not_allowed",
	[SRV_UNAVAILABLE] = "unavailable",
};

static const int reason_status[_SRV_REASON_MAX] = {
	[SRV_OK] = 200,
	[SRV_MALFORMED] = 400,
	[SRV_TOO_LARGE] = 413,
	[SRV_BAD_SIGNATURE] = 401,
	[SRV_UNKNOWN_DEVICE] = 404,
	[SRV_REVOKED] = 403,
	[SRV_NOT_APPROVED] = 403,
	[SRV_REPLAY] = 409,
	[SRV_BAD_NONCE] = 409,
	[SRV_CLOCK_SKEW] = 400,
	[SRV_BAD_TOKEN] = 403,
	[SRV_BAD_CHALLENGE] = 400,
	[SRV_CONFLICT] = 409,
	[SRV_UNAUTHORIZED] = 401,
	[SRV_NOT_FOUND] = 404,
	[SRV_METHOD] = 405,
	[SRV_UNAVAILABLE] = 503,
};

const char *srv_reason_code(enum srv_reason r)
{
	return (unsigned)r < _SRV_REASON_MAX ? reason_codes[r] : "error";
}

int srv_reason_status(enum srv_reason r)
{
	return (unsigned)r < _SRV_REASON_MAX ? reason_status[r] : 500;
}

const char *srv_sink_name(enum srv_sink s)
{
	static const char *const names[_SINK_MAX] = { "wecom", "webhook", "syslog" };

	return (unsigned)s < _SINK_MAX ? names[s] : "unknown";
}

/* ---- configuration ---- */

static int set_str(char **dst, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static bool parse_bool(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
	       strcasecmp(v, "on") == 0;
}

int srv_parse_duration(const char *s, long long *ret)
{
	char *end;
	long long v, mul = 1;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (*end) {
		if (end[1])
			return -EINVAL;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		default: return -EINVAL;
		}
	}
	if (v > (long long)1e12 / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct srv_config *c = user;
	long long d;

#define IS(sec, key) (strcmp(section, sec) == 0 && strcmp(name, key) == 0)
#define DUR(field) (srv_parse_duration(value, &d) == 0 ? (c->field = d, 1) : 0)
	if (IS("server", "listen"))
		return set_str(&c->listen, value) == 0;
	if (IS("server", "port"))
		return (c->port = atoi(value)) >= 0 && c->port < 65536;
	if (IS("server", "workers"))
		return (c->workers = atoi(value)) > 0 && c->workers <= 64;
	if (IS("server", "max_body"))
		return (c->max_body = atoll(value)) >= 1024;
	if (IS("server", "state_dir"))
		return set_str(&c->state_dir, value) == 0;
	if (IS("server", "server_key"))
		return set_str(&c->server_key, value) == 0;
	if (IS("server", "admin_token_file"))
		return set_str(&c->admin_token_file, value) == 0;
	if (IS("server", "metrics_public"))
		return c->metrics_public = parse_bool(value), 1;
	if (IS("database", "url"))
		return set_str(&c->database, value) == 0;
	if (IS("tls", "cert"))
		return set_str(&c->tls_cert, value) == 0;
	if (IS("tls", "key"))
		return set_str(&c->tls_key, value) == 0;
	if (IS("tls", "ca"))
		return set_str(&c->tls_ca, value) == 0;
	if (IS("reports", "interval"))
		return DUR(report_interval);
	if (IS("reports", "max_skew"))
		return DUR(max_skew);
	if (IS("reports", "stale_grace"))
		return DUR(stale_grace);
	if (IS("reports", "challenge_ttl"))
		return DUR(challenge_ttl);
	if (IS("alerts", "wecom_webhook"))
		return set_str(&c->wecom_url, value) == 0;
	if (IS("alerts", "json_webhook"))
		return set_str(&c->webhook_url, value) == 0;
	if (IS("alerts", "syslog"))
		return c->syslog = parse_bool(value), 1;
	if (IS("alerts", "rate_limit"))
		return (c->rate_limit = atoll(value)) >= 0;
	if (IS("alerts", "rate_window"))
		return DUR(rate_window);
	if (IS("alerts", "retry_max"))
		return (c->retry_max = atoll(value)) >= 1;
	if (IS("alerts", "retry_base"))
		return DUR(retry_base);
	if (IS("alerts", "sweep_ms"))
		return (c->sweep_ms = atoll(value)) >= 10;
	if (IS("alerts", "insecure_tls"))
		return c->tls_insecure_webhooks = parse_bool(value), 1;
#undef IS
#undef DUR
	return 0;   /* unknown key: an error, so typos do not pass silently */
}

static int default_path(char **dst, const char *dir, const char *name)
{
	if (*dst)
		return 0;
	if (asprintf(dst, "%s/%s", dir, name) < 0) {
		*dst = NULL;
		return -ENOMEM;
	}
	return 0;
}

int srv_config_load(struct srv_config *c, const char *path)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->port = 8443;
	c->workers = 4;
	c->max_body = 1024 * 1024;
	c->metrics_public = true;
	c->report_interval = 300;
	c->max_skew = 300;
	c->stale_grace = 300;
	c->challenge_ttl = 300;
	c->rate_limit = 5;
	c->rate_window = 3600;
	c->retry_max = 8;
	c->retry_base = 2;
	c->sweep_ms = 1000;
	if (path) {
		r = ini_parse(path, config_handler, c);
		if (r != 0) {
			r = r < 0 ? (errno ? -errno : -ENOENT) : r;
			goto fail;
		}
	}
	r = -ENOMEM;
	if (!c->listen && set_str(&c->listen, "127.0.0.1") < 0)
		goto fail;
	if (!c->state_dir && set_str(&c->state_dir, "/var/lib/wxguard-server") < 0)
		goto fail;
	if (default_path(&c->server_key, c->state_dir, "server-key.pem") < 0 ||
	    default_path(&c->admin_token_file, c->state_dir, "admin.token") < 0)
		goto fail;
	if (!c->database) {
		if (asprintf(&c->database, "sqlite:%s/wxguard.db", c->state_dir) < 0) {
			c->database = NULL;
			goto fail;
		}
	}
	return 0;
fail:
	srv_config_free(c);
	return r;
}

void srv_config_free(struct srv_config *c)
{
	free(c->listen);
	free(c->state_dir);
	free(c->server_key);
	free(c->admin_token_file);
	free(c->database);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca);
	free(c->wecom_url);
	free(c->webhook_url);
	memset(c, 0, sizeof(*c));
}

/* ---- context ---- */

int srv_store_open(struct srv *s, struct store **ret)
{
	char err[512];
	int r;

	r = store_open(s->cfg.database, ret, err, sizeof(err));
	if (r < 0)
		log_debug("database %s: %s", s->cfg.database, err);
	return r;
}

int srv_init(struct srv *s, struct store *st)
{
	char *tok = NULL;
	size_t len;
	int r;

	r = mkdir_p(s->cfg.state_dir, 0700);
	if (r < 0)
		return r;
	r = sign_key_load_or_create(s->cfg.server_key, &s->key);
	if (r < 0)
		return r;
	r = sign_key_public_b64(s->key, &s->public_key_b64);
	if (r < 0)
		return r;
	r = read_full_file(s->cfg.admin_token_file, 4096, &tok, &len);
	if (r == -ENOENT) {
		char hex[65];

		srv_random_hex(hex, 32);
		if (asprintf(&tok, "wxa_%s\n", hex) < 0)
			return -ENOMEM;
		r = write_file_atomic(s->cfg.admin_token_file, tok, strlen(tok), 0600);
	}
	if (r < 0) {
		free(tok);
		return r;
	}
	tok[strcspn(tok, "\r\n")] = 0;
	if (strlen(tok) < 16) {
		free(tok);
		return -EBADMSG;
	}
	hash_sha256_buf(tok, strlen(tok), s->admin_sha256);
	explicit_bzero(tok, strlen(tok));
	free(tok);
	return store_get_secret(st, "enroll_hmac", s->enroll_secret);
}

void srv_done(struct srv *s)
{
	sign_key_free(s->key);
	free(s->public_key_b64);
	srv_config_free(&s->cfg);
	OPENSSL_cleanse(s->enroll_secret, sizeof(s->enroll_secret));
}

void srv_db_error(struct srv *s, struct store *st, int r, const char *what)
{
	atomic_fetch_add(&s->m.db_errors, 1);
	if (atomic_exchange(&s->db_down, 1) == 0)
		log_error_errno(r, "database error during %s: %s (further errors are counted in "
			       "wxguard_db_errors_total until it recovers)", what, st ? store_errmsg(st) : "");
}

void srv_db_ok(struct srv *s)
{
	if (atomic_load_explicit(&s->db_down, memory_order_relaxed) && atomic_exchange(&s->db_down, 0))
		log_notice("database recovered");
}

void srv_random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1)
		abort();   /* no randomness: nothing safe to do */
	hash_to_hex(b, nbytes, out);
}

void srv_uuid(char out[37])
{
	if (random_uuid(out) < 0)
		abort();
}

int srv_random_b64(size_t nbytes, char *out, size_t outlen)
{
	unsigned char b[64];

	if (nbytes > sizeof(b) || outlen < B64_ENCODED_LEN(nbytes) + 1)
		return -EINVAL;
	if (RAND_bytes(b, (int)nbytes) != 1)
		return -EIO;
	b64_encode_buf(b, nbytes, out);
	return 0;
}

/* ---- metrics ---- */

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void __attribute__((format(printf, 2, 3))) bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = (b->cap + (size_t)n + 1) * 2;
		char *np = realloc(b->p, ncap);

		if (!np) {
			b->oom = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
}

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static void by_reason(struct buf *b, const char *name, const char *help, atomic_ullong *arr)
{
	bprintf(b, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (int i = 1; i < _SRV_REASON_MAX; i++)
		bprintf(b, "%s{reason=\"%s\"} %llu\n", name, srv_reason_code(i), LOAD(arr[i]));
}

int srv_metrics_render(struct srv *s, struct store *st, long long now, char **ret)
{
	struct buf b = { .p = malloc(4096), .cap = 4096 };
	json_t *states = NULL, *v;
	const char *k;
	int r;

	if (!b.p)
		return -ENOMEM;
	b.p[0] = 0;
	bprintf(&b, "# HELP wxguard_reports_accepted_total Attestation reports verified and stored.\n"
		    "# TYPE wxguard_reports_accepted_total counter\nwxguard_reports_accepted_total %llu\n",
		LOAD(s->m.reports_accepted));
	by_reason(&b, "wxguard_reports_refused_total", "Attestation reports refused, by reason.",
		  s->m.reports_refused);
	bprintf(&b, "# HELP wxguard_report_chain_gaps_total Reports accepted with a prev_hash gap (missing reports).\n"
		    "# TYPE wxguard_report_chain_gaps_total counter\nwxguard_report_chain_gaps_total %llu\n",
		LOAD(s->m.chain_gaps));
	bprintf(&b, "# HELP wxguard_enrollments_total Devices enrolled.\n"
		    "# TYPE wxguard_enrollments_total counter\nwxguard_enrollments_total %llu\n",
		LOAD(s->m.enrolls_accepted));
	by_reason(&b, "wxguard_enrollments_refused_total", "Enrollments refused, by reason.", s->m.enrolls_refused);
	bprintf(&b, "# HELP wxguard_events_total Watcher events received.\n# TYPE wxguard_events_total counter\n"
		    "wxguard_events_total{result=\"accepted\"} %llu\nwxguard_events_total{result=\"duplicate\"} %llu\n",
		LOAD(s->m.events_accepted), LOAD(s->m.events_duplicate));
	by_reason(&b, "wxguard_event_batches_refused_total", "Event batches refused, by reason.", s->m.events_refused);
	bprintf(&b, "# HELP wxguard_http_requests_total HTTP requests.\n# TYPE wxguard_http_requests_total counter\n"
		    "wxguard_http_requests_total %llu\n"
		    "# HELP wxguard_http_errors_total HTTP requests answered 4xx/5xx.\n"
		    "# TYPE wxguard_http_errors_total counter\nwxguard_http_errors_total %llu\n",
		LOAD(s->m.http_requests), LOAD(s->m.http_errors));
	bprintf(&b, "# HELP wxguard_http_too_large_total Requests refused with 413 (body over max_body), any path, "
		    "including bodies over 4 x max_body that libevent refuses before the path is known.\n"
		    "# TYPE wxguard_http_too_large_total counter\nwxguard_http_too_large_total %llu\n",
		LOAD(s->m.http_too_large));
	bprintf(&b, "# HELP wxguard_alerts_total Alerts raised (suppressed: over the rate limit, kept in history).\n"
		    "# TYPE wxguard_alerts_total counter\nwxguard_alerts_total{result=\"raised\"} %llu\n"
		    "wxguard_alerts_total{result=\"suppressed\"} %llu\n",
		LOAD(s->m.alerts_raised), LOAD(s->m.alerts_suppressed));
	bprintf(&b, "# HELP wxguard_alert_deliveries_total Alert deliveries that succeeded, by sink.\n"
		    "# TYPE wxguard_alert_deliveries_total counter\n");
	for (int i = 0; i < _SINK_MAX; i++)
		bprintf(&b, "wxguard_alert_deliveries_total{sink=\"%s\"} %llu\n", srv_sink_name(i), LOAD(s->m.deliveries[i]));
	bprintf(&b, "# HELP wxguard_alert_delivery_failures_total Failed alert delivery attempts, by sink.\n"
		    "# TYPE wxguard_alert_delivery_failures_total counter\n");
	for (int i = 0; i < _SINK_MAX; i++)
		bprintf(&b, "wxguard_alert_delivery_failures_total{sink=\"%s\"} %llu\n", srv_sink_name(i),
			LOAD(s->m.delivery_failures[i]));
	bprintf(&b, "# HELP wxguard_db_errors_total Database errors (requests answered 503).\n"
		    "# TYPE wxguard_db_errors_total counter\nwxguard_db_errors_total %llu\n", LOAD(s->m.db_errors));
	r = st ? store_device_states(st, now, s->cfg.stale_grace, &states) : -ENOENT;
	bprintf(&b, "# HELP wxguard_devices Devices by state (from the database).\n# TYPE wxguard_devices gauge\n");
	if (r == 0) {
		json_object_foreach(states, k, v)
			bprintf(&b, "wxguard_devices{state=\"%s\"} %lld\n", k, (long long)json_integer_value(v));
	}
	bprintf(&b, "# HELP wxguard_up 1 when the database answered this scrape.\n# TYPE wxguard_up gauge\nwxguard_up %d\n",
		r == 0);
	json_decref(states);
	if (b.oom) {
		free(b.p);
		return -ENOMEM;
	}
	*ret = b.p;
	return 0;
}
