/* Devices: enrollment, the state a report is checked against, status, admin views. */
#include "server/store/store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int store_device_create(struct store *st, const struct store_device *d, const char *token_id,
			const char *facts_json, long long now)
{
	static const char sql[] =
		"INSERT INTO devices (id, public_key, token_id, hostname, facts, status,"
		" enrolled, last_seq, nonce, last_hash, report_interval) VALUES"
		" ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

	return STORE_EXEC(st, sql, NULL, SP_TEXT(d->id), SP_TEXT(d->public_key), SP_TEXT(token_id),
			  SP_TEXT(d->hostname), SP_TEXT(facts_json), SP_TEXT(d->status),
			  SP_INT(now), SP_INT(d->last_seq), SP_TEXT(d->nonce),
			  SP_TEXT(d->last_hash), SP_INT(d->report_interval));
}

static void device_from_row(const struct store_res *res, struct store_device *d)
{
	memset(d, 0, sizeof(*d));
	snprintf(d->id, sizeof(d->id), "%s", store_res_get(res, 0, 0) ?: "");
	snprintf(d->public_key, sizeof(d->public_key), "%s", store_res_get(res, 0, 1) ?: "");
	snprintf(d->status, sizeof(d->status), "%s", store_res_get(res, 0, 2) ?: "");
	d->last_seq = store_res_int(res, 0, 3, -1);
	snprintf(d->nonce, sizeof(d->nonce), "%s", store_res_get(res, 0, 4) ?: "");
	snprintf(d->last_hash, sizeof(d->last_hash), "%s", store_res_get(res, 0, 5) ?: "");
	d->last_report = store_res_int(res, 0, 6, 0);
	d->report_interval = store_res_int(res, 0, 7, 300);
	snprintf(d->hostname, sizeof(d->hostname), "%s", store_res_get(res, 0, 8) ?: "");
}

/* Run sql (one parameter: the id) and fill d from the first nine columns of its one row; *ret
 * keeps the row for the caller's further columns. */
static int device_fetch(struct store *st, const char *sql, const char *id, struct store_device *d,
			struct store_res **ret)
{
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	if (res->nrows != 1) {
		store_res_free(res);
		return -ENOENT;
	}
	device_from_row(res, d);
	*ret = res;
	return 0;
}

int store_device_get(struct store *st, const char *id, struct store_device *d)
{
	static const char sql[] =
		"SELECT id, public_key, status, last_seq, nonce, last_hash, last_report,"
		" report_interval, hostname FROM devices WHERE id = $1";
	struct store_res *res;
	int r;

	r = device_fetch(st, sql, id, d, &res);
	if (r < 0)
		return r;
	store_res_free(res);
	return 0;
}

int store_device_get_for_report(struct store *st, const char *id, struct store_device *d,
				struct store_report_ctx *ctx)
{
	static const char sql[] =
		"SELECT d.id, d.public_key, d.status, d.last_seq, d.nonce, d.last_hash, "
		"d.last_report,"
		" d.report_interval, d.hostname, d.compliant, p.sha256, p.report_interval,"
		" d.not_enforcing"
		" FROM devices d LEFT JOIN (SELECT sha256, report_interval FROM policies"
		" ORDER BY uploaded DESC, sha256 LIMIT 1) p ON 1 = 1 WHERE d.id = $1";
	struct store_res *res;
	int r;

	r = device_fetch(st, sql, id, d, &res);
	if (r < 0)
		return r;
	ctx->compliant = (int)store_res_int(res, 0, 9, -1);
	snprintf(ctx->policy_sha256, sizeof(ctx->policy_sha256), "%s",
		 store_res_get(res, 0, 10) ?: "");
	ctx->policy_interval = store_res_int(res, 0, 11, 0);
	ctx->not_enforcing = store_res_int(res, 0, 12, 0) != 0;
	store_res_free(res);
	return 0;
}

int store_device_set_status(struct store *st, const char *id, const char *status)
{
	static const char sql[] = "UPDATE devices SET status = $2 WHERE id = $1 RETURNING id";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(id), SP_TEXT(status));
	if (r < 0)
		return r;
	r = res->nrows ? 0 : -ENOENT;
	store_res_free(res);
	return r;
}

int store_device_compliance(struct store *st, const char *id)
{
	static const char sql[] = "SELECT compliant FROM devices WHERE id = $1";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	r = (int)store_res_int(res, 0, 0, -1);
	store_res_free(res);
	return r;
}

static const char *device_state(const char *status, long long last_report, long long interval,
				const char *compliant, long long now, long long grace)
{
	if (!status || strcmp(status, "revoked") == 0)
		return "revoked";
	if (strcmp(status, "pending") == 0)
		return "pending";
	if (last_report <= 0)
		return "never_reported";
	if (last_report + 2 * interval + grace < now)
		return "stale";
	return compliant && strcmp(compliant, "1") == 0 ? "compliant" : "noncompliant";
}

int store_stale_devices(struct store *st, long long now, long long grace, struct store_res **ret)
{
	static const char sql[] =
		"SELECT id, hostname, last_report, last_seq FROM devices WHERE status = 'approved'"
		" AND last_report > 0 AND last_report + 2 * report_interval + $2 < $1";

	return STORE_EXEC(st, sql, ret, SP_INT(now), SP_INT(grace));
}

