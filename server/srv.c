/* The server context: wire codes of refusals, keys and the admin token, the database outage
 * state, random identifiers. */
#include "server/srv.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		log_error_errno(r,
				"database error during %s: %s (further errors are counted in "
				"wxguard_db_errors_total until it recovers)",
				what, st ? store_errmsg(st) : "");
}

void srv_db_ok(struct srv *s)
{
	if (atomic_load_explicit(&s->db_down, memory_order_relaxed) &&
	    atomic_exchange(&s->db_down, 0))
		log_notice("database recovered");
}

void srv_random_hex(char *out, size_t nbytes)
{
	unsigned char b[64];

	if (nbytes > sizeof(b))
		nbytes = sizeof(b);
	if (RAND_bytes(b, (int)nbytes) != 1)
		abort(); /* no randomness: nothing safe to do */
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
