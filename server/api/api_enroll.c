/* Enrollment: a stateless challenge (HMAC of expiry and a random part), then the device's
 * signed enroll request with a token. */
#include "server/api/api_call.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/sign.h"

static const char zero_hash[] = "0000000000000000000000000000000000000000000000000000000000000000";

static void challenge_mac(struct srv *s, const char *msg, char hex[65])
{
	unsigned char mac[32];
	unsigned len = sizeof(mac);

	HMAC(EVP_sha256(), s->enroll_secret, sizeof(s->enroll_secret), (const unsigned char *)msg,
	     strlen(msg), mac, &len);
	hash_to_hex(mac, 32, hex);
}

int api_challenge_make(struct srv *s, long long now, char *out, size_t outlen)
{
	char rnd[33], msg[96], mac[65];

	srv_random_hex(rnd, 16);
	snprintf(msg, sizeof(msg), "wxguard-enroll-v1:%lld.%s", now + s->cfg.challenge_ttl, rnd);
	challenge_mac(s, msg, mac);
	if ((size_t)snprintf(out, outlen, "%lld.%s.%s", now + s->cfg.challenge_ttl, rnd, mac) >=
	    outlen)
		return -ENOBUFS;
	return 0;
}

int api_challenge_check(struct srv *s, const char *challenge, long long now)
{
	char msg[96], mac[65], rnd[33];
	const char *dot1, *dot2;
	long long exp;
	char *end;

	if (!challenge || strlen(challenge) > 120)
		return -EINVAL;
	dot1 = strchr(challenge, '.');
	dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
	if (!dot2 || dot2 - dot1 - 1 != 32 || strlen(dot2 + 1) != 64)
		return -EINVAL;
	exp = strtoll(challenge, &end, 10);
	if (end != dot1)
		return -EINVAL;
	memcpy(rnd, dot1 + 1, 32);
	rnd[32] = 0;
	snprintf(msg, sizeof(msg), "wxguard-enroll-v1:%lld.%s", exp, rnd);
	challenge_mac(s, msg, mac);
	if (CRYPTO_memcmp(mac, dot2 + 1, 64) != 0)
		return -EINVAL;
	if (exp < now)
		return -ETIMEDOUT;
	return 0;
}

/* The report interval a new device is told: the current policy's, else the configured one. */
static long long current_interval(struct srv *s, struct store *st)
{
	json_t *p, *v;
	long long iv = s->cfg.report_interval;

	if (store_policy_current(st, &p) == 0) {
		v = json_object_get(p, "report_interval");
		if (json_is_integer(v) && json_integer_value(v) > 0)
			iv = json_integer_value(v);
		json_decref(p);
	}
	return iv;
}

int api_enroll_challenge(struct api_call *c)
{
	char ch[160];

	if (api_challenge_make(c->s, c->now, ch, sizeof(ch)) < 0)
		return api_reply_error(c->rs, SRV_UNAVAILABLE, "cannot make a challenge", NULL);
	return api_reply_json(c->rs, 200,
			      json_pack("{s:s, s:I}", "challenge", ch, "expires",
					(json_int_t)(c->now + c->s->cfg.challenge_ttl)));
}

int api_enroll(struct api_call *c)
{
	const struct api_endpoint ep = {
		.member = "enroll",
		.what = "enroll",
		.refused = c->s->m.enrolls_refused,
	};
	struct store_device d = { 0 };
	struct api_signed sr;
	json_t *en, *facts;
	const char *token, *pub, *challenge, *host;
	char *facts_txt = NULL, tok_sha[65], token_id[17];
	bool hold;
	int r = 0;

	if (!api_signed_open(c, &ep, &sr))
		goto out;
	en = sr.obj;
	token = api_json_str(en, "token", 256);
	pub = api_json_str(en, "public_key", 64);
	challenge = api_json_str(en, "challenge", 200);
	facts = json_object_get(en, "facts");
	if (!token || !pub || !challenge || (facts && !json_is_object(facts))) {
		r = api_refuse(c, &ep, SRV_MALFORMED,
			       "enroll needs token, challenge, public_key and facts", NULL, NULL);
		goto out;
	}
	r = sign_verify_b64(pub, sr.canon, sr.canon_len, sr.sig);
	if (r == -EINVAL) {
		r = api_refuse(c, &ep, SRV_MALFORMED, "public_key is not a base64 Ed25519 key",
			       NULL, NULL);
		goto out;
	}
	if (r < 0) {
		r = api_refuse(c, &ep, SRV_BAD_SIGNATURE,
			       "signature does not verify with public_key", NULL, NULL);
		goto out;
	}
	r = api_challenge_check(c->s, challenge, c->now);
	if (r < 0) {
		r = api_refuse(c, &ep, SRV_BAD_CHALLENGE,
			       r == -ETIMEDOUT ? "challenge expired: ask for a new one"
					       : "challenge is not one this server made",
			       NULL, NULL);
		goto out;
	}
	hash_sha256_buf(token, strlen(token), tok_sha);
	host = facts ? api_json_str(facts, "hostname", 255) : NULL;
	facts_txt = facts ? json_dumps(facts, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	srv_uuid(d.id);
	snprintf(d.public_key, sizeof(d.public_key), "%s", pub);
	snprintf(d.hostname, sizeof(d.hostname), "%s", host ? host : "");
	d.last_seq = -1;
	snprintf(d.last_hash, sizeof(d.last_hash), "%s", zero_hash);
	srv_random_b64(16, d.nonce, sizeof(d.nonce));
	d.report_interval = current_interval(c->s, c->st);

	r = store_begin(c->st);
	if (r < 0) {
		r = api_reply_db(c, r, "enroll");
		goto out;
	}
	r = store_token_consume(c->st, tok_sha, c->now, token_id, &hold);
	if (r == -EACCES) {
		store_rollback(c->st);
		r = api_refuse(c, &ep, SRV_BAD_TOKEN,
			       "enrollment token unknown, revoked, expired or used up", NULL, NULL);
		goto out;
	}
	if (r == 0) {
		snprintf(d.status, sizeof(d.status), "%s", hold ? "pending" : "approved");
		r = store_device_create(c->st, &d, token_id, facts_txt, c->now);
	}
	if (r == -EEXIST) {
		store_rollback(c->st);
		r = api_refuse(c, &ep, SRV_CONFLICT, "this public key is already enrolled", NULL,
			       NULL);
		goto out;
	}
	if (r == 0)
		r = store_commit(c->st);
	if (r < 0) {
		store_rollback(c->st);
		r = api_reply_db(c, r, "enroll");
		goto out;
	}
	srv_db_ok(c->s);
	atomic_fetch_add(&c->s->m.enrolls_accepted, 1);
	r = api_reply_json(c->rs, 200,
			   json_pack("{s:s, s:s, s:s, s:I, s:b}", "device_id", d.id, "nonce",
				     d.nonce, "server_public_key", c->s->public_key_b64,
				     "report_interval", (json_int_t)d.report_interval, "approved",
				     !hold));
out:
	free(facts_txt);
	api_signed_close(&sr);
	return r;
}
