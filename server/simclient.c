#include "server/simclient.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/canon.h"
#include "server/server.h"

int simclient_new(struct simclient **ret)
{
	struct simclient *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	r = sign_key_generate(&c->key);
	if (r == 0)
		r = sign_key_public_b64(c->key, &c->public_key);
	if (r < 0) {
		simclient_free(c);
		return r;
	}
	c->seq = 0;
	memset(c->prev_hash, '0', 64);
	*ret = c;
	return 0;
}

void simclient_free(struct simclient *c)
{
	if (!c)
		return;
	sign_key_free(c->key);
	free(c->public_key);
	free(c);
}

static json_t *envelope(struct simclient *c, const char *member, json_t *obj)
{
	json_t *env = NULL;

	sign_envelope(c->key, member, obj, &env);
	json_decref(obj);
	return env;
}

json_t *simclient_enroll(struct simclient *c, const char *token, const char *challenge, const char *hostname)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "token", token, "challenge",
			      challenge, "public_key", c->public_key, "facts", "machine_id", "0123456789abcdef",
			      "product_uuid", "00000000-0000-0000-0000-000000000000", "serial", "SIM", "hostname",
			      hostname, "os", "Debian GNU/Linux 12", "kernel", "6.1.0-test", "agent_version", "0.1.0");

	return e ? envelope(c, "enroll", e) : NULL;
}

int simclient_enrolled(struct simclient *c, const json_t *reply)
{
	const char *id = json_string_value(json_object_get(reply, "device_id"));
	const char *n = json_string_value(json_object_get(reply, "nonce"));

	if (!id || !n)
		return -EBADMSG;
	snprintf(c->device_id, sizeof(c->device_id), "%s", id);
	snprintf(c->nonce, sizeof(c->nonce), "%s", n);
	return 0;
}

json_t *simclient_report(struct simclient *c, long long now, const char *failing, long long seq_override)
{
	static const char *const ids[] = { "screen_lock", "disk_encryption", "patch_updates", "antivirus",
					   "client_approved", "ptrace_scope" };
	json_t *checks = json_array(), *r;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		bool f = failing && strcmp(failing, ids[i]) == 0;

		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", ids[i], "status",
							f ? "fail" : "pass", "summary", f ? "failing" : "ok",
							"evidence", "source", "simclient"));
	}
	c->pending_seq = seq_override >= 0 ? seq_override : c->seq + 1;
	r = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:o,"
		      " s:{s:s, s:s, s:i, s:i, s:i}, s:{s:i, s:i}}",
		      "device_id", c->device_id, "seq", (json_int_t)c->pending_seq, "boot_id", "boot-1", "time",
		      (json_int_t)now, "nonce", c->nonce, "prev_hash", c->prev_hash, "agent", "version", "0.1.0",
		      "sha256", "0000000000000000000000000000000000000000000000000000000000000000", "policy", "name",
		      "default", "version", "1", "sha256", "", "mode", "audit", "checks", checks, "watcher", "state",
		      "running", "enforcement", "lsm", "events", 0, "drops", 0, "kills", 0, "spool", "depth", 0,
		      "evicted", 0);
	if (!r)
		return NULL;
	canon_sha256(r, c->pending_hash);
	return envelope(c, "report", r);
}

int simclient_accepted(struct simclient *c, const json_t *reply)
{
	const char *n = json_string_value(json_object_get(reply, "nonce"));

	if (!n)
		return -EBADMSG;
	snprintf(c->nonce, sizeof(c->nonce), "%s", n);
	if (json_is_string(json_object_get(reply, "status"))) {
		c->seq = c->pending_seq;
		memcpy(c->prev_hash, c->pending_hash, sizeof(c->prev_hash));
	}
	return 0;
}

json_t *simclient_events(struct simclient *c, long long now, int n, const char *type)
{
	json_t *evs = json_array(), *b;

	for (int i = 0; i < n; i++) {
		char u[37];

		srv_uuid(u);
		json_array_append_new(evs, json_pack("{s:s, s:I, s:s, s:s, s:i}", "uuid", u, "time", (json_int_t)now,
						     "type", type, "comm", "electronic-wechat", "pid", 4242 + i));
	}
	b = json_pack("{s:s, s:I, s:o}", "device_id", c->device_id, "time", (json_int_t)now, "events", evs);
	return b ? envelope(c, "batch", b) : NULL;
}