static const char device_cols[] = "SELECT id, hostname, status, enrolled, last_seq, last_report, "
				  "report_time, report_interval, compliant,"
				  " failing, last_checks, policy_sha256, agent_version, "
				  "chain_gaps, facts, public_key, watcher, policy_mode, "
				  "not_enforcing FROM devices";
static const char *const device_spec[] = { "id:s",
					   "hostname:s",
					   "status:s",
					   "enrolled:i",
					   "last_seq:i",
					   "last_report:i",
					   "report_time:i",
					   "report_interval:i",
					   "-",
					   "failing:s",
					   "checks:j",
					   "policy_sha256:s",
					   "agent_version:s",
					   "chain_gaps:i",
					   "facts:j",
					   "public_key:s",
					   "watcher:j",
					   "policy_mode:s",
					   "not_enforcing:b",
					   NULL };

static int devices_query(struct store *st, const char *sql, const char *id, long long now,
			 long long grace, json_t **ret)
{
	struct store_res *res;
	json_t *arr;
	int r;

	r = id ? STORE_EXEC(st, sql, &res, SP_TEXT(id)) : store_exec(st, sql, NULL, 0, &res);
	if (r < 0)
		return r;
	arr = store_res_json(res, device_spec);
	for (size_t i = 0; arr && i < res->nrows; i++) {
		const char *state = device_state(
			store_res_get(res, i, 2), store_res_int(res, i, 5, 0),
			store_res_int(res, i, 7, 300), store_res_get(res, i, 8), now, grace);
		json_object_set_new(json_array_get(arr, i), "state", json_string(state));
		if (store_res_get(res, i, 8))
			json_object_set_new(json_array_get(arr, i), "compliant",
					    json_boolean(store_res_int(res, i, 8, 0) != 0));
	}
	store_res_free(res);
	if (!arr)
		return -ENOMEM;
	*ret = arr;
	return 0;
}

int store_device_list(struct store *st, long long now, long long grace, json_t **ret)
{
	static char sql[sizeof(device_cols) + 64];

	if (!sql[0])
		snprintf(sql, sizeof(sql), "%s ORDER BY hostname, id", device_cols);
	return devices_query(st, sql, NULL, now, grace, ret);
}

json_t *store_device_count_states(const json_t *devices)
{
	static const char *const states[] = {
		"compliant", "noncompliant", "stale", "never_reported", "pending", "revoked", NULL
	};
	json_t *o, *d;
	size_t i;

	o = json_object();
	for (i = 0; states[i]; i++)
		json_object_set_new(o, states[i], json_integer(0));
	json_array_foreach (devices, i, d) {
		const char *s = json_string_value(json_object_get(d, "state"));

		json_object_set_new(o, s,
				    json_integer(json_integer_value(json_object_get(o, s)) + 1));
	}
	return o;
}

int store_device_not_enforcing_count(struct store *st)
{
	static const char sql[] =
		"SELECT COUNT(*) FROM devices WHERE status = 'approved' AND not_enforcing = 1";
	struct store_res *res;
	int r;

	r = store_exec(st, sql, NULL, 0, &res);
	if (r < 0)
		return r;
	r = (int)store_res_int(res, 0, 0, 0);
	store_res_free(res);
	return r;
}

int store_device_states(struct store *st, long long now, long long grace, json_t **ret)
{
	json_t *arr;
	int r;

	r = store_device_list(st, now, grace, &arr);
	if (r < 0)
		return r;
	*ret = store_device_count_states(arr);
	json_decref(arr);
	return 0;
}

int store_device_detail(struct store *st, const char *id, long long now, long long grace,
			json_t **ret)
{
	static char sql[sizeof(device_cols) + 64];
	static const char rsql[] =
		"SELECT seq, received, time, compliant, chain_gap, checks FROM reports"
		" WHERE device_id = $1 ORDER BY seq DESC LIMIT 50";
	static const char *const rspec[] = { "seq:i",       "received:i", "time:i", "compliant:b",
					     "chain_gap:b", "checks:j",   NULL };
	struct store_res *res;
	json_t *arr, *dev, *ev, *al;
	int r;

	if (!sql[0])
		snprintf(sql, sizeof(sql), "%s WHERE id = $1", device_cols);
	r = devices_query(st, sql, id, now, grace, &arr);
	if (r < 0)
		return r;
	if (json_array_size(arr) != 1) {
		json_decref(arr);
		return -ENOENT;
	}
	dev = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	r = STORE_EXEC(st, rsql, &res, SP_TEXT(id));
	if (r < 0)
		goto fail;
	json_object_set_new(dev, "reports", store_res_json(res, rspec));
	store_res_free(res);
	r = store_events_list(st, id, 50, &ev);
	if (r < 0)
		goto fail;
	json_object_set_new(dev, "events", ev);
	r = store_alerts_list(st, id, 50, &al);
	if (r < 0)
		goto fail;
	json_object_set_new(dev, "alerts", al);
	*ret = dev;
	return 0;
fail:
	json_decref(dev);
	return r;
}
