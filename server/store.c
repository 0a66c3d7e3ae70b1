/* The store: every query wxguard-server makes, written once for SQLite and PostgreSQL. */
#include "server/store.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"

/* ---- driver plumbing ---- */

int store_open(const char *url, struct store **ret, char *err, size_t errlen)
{
	struct store *st;
	int r;

	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		r = store_pg_open(url, &st, err, errlen);
	else if (strncmp(url, "pg:", 3) == 0)
		r = store_pg_open(url + 3, &st, err, errlen);
	else if (strncmp(url, "sqlite://", 9) == 0)
		r = store_sqlite_open(url + 9, &st, err, errlen);   /* sqlite:///abs/path */
	else
		r = store_sqlite_open(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, &st, err, errlen);
	if (r < 0)
		return r;
	r = store_migrate(st);
	if (r < 0) {
		if (err)
			snprintf(err, errlen, "schema: %s", st->errmsg);
		store_close(st);
		return r;
	}
	*ret = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	st->drv->close(st);
	free(st);
}

const char *store_errmsg(const struct store *st)
{
	return st->errmsg;
}

const char *store_kind(const struct store *st)
{
	return st->drv->name;
}

int store_exec(struct store *st, const char *sql, const struct store_param *p, size_t np,
	       struct store_res **ret)
{
	return st->drv->exec(st, sql, p, np, ret);
}

int store_begin(struct store *st)
{
	return st->drv->begin(st);
}

int store_commit(struct store *st)
{
	return st->drv->commit(st);
}

int store_rollback(struct store *st)
{
	return st->drv->rollback(st);
}

void store_res_free(struct store_res *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nrows * r->ncols; i++)
		free(r->cells[i]);
	free(r->cells);
	free(r);
}

const char *store_res_get(const struct store_res *r, size_t row, size_t col)
{
	if (!r || row >= r->nrows || col >= r->ncols)
		return NULL;
	return r->cells[row * r->ncols + col];
}

long long store_res_int(const struct store_res *r, size_t row, size_t col, long long dflt)
{
	const char *s = store_res_get(r, row, col);

	return s ? strtoll(s, NULL, 10) : dflt;
}

#define EXEC(st, sql, res, ...)                                                              \
	store_exec((st), (sql), (const struct store_param[]){ __VA_ARGS__ },                     \
		   sizeof((const struct store_param[]){ __VA_ARGS__ }) / sizeof(struct store_param), (res))

/* Rows to a JSON array of objects. spec: "name:s" text, "name:i" integer, "name:b" boolean,
 * "name:j" JSON text (parsed; kept as a string when not JSON), "-" skip the column. */
static json_t *rows_json(const struct store_res *res, const char *const *spec)
{
	json_t *arr = json_array();

	for (size_t row = 0; arr && row < res->nrows; row++) {
		json_t *o = json_object();

		for (size_t c = 0; c < res->ncols && spec[c]; c++) {
			const char *v = store_res_get(res, row, c), *colon = strchr(spec[c], ':');
			char name[64];
			json_t *jv;

			if (!colon)
				continue;
			snprintf(name, sizeof(name), "%.*s", (int)(colon - spec[c]), spec[c]);
			if (!v)
				jv = json_null();
			else if (colon[1] == 'i')
				jv = json_integer(strtoll(v, NULL, 10));
			else if (colon[1] == 'b')
				jv = json_boolean(strtoll(v, NULL, 10) != 0);
			else if (colon[1] == 'j')
				jv = json_loads(v, JSON_DECODE_ANY, NULL) ?: json_string(v);
			else
				jv = json_string(v);
			json_object_set_new(o, name, jv);
		}
		json_array_append_new(arr, o);
	}
	return arr;
}

