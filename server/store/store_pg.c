/* PostgreSQL driver for server/store/store_driver.h (libpq). Parameters are sent as text and typed
 * by the server from context; statements are prepared once per connection (cache keyed by the SQL
 * text's address). A lost connection is reset on the next call. */
#include "server/store/store_driver.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 64
/* Every statement is prepared once and run with the same shapes of parameters: plan it once
 * (a custom plan per execution re-plans, and planning stats the relations' files each time). */
#define SESSION_SETTINGS \
	"SET client_min_messages = warning; SET plan_cache_mode = force_generic_plan"

struct pg {
	PGconn *conn;
	bool in_tx;
	struct {
		const char *sql;
		char name[16];
	} cache[CACHE_SLOTS];
	unsigned next_id;
};

static int pg_err(struct store *st, const char *what, const PGresult *res)
{
	struct pg *g = st->conn;
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(g->conn);

	snprintf(st->errmsg, sizeof(st->errmsg), "postgresql: %s: %s", what,
		 msg && *msg ? msg : "error");
	/* strip libpq's trailing newline */
	st->errmsg[strcspn(st->errmsg, "\n")] = 0;
	if (state && strcmp(state, "23505") == 0)
		return -EEXIST; /* unique_violation */
	return -EIO;
}

/* A connection that broke (server restarted, network) is reset before the next statement;
 * prepared statements died with it. PQreset blocks for the connect: with a TCP conninfo, set
 * connect_timeout (docs/deploy-postgresql.md). */
static void pg_check_conn(struct pg *g)
{
	if (PQstatus(g->conn) != CONNECTION_OK) {
		PQreset(g->conn);
		memset(g->cache, 0, sizeof(g->cache));
		g->in_tx = false;
		if (PQstatus(g->conn) == CONNECTION_OK)
			PQclear(PQexec(g->conn, SESSION_SETTINGS));
	}
}

/* The statement failed because the connection is gone, not because of the statement. */
static bool pg_conn_lost(struct pg *g)
{
	return PQstatus(g->conn) != CONNECTION_OK;
}

static int pg_exec_once(struct store *st, const char *sql, const struct store_param *p, size_t np,
			struct store_res **ret)
{
	struct pg *g = st->conn;
	size_t h = ((uintptr_t)sql >> 4) % CACHE_SLOTS;
	const char *vals[32];
	char nums[32][24];
	struct store_res *res = NULL;
	PGresult *pr;
	int r;

	if (np > 32)
		return -E2BIG;
	pg_check_conn(g);
	if (g->cache[h].sql != sql) {
		char name[16];

		snprintf(name, sizeof(name), "s%u", g->next_id++);
		pr = PQprepare(g->conn, name, sql, 0, NULL);
		if (PQresultStatus(pr) != PGRES_COMMAND_OK) {
			r = pg_err(st, "prepare", pr);
			PQclear(pr);
			return r;
		}
		PQclear(pr);
		g->cache[h].sql = sql;
		memcpy(g->cache[h].name, name, sizeof(name));
	}
	for (size_t i = 0; i < np; i++) {
		if (p[i].type == STORE_INT) {
			snprintf(nums[i], sizeof(nums[i]), "%lld", p[i].i);
			vals[i] = nums[i];
		} else if (p[i].type == STORE_TEXT) {
			vals[i] = p[i].s;
		} else {
			vals[i] = NULL;
		}
	}
	pr = PQexecPrepared(g->conn, g->cache[h].name, (int)np, vals, NULL, NULL, 0);
	switch (PQresultStatus(pr)) {
	case PGRES_COMMAND_OK:
	case PGRES_TUPLES_OK: break;
	default:
		r = pg_err(st, "exec", pr);
		PQclear(pr);
		return r;
	}
	if (ret) {
		size_t n;

		res = calloc(1, sizeof(*res));
		if (!res) {
			PQclear(pr);
			return -ENOMEM;
		}
		res->nrows = (size_t)PQntuples(pr);
		res->ncols = (size_t)PQnfields(pr);
		n = res->nrows * res->ncols;
		res->cells = calloc(n ? n : 1, sizeof(char *));
		if (!res->cells) {
			free(res);
			PQclear(pr);
			return -ENOMEM;
		}
		for (size_t row = 0; row < res->nrows; row++)
			for (size_t c = 0; c < res->ncols; c++) {
				if (PQgetisnull(pr, (int)row, (int)c))
					continue;
				res->cells[row * res->ncols + c] = strdup(
					PQgetvalue(pr, (int)row, (int)c));
				if (!res->cells[row * res->ncols + c]) {
					store_res_free(res);
					PQclear(pr);
					return -ENOMEM;
				}
			}
		*ret = res;
	}
	PQclear(pr);
	return 0;
}

/* Outside a transaction a statement on a connection that broke since the last request (the
 * database restarted in between) is retried once on a fresh connection: the restart costs no
 * failed request. Inside one, the transaction is gone: the error goes up (503, retried). */
static int pg_exec(struct store *st, const char *sql, const struct store_param *p, size_t np,
		   struct store_res **ret)
{
	struct pg *g = st->conn;
	int r = pg_exec_once(st, sql, p, np, ret);

	if (r == -EIO && !g->in_tx && pg_conn_lost(g))
		r = pg_exec_once(st, sql, p, np, ret);
	return r;
}

static int pg_simple(struct store *st, const char *sql)
{
	struct pg *g = st->conn;
	PGresult *pr;
	int r = 0;

	pr = PQexec(g->conn, sql);
	if (PQresultStatus(pr) != PGRES_COMMAND_OK && PQresultStatus(pr) != PGRES_TUPLES_OK)
		r = pg_err(st, sql, pr);
	PQclear(pr);
	return r;
}

static int pg_begin(struct store *st)
{
	struct pg *g = st->conn;
	int r;

	pg_check_conn(g);
	r = pg_simple(st, "BEGIN");
	if (r == -EIO && pg_conn_lost(g)) { /* nothing done yet: retry on a fresh connection */
		pg_check_conn(g);
		r = pg_simple(st, "BEGIN");
	}
	g->in_tx = r == 0;
	return r;
}

static int pg_commit(struct store *st)
{
	struct pg *g = st->conn;

	g->in_tx = false;
	return pg_simple(st, "COMMIT");
}

static int pg_rollback(struct store *st)
{
	struct pg *g = st->conn;

	g->in_tx = false;
	return pg_simple(st, "ROLLBACK");
}

static void pg_close(struct store *st)
{
	struct pg *g = st->conn;

	if (!g)
		return;
	PQfinish(g->conn);
	free(g);
}

static const struct store_driver pg_driver = {
	.name = "postgresql",
	.exec = pg_exec,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.script = pg_simple,
	.close = pg_close,
};

int store_pg_open(const char *conninfo, struct store **ret, char *err, size_t errlen)
{
	struct store *st;
	struct pg *g;
	int r;

	r = store_conn_new(&pg_driver, sizeof(*g), &st);
	if (r < 0)
		return r;
	g = st->conn;
	g->conn = PQconnectdb(conninfo);
	if (!g->conn) {
		r = -ENOMEM;
		goto fail;
	}
	if (PQstatus(g->conn) != CONNECTION_OK) {
		r = pg_err(st, "connect", NULL);
		goto fail;
	}
	r = pg_simple(st, SESSION_SETTINGS);
	if (r < 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	return store_conn_fail(st, r, err, errlen);
}
