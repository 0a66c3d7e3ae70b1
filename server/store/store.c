/* Opening a store: the URL picks the driver, then the schema is made current. */
#include "server/store/store.h"

#include <stdio.h>
#include <string.h>

int store_open(const char *url, struct store **ret, char *err, size_t errlen)
{
	struct store *st;
	int r;

	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		r = store_pg_open(url, &st, err, errlen);
	else if (strncmp(url, "pg:", 3) == 0)
		r = store_pg_open(url + 3, &st, err, errlen);
	else if (strncmp(url, "sqlite://", 9) == 0)
		r = store_sqlite_open(url + 9, &st, err, errlen); /* sqlite:///abs/path */
	else
		r = store_sqlite_open(strncmp(url, "sqlite:", 7) == 0 ? url + 7 : url, &st, err,
				      errlen);
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