/* ---- schema ---- */

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS wxg_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL UNIQUE,"
	" uses_left BIGINT NOT NULL, uses_total BIGINT NOT NULL, expires BIGINT NOT NULL,"
	" hold INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, created BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, public_key TEXT NOT NULL UNIQUE,"
	" token_id TEXT, hostname TEXT, facts TEXT, status TEXT NOT NULL, enrolled BIGINT NOT NULL,"
	" last_seq BIGINT NOT NULL, nonce TEXT NOT NULL, last_hash TEXT NOT NULL,"
	" last_report BIGINT NOT NULL DEFAULT 0, report_time BIGINT, report_interval BIGINT NOT NULL,"
	" compliant INTEGER, failing TEXT, last_checks TEXT, policy_sha256 TEXT, agent_version TEXT,"
	" chain_gaps BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS reports (device_id TEXT NOT NULL, seq BIGINT NOT NULL,"
	" received BIGINT NOT NULL, time BIGINT NOT NULL, compliant INTEGER NOT NULL,"
	" chain_gap INTEGER NOT NULL, checks TEXT, body TEXT NOT NULL, PRIMARY KEY (device_id, seq));"
	"CREATE INDEX IF NOT EXISTS reports_received ON reports (received);"
	"CREATE TABLE IF NOT EXISTS events (device_id TEXT NOT NULL, uuid TEXT NOT NULL,"
	" time BIGINT NOT NULL, received BIGINT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,"
	" PRIMARY KEY (device_id, uuid));"
	"CREATE INDEX IF NOT EXISTS events_received ON events (received);"
	"CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, created BIGINT NOT NULL, device_id TEXT,"
	" rule TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,"
	" dedup_key TEXT NOT NULL UNIQUE, suppressed INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS alerts_dev_rule ON alerts (device_id, rule, created);"
	"CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created);"
	"CREATE TABLE IF NOT EXISTS deliveries (alert_id TEXT NOT NULL, sink TEXT NOT NULL,"
	" state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt BIGINT NOT NULL,"
	" claimed_until BIGINT NOT NULL DEFAULT 0, last_error TEXT, PRIMARY KEY (alert_id, sink));"
	"CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt);"
	"CREATE TABLE IF NOT EXISTS policies (sha256 TEXT PRIMARY KEY, name TEXT, version TEXT,"
	" text TEXT NOT NULL, signature TEXT NOT NULL, report_interval BIGINT, uploaded BIGINT NOT NULL);";

int store_migrate(struct store *st)
{
	int r;

	r = store_begin(st);
	if (r < 0)
		return r;
	/* Several servers may start at once on one PostgreSQL: serialize the DDL. */
	if (strcmp(st->drv->name, "postgresql") == 0) {
		r = st->drv->script(st, "SELECT pg_advisory_xact_lock(7242001)");
		if (r < 0)
			goto fail;
	}
	r = st->drv->script(st, schema);
	if (r < 0)
		goto fail;
	r = st->drv->script(st, "INSERT INTO wxg_meta (key, value) VALUES ('schema_version', '1')"
				" ON CONFLICT (key) DO NOTHING");
	if (r < 0)
		goto fail;
	return store_commit(st);
fail:
	store_rollback(st);
	return r;
}

int store_get_secret(struct store *st, const char *name, unsigned char out[32])
{
	static const char ins[] = "INSERT INTO wxg_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
	static const char sel[] = "SELECT value FROM wxg_meta WHERE key = $1";
	unsigned char rnd[32];
	char hex[65];
	struct store_res *res = NULL;
	const char *v;
	int r;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -EIO;
	hash_to_hex(rnd, sizeof(rnd), hex);
	r = EXEC(st, ins, NULL, SP_TEXT(name), SP_TEXT(hex));
	if (r < 0)
		return r;
	r = EXEC(st, sel, &res, SP_TEXT(name));
	if (r < 0)
		return r;
	v = store_res_get(res, 0, 0);
	if (!v || strlen(v) != 64) {
		store_res_free(res);
		return -EBADMSG;
	}
	for (int i = 0; i < 32; i++) {
		unsigned x;

		sscanf(v + 2 * i, "%2x", &x);
		out[i] = (unsigned char)x;
	}
	store_res_free(res);
	return 0;
}

