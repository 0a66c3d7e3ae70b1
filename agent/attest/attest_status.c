/* Status (agent/attest/attest_internal.h): the last report and how it went, persisted for
 * `wxguard status` in another process; the status JSON (agent/attest/attest.h). */
#include "agent/attest/attest_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/attest/identity.h"
#include "agent/attest/policy_fetch.h"
#include "agent/attest/spool.h"
#include "agent/uplink/uplink.h"
#include "common/fileio.h"

/* ---- the persisted last report ---- */

void attest_status_save_last(struct attest *a)
{
	json_t *o;
	char *text;

	o = json_pack("{s:I, s:I, s:s, s:s, s:O?}", "sent", (json_int_t)a->last_sent_time,
		      "accepted", (json_int_t)a->last_accepted_time, "result", a->last_result,
		      "error", a->last_error, "report", a->last_sent);
	if (!o)
		return;
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	if (text)
		write_file_atomic(a->last_path, text, strlen(text), 0644);
	free(text);
}

void attest_status_load_last(struct attest *a)
{
	json_t *last = json_load_file(a->last_path, 0, NULL);

	if (!last)
		return;
	a->last_sent = json_incref(json_object_get(last, "report"));
	a->last_sent_time = (time_t)json_integer_value(json_object_get(last, "sent"));
	a->last_accepted_time = (time_t)json_integer_value(json_object_get(last, "accepted"));
	snprintf(a->last_result, sizeof(a->last_result), "%s",
		 json_string_value(json_object_get(last, "result")) ?: "");
	json_decref(last);
}

/* ---- status ---- */

static json_t *status_common(const struct identity *id, const char *server)
{
	return json_pack("{s:b, s:s?, s:s?, s:b, s:s}", "enrolled", identity_enrolled(id),
			 "device_id", id->device_id, "server", server, "approved", id->approved,
			 "public_key", id->public_key_b64);
}

static json_t *spool_json(const struct spool_stats *st)
{
	return json_pack("{s:I, s:I, s:I, s:I}", "depth", (json_int_t)st->depth, "bytes",
			 (json_int_t)st->bytes, "evicted", (json_int_t)st->evicted, "corrupt",
			 (json_int_t)st->corrupt);
}

int attest_status_json(struct attest *a, json_t **ret)
{
	struct spool_stats st;
	uint64_t now = now_usec(a);
	json_t *o;

	spool_get_stats(a->spool, &st);
	o = status_common(a->id, a->server_url);
	if (!o)
		return -ENOMEM;
	json_object_set_new(
		o, "enrollment",
		json_pack("{s:s, s:s}", "state", a->enroll_state, "error", a->enroll_error));
	json_object_set_new(
		o, "report",
		json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "seq", (json_int_t)a->chain.seq,
			  "last_result", a->last_result, "last_error", a->last_error, "last_sent",
			  (json_int_t)a->last_sent_time, "last_accepted",
			  (json_int_t)a->last_accepted_time, "next_in_s",
			  (json_int_t)(armed(a->report_timer) && a->next_report_usec > now
					       ? (a->next_report_usec - now) / USEC_PER_SEC
					       : 0),
			  "interval_s",
			  (json_int_t)(a->pol_interval      ? a->pol_interval
				       : a->server_interval ? a->server_interval
							    : DEFAULT_INTERVAL_S)));
	json_object_set(o, "last_report", a->last_sent ? a->last_sent : json_null());
	json_object_set_new(o, "spool", spool_json(&st));
	json_object_set_new(o, "events",
			    json_pack("{s:I, s:I, s:I, s:s, s:I}", "sent",
				      (json_int_t)a->events_sent, "duplicates",
				      (json_int_t)a->events_dup, "rejected",
				      (json_int_t)a->events_rejected, "last_error", a->events_error,
				      "retry_attempt", (json_int_t)a->events_attempt));
	json_object_set_new(
		o, "watcher",
		a->have_watcher
			? json_pack("{s:s, s:s, s:I, s:I, s:I, s:s}", "state", a->w_state,
				    "enforcement", a->w_enf, "events", (json_int_t)a->w_events,
				    "drops", (json_int_t)a->w_drops, "kills",
				    (json_int_t)a->w_kills, "summary", a->w_ladder.summary)
			: json_null());
	{
		char cur[HASH_SHA256_HEX] = "";

		policy_fetch_current_sha256(a->policy_dir, cur);
		json_object_set_new(o, "policy",
				    json_pack("{s:s?, s:s?, s:s}", "server_sha256",
					      cur[0] ? cur : NULL, "wanted_sha256",
					      a->policy_want[0] ? a->policy_want : NULL,
					      "last_error", a->policy_error));
	}
	if (a->uplink) {
		struct uplink_info ui;

		uplink_get_info(a->uplink, &ui);
		json_object_set_new(
			o, "uplink",
			json_pack("{s:s, s:I, s:b, s:I, s:s}", "isolation",
				  ui.isolation == UPLINK_ISOLATION_CHILD ? "child" : "none",
				  "child_pid", (json_int_t)ui.child_pid, "child_ready",
				  ui.child_ready, "child_starts", (json_int_t)ui.child_starts,
				  "last_error", ui.last_error));
	}
	*ret = o;
	return 0;
}

int attest_status_read(const struct agent_config *cfg, json_t **ret)
{
	struct identity *id = NULL;
	struct report_chain chain;
	struct spool_stats st = { 0 };
	char path[PATH_MAX];
	json_t *o, *last;
	int r;

	/* Never create a key from a status command: only read an existing state directory. */
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, IDENTITY_KEY_FILE);
	if (access(path, R_OK) < 0)
		return -errno;
	r = identity_load(cfg->state_dir, &id);
	if (r < 0)
		return r;
	o = status_common(id, cfg->server_url ? cfg->server_url : id->server_url);
	if (!o) {
		identity_free(id);
		return -ENOMEM;
	}
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, REPORT_STATE_FILE);
	if (report_chain_load(path, &chain) == 0)
		json_object_set_new(o, "report", json_pack("{s:I}", "seq", (json_int_t)chain.seq));
	report_chain_clear(&chain);
	snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, REPORT_LAST_FILE);
	last = json_load_file(path, 0, NULL);
	json_object_set(o, "last_report", last ? json_object_get(last, "report") : json_null());
	if (last) {
		json_t *rep = json_object_get(o, "report");

		if (rep) {
			json_object_set(rep, "last_result", json_object_get(last, "result"));
			json_object_set(rep, "last_sent", json_object_get(last, "sent"));
			json_object_set(rep, "last_accepted", json_object_get(last, "accepted"));
		}
	}
	json_decref(last);
	snprintf(path, sizeof(path), "%s/spool", cfg->state_dir);
	spool_stat_dir(path, &st);
	json_object_set_new(o, "spool", spool_json(&st));
	identity_free(id);
	*ret = o;
	return 0;
}
