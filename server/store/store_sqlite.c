/* SQLite driver for server/store/store_driver.h: WAL mode, a busy timeout, prepared statements
 * cached per connection (keyed by the SQL text's address: the store's SQL is static strings). */
#include "server/store/store_driver.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 64

/* SQLite has one writer at a time; its busy handler sleeps (1, 2, 5, 10... ms) while waiting,
 * which shows up as tail latency. Threads of this process queue on a mutex instead; the busy
 * timeout still covers other processes (the CLI). */
static pthread_mutex_t write_lock = PTHREAD_MUTEX_INITIALIZER;

struct sq {
	sqlite3 *db;
	bool in_tx;
	struct {
		const char *sql;
		sqlite3_stmt *stmt;
	} cache[CACHE_SLOTS];
};

static int sq_err(struct store *st, sqlite3 *db)
{
	snprintf(st->errmsg, sizeof(st->errmsg), "sqlite: %s", sqlite3_errmsg(db));
	return -EIO;
}

static int sq_prepare(struct store *st, struct sq *q, const char *sql, sqlite3_stmt **ret)
{
	size_t h = ((uintptr_t)sql >> 4) % CACHE_SLOTS;
	sqlite3_stmt *s;

	if (q->cache[h].sql == sql) {
		*ret = q->cache[h].stmt;
		return 0;
	}
	if (sqlite3_prepare_v2(q->db, sql, -1, &s, NULL) != SQLITE_OK)
		return sq_err(st, q->db);
	if (q->cache[h].stmt)
		sqlite3_finalize(q->cache[h].stmt);
	q->cache[h].sql = sql;
	q->cache[h].stmt = s;
	*ret = s;
	return 0;
}

static int sq_exec(struct store *st, const char *sql, const struct store_param *p, size_t np,
		   struct store_res **ret)
{
	struct sq *q = st->conn;
	struct store_res *res = NULL;
	sqlite3_stmt *s;
	size_t cap = 0;
	int r, rc;

	r = sq_prepare(st, q, sql, &s);
	if (r < 0)
		return r;
	for (size_t i = 0; i < np; i++) {
		char name[24];
		int idx;

		snprintf(name, sizeof(name), "$%zu", i + 1);
		idx = sqlite3_bind_parameter_index(s, name);
		if (idx == 0)
			continue;
		if (p[i].type == STORE_INT)
			rc = sqlite3_bind_int64(s, idx, p[i].i);
		else if (p[i].type == STORE_TEXT)
			rc = sqlite3_bind_text(s, idx, p[i].s, -1, SQLITE_STATIC);
		else
			rc = sqlite3_bind_null(s, idx);
		if (rc != SQLITE_OK) {
			r = sq_err(st, q->db);
			goto out;
		}
	}
	if (ret) {
		res = calloc(1, sizeof(*res));
		if (!res) {
			r = -ENOMEM;
			goto out;
		}
		res->ncols = (size_t)sqlite3_column_count(s);
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!res || res->ncols == 0)
			continue;
		if ((res->nrows + 1) * res->ncols > cap) {
			size_t ncap = cap ? cap * 2 : res->ncols * 16;
			char **n = realloc(res->cells, ncap * sizeof(char *));

			if (!n) {
				r = -ENOMEM;
				goto out;
			}
			res->cells = n;
			cap = ncap;
		}
		for (size_t c = 0; c < res->ncols; c++) {
			const unsigned char *t = sqlite3_column_text(s, (int)c);
			char **cell = &res->cells[res->nrows * res->ncols + c];

			*cell = NULL;
			if (t && !(*cell = strdup((const char *)t))) {
				/* keep the row count consistent for store_res_free */
				for (size_t k = c + 1; k < res->ncols; k++)
					res->cells[res->nrows * res->ncols + k] = NULL;
				res->nrows++;
				r = -ENOMEM;
				goto out;
			}
		}
		res->nrows++;
	}
	if (rc != SQLITE_DONE) {
		r = rc == SQLITE_CONSTRAINT ? -EEXIST : sq_err(st, q->db);
		goto out;
	}
	r = 0;
	if (ret) {
		*ret = res;
		res = NULL;
	}
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	store_res_free(res);
	return r;
}

static int sq_simple(struct store *st, const char *sql)
{
	struct sq *q = st->conn;
	char *err = NULL;

	if (sqlite3_exec(q->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		snprintf(st->errmsg, sizeof(st->errmsg), "sqlite: %s", err ? err : "error");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

static int sq_begin(struct store *st)
{
	struct sq *q = st->conn;
	int r;

	pthread_mutex_lock(&write_lock);
	r = sq_simple(st, "BEGIN IMMEDIATE");
	if (r < 0)
		pthread_mutex_unlock(&write_lock);
	else
		q->in_tx = true;
	return r;
}

static int sq_end(struct store *st, const char *sql)
{
	struct sq *q = st->conn;
	int r = sq_simple(st, sql);

	if (r < 0 && strcmp(sql, "COMMIT") == 0)
		return r; /* still in the transaction: the caller rolls back */
	if (q->in_tx) {
		q->in_tx = false;
		pthread_mutex_unlock(&write_lock);
	}
	return r;
}

static int sq_commit(struct store *st)
{
	return sq_end(st, "COMMIT");
}

static int sq_rollback(struct store *st)
{
	return sq_end(st, "ROLLBACK");
}

static void sq_close(struct store *st)
{
	struct sq *q = st->conn;

	if (!q)
		return;
	for (size_t i = 0; i < CACHE_SLOTS; i++)
		sqlite3_finalize(q->cache[i].stmt);
	sqlite3_close(q->db);
	free(q);
}

static const struct store_driver sqlite_driver = {
	.name = "sqlite",
	.exec = sq_exec,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.script = sq_simple,
	.close = sq_close,
};

int store_sqlite_open(const char *path, struct store **ret, char *err, size_t errlen)
{
	struct store *st;
	struct sq *q;
	int r;

	r = store_conn_new(&sqlite_driver, sizeof(*q), &st);
	if (r < 0)
		return r;
	q = st->conn;
	if (sqlite3_open_v2(path, &q->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		r = q->db ? sq_err(st, q->db) : -ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(q->db, 5000);
	/* WAL + synchronous=NORMAL: a commit is a write() to the WAL, fsync only at checkpoints
	 * (an acknowledged report survives a crash of the process, not necessarily of the
	 * machine). */
	r = sq_simple(
		st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
	if (r < 0)
		goto fail;
	*ret = st;
	return 0;
fail:
	return store_conn_fail(st, r, err, errlen);
}