/* ---- tokens ---- */

int store_token_create(struct store *st, const char *id, const char *secret_sha256, long long uses,
		       long long expires, bool hold, long long now)
{
	static const char sql[] = "INSERT INTO tokens (id, secret_sha256, uses_left, uses_total, expires, hold,"
				  " revoked, created) VALUES ($1, $2, $3, $3, $4, $5, 0, $6)";

	return EXEC(st, sql, NULL, SP_TEXT(id), SP_TEXT(secret_sha256), SP_INT(uses), SP_INT(expires),
		    SP_INT(hold), SP_INT(now));
}

int store_token_consume(struct store *st, const char *secret_sha256, long long now, char id[17], bool *hold)
{
	static const char sql[] = "UPDATE tokens SET uses_left = uses_left - 1 WHERE secret_sha256 = $1"
				  " AND revoked = 0 AND uses_left > 0 AND expires > $2 RETURNING id, hold";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(secret_sha256), SP_INT(now));
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
	static const char sql[] = "SELECT id, uses_left, uses_total, expires, hold, revoked, created"
				  " FROM tokens ORDER BY created DESC, id";
	static const char *const spec[] = { "id:s", "uses_left:i", "uses_total:i", "expires:i", "hold:b",
					    "revoked:b", "created:i", NULL };
	struct store_res *res;
	int r;

	r = store_exec(st, sql, NULL, 0, &res);
	if (r < 0)
		return r;
	*ret = rows_json(res, spec);
	store_res_free(res);
	return *ret ? 0 : -ENOMEM;
}

int store_token_revoke(struct store *st, const char *id)
{
	static const char sql[] = "UPDATE tokens SET revoked = 1 WHERE id = $1 RETURNING id";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	r = res->nrows ? 0 : -ENOENT;
	store_res_free(res);
	return r;
}

/* ---- devices and reports ---- */

int store_device_create(struct store *st, const struct store_device *d, const char *token_id,
			const char *facts_json, long long now)
{
	static const char sql[] = "INSERT INTO devices (id, public_key, token_id, hostname, facts, status,"
				  " enrolled, last_seq, nonce, last_hash, report_interval) VALUES"
				  " ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

	return EXEC(st, sql, NULL, SP_TEXT(d->id), SP_TEXT(d->public_key), SP_TEXT(token_id),
		    SP_TEXT(d->hostname), SP_TEXT(facts_json), SP_TEXT(d->status), SP_INT(now),
		    SP_INT(d->last_seq), SP_TEXT(d->nonce), SP_TEXT(d->last_hash), SP_INT(d->report_interval));
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

int store_device_get(struct store *st, const char *id, struct store_device *d)
{
	static const char sql[] = "SELECT id, public_key, status, last_seq, nonce, last_hash, last_report,"
				  " report_interval, hostname FROM devices WHERE id = $1";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	if (res->nrows != 1) {
		store_res_free(res);
		return -ENOENT;
	}
	device_from_row(res, d);
	store_res_free(res);
	return 0;
}

int store_device_get_for_report(struct store *st, const char *id, struct store_device *d,
				struct store_report_ctx *ctx)
{
	static const char sql[] = "SELECT d.id, d.public_key, d.status, d.last_seq, d.nonce, d.last_hash, d.last_report,"
				  " d.report_interval, d.hostname, d.compliant, p.sha256, p.report_interval"
				  " FROM devices d LEFT JOIN (SELECT sha256, report_interval FROM policies"
				  " ORDER BY uploaded DESC, sha256 LIMIT 1) p ON 1 = 1 WHERE d.id = $1";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	if (res->nrows != 1) {
		store_res_free(res);
		return -ENOENT;
	}
	device_from_row(res, d);
	ctx->compliant = (int)store_res_int(res, 0, 9, -1);
	snprintf(ctx->policy_sha256, sizeof(ctx->policy_sha256), "%s", store_res_get(res, 0, 10) ?: "");
	ctx->policy_interval = store_res_int(res, 0, 11, 0);
	store_res_free(res);
	return 0;
}

int store_device_set_status(struct store *st, const char *id, const char *status)
{
	static const char sql[] = "UPDATE devices SET status = $2 WHERE id = $1 RETURNING id";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(id), SP_TEXT(status));
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

	r = EXEC(st, sql, &res, SP_TEXT(id));
	if (r < 0)
		return r;
	r = (int)store_res_int(res, 0, 0, -1);
	store_res_free(res);
	return r;
}

