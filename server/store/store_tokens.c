/* Enrollment tokens (stored as SHA-256 only). */
#include "server/store/store.h"

#include <errno.h>
#include <stdio.h>

int store_token_create(struct store *st, const char *id, const char *secret_sha256, long long uses,
		       long long expires, bool hold, long long now)
{
	static const char sql[] =
		"INSERT INTO tokens (id, secret_sha256, uses_left, uses_total, expires, hold,"
		" revoked, created) VALUES ($1, $2, $3, $3, $4, $5, 0, $6)";

	return STORE_EXEC(st, sql, NULL, SP_TEXT(id), SP_TEXT(secret_sha256), SP_INT(uses),
			  SP_INT(expires), SP_INT(hold), SP_INT(now));
}

int store_token_consume(struct store *st, const char *secret_sha256, long long now, char id[17],
			bool *hold)
{
	static const char sql[] =
		"UPDATE tokens SET uses_left = uses_left - 1 WHERE secret_sha256 = $1"
		" AND revoked = 0 AND uses_left > 0 AND expires > $2 RETURNING id, hold";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(secret_sha256), SP_INT(now));
	if (r < 0)
		return r;
	if (res->nrows != 1) {
		store_res_free(res);
		return -EACCES;
	}
	snprintf(id, 17, "%s", store_res_get(res, 0, 0) ?: "");
	*hold = store_res_int(res, 0, 1, 0) != 0;
	store_res_free(res);
	return 0;
}

int store_token_list(struct store *st, json_t **ret)
{
	static const char sql[] =
		"SELECT id, uses_left, uses_total, expires, hold, revoked, created"
		" FROM tokens ORDER BY created DESC, id";
	static const char *const spec[] = { "id:s",   "uses_left:i", "uses_total:i", "expires:i",
					    "hold:b", "revoked:b",   "created:i",    NULL };
	struct store_res *res;
	int r;

	r = store_exec(st, sql, NULL, 0, &res);
	if (r < 0)
		return r;
	*ret = store_res_json(res, spec);
	store_res_free(res);
	return *ret ? 0 : -ENOMEM;
}

int store_token_revoke(struct store *st, const char *id)
{
	static const char sql[] = "UPDATE tokens SET revoked = 1 WHERE id = $1 RETURNING id";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	r = res->nrows ? 0 : -ENOENT;
	store_res_free(res);
	return r;
}
