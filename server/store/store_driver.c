/* The store's plumbing: connections, the driver ops table, result rows. */
#include "server/store/store_driver.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int store_conn_new(const struct store_driver *drv, size_t conn_size, struct store **ret)
{
	struct store *st;

	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->conn = calloc(1, conn_size);
	if (!st->conn) {
		free(st);
		return -ENOMEM;
	}
	st->drv = drv;
	*ret = st;
	return 0;
}

int store_conn_fail(struct store *st, int r, char *err, size_t errlen)
{
	if (err)
		snprintf(err, errlen, "%s", st->errmsg[0] ? st->errmsg : strerror(-r));
	store_close(st);
	return r;
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

json_t *store_res_json(const struct store_res *res, const char *const *spec)
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