int store_report_accept(struct store *st, const struct store_device *d, const struct store_report *rp)
{
	static const char upd[] = "UPDATE devices SET last_seq = $1, nonce = $2, last_hash = $3, last_report = $4,"
				  " report_time = $5, compliant = $6, failing = $7, last_checks = $8,"
				  " policy_sha256 = $9, agent_version = $10, chain_gaps = chain_gaps + $11"
				  " WHERE id = $12 AND last_seq = $13 AND nonce = $14 RETURNING id";
	static const char ins[] = "INSERT INTO reports (device_id, seq, received, time, compliant, chain_gap,"
				  " checks, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
	/* PostgreSQL: the same two statements as one (UPDATE in a CTE is PostgreSQL only): one
	 * round trip instead of four, atomic on its own; a unique violation undoes the UPDATE. */
	static const char pg[] = "WITH u AS (UPDATE devices SET last_seq = $1, nonce = $2, last_hash = $3,"
				 " last_report = $4, report_time = $5, compliant = $6, failing = $7, last_checks = $8,"
				 " policy_sha256 = $9, agent_version = $10, chain_gaps = chain_gaps + $11"
				 " WHERE id = $12 AND last_seq = $13 AND nonce = $14 RETURNING id)"
				 " INSERT INTO reports (device_id, seq, received, time, compliant, chain_gap, checks, body)"
				 " SELECT id, $1::bigint, $4::bigint, $5::bigint, $6::integer, $11::integer, $8::text,"
				 " $15::text FROM u RETURNING device_id";
	struct store_res *res = NULL;
	int r;

	if (strcmp(st->drv->name, "postgresql") == 0) {
		r = EXEC(st, pg, &res, SP_INT(rp->seq), SP_TEXT(rp->new_nonce), SP_TEXT(rp->hash),
			 SP_INT(rp->received), SP_INT(rp->time), SP_INT(rp->compliant), SP_TEXT(rp->failing),
			 SP_TEXT(rp->checks_json), SP_TEXT(rp->policy_sha256), SP_TEXT(rp->agent_version),
			 SP_INT(rp->chain_gap), SP_TEXT(d->id), SP_INT(d->last_seq), SP_TEXT(d->nonce),
			 SP_TEXT(rp->body));
		if (r == 0 && res->nrows != 1)
			r = -ESTALE;
		store_res_free(res);
		return r;
	}
	r = store_begin(st);
	if (r < 0)
		return r;
	r = EXEC(st, upd, &res, SP_INT(rp->seq), SP_TEXT(rp->new_nonce), SP_TEXT(rp->hash),
		 SP_INT(rp->received), SP_INT(rp->time), SP_INT(rp->compliant), SP_TEXT(rp->failing),
		 SP_TEXT(rp->checks_json), SP_TEXT(rp->policy_sha256), SP_TEXT(rp->agent_version),
		 SP_INT(rp->chain_gap), SP_TEXT(d->id), SP_INT(d->last_seq), SP_TEXT(d->nonce));
	if (r < 0)
		goto fail;
	if (res->nrows != 1) {
		r = -ESTALE;
		goto fail;
	}
	r = EXEC(st, ins, NULL, SP_TEXT(d->id), SP_INT(rp->seq), SP_INT(rp->received), SP_INT(rp->time),
		 SP_INT(rp->compliant), SP_INT(rp->chain_gap), SP_TEXT(rp->checks_json), SP_TEXT(rp->body));
	if (r < 0)
		goto fail;
	store_res_free(res);
	return store_commit(st);
fail:
	store_res_free(res);
	store_rollback(st);
	return r;
}

