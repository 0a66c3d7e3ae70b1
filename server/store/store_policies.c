/* Policies: the current one is the latest uploaded. */
#include "server/store/store.h"

#include <errno.h>

int store_policy_put(struct store *st, const char *sha256, const char *name, const char *version,
		     const char *text, const char *signature, long long report_interval,
		     long long now)
{
	static const char sql[] =
		"INSERT INTO policies (sha256, name, version, text, signature, report_interval,"
		" uploaded) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO UPDATE"
		" SET uploaded = $7, name = $2, version = $3, signature = $5, report_interval = $6";

	return STORE_EXEC(st, sql, NULL, SP_TEXT(sha256), SP_TEXT(name), SP_TEXT(version),
			  SP_TEXT(text), SP_TEXT(signature),
			  report_interval > 0 ? SP_INT(report_interval) : SP_NULL, SP_INT(now));
}

int store_policy_current(struct store *st, json_t **ret)
{
	static const char sql[] =
		"SELECT name, version, sha256, text, signature, report_interval, uploaded"
		" FROM policies ORDER BY uploaded DESC, sha256 LIMIT 1";
	static const char *const spec[] = { "name:s",     "version:s",   "sha256:s",
					    "text:s",     "signature:s", "report_interval:i",
					    "uploaded:i", NULL };
	struct store_res *res;
	json_t *arr;
	int r;

	r = store_exec(st, sql, NULL, 0, &res);
	if (r < 0)
		return r;
	if (res->nrows == 0) {
		store_res_free(res);
		return -ENOENT;
	}
	arr = store_res_json(res, spec);
	store_res_free(res);
	if (!arr)
		return -ENOMEM;
	*ret = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}
