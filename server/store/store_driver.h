/* The store's plumbing: one database connection (struct store), the driver interface the two
 * backends implement (store_sqlite.c, store_pg.c), statements and their result rows. The
 * drivers and the per-table queries use this; nothing here calls either of them except through
 * the ops table. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

struct store;

enum store_param_type {
	STORE_NULL = 0,
	STORE_INT = 1,
	STORE_TEXT = 2
};
struct store_param {
	enum store_param_type type;
	long long i;
	const char *s;
};
#define SP_INT(v) ((struct store_param){ .type = STORE_INT, .i = (v) })
static inline struct store_param store_param_text(const char *s)
{
	return (struct store_param){ .type = s ? STORE_TEXT : STORE_NULL, .s = s };
}
#define SP_TEXT(v) store_param_text(v)
#define SP_NULL ((struct store_param){ .type = STORE_NULL })

struct store_res {
	size_t nrows, ncols;
	char **cells; /* nrows * ncols, NULL for SQL NULL */
};

struct store_driver {
	const char *name; /* "sqlite" or "postgresql" */
	int (*exec)(struct store *st, const char *sql, const struct store_param *p, size_t np,
		    struct store_res **ret);
	int (*begin)(struct store *st); /* a write transaction */
	int (*commit)(struct store *st);
	int (*rollback)(struct store *st);
	int (*script)(struct store *st, const char *sql); /* several statements, no parameters */
	void (*close)(struct store *st);
};

struct store {
	const struct store_driver *drv;
	void *conn;
	char errmsg[256];
};

/* The drivers. On failure, err (may be NULL) receives the reason. */
int store_sqlite_open(const char *path, struct store **ret, char *err, size_t errlen);
int store_pg_open(const char *conninfo, struct store **ret, char *err, size_t errlen);
/* For the drivers' open: a zeroed struct store on drv with a zeroed connection of conn_size
 * bytes in st->conn; and the way out when opening failed (fills err, closes st, returns r). */
int store_conn_new(const struct store_driver *drv, size_t conn_size, struct store **ret);
int store_conn_fail(struct store *st, int r, char *err, size_t errlen);

void store_close(struct store *st);
const char *store_errmsg(const struct store *st);
const char *store_kind(const struct store *st);

int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);
int store_exec(struct store *st, const char *sql, const struct store_param *p, size_t np,
	       struct store_res **ret);
void store_res_free(struct store_res *r);
const char *store_res_get(const struct store_res *r, size_t row, size_t col);
long long store_res_int(const struct store_res *r, size_t row, size_t col, long long dflt);
/* Rows to a JSON array of objects. spec: "name:s" text, "name:i" integer, "name:b" boolean,
 * "name:j" JSON text (parsed; kept as a string when not JSON), "-" skip the column. */
json_t *store_res_json(const struct store_res *res, const char *const *spec);

/* store_exec() with the parameters as a list: STORE_EXEC(st, sql, &res, SP_TEXT(id), SP_INT(n)). */
#define STORE_EXEC(st, sql, res, ...)                                        \
	store_exec((st), (sql), (const struct store_param[]){ __VA_ARGS__ }, \
		   sizeof((const struct store_param[]){ __VA_ARGS__ }) /     \
			   sizeof(struct store_param),                       \
		   (res))
