/* Alerts and their delivery queue (one row per alert and sink, claimed with a lease). */
#include "server/store/store.h"

#include <errno.h>
#include <string.h>

int store_alert_insert(struct store *st, const char *id, long long now, const char *device_id,
		       const char *rule, const char *severity, const char *message,
		       const char *dedup_key, bool suppressed, const char *const *sinks)
{
	static const char ins[] =
		"INSERT INTO alerts (id, created, device_id, rule, severity, message, dedup_key,"
		" suppressed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
		" ON CONFLICT (dedup_key) DO NOTHING RETURNING id";
	static const char del[] =
		"INSERT INTO deliveries (alert_id, sink, state, attempts, next_attempt,"
		" claimed_until) VALUES ($1, $2, 'pending', 0, $3, 0)";
	struct store_res *res = NULL;
	int r;

	r = store_begin(st);
	if (r < 0)
		return r;
	r = STORE_EXEC(st, ins, &res, SP_TEXT(id), SP_INT(now), SP_TEXT(device_id), SP_TEXT(rule),
		       SP_TEXT(severity), SP_TEXT(message), SP_TEXT(dedup_key), SP_INT(suppressed));
	if (r < 0)
		goto fail;
	if (res->nrows == 0) {
		store_res_free(res);
		r = store_commit(st);
		return r < 0 ? r : 0;
	}
	for (size_t i = 0; !suppressed && sinks && sinks[i]; i++) {
		r = STORE_EXEC(st, del, NULL, SP_TEXT(id), SP_TEXT(sinks[i]), SP_INT(now));
		if (r < 0)
			goto fail;
	}
	store_res_free(res);
	r = store_commit(st);
	return r < 0 ? r : 1;
fail:
	store_res_free(res);
	store_rollback(st);
	return r;
}

int store_alert_clear(struct store *st, const char *device_id, const char *rule, long long now)
{
	static const char sql[] =
		"UPDATE alerts SET cleared = $3 WHERE device_id = $1 AND rule = $2"
		" AND cleared IS NULL RETURNING id";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(device_id), SP_TEXT(rule), SP_INT(now));
	if (r < 0)
		return r;
	r = (int)res->nrows;
	store_res_free(res);
	return r;
}

int store_alert_count_since(struct store *st, const char *device_id, const char *rule,
			    long long since)
{
	static const char sql[] =
		"SELECT COUNT(*) FROM alerts WHERE device_id = $1 AND rule = $2 AND created >= $3";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(device_id ? device_id : ""), SP_TEXT(rule),
		       SP_INT(since));
	if (r < 0)
		return r;
	r = (int)store_res_int(res, 0, 0, 0);
	store_res_free(res);
	return r;
}

