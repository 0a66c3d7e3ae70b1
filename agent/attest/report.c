#include "agent/attest/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/canon.h"
#include "common/fileio.h"
#include "common/hex.h"

void report_chain_clear(struct report_chain *c)
{
	if (!c)
		return;
	free(c->nonce);
	memset(c, 0, sizeof(*c));
}

int report_chain_set_nonce(struct report_chain *c, const char *nonce)
{
	char *n = NULL;

	if (nonce && !(n = strdup(nonce)))
		return -ENOMEM;
	free(c->nonce);
	c->nonce = n;
	return 0;
}

int report_chain_load(const char *path, struct report_chain *c)
{
	json_t *o, *seq, *ph, *nonce;
	int r = 0;

	memset(c, 0, sizeof(*c));
	strcpy(c->prev_hash, REPORT_ZERO_HASH);
	o = json_load_file(path, 0, NULL);
	if (!o)
		return access(path, F_OK) < 0 && errno == ENOENT ? 0 : -EBADMSG;
	seq = json_object_get(o, "seq");
	ph = json_object_get(o, "prev_hash");
	nonce = json_object_get(o, "nonce");
	if (!json_is_integer(seq) || json_integer_value(seq) < 0 ||
	    !hex_is_sha256(json_string_value(ph)) ||
	    !(json_is_string(nonce) || json_is_null(nonce) || !nonce)) {
		r = -EBADMSG;
		goto out;
	}
	c->seq = (uint64_t)json_integer_value(seq);
	strcpy(c->prev_hash, json_string_value(ph));
	if (json_is_string(nonce))
		r = report_chain_set_nonce(c, json_string_value(nonce));
out:
	json_decref(o);
	return r;
}

int report_chain_save(const char *path, const struct report_chain *c)
{
	json_t *o;
	char *text;
	int r;

	o = json_pack("{s:I, s:s, s:s?}", "seq", (json_int_t)c->seq, "prev_hash", c->prev_hash,
		      "nonce", c->nonce);
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_SORT_KEYS);
	json_decref(o);
	if (!text)
		return -ENOMEM;
	r = write_file_atomic(path, text, strlen(text), 0600);
	free(text);
	return r;
}

int report_chain_next(struct report_chain *c, const char *path, uint64_t *ret_seq)
{
	int r;

	c->seq++;
	r = report_chain_save(path, c);
	if (r < 0) {
		c->seq--;
		return r;
	}
	*ret_seq = c->seq;
	return 0;
}

int report_chain_accepted(struct report_chain *c, const char *path, const json_t *report,
			  const char *nonce)
{
	char hex[HASH_SHA256_HEX];
	int r;

	r = canon_sha256(report, hex);
	if (r < 0)
		return r;
	if (nonce) {
		r = report_chain_set_nonce(c, nonce);
		if (r < 0)
			return r;
	}
	memcpy(c->prev_hash, hex, sizeof(hex));
	return report_chain_save(path, c);
}

json_t *report_check_json(const struct check_result *r)
{
	json_t *ev, *o;

	ev = json_object();
	if (!ev)
		return NULL;
	for (size_t i = 0; i < r->n_evidence; i++) {
		const char *k = r->evidence[i].key,
			   *v = r->evidence[i].value ? r->evidence[i].value : "";
		json_t *old = json_object_get(ev, k);

		if (!old)
			json_object_set_new(ev, k, json_string(v));
		else if (json_is_array(old))
			json_array_append_new(old, json_string(v));
		else
			json_object_set_new(ev, k, json_pack("[O, s]", old, v));
	}
	o = json_pack("{s:s, s:s, s:s, s:o}", "id", r->id ? r->id : "", "status",
		      check_status_to_string(r->status), "summary",
		      r->summary_en ? r->summary_en : "", "evidence", ev);
	return o;
}

int report_self_sha256(char hex[HASH_SHA256_HEX])
{
	return hash_sha256_file("/proc/self/exe", hex);
}

/* The backend ladder's fields of "watcher" (strings only: canon-safe). */
static int add_ladder(json_t *watcher, const struct watch_state *ws)
{
	json_t *dec = json_object();

	if (!dec || json_object_set_new(watcher, "decisions", dec) < 0)
		return -ENOMEM;
	for (int d = 0; d < WATCH_DEC_MAX; d++)
		if (json_object_set_new(
			    dec, watch_decision_to_string(d),
			    json_pack("{s:s, s:s}", "backend",
				      watch_backend_to_string(ws->decisions[d].backend), "effect",
				      watch_effect_to_string(ws->decisions[d].effect))) < 0)
			return -ENOMEM;
	if (json_object_set_new(watcher, "kernel", json_string(ws->kernel)) < 0 ||
	    json_object_set_new(watcher, "btf", json_string(ws->btf)) < 0 ||
	    json_object_set_new(watcher, "reason", json_string(ws->reason)) < 0 ||
	    json_object_set_new(watcher, "summary", json_string(ws->summary)) < 0)
		return -ENOMEM;
	return 0;
}

int report_build(const struct report_input *in, json_t **ret)
{
	const struct report_watcher off = { .state = "off", .enforcement = "none" };
	const struct report_watcher *w = in->watcher ? in->watcher : &off;
	const struct policy *p = in->policy;
	json_t *checks, *o;

	if (!in->device_id || !in->agent_version || !in->agent_sha256)
		return -EINVAL;
	if (in->prev_hash && !hex_is_sha256(in->prev_hash))
		return -EINVAL;
	checks = !in->checks && json_is_array(in->checks_json) ? json_deep_copy(in->checks_json)
							       : json_array();
	if (!checks)
		return -ENOMEM;
	for (size_t i = 0; in->checks && i < in->checks->n_results; i++) {
		json_t *c = report_check_json(&in->checks->results[i]);

		if (!c || json_array_append_new(checks, c) < 0) {
			json_decref(checks);
			return -ENOMEM;
		}
	}
	o = json_pack(
		"{s:s, s:I, s:s, s:I, s:s, s:s,"
		" s:{s:s, s:s},"
		" s:{s:s?, s:s?, s:s?, s:s?},"
		" s:o,"
		" s:{s:s, s:s, s:I, s:I, s:I},"
		" s:{s:I, s:I}}",
		"device_id", in->device_id, "seq", (json_int_t)in->seq, "boot_id",
		in->boot_id ? in->boot_id : "", "time", (json_int_t)in->time, "nonce",
		in->nonce ? in->nonce : "", "prev_hash",
		in->prev_hash ? in->prev_hash : REPORT_ZERO_HASH, "agent", "version",
		in->agent_version, "sha256", in->agent_sha256, "policy", "name", p ? p->name : NULL,
		"version", p ? p->version : NULL, "sha256", p && p->sha256[0] ? p->sha256 : NULL,
		"mode", p ? policy_mode_to_string(p->mode) : NULL, "checks", checks, "watcher",
		"state", w->state ? w->state : "off", "enforcement",
		w->enforcement ? w->enforcement : "none", "events", (json_int_t)w->events, "drops",
		(json_int_t)w->drops, "kills", (json_int_t)w->kills, "spool", "depth",
		(json_int_t)in->spool_depth, "evicted", (json_int_t)in->spool_evicted);
	if (!o)
		return -ENOMEM;
	if (w->ladder && add_ladder(json_object_get(o, "watcher"), w->ladder) < 0) {
		json_decref(o);
		return -ENOMEM;
	}
	*ret = o;
	return 0;
}
