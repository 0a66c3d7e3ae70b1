/* Events (agent/attest/attest_internal.h): each watcher event goes to the durable spool
 * (agent/attest/spool.h) at once; batches of them go from the spool to the server, and leave it
 * only when the server has them. */
#include "agent/attest/attest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attest/identity.h"
#include "agent/attest/spool.h"
#include "agent/uplink/uplink.h"
#include "common/canon.h"
#include "common/log.h"
#include "common/sign.h"

#define BATCH_MAX_EVENTS 200
#define BATCH_MAX_BYTES (512u * 1024)

/* ---- events ---- */

static void send_events(struct attest *a);

static void on_events_reply(void *userdata, const struct uplink_response *resp)
{
	struct attest *a = userdata;
	const struct uplink_reply *y = resp->err ? NULL : resp->reply;
	struct spool_stats st;

	a->batch_in_flight = false;
	if (!resp->err && resp->status == 200) {
		/* The server has the batch (a malformed count changes nothing about that). */
		spool_ack(a->spool, a->batch_ids, a->batch_n);
		a->events_sent += a->batch_n;
		a->events_dup += y && y->valid ? y->duplicates : 0;
		a->events_attempt = 0;
		a->events_error[0] = 0;
		spool_get_stats(a->spool, &st);
		if (st.depth > 0)
			arm(a, a->events_timer, 0);
	} else {
		if (resp->err)
			snprintf(a->events_error, sizeof(a->events_error), "%s", resp->error);
		else
			snprintf(a->events_error, sizeof(a->events_error), "HTTP %ld: %s%s%.150s",
				 resp->status, y ? y->error : "",
				 y && y->error[0] && y->message[0] ? ": " : "",
				 y ? y->message : "");
		arm(a, a->events_timer, backoff(a, &a->events_attempt));
	}
	free(a->batch_ids);
	a->batch_ids = NULL;
	a->batch_n = 0;
}

static void send_events(struct attest *a)
{
	struct spool_record *v = NULL;
	json_t *events = NULL, *batch = NULL, *env = NULL;
	uint64_t *ids = NULL, *bad = NULL;
	size_t n = 0, nids = 0, nbad = 0;
	const char *step = "cannot send";
	char *text = NULL;
	int r;

	if (!enrolled(a) || a->batch_in_flight)
		return;
	r = spool_peek(a->spool, BATCH_MAX_EVENTS, BATCH_MAX_BYTES, &v, &n);
	if (r < 0)
		step = "cannot read the spool";
	if (r < 0 || n == 0)
		goto out;
	events = json_array();
	ids = calloc(n, sizeof(*ids));
	bad = calloc(n, sizeof(*bad));
	if (!events || !ids || !bad) {
		r = -ENOMEM;
		step = "cannot build the batch";
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		json_t *ev = json_loadb(v[i].data, v[i].len, 0, NULL);

		if (!json_is_object(ev)) {
			/* Cannot happen for what attest_on_event wrote; never let it block the
			 * queue. */
			json_decref(ev);
			bad[nbad++] = v[i].id;
			continue;
		}
		json_array_append_new(events, ev);
		ids[nids++] = v[i].id;
	}
	if (nbad) {
		spool_ack(a->spool, bad, nbad);
		a->events_rejected += nbad;
	}
	if (nids == 0) {
		arm(a, a->events_timer, 0);
		goto out;
	}
	batch = json_pack("{s:s, s:I, s:O}", "device_id", a->id->device_id, "time",
			  (json_int_t)time(NULL), "events", events);
	if (!batch) {
		r = -ENOMEM;
		step = "cannot build the batch";
		goto out;
	}
	r = sign_envelope(a->id->key, "batch", batch, &env);
	if (r < 0) {
		step = "cannot sign the batch";
		goto out;
	}
	text = json_dumps(env, JSON_COMPACT);
	if (!text) {
		r = -ENOMEM;
		step = "cannot serialize the batch";
		goto out;
	}
	r = uplink_request_typed(a->uplink, UPLINK_REPLY_EVENTS, "POST", "/api/v1/events", NULL,
				 text, strlen(text), on_events_reply, a);
	if (r < 0)
		goto out;
	a->batch_ids = ids;
	a->batch_n = nids;
	ids = NULL;
	a->batch_in_flight = true;
out:
	if (r < 0) {
		snprintf(a->events_error, sizeof(a->events_error), "%s: %s", step, strerror(-r));
		arm(a, a->events_timer, backoff(a, &a->events_attempt));
	}
	spool_records_free(v, n);
	free(ids);
	free(bad);
	free(text);
	json_decref(events);
	json_decref(batch);
	json_decref(env);
}

int attest_events_on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	send_events(userdata);
	return 0;
}

int attest_on_event(struct attest *a, const json_t *ev)
{
	char uuid[RANDOM_UUID_LEN], *text = NULL, *canon = NULL;
	json_t *copy;
	int r;

	if (!json_is_object(ev))
		return -EINVAL;
	r = random_uuid(uuid);
	if (r < 0)
		return r;
	copy = json_deep_copy(ev);
	if (!copy)
		return -ENOMEM;
	json_object_set_new(copy, "uuid", json_string(uuid));
	/* It will be signed: refuse now what canon cannot serialize, not at send time. */
	r = canon_dump(copy, &canon, NULL);
	if (r < 0) {
		a->events_rejected++;
		goto out;
	}
	text = json_dumps(copy, JSON_COMPACT);
	if (!text) {
		r = -ENOMEM;
		goto out;
	}
	r = spool_append(a->spool, text, strlen(text), NULL);
	if (r < 0)
		goto out;
	if (enrolled(a) && !a->batch_in_flight && !armed(a->events_timer))
		arm(a, a->events_timer, a->opts.batch_delay_usec);
out:
	free(canon);
	free(text);
	json_decref(copy);
	return r;
}

void attest_watch_hook(const json_t *ev, void *userdata)
{
	int r = attest_on_event(userdata, ev);

	if (r < 0)
		log_debug_errno(r, "attest: event not spooled");
}
