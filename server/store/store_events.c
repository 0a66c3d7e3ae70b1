/* Watcher events: de-duplicated by (device_id, uuid). */
#include "server/store/store.h"

#include <errno.h>

int store_event_insert(struct store *st, const char *device_id, const char *uuid, long long time,
		       long long received, const char *type, const char *body)
{
	static const char sql[] =
		"INSERT INTO events (device_id, uuid, time, received, type, body)"
		" VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (device_id, uuid) DO NOTHING"
		" RETURNING uuid";
	struct store_res *res;
	int r;

	r = STORE_EXEC(st, sql, &res, SP_TEXT(device_id), SP_TEXT(uuid), SP_INT(time),
		       SP_INT(received), SP_TEXT(type), SP_TEXT(body));
	if (r < 0)
		return r;
	r = res->nrows ? 1 : 0;
	store_res_free(res);
	return r;
}

int store_events_list(struct store *st, const char *device_id, long long limit, json_t **ret)
{
	static const char all[] =
		"SELECT e.device_id, d.hostname, e.uuid, e.time, e.received, e.type, e.body"
		" FROM events e LEFT JOIN devices d ON d.id = e.device_id"
		" ORDER BY e.received DESC, e.time DESC LIMIT $1";
	static const char one[] =
		"SELECT e.device_id, d.hostname, e.uuid, e.time, e.received, e.type, e.body"
		" FROM events e LEFT JOIN devices d ON d.id = e.device_id WHERE e.device_id = $2"
		" ORDER BY e.received DESC, e.time DESC LIMIT $1";
	static const char *const spec[] = { "device_id:s", "hostname:s", "uuid:s",  "time:i",
					    "received:i",  "type:s",     "event:j", NULL };
	struct store_res *res;
	int r;

	r = device_id ? STORE_EXEC(st, one, &res, SP_INT(limit), SP_TEXT(device_id))
		      : STORE_EXEC(st, all, &res, SP_INT(limit));
	if (r < 0)
		return r;
	*ret = store_res_json(res, spec);
	store_res_free(res);
	return *ret ? 0 : -ENOMEM;
}
