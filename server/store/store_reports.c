/* Reports: accepting one (compare-and-swap on the device), the dashboard's summary. */
#include "server/store/store.h"

#include <errno.h>
#include <string.h>

int store_report_accept(struct store *st, const struct store_device *d,
			const struct store_report *rp)
{
	static const char upd[] =
		"UPDATE devices SET last_seq = $1, nonce = $2, last_hash = $3, last_report = $4,"
		" report_time = $5, compliant = $6, failing = $7, last_checks = $8,"
		" policy_sha256 = $9, agent_version = $10, chain_gaps = chain_gaps + $11,"
		" watcher = $15, policy_mode = $16, not_enforcing = $17"
		" WHERE id = $12 AND last_seq = $13 AND nonce = $14 RETURNING id";
	static const char ins[] =
		"INSERT INTO reports (device_id, seq, received, time, compliant, chain_gap,"
		" checks, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	/* PostgreSQL: the same two statements as one (UPDATE in a CTE is PostgreSQL only): one
	 * round trip instead of four, atomic on its own; a unique violation undoes the UPDATE. */
	static const char pg[] =
		"WITH u AS (UPDATE devices SET last_seq = $1, nonce = $2, last_hash = $3,"
		" last_report = $4, report_time = $5, compliant = $6, failing = $7, last_checks = "
		"$8,"
		" policy_sha256 = $9, agent_version = $10, chain_gaps = chain_gaps + $11,"
		" watcher = $16, policy_mode = $17, not_enforcing = $18"
		" WHERE id = $12 AND last_seq = $13 AND nonce = $14 RETURNING id)"
		" INSERT INTO reports (device_id, seq, received, time, compliant, chain_gap, "
		"checks, body)"
		" SELECT id, $1::bigint, $4::bigint, $5::bigint, $6::integer, $11::integer, "
		"$8::text,"
		" $15::text FROM u RETURNING device_id";
	struct store_res *res = NULL;
	int r;

	if (strcmp(st->drv->name, "postgresql") == 0) {
		r = STORE_EXEC(st, pg, &res, SP_INT(rp->seq), SP_TEXT(rp->new_nonce),
			       SP_TEXT(rp->hash), SP_INT(rp->received), SP_INT(rp->time),
			       SP_INT(rp->compliant), SP_TEXT(rp->failing),
			       SP_TEXT(rp->checks_json), SP_TEXT(rp->policy_sha256),
			       SP_TEXT(rp->agent_version), SP_INT(rp->chain_gap), SP_TEXT(d->id),
			       SP_INT(d->last_seq), SP_TEXT(d->nonce), SP_TEXT(rp->body),
			       SP_TEXT(rp->watcher_json), SP_TEXT(rp->policy_mode),
			       SP_INT(rp->not_enforcing));
		if (r == 0 && res->nrows != 1)
			r = -ESTALE;
		store_res_free(res);
		return r;
	}
	r = store_begin(st);
	if (r < 0)
		return r;
	r = STORE_EXEC(st, upd, &res, SP_INT(rp->seq), SP_TEXT(rp->new_nonce), SP_TEXT(rp->hash),
		       SP_INT(rp->received), SP_INT(rp->time), SP_INT(rp->compliant),
		       SP_TEXT(rp->failing), SP_TEXT(rp->checks_json), SP_TEXT(rp->policy_sha256),
		       SP_TEXT(rp->agent_version), SP_INT(rp->chain_gap), SP_TEXT(d->id),
		       SP_INT(d->last_seq), SP_TEXT(d->nonce), SP_TEXT(rp->watcher_json),
		       SP_TEXT(rp->policy_mode), SP_INT(rp->not_enforcing));
	if (r < 0)
		goto fail;
	if (res->nrows != 1) {
		r = -ESTALE;
		goto fail;
	}
	r = STORE_EXEC(st, ins, NULL, SP_TEXT(d->id), SP_INT(rp->seq), SP_INT(rp->received),
		       SP_INT(rp->time), SP_INT(rp->compliant), SP_INT(rp->chain_gap),
		       SP_TEXT(rp->checks_json), SP_TEXT(rp->body));
	if (r < 0)
		goto fail;
	store_res_free(res);
	return store_commit(st);
fail:
	store_res_free(res);
	store_rollback(st);
	return r;
}

int store_summary(struct store *st, long long now, long long grace, long long hours, json_t **ret)
{
	static const char ts[] =
		"SELECT b, SUM(c), COUNT(*) FROM (SELECT device_id, received / 3600 AS b,"
		" MIN(compliant) AS c FROM reports WHERE received >= $1 GROUP BY device_id, "
		"received / 3600)"
		" t GROUP BY b ORDER BY b";
	static const char *const viol_rules =
		"noncompliant client_blocked client_unapproved injection attachment_exec "
		"verification_failed chain_gap not_enforcing";
	struct store_res *res = NULL;
	json_t *devs = NULL, *out, *states, *fails, *series, *alerts, *viol, *d, *a;
	size_t i;
	int r;

	r = store_device_list(st, now, grace, &devs);
	if (r < 0)
		return r;
	out = json_object();
	states = store_device_count_states(devs);
	fails = json_object();
	series = json_array();
	viol = json_array();
	json_array_foreach (devs, i, d) {
		const char *s = json_string_value(json_object_get(d, "state")), *cid;
		json_t *checks = json_object_get(d, "checks"), *cst;

		if (strcmp(s, "revoked") == 0 || !json_is_object(checks))
			continue;
		json_object_foreach (checks, cid, cst) {
			json_t *f = json_object_get(fails, cid);

			if (!f) {
				f = json_pack("{s:i, s:i, s:i}", "fail", 0, "warn", 0, "pass", 0);
				json_object_set_new(fails, cid, f);
			}
			if (json_is_string(cst) && json_object_get(f, json_string_value(cst)))
				json_object_set_new(
					f, json_string_value(cst),
					json_integer(json_integer_value(json_object_get(
							     f, json_string_value(cst))) +
						     1));
		}
	}
	json_object_set_new(out, "devices", json_integer((json_int_t)json_array_size(devs)));
	json_object_set_new(out, "states", states);
	json_object_set_new(out, "checks", fails);
	json_decref(devs);

	r = STORE_EXEC(st, ts, &res, SP_INT(now - hours * 3600));
	if (r < 0)
		goto fail;
	for (i = 0; i < res->nrows; i++) {
		long long c = store_res_int(res, i, 1, 0), n = store_res_int(res, i, 2, 0);

		json_array_append_new(series,
				      json_pack("{s:I, s:I, s:I}", "time",
						(json_int_t)store_res_int(res, i, 0, 0) * 3600,
						"compliant", (json_int_t)c, "noncompliant",
						(json_int_t)(n - c)));
	}
	store_res_free(res);
	json_object_set_new(out, "series", series);
	series = NULL;

	r = store_alerts_list(st, NULL, 200, &alerts);
	if (r < 0)
		goto fail;
	json_array_foreach (alerts, i, a) {
		const char *rule = json_string_value(json_object_get(a, "rule"));

		if (rule && strstr(viol_rules, rule) && json_array_size(viol) < 20)
			json_array_append(viol, a);
	}
	json_decref(alerts);
	json_object_set_new(out, "violations", viol);
	json_object_set_new(out, "now", json_integer(now));
	*ret = out;
	return 0;
fail:
	json_decref(series);
	json_decref(viol);
	json_decref(out);
	return r;
}