/* ---- events ---- */

int store_event_insert(struct store *st, const char *device_id, const char *uuid, long long time,
		       long long received, const char *type, const char *body)
{
	static const char sql[] = "INSERT INTO events (device_id, uuid, time, received, type, body)"
				  " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, uuid) DO NOTHING"
				  " RETURNING uuid";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(device_id), SP_TEXT(uuid), SP_INT(time), SP_INT(received),
		 SP_TEXT(type), SP_TEXT(body));
	if (r < 0)
		return r;
	r = res->nrows ? 1 : 0;
	store_res_free(res);
	return r;
}

/* ---- policies ---- */

int store_policy_put(struct store *st, const char *sha256, const char *name, const char *version,
		     const char *text, const char *signature, long long report_interval, long long now)
{
	static const char sql[] = "INSERT INTO policies (sha256, name, version, text, signature, report_interval,"
				  " uploaded) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO UPDATE"
				  " SET uploaded = $7, name = $2, version = $3, signature = $5, report_interval = $6";

	return EXEC(st, sql, NULL, SP_TEXT(sha256), SP_TEXT(name), SP_TEXT(version), SP_TEXT(text),
		    SP_TEXT(signature), report_interval > 0 ? SP_INT(report_interval) : SP_NULL, SP_INT(now));
}

int store_policy_current(struct store *st, json_t **ret)
{
	static const char sql[] = "SELECT name, version, sha256, text, signature, report_interval, uploaded"
				  " FROM policies ORDER BY uploaded DESC, sha256 LIMIT 1";
	static const char *const spec[] = { "name:s", "version:s", "sha256:s", "text:s", "signature:s",
					    "report_interval:i", "uploaded:i", NULL };
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
	arr = rows_json(res, spec);
	store_res_free(res);
	if (!arr)
		return -ENOMEM;
	*ret = json_incref(json_array_get(arr, 0));
	json_decref(arr);
	return 0;
}

/* ---- alerts ---- */

