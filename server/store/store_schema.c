/* The schema (one for both backends) and the wxg_meta table. */
#include "server/store/store.h"

#include <errno.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "common/hash.h"

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS wxg_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS tokens (id TEXT PRIMARY KEY, secret_sha256 TEXT NOT NULL "
	"UNIQUE,"
	" uses_left BIGINT NOT NULL, uses_total BIGINT NOT NULL, expires BIGINT NOT NULL,"
	" hold INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, created BIGINT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS devices (id TEXT PRIMARY KEY, public_key TEXT NOT NULL UNIQUE,"
	" token_id TEXT, hostname TEXT, facts TEXT, status TEXT NOT NULL, enrolled BIGINT NOT NULL,"
	" last_seq BIGINT NOT NULL, nonce TEXT NOT NULL, last_hash TEXT NOT NULL,"
	" last_report BIGINT NOT NULL DEFAULT 0, report_time BIGINT, report_interval BIGINT NOT "
	"NULL,"
	" compliant INTEGER, failing TEXT, last_checks TEXT, policy_sha256 TEXT, agent_version "
	"TEXT,"
	" chain_gaps BIGINT NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS reports (device_id TEXT NOT NULL, seq BIGINT NOT NULL,"
	" received BIGINT NOT NULL, time BIGINT NOT NULL, compliant INTEGER NOT NULL,"
	" chain_gap INTEGER NOT NULL, checks TEXT, body TEXT NOT NULL, PRIMARY KEY (device_id, "
	"seq));"
	"CREATE INDEX IF NOT EXISTS reports_received ON reports (received);"
	"CREATE TABLE IF NOT EXISTS events (device_id TEXT NOT NULL, uuid TEXT NOT NULL,"
	" time BIGINT NOT NULL, received BIGINT NOT NULL, type TEXT NOT NULL, body TEXT NOT NULL,"
	" PRIMARY KEY (device_id, uuid));"
	"CREATE INDEX IF NOT EXISTS events_received ON events (received);"
	"CREATE TABLE IF NOT EXISTS alerts (id TEXT PRIMARY KEY, created BIGINT NOT NULL, "
	"device_id TEXT,"
	" rule TEXT NOT NULL, severity TEXT NOT NULL, message TEXT NOT NULL,"
	" dedup_key TEXT NOT NULL UNIQUE, suppressed INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS alerts_dev_rule ON alerts (device_id, rule, created);"
	"CREATE INDEX IF NOT EXISTS alerts_created ON alerts (created);"
	"CREATE TABLE IF NOT EXISTS deliveries (alert_id TEXT NOT NULL, sink TEXT NOT NULL,"
	" state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt BIGINT NOT NULL,"
	" claimed_until BIGINT NOT NULL DEFAULT 0, last_error TEXT, PRIMARY KEY (alert_id, sink));"
	"CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (state, next_attempt);"
	"CREATE TABLE IF NOT EXISTS policies (sha256 TEXT PRIMARY KEY, name TEXT, version TEXT,"
	" text TEXT NOT NULL, signature TEXT NOT NULL, report_interval BIGINT, uploaded BIGINT NOT "
	"NULL);";

/* Schema version 2 (the backend ladder): the watcher of each device's last report (JSON), its
 * policy mode and whether it is in enforce mode without enforcing (the not_enforcing alert's
 * state); an alert's clearing time. Added to existing databases in place. */
static const char schema_v2[] = "ALTER TABLE devices ADD COLUMN watcher TEXT;"
				"ALTER TABLE devices ADD COLUMN policy_mode TEXT;"
				"ALTER TABLE devices ADD COLUMN not_enforcing INTEGER NOT NULL "
				"DEFAULT 0;"
				"ALTER TABLE alerts ADD COLUMN cleared BIGINT;"
				"UPDATE wxg_meta SET value = '2' WHERE key = 'schema_version'";

static int schema_version(struct store *st)
{
	struct store_res *res = NULL;
	int r;

	r = STORE_EXEC(st, "SELECT value FROM wxg_meta WHERE key = 'schema_version'", &res);
	if (r < 0)
		return r;
	r = (int)store_res_int(res, 0, 0, 0);
	store_res_free(res);
	return r;
}

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
	r = schema_version(st);
	if (r < 0)
		goto fail;
	if (r < 2) {
		r = st->drv->script(st, schema_v2);
		if (r < 0)
			goto fail;
	}
	return store_commit(st);
fail:
	store_rollback(st);
	return r;
}

int store_get_secret(struct store *st, const char *name, unsigned char out[32])
{
	static const char ins[] =
		"INSERT INTO wxg_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
	static const char sel[] = "SELECT value FROM wxg_meta WHERE key = $1";
	unsigned char rnd[32];
	char hex[65];
	struct store_res *res = NULL;
	const char *v;
	int r;

	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return -EIO;
	hash_to_hex(rnd, sizeof(rnd), hex);
	r = STORE_EXEC(st, ins, NULL, SP_TEXT(name), SP_TEXT(hex));
	if (r < 0)
		return r;
	r = STORE_EXEC(st, sel, &res, SP_TEXT(name));
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