int store_delivery_claim(struct store *st, long long now, long long lease, long long max,
			 json_t **ret)
{
	static const char due[] =
		"SELECT d.alert_id, d.sink FROM deliveries d WHERE d.state = 'pending'"
		" AND d.next_attempt <= $1 AND d.claimed_until <= $1 ORDER BY d.next_attempt LIMIT "
		"$2";
	static const char claim[] =
		"UPDATE deliveries SET claimed_until = $1 WHERE alert_id = $2 AND sink = $3"
		" AND state = 'pending' AND claimed_until <= $4 RETURNING attempts";
	static const char info[] =
		"SELECT device_id, rule, severity, message, created FROM alerts WHERE id = $1";
	struct store_res *res = NULL, *c = NULL, *a = NULL;
	json_t *arr;
	int r;

	r = STORE_EXEC(st, due, &res, SP_INT(now), SP_INT(max));
	if (r < 0)
		return r;
	arr = json_array();
	if (!arr) {
		store_res_free(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < res->nrows; i++) {
		const char *aid = store_res_get(res, i, 0), *sink = store_res_get(res, i, 1);

		r = STORE_EXEC(st, claim, &c, SP_INT(now + lease), SP_TEXT(aid), SP_TEXT(sink),
			       SP_INT(now));
		if (r < 0)
			goto fail;
		if (c->nrows == 1) {
			r = STORE_EXEC(st, info, &a, SP_TEXT(aid));
			if (r < 0)
				goto fail;
			if (a->nrows == 1)
				json_array_append_new(
					arr, json_pack("{s:s, s:s, s:I, s:s?, s:s, s:s, s:s, s:I}",
						       "alert_id", aid, "sink", sink, "attempts",
						       (json_int_t)store_res_int(c, 0, 0, 0),
						       "device_id", store_res_get(a, 0, 0), "rule",
						       store_res_get(a, 0, 1) ?: "", "severity",
						       store_res_get(a, 0, 2) ?: "", "message",
						       store_res_get(a, 0, 3) ?: "", "created",
						       (json_int_t)store_res_int(a, 0, 4, 0)));
			store_res_free(a);
			a = NULL;
		}
		store_res_free(c);
		c = NULL;
	}
	store_res_free(res);
	*ret = arr;
	return 0;
fail:
	store_res_free(res);
	store_res_free(c);
	store_res_free(a);
	json_decref(arr);
	return r;
}

int store_delivery_done(struct store *st, const char *alert_id, const char *sink, bool ok,
			long long next_attempt, bool give_up, const char *error)
{
	static const char sql[] =
		"UPDATE deliveries SET state = $3, attempts = attempts + 1, next_attempt = $4,"
		" claimed_until = 0, last_error = $5 WHERE alert_id = $1 AND sink = $2";

	return STORE_EXEC(st, sql, NULL, SP_TEXT(alert_id), SP_TEXT(sink),
			  SP_TEXT(ok        ? "delivered"
				  : give_up ? "failed"
					    : "pending"),
			  SP_INT(next_attempt), SP_TEXT(ok ? NULL : error));
}

int store_alerts_list(struct store *st, const char *device_id, long long limit, json_t **ret)
{
	static const char all[] =
		"SELECT a.id, a.created, a.device_id, a.rule, a.severity, a.message, a.suppressed,"
		" d.sink, d.state, d.attempts, d.last_error, a.cleared FROM alerts a"
		" LEFT JOIN deliveries d ON d.alert_id = a.id WHERE a.id IN (SELECT id FROM alerts"
		" ORDER BY created DESC, id LIMIT $1) ORDER BY a.created DESC, a.id, d.sink";
	static const char one[] =
		"SELECT a.id, a.created, a.device_id, a.rule, a.severity, a.message, a.suppressed,"
		" d.sink, d.state, d.attempts, d.last_error, a.cleared FROM alerts a"
		" LEFT JOIN deliveries d ON d.alert_id = a.id WHERE a.id IN (SELECT id FROM alerts"
		" WHERE device_id = $2"
		" ORDER BY created DESC, id LIMIT $1) ORDER BY a.created DESC, a.id, d.sink";
	static const char *const spec[] = { "id:s",       "created:i", "device_id:s",  "rule:s",
					    "severity:s", "message:s", "suppressed:b", NULL };
	struct store_res *res;
	json_t *arr, *out, *cur = NULL;
	const char *cur_id = NULL;
	int r;

	r = device_id ? STORE_EXEC(st, one, &res, SP_INT(limit), SP_TEXT(device_id))
		      : STORE_EXEC(st, all, &res, SP_INT(limit));
	if (r < 0)
		return r;
	arr = store_res_json(res, spec);
	/* "cleared": when the condition behind the alert ended (not_enforcing), else null.
	 * Column 11, after the delivery's. */
	for (size_t i = 0; arr && i < res->nrows; i++)
		json_object_set_new(json_array_get(arr, i), "cleared",
				    store_res_get(res, i, 11)
					    ? json_integer(store_res_int(res, i, 11, 0))
					    : json_null());
	out = json_array();
	for (size_t i = 0; arr && out && i < res->nrows; i++) {
		const char *aid = store_res_get(res, i, 0);

		if (!cur_id || strcmp(cur_id, aid) != 0) {
			cur = json_array_get(arr, i);
			json_object_set_new(cur, "deliveries", json_array());
			json_array_append(out, cur);
			cur_id = aid;
		}
		if (store_res_get(res, i, 7))
			json_array_append_new(json_object_get(cur, "deliveries"),
					      json_pack("{s:s, s:s, s:I, s:s?}", "sink",
							store_res_get(res, i, 7), "state",
							store_res_get(res, i, 8) ?: "", "attempts",
							(json_int_t)store_res_int(res, i, 9, 0),
							"last_error", store_res_get(res, i, 10)));
	}
	store_res_free(res);
	json_decref(arr);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}