int store_alert_insert(struct store *st, const char *id, long long now, const char *device_id,
		       const char *rule, const char *severity, const char *message, const char *dedup_key,
		       bool suppressed, const char *const *sinks)
{
	static const char ins[] = "INSERT INTO alerts (id, created, device_id, rule, severity, message, dedup_key,"
				  " suppressed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
				  " ON CONFLICT (dedup_key) DO NOTHING RETURNING id";
	static const char del[] = "INSERT INTO deliveries (alert_id, sink, state, attempts, next_attempt,"
				  " claimed_until) VALUES ($1, $2, 'pending', 0, $3, 0)";
	struct store_res *res = NULL;
	int r;

	r = store_begin(st);
	if (r < 0)
		return r;
	r = EXEC(st, ins, &res, SP_TEXT(id), SP_INT(now), SP_TEXT(device_id), SP_TEXT(rule), SP_TEXT(severity),
		 SP_TEXT(message), SP_TEXT(dedup_key), SP_INT(suppressed));
	if (r < 0)
		goto fail;
	if (res->nrows == 0) {
		store_res_free(res);
		r = store_commit(st);
		return r < 0 ? r : 0;
	}
	for (size_t i = 0; !suppressed && sinks && sinks[i]; i++) {
		r = EXEC(st, del, NULL, SP_TEXT(id), SP_TEXT(sinks[i]), SP_INT(now));
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

int store_alert_count_since(struct store *st, const char *device_id, const char *rule, long long since)
{
	static const char sql[] = "SELECT COUNT(*) FROM alerts WHERE device_id = $1 AND rule = $2 AND created >= $3";
	struct store_res *res;
	int r;

	r = EXEC(st, sql, &res, SP_TEXT(device_id ? device_id : ""), SP_TEXT(rule), SP_INT(since));
	if (r < 0)
		return r;
	r = (int)store_res_int(res, 0, 0, 0);
	store_res_free(res);
	return r;
}

int store_delivery_claim(struct store *st, long long now, long long lease, long long max, json_t **ret)
{
	static const char due[] = "SELECT d.alert_id, d.sink FROM deliveries d WHERE d.state = 'pending'"
				  " AND d.next_attempt <= $1 AND d.claimed_until <= $1 ORDER BY d.next_attempt LIMIT $2";
	static const char claim[] = "UPDATE deliveries SET claimed_until = $1 WHERE alert_id = $2 AND sink = $3"
				    " AND state = 'pending' AND claimed_until <= $4 RETURNING attempts";
	static const char info[] = "SELECT device_id, rule, severity, message, created FROM alerts WHERE id = $1";
	struct store_res *res = NULL, *c = NULL, *a = NULL;
	json_t *arr;
	int r;

	r = EXEC(st, due, &res, SP_INT(now), SP_INT(max));
	if (r < 0)
		return r;
	arr = json_array();
	if (!arr) {
		store_res_free(res);
		return -ENOMEM;
	}
	for (size_t i = 0; i < res->nrows; i++) {
		const char *aid = store_res_get(res, i, 0), *sink = store_res_get(res, i, 1);

		r = EXEC(st, claim, &c, SP_INT(now + lease), SP_TEXT(aid), SP_TEXT(sink), SP_INT(now));
		if (r < 0)
			goto fail;
		if (c->nrows == 1) {
			r = EXEC(st, info, &a, SP_TEXT(aid));
			if (r < 0)
				goto fail;
			if (a->nrows == 1)
				json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:s?, s:s, s:s, s:s, s:I}",
					"alert_id", aid, "sink", sink, "attempts", (json_int_t)store_res_int(c, 0, 0, 0),
					"device_id", store_res_get(a, 0, 0), "rule", store_res_get(a, 0, 1) ?: "",
					"severity", store_res_get(a, 0, 2) ?: "", "message", store_res_get(a, 0, 3) ?: "",
					"created", (json_int_t)store_res_int(a, 0, 4, 0)));
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
	static const char sql[] = "UPDATE deliveries SET state = $3, attempts = attempts + 1, next_attempt = $4,"
				  " claimed_until = 0, last_error = $5 WHERE alert_id = $1 AND sink = $2";

	return EXEC(st, sql, NULL, SP_TEXT(alert_id), SP_TEXT(sink),
		    SP_TEXT(ok ? "delivered" : give_up ? "failed" : "pending"), SP_INT(next_attempt),
		    SP_TEXT(ok ? NULL : error));
}

/* ---- state ---- */

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
	static const char sql[] = "SELECT id, hostname, last_report, last_seq FROM devices WHERE status = 'approved'"
				  " AND last_report > 0 AND last_report + 2 * report_interval + $2 < $1";

	return EXEC(st, sql, ret, SP_INT(now), SP_INT(grace));
}

static const char device_cols[] =
	"SELECT id, hostname, status, enrolled, last_seq, last_report, report_time, report_interval, compliant,"
	" failing, last_checks, policy_sha256, agent_version, chain_gaps, facts, public_key FROM devices";
static const char *const device_spec[] = { "id:s", "hostname:s", "status:s", "enrolled:i", "last_seq:i",
					   "last_report:i", "report_time:i", "report_interval:i", "-",
					   "failing:s", "checks:j", "policy_sha256:s", "agent_version:s",
					   "chain_gaps:i", "facts:j", "public_key:s", NULL };

