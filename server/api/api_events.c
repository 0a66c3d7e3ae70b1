/* Watcher events: signed batches from devices (de-duplicated, alerts by rule), the admin list. */
#include "server/api/api_call.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "server/alerts.h"

#define MAX_EVENTS_PER_BATCH 1000

/* The event's time: integer "time" (unix seconds), else "ts" as the watcher writes it
 * (docs/events.md: RFC 3339 UTC, "2026-11-22T06:38:06.989903Z"). */
static bool event_time(const json_t *ev, long long *ret)
{
	const char *ts = json_string_value(json_object_get(ev, "ts"));
	struct tm tm = { 0 };
	const char *rest;

	if (api_json_int(ev, "time", ret))
		return true;
	if (!ts || !(rest = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm)))
		return false;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++)
			;
	if (strcmp(rest, "Z") != 0 && strcmp(rest, "+00:00") != 0)
		return false;
	*ret = (long long)timegm(&tm);
	return true;
}

/* Store the batch in one transaction; the new events that raise alerts go to alerts. */
static int events_store(struct api_call *c, const struct store_device *d, json_t *events,
			json_t *alerts, long long *accepted, long long *dups)
{
	json_t *ev;
	int r;

	r = store_begin(c->st);
	for (size_t i = 0; r >= 0 && i < json_array_size(events); i++) {
		char *txt;
		long long et = 0;

		ev = json_array_get(events, i);
		event_time(ev, &et);
		txt = json_dumps(ev, JSON_COMPACT | JSON_SORT_KEYS);
		if (!txt) {
			r = -ENOMEM;
			break;
		}
		r = store_event_insert(c->st, d->id, api_json_str(ev, "uuid", 64), et, c->now,
				       api_json_str(ev, "type", 64), txt);
		free(txt);
		if (r == 1) {
			struct alert_event ae;

			(*accepted)++;
			if (alert_event_classify(ev, &ae))
				json_array_append(alerts, ev);
		} else if (r == 0) {
			(*dups)++;
		}
	}
	if (r >= 0)
		r = store_commit(c->st);
	if (r < 0)
		store_rollback(c->st);
	return r;
}

int api_events(struct api_call *c)
{
	const struct api_endpoint ep = {
		.member = "batch",
		.what = "events",
		.refused = c->s->m.events_refused,
		.unknown = "device is not enrolled",
	};
	struct store_device d;
	struct api_signed sr;
	json_t *events, *ev, *alerts = NULL;
	const char *dev_id;
	size_t i;
	long long accepted = 0, dups = 0;
	int r = 0;

	if (!api_signed_open(c, &ep, &sr))
		goto out;
	dev_id = api_json_str(sr.obj, "device_id", 64);
	events = json_object_get(sr.obj, "events");
	if (!dev_id || !json_is_array(events) || json_array_size(events) > MAX_EVENTS_PER_BATCH) {
		r = api_refuse(c, &ep, SRV_MALFORMED,
			       "batch needs device_id and events[] (at most 1000)", NULL, NULL);
		goto out;
	}
	json_array_foreach (events, i, ev) {
		long long et;

		if (!api_json_str(ev, "uuid", 64) || !api_json_str(ev, "type", 64) ||
		    !event_time(ev, &et)) {
			r = api_refuse(
				c, &ep, SRV_MALFORMED,
				"every event needs uuid, type and time (integer) or ts (RFC 3339)",
				NULL, NULL);
			goto out;
		}
	}
	if (!api_device_auth(c, &ep, &sr, dev_id, &d, NULL))
		goto out;
	alerts = json_array();
	r = events_store(c, &d, events, alerts, &accepted, &dups);
	if (r < 0) {
		r = api_reply_db(c, r, "events");
		goto out;
	}
	srv_db_ok(c->s);
	atomic_fetch_add(&c->s->m.events_accepted, (unsigned long long)accepted);
	atomic_fetch_add(&c->s->m.events_duplicate, (unsigned long long)dups);
	json_array_foreach (alerts, i, ev) {
		struct alert_event ae;
		char text[4096], key[160];

		alert_event_classify(ev, &ae);
		alert_event_message(ev, &ae, d.hostname, d.id, text, sizeof(text));
		alert_event_key(ev, &ae, d.id, c->now, key, sizeof(key));
		alert_raise(c->s, c->st, c->now, d.id, ae.rule, ae.severity, text, key);
	}
	r = api_reply_json(c->rs, 200,
			   json_pack("{s:I, s:I}", "accepted", (json_int_t)accepted, "duplicates",
				     (json_int_t)dups));
out:
	json_decref(alerts);
	api_signed_close(&sr);
	return r;
}

int api_admin_events(struct api_call *c)
{
	return api_admin_list(c, store_events_list, "events");
}
