/* Enrollment tokens: created here (the CLI too), listed and revoked by admins. The secret is
 * shown once; the database keeps its SHA-256. */
#include "server/api/api_call.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"

int api_token_create(struct srv *s, struct store *st, long long uses, long long ttl, bool hold,
		     long long now, json_t **ret)
{
	char id[17], secret[128], rnd[65], sha[65];
	int r;

	if (uses < 1 || ttl < 1)
		return -EINVAL;
	srv_random_hex(id, 8);
	srv_random_hex(rnd, 24);
	snprintf(secret, sizeof(secret), "wxe_%s_%s", id, rnd);
	hash_sha256_buf(secret, strlen(secret), sha);
	r = store_token_create(st, id, sha, uses, now + ttl, hold, now);
	if (r < 0)
		return r;
	*ret = json_pack("{s:s, s:s, s:I, s:I, s:b}", "id", id, "token", secret, "uses",
			 (json_int_t)uses, "expires", (json_int_t)(now + ttl), "hold", hold);
	return *ret ? 0 : -ENOMEM;
}

int api_admin_tokens(struct api_call *c)
{
	json_t *j = NULL;
	int r;

	r = store_token_list(c->st, &j);
	return api_admin_result(c, r, j, "token list");
}

/* POST {"uses": 5, "expires": "7d" or seconds, "hold": false}; an empty body is {}. */
int api_admin_token_create(struct api_call *c)
{
	const struct api_request *rq = c->rq;
	json_t *b = rq->body_len ? json_loadb(rq->body, rq->body_len, 0, NULL) : json_object();
	long long uses = 1, ttl = 7 * 86400;
	json_t *e, *j = NULL;
	int r;

	if (!json_is_object(b)) {
		json_decref(b);
		return api_reply_error(c->rs, SRV_MALFORMED,
				       "body: {\"uses\": N, \"expires\": \"7d\", \"hold\": false}",
				       NULL);
	}
	api_json_int(b, "uses", &uses);
	e = json_object_get(b, "expires");
	if (json_is_integer(e))
		ttl = json_integer_value(e);
	else if (json_is_string(e) && srv_parse_duration(json_string_value(e), &ttl) < 0)
		ttl = -1;
	r = api_token_create(c->s, c->st, uses, ttl, json_is_true(json_object_get(b, "hold")),
			     c->now, &j);
	json_decref(b);
	return api_admin_result(c, r, j, "token create");
}

int api_admin_token_revoke(struct api_call *c)
{
	int r;

	r = store_token_revoke(c->st, c->id);
	return api_admin_result(c, r, json_pack("{s:s, s:b}", "id", c->id, "revoked", 1),
				"token revoke");
}
