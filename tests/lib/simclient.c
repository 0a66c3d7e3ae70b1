#include "simclient.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/canon.h"
#include "common/random.h"

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

json_t *simclient_enroll(struct simclient *c, const char *token, const char *challenge,
			 const char *hostname)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}}", "token",
			      token, "challenge", challenge, "public_key", c->public_key, "facts",
			      "machine_id", "0123456789abcdef", "product_uuid",
			      "00000000-0000-0000-0000-000000000000", "serial", "SIM", "hostname",
			      hostname, "os", "Debian GNU/Linux 12", "kernel", "6.1.0-test",
			      "agent_version", "0.1.0");

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

json_t *simclient_report(struct simclient *c, long long now, const char *failing,
			 long long seq_override)
{
	return simclient_report_watcher(c, now, failing, seq_override, NULL, NULL);
}

json_t *simclient_report_watcher(struct simclient *c, long long now, const char *failing,
				 long long seq_override, const char *mode, json_t *watcher)
{
	static const char *const ids[] = { "screen_lock", "disk_encryption", "patch_updates",
					   "antivirus",   "client_approved", "ptrace_scope" };
	json_t *checks = json_array(), *r;

	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		bool f = failing && strcmp(failing, ids[i]) == 0;

		json_array_append_new(checks, json_pack("{s:s, s:s, s:s, s:{s:s}}", "id", ids[i],
							"status", f ? "fail" : "pass", "summary",
							f ? "failing" : "ok", "evidence", "source",
							"simclient"));
	}
	c->pending_seq = seq_override >= 0 ? seq_override : c->seq + 1;
	r = json_pack("{s:s, s:I, s:s, s:I, s:s, s:s, s:{s:s, s:s}, s:{s:s, s:s, s:s, s:s}, s:o,"
		      " s:{s:s, s:s, s:i, s:i, s:i}, s:{s:i, s:i}}",
		      "device_id", c->device_id, "seq", (json_int_t)c->pending_seq, "boot_id",
		      "boot-1", "time", (json_int_t)now, "nonce", c->nonce, "prev_hash",
		      c->prev_hash, "agent", "version", "0.1.0", "sha256",
		      "0000000000000000000000000000000000000000000000000000000000000000", "policy",
		      "name", "default", "version", "1", "sha256", "", "mode",
		      mode ? mode : "audit", "checks", checks, "watcher", "state", "running",
		      "enforcement", "lsm", "events", 0, "drops", 0, "kills", 0, "spool", "depth",
		      0, "evicted", 0);
	if (!r) {
		json_decref(watcher);
		return NULL;
	}
	if (watcher)
		json_object_set_new(r, "watcher", watcher);
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
		char u[RANDOM_UUID_LEN];

		if (random_uuid(u) < 0)
			abort();
		json_array_append_new(evs, json_pack("{s:s, s:I, s:s, s:s, s:i}", "uuid", u, "time",
						     (json_int_t)now, "type", type, "comm",
						     "electronic-wechat", "pid", 4242 + i));
	}
	b = json_pack("{s:s, s:I, s:o}", "device_id", c->device_id, "time", (json_int_t)now,
		      "events", evs);
	return b ? envelope(c, "batch", b) : NULL;
}

json_t *simclient_watch_event(long long now, const char *type, const char *rule, const char *reason,
			      const char *verdict, const char *action)
{
	char ts[40];
	time_t t = (time_t)now;
	struct tm tm;
	json_t *ev;

	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S.000000Z", &tm);
	ev = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:{s:i, s:i, s:i, s:i, s:s, s:I}}",
		       "v", 1, "ts", ts, "type", type, "mode",
		       strcmp(action, "none") == 0 ? "audit" : "enforce", "rule", rule, "reason",
		       reason, "verdict", verdict, "action", action, "process", "pid", 22381, "tid",
		       22381, "ppid", 22303, "uid", 1000, "comm", "electronic-wechat", "start_ns",
		       (json_int_t)1876437422315LL);
	if (!ev)
		return NULL;
	if (strcmp(type, "drops") == 0) {
		json_object_set_new(ev, "lost", json_integer(17));
		json_object_set_new(ev, "lost_total", json_integer(42));
		json_object_del(ev, "process");
		return ev;
	}
	if (strcmp(type, "exec") == 0)
		json_object_set_new(
			ev, "exe",
			json_pack("{s:s, s:s, s:i, s:i}", "path",
				  strcmp(rule, "watch.attachment_exec") == 0
					  ? "/home/u/Documents/WXWork/Cache/invoice.pdf.sh"
					  : "/opt/electronic-wechat/electronic-wechat",
				  "dev", "254:0", "ino", 10952763, "size", 767040));
	if (strcmp(rule, "client.denied") == 0)
		json_object_set_new(ev, "deny", json_string("electronic-wechat"));
	else if (strncmp(rule, "client.", 7) == 0)
		json_object_set_new(ev, "client", json_string("wecom"));
	if (strcmp(reason, "library") == 0)
		json_object_set_new(ev, "library", json_string("/tmp/libhook.so"));
	if (strcmp(verdict, "deny") == 0) {
		bool stop = strcmp(action, "none") != 0;
		char en[256], zh[256];

		if (strcmp(rule, "client.denied") == 0 || strcmp(rule, "client.approved") == 0) {
			snprintf(en, sizeof(en),
				 "%s unapproved client electronic-wechat (rule %s). Install the "
				 "official "
				 "WeCom client from the software center.",
				 stop ? "Blocked" : "Found", rule);
			snprintf(zh, sizeof(zh),
				 "%s未经批准的客户端 electronic-wechat (规则 "
				 "%s)。请从软件中心安装企业微信官方版本。",
				 stop ? "已阻止" : "发现", rule);
		} else {
			snprintf(en, sizeof(en),
				 "%s: %s by electronic-wechat (rule %s). Ask IT to check this "
				 "computer.",
				 stop ? "Stopped" : "Seen", reason, rule);
			snprintf(zh, sizeof(zh),
				 "%s：electronic-wechat 触发 %s (规则 %s)。请联系 IT 检查此电脑。",
				 stop ? "已阻止" : "已发现", reason, rule);
		}
		json_object_set_new(ev, "message", json_pack("{s:s, s:s}", "en", en, "zh", zh));
	}
	return ev;
}

json_t *simclient_batch(struct simclient *c, long long now, json_t *events)
{
	json_t *ev, *b;
	size_t i;

	json_array_foreach (events, i, ev) {
		char u[RANDOM_UUID_LEN];

		if (random_uuid(u) < 0)
			abort();
		json_object_set_new(ev, "uuid", json_string(u));
	}
	b = json_pack("{s:s, s:I, s:o}", "device_id", c->device_id, "time", (json_int_t)now,
		      "events", events);
	return b ? envelope(c, "batch", b) : NULL;
}