static int devices_query(struct store *st, const char *sql, const char *id, long long now, long long grace,
			 json_t **ret)
{
	struct store_res *res;
	json_t *arr;
	int r;

	r = id ? EXEC(st, sql, &res, SP_TEXT(id)) : store_exec(st, sql, NULL, 0, &res);
	if (r < 0)
		return r;
	arr = rows_json(res, device_spec);
	for (size_t i = 0; arr && i < res->nrows; i++) {
		const char *state = device_state(store_res_get(res, i, 2), store_res_int(res, i, 5, 0),
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

int store_device_states(struct store *st, long long now, long long grace, json_t **ret)
{
	static const char *const states[] = { "compliant", "noncompliant", "stale", "never_reported", "pending",
					      "revoked", NULL };
	json_t *arr, *o, *d;
	size_t i;
	int r;

	r = store_device_list(st, now, grace, &arr);
	if (r < 0)
		return r;
	o = json_object();
	for (i = 0; states[i]; i++)
		json_object_set_new(o, states[i], json_integer(0));
	json_array_foreach(arr, i, d) {
		const char *s = json_string_value(json_object_get(d, "state"));

		json_object_set_new(o, s, json_integer(json_integer_value(json_object_get(o, s)) + 1));
	}
	json_decref(arr);
	*ret = o;
	return 0;
}

int store_device_detail(struct store *st, const char *id, long long now, long long grace, json_t **ret)
{
	static char sql[sizeof(device_cols) + 64];
	static const char rsql[] = "SELECT seq, received, time, compliant, chain_gap, checks FROM reports"
				   " WHERE device_id = $1 ORDER BY seq DESC LIMIT 50";
	static const char *const rspec[] = { "seq:i", "received:i", "time:i", "compliant:b", "chain_gap:b",
					     "checks:j", NULL };
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
	r = EXEC(st, rsql, &res, SP_TEXT(id));
	if (r < 0)
		goto fail;
	json_object_set_new(dev, "reports", rows_json(res, rspec));
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

int store_events_list(struct store *st, const char *device_id, long long limit, json_t **ret)
{
	static const char all[] = "SELECT e.device_id, d.hostname, e.uuid, e.time, e.received, e.type, e.body"
				  " FROM events e LEFT JOIN devices d ON d.id = e.device_id"
				  " ORDER BY e.received DESC, e.time DESC LIMIT $1";
	static const char one[] = "SELECT e.device_id, d.hostname, e.uuid, e.time, e.received, e.type, e.body"
				  " FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE e.device_id = $2"
				  " ORDER BY e.received DESC, e.time DESC LIMIT $1";
	static const char *const spec[] = { "device_id:s", "hostname:s", "uuid:s", "time:i", "received:i",
					    "type:s", "event:j", NULL };
	struct store_res *res;
	int r;

	r = device_id ? EXEC(st, one, &res, SP_INT(limit), SP_TEXT(device_id)) : EXEC(st, all, &res, SP_INT(limit));
	if (r < 0)
		return r;
	*ret = rows_json(res, spec);
	store_res_free(res);
	return *ret ? 0 : -ENOMEM;
}

int store_alerts_list(struct store *st, const char *device_id, long long limit, json_t **ret)
{
	static const char all[] = "SELECT a.id, a.created, a.device_id, a.rule, a.severity, a.message, a.suppressed,"
				  " d.sink, d.state, d.attempts, d.last_error FROM alerts a LEFT JOIN deliveries d"
				  " ON d.alert_id = a.id WHERE a.id IN (SELECT id FROM alerts"
				  " ORDER BY created DESC, id LIMIT $1) ORDER BY a.created DESC, a.id, d.sink";
	static const char one[] = "SELECT a.id, a.created, a.device_id, a.rule, a.severity, a.message, a.suppressed,"
				  " d.sink, d.state, d.attempts, d.last_error FROM alerts a LEFT JOIN deliveries d"
				  " ON d.alert_id = a.id WHERE a.id IN (SELECT id FROM alerts WHERE device_id = $2"
				  " ORDER BY created DESC, id LIMIT $1) ORDER BY a.created DESC, a.id, d.sink";
	static const char *const spec[] = { "id:s", "created:i", "device_id:s", "rule:s", "severity:s", "message:s",
					    "suppressed:b", NULL };
	struct store_res *res;
	json_t *arr, *out, *cur = NULL;
	const char *cur_id = NULL;
	int r;

	r = device_id ? EXEC(st, one, &res, SP_INT(limit), SP_TEXT(device_id)) : EXEC(st, all, &res, SP_INT(limit));
	if (r < 0)
		return r;
	arr = rows_json(res, spec);
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
				json_pack("{s:s, s:s, s:I, s:s?}", "sink", store_res_get(res, i, 7),
					  "state", store_res_get(res, i, 8) ?: "",
					  "attempts", (json_int_t)store_res_int(res, i, 9, 0),
					  "last_error", store_res_get(res, i, 10)));
	}
	store_res_free(res);
	json_decref(arr);
	if (!out)
		return -ENOMEM;
	*ret = out;
	return 0;
}

int store_summary(struct store *st, long long now, long long grace, long long hours, json_t **ret)
{
	static const char ts[] = "SELECT b, SUM(c), COUNT(*) FROM (SELECT device_id, received / 3600 AS b,"
				 " MIN(compliant) AS c FROM reports WHERE received >= $1 GROUP BY device_id, received / 3600)"
				 " t GROUP BY b ORDER BY b";
	static const char *const viol_rules = "noncompliant client_blocked client_unapproved injection attachment_exec "
					      "verification_failed chain_gap";
	struct store_res *res = NULL;
	json_t *devs = NULL, *out, *states, *fails, *series, *alerts, *viol, *d, *a;
	size_t i;
	int r;

	r = store_device_list(st, now, grace, &devs);
	if (r < 0)
		return r;
	out = json_object();
	states = json_object();
	fails = json_object();
	series = json_array();
	viol = json_array();
	json_object_set_new(states, "compliant", json_integer(0));
	json_object_set_new(states, "noncompliant", json_integer(0));
	json_object_set_new(states, "stale", json_integer(0));
	json_object_set_new(states, "never_reported", json_integer(0));
	json_object_set_new(states, "pending", json_integer(0));
	json_object_set_new(states, "revoked", json_integer(0));
	json_array_foreach(devs, i, d) {
		const char *s = json_string_value(json_object_get(d, "state")), *cid;
		json_t *checks = json_object_get(d, "checks"), *cst;

		json_object_set_new(states, s, json_integer(json_integer_value(json_object_get(states, s)) + 1));
		if (strcmp(s, "revoked") == 0 || !json_is_object(checks))
			continue;
		json_object_foreach(checks, cid, cst) {
			json_t *f = json_object_get(fails, cid);

			if (!f) {
				f = json_pack("{s:i, s:i, s:i}", "fail", 0, "warn", 0, "pass", 0);
				json_object_set_new(fails, cid, f);
			}
			if (json_is_string(cst) && json_object_get(f, json_string_value(cst)))
				json_object_set_new(f, json_string_value(cst),
					json_integer(json_integer_value(json_object_get(f, json_string_value(cst))) + 1));
		}
	}
	json_object_set_new(out, "devices", json_integer((json_int_t)json_array_size(devs)));
	json_object_set_new(out, "states", states);
	json_object_set_new(out, "checks", fails);
	json_decref(devs);

	r = EXEC(st, ts, &res, SP_INT(now - hours * 3600));
	if (r < 0)
		goto fail;
	for (i = 0; i < res->nrows; i++) {
		long long c = store_res_int(res, i, 1, 0), n = store_res_int(res, i, 2, 0);

		json_array_append_new(series, json_pack("{s:I, s:I, s:I}", "time", (json_int_t)store_res_int(res, i, 0, 0) * 3600,
							"compliant", (json_int_t)c, "noncompliant", (json_int_t)(n - c)));
	}
	store_res_free(res);
	json_object_set_new(out, "series", series);
	series = NULL;

	r = store_alerts_list(st, NULL, 200, &alerts);
	if (r < 0)
		goto fail;
	json_array_foreach(alerts, i, a) {
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
