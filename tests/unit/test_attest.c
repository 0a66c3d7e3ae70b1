/* agent/attest (+ enroll, policy_fetch): the attestation loop on sd-event against a loopback
 * server that speaks docs/protocol.md and verifies every signature the way the real one must. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/attest/attest.h"
#include "agent/attest/config.h"
#include "agent/attest/enroll.h"
#include "agent/attest/policy_fetch.h"
#include "agent/attest/report.h"
#include "tests/lib/uplink_child_entry.h"
#include "tests/lib/uplink_loopback.h"
#include "agent/uplink/uplink_reply.h"
#include "common/canon.h"
#include "common/fileio.h"
#include "common/hash.h"
#include "common/sign.h"

#define MAX_UUIDS 4096

struct fake {
	struct sign_key *key; /* the server's */
	char *key_b64;
	char device_pub[64];
	char device_id[64];
	char nonce[32];
	unsigned nonce_n;
	int64_t last_seq;
	char last_hash[HASH_SHA256_HEX];
	unsigned reports, chain_gaps, bad_sigs, bad_nonces, replays;
	unsigned enrolls, enroll_refused;
	bool down; /* drop every connection */
	bool events_503;
	char *uuids[MAX_UUIDS];
	unsigned n_uuids, duplicates, batches;
	char *policy_text; /* served at /api/v1/policy */
	bool policy_bad_sig;
	unsigned policy_gets;
	json_t *last_report;
};

static void fake_new_nonce(struct fake *f)
{
	snprintf(f->nonce, sizeof(f->nonce), "bm9uY2Ut%08u", ++f->nonce_n);
}

static char *reply(const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

static bool verify(struct fake *f, json_t *body, const char *member, const char *pub)
{
	const char *sig = json_string_value(json_object_get(body, "signature"));

	if (!sig || sign_verify_json_b64(pub, json_object_get(body, member), sig) != 0) {
		f->bad_sigs++;
		return false;
	}
	return true;
}

static bool fake_handler(void *ud, const struct uplink_loopback_req *req, int *status, char **out)
{
	struct fake *f = ud;
	json_t *body;

	if (f->down)
		return false;
	body = json_loads(req->body, 0, NULL);
	*status = 200;
	if (strcmp(req->path, "/api/v1/enroll/challenge") == 0) {
		*out = reply("{\"challenge\":\"chal-1\",\"expires\":%ld}", (long)time(NULL) + 60);
	} else if (strcmp(req->path, "/api/v1/enroll") == 0) {
		json_t *en = json_object_get(body, "enroll");
		const char *pub = json_string_value(json_object_get(en, "public_key"));

		if (!pub || !verify(f, body, "enroll", pub) ||
		    strcmp(json_string_value(json_object_get(en, "challenge")) ?: "", "chal-1") !=
			    0) {
			*status = 400;
			*out = reply("{\"error\":\"bad_signature\",\"message\":\"no\"}");
		} else if (strcmp(json_string_value(json_object_get(en, "token")) ?: "",
				  "good-token") != 0) {
			f->enroll_refused++;
			*status = 403;
			*out = reply("{\"error\":\"bad_token\",\"message\":\"token unknown or used "
				     "up\"}");
		} else {
			f->enrolls++;
			snprintf(f->device_pub, sizeof(f->device_pub), "%s", pub);
			snprintf(f->device_id, sizeof(f->device_id), "dev-%u", f->enrolls);
			fake_new_nonce(f);
			*out = reply("{\"device_id\":\"%s\",\"nonce\":\"%s\",\"server_public_key\":"
				     "\"%s\","
				     "\"report_interval\":300,\"approved\":true}",
				     f->device_id, f->nonce, f->key_b64);
		}
	} else if (strcmp(req->path, "/api/v1/report") == 0) {
		json_t *rep = json_object_get(body, "report");
		int64_t seq = json_integer_value(json_object_get(rep, "seq"));
		const char *nonce = json_string_value(json_object_get(rep, "nonce")) ?: "";
		const char *ph = json_string_value(json_object_get(rep, "prev_hash")) ?: "";
		char want[HASH_SHA256_HEX * 2] = "null";

		if (f->policy_text) {
			char hex[HASH_SHA256_HEX];

			hash_sha256_buf(f->policy_text, strlen(f->policy_text), hex);
			snprintf(want, sizeof(want), "\"%s\"", hex);
		}
		if (!verify(f, body, "report", f->device_pub)) {
			*status = 400;
			*out = reply("{\"error\":\"bad_signature\",\"message\":\"x\"}");
		} else if (seq <= f->last_seq) {
			f->replays++;
			*status = 409;
			*out = reply("{\"error\":\"replay\",\"message\":\"x\"}");
		} else if (strcmp(nonce, f->nonce) != 0) {
			f->bad_nonces++;
			fake_new_nonce(f);
			*status = 400;
			*out = reply("{\"error\":\"bad_nonce\",\"message\":\"x\",\"nonce\":\"%s\"}",
				     f->nonce);
		} else {
			if (strcmp(ph, f->last_hash[0] ? f->last_hash : REPORT_ZERO_HASH) != 0)
				f->chain_gaps++;
			canon_sha256(rep, f->last_hash);
			f->last_seq = seq;
			f->reports++;
			json_decref(f->last_report);
			f->last_report = json_incref(rep);
			fake_new_nonce(f);
			*out = reply("{\"status\":\"accepted\",\"nonce\":\"%s\",\"policy_sha256\":%"
				     "s,\"report_interval\":300}",
				     f->nonce, want);
		}
	} else if (strcmp(req->path, "/api/v1/events") == 0) {
		json_t *b = json_object_get(body, "batch"), *evs = json_object_get(b, "events"),
		       *ev;
		unsigned acc = 0, dup = 0;
		size_t i;

		if (f->events_503) {
			*status = 503;
			*out = reply("{\"error\":\"unavailable\"}");
		} else if (!verify(f, body, "batch", f->device_pub)) {
			*status = 400;
			*out = reply("{\"error\":\"bad_signature\"}");
		} else {
			f->batches++;
			json_array_foreach (evs, i, ev) {
				const char *u = json_string_value(json_object_get(ev, "uuid"));
				bool seen = false;

				for (unsigned k = 0; u && k < f->n_uuids && !seen; k++)
					seen = strcmp(f->uuids[k], u) == 0;
				if (seen) {
					dup++;
				} else if (u && f->n_uuids < MAX_UUIDS) {
					f->uuids[f->n_uuids++] = strdup(u);
					acc++;
				}
			}
			f->duplicates += dup;
			*out = reply("{\"accepted\":%u,\"duplicates\":%u}", acc, dup);
		}
	} else if (strcmp(req->path, "/api/v1/policy") == 0) {
		char hex[HASH_SHA256_HEX], *sig = NULL;
		json_t *o;

		f->policy_gets++;
		if (!strstr(req->headers, "X-Wxguard-Device: ") || !f->policy_text) {
			*status = 404;
			*out = reply("{\"error\":\"none\"}");
		} else {
			hash_sha256_buf(f->policy_text, strlen(f->policy_text), hex);
			sign_data_b64(f->key, f->policy_text, strlen(f->policy_text), &sig);
			if (f->policy_bad_sig)
				sig[3] = sig[3] == 'A' ? 'B' : 'A';
			o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "name", "srv", "version", "2",
				      "sha256", hex, "text", f->policy_text, "signature", sig);
			*out = json_dumps(o, 0);
			json_decref(o);
			free(sig);
		}
	} else {
		*status = 404;
		*out = reply("{}");
	}
	json_decref(body);
	return true;
}

struct env {
	char *dir;
	char state_dir[PATH_MAX / 2];
	struct fake f;
	struct uplink_loopback *lb;
	sd_event *e;
	struct agent_config *cfg;
	unsigned policy_hooks;
};

static void env_setup(struct env *v, const char *token)
{
	char text[PATH_MAX * 2];

	memset(v, 0, sizeof(*v));
	v->dir = wxg_test_mkdtemp();
	snprintf(v->state_dir, sizeof(v->state_dir), "%s/state", v->dir);
	assert_int_equal(sign_key_generate(&v->f.key), 0);
	assert_int_equal(sign_key_public_b64(v->f.key, &v->f.key_b64), 0);
	v->f.last_seq = 0;
	assert_int_equal(uplink_loopback_start(0, NULL, NULL, fake_handler, &v->f, &v->lb), 0);
	assert_int_equal(sd_event_new(&v->e), 0);
	snprintf(text, sizeof(text),
		 "[enroll]\nserver = %s\ntoken = %s\n[agent]\nstate_dir = %s\npolicy_dir = "
		 "%s/policy.d\n",
		 uplink_loopback_url(v->lb), token, v->state_dir, v->dir);
	assert_int_equal(agent_config_load_buffer("test.conf", text, &v->cfg, NULL), 0);
}

static void env_teardown(struct env *v)
{
	uplink_loopback_stop(v->lb);
	sd_event_unref(v->e);
	agent_config_free(v->cfg);
	sign_key_free(v->f.key);
	free(v->f.key_b64);
	for (unsigned i = 0; i < v->f.n_uuids; i++)
		free(v->f.uuids[i]);
	free(v->f.policy_text);
	json_decref(v->f.last_report);
	wxg_test_rmtree(v->dir);
	free(v->dir);
}

static const struct attest_opts fast = {
	.retry_base_usec = 20000,
	.retry_max_usec = 200000,
	.interval_usec = 60000000,
	.first_report_usec = 50000,
	.batch_delay_usec = 10000,
};

/* Run the loop until cond (read under the server's lock) holds, or fail after ~15 s. */
#define RUN_UNTIL(v, cond)                                             \
	do {                                                           \
		bool ok_ = false;                                      \
		for (int i_ = 0; i_ < 1500 && !ok_; i_++) {            \
			assert_true(sd_event_run((v)->e, 10000) >= 0); \
			uplink_loopback_lock((v)->lb);                 \
			ok_ = (cond);                                  \
			uplink_loopback_unlock((v)->lb);               \
		}                                                      \
		if (!ok_)                                              \
			fail_msg("timed out waiting for %s", #cond);   \
	} while (0)

/* The server counted the report; let the agent read the reply. */
static void wait_result(struct env *v, struct attest *a, const char *want)
{
	for (int i = 0; i < 500; i++) {
		json_t *st;
		bool ok;

		assert_int_equal(attest_status_json(a, &st), 0);
		ok = strcmp(json_string_value(
				    json_object_get(json_object_get(st, "report"), "last_result")),
			    want) == 0;
		json_decref(st);
		if (ok)
			return;
		sd_event_run(v->e, 10000);
	}
	fail_msg("last_result never became %s", want);
}

static void test_attest_enrolls_from_dropin_then_sends_chained_signed_reports(void **state)
{
	struct env v;
	struct attest *a;
	json_t *st;
	int64_t seq1;

	env_setup(&v, "good-token");
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	RUN_UNTIL(&v, v.f.reports >= 1);
	uplink_loopback_lock(v.lb);
	assert_int_equal(v.f.enrolls, 1);
	seq1 = v.f.last_seq;
	uplink_loopback_unlock(v.lb);
	assert_int_equal(attest_report_now(a), 0);
	RUN_UNTIL(&v, v.f.reports >= 2);
	assert_int_equal(attest_report_now(a), 0);
	RUN_UNTIL(&v, v.f.reports >= 3);
	uplink_loopback_lock(v.lb);
	assert_int_equal(v.f.bad_sigs, 0);
	assert_int_equal(v.f.chain_gaps, 0);
	assert_int_equal(v.f.bad_nonces, 0);
	assert_true(v.f.last_seq == seq1 + 2);
	assert_string_equal(json_string_value(json_object_get(v.f.last_report, "device_id")),
			    "dev-1");
	uplink_loopback_unlock(v.lb);

	wait_result(&v, a, "accepted");
	assert_int_equal(attest_status_json(a, &st), 0);
	assert_true(json_is_true(json_object_get(st, "enrolled")));
	assert_string_equal(json_string_value(json_object_get(st, "device_id")), "dev-1");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(st, "report"), "last_result")),
		"accepted");
	assert_true(json_is_object(json_object_get(json_object_get(st, "last_report"), "report")));
	json_decref(st);
	attest_free(a);

	/* Restart: the key and enrollment are kept (no second enrollment), seq keeps increasing,
	 * and the chain continues from the last accepted report. */
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	RUN_UNTIL(&v, v.f.reports >= 4);
	uplink_loopback_lock(v.lb);
	assert_int_equal(v.f.enrolls, 1);
	assert_int_equal(v.f.chain_gaps, 0);
	assert_int_equal(v.f.replays, 0);
	assert_true(v.f.last_seq > seq1 + 2);
	uplink_loopback_unlock(v.lb);
	/* What `wxguard status` reads from disk in another process. */
	assert_int_equal(attest_status_read(v.cfg, &st), 0);
	assert_string_equal(json_string_value(json_object_get(st, "device_id")), "dev-1");
	assert_true(json_is_object(json_object_get(st, "last_report")));
	json_decref(st);
	attest_free(a);
	env_teardown(&v);
}

static void test_attest_stale_nonce_is_recovered(void **state)
{
	struct env v;
	struct attest *a;

	env_setup(&v, "good-token");
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	RUN_UNTIL(&v, v.f.reports >= 1);
	/* The server forgets the nonce it gave (e.g. restarted): the refusal carries a fresh one.
	 */
	uplink_loopback_lock(v.lb);
	fake_new_nonce(&v.f);
	uplink_loopback_unlock(v.lb);
	assert_int_equal(attest_report_now(a), 0);
	RUN_UNTIL(&v, v.f.reports >= 2);
	uplink_loopback_lock(v.lb);
	assert_int_equal(v.f.bad_nonces, 1);
	assert_int_equal(v.f.chain_gaps, 0);
	uplink_loopback_unlock(v.lb);
	attest_free(a);
	env_teardown(&v);
}

static void test_attest_bad_token_is_retried_with_backoff_and_reported(void **state)
{
	struct env v;
	struct attest *a;
	json_t *st;

	env_setup(&v, "wrong-token");
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	RUN_UNTIL(&v, v.f.enroll_refused >= 2);
	assert_int_equal(attest_status_json(a, &st), 0);
	assert_false(json_is_true(json_object_get(st, "enrolled")));
	assert_non_null(strstr(
		json_string_value(json_object_get(json_object_get(st, "enrollment"), "error")),
		"bad_token"));
	json_decref(st);
	/* Events wait in the spool until the device is enrolled. */
	{
		json_t *ev = json_pack("{s:s}", "type", "client.blocked");

		assert_int_equal(attest_on_event(a, ev), 0);
		json_decref(ev);
	}
	attest_free(a);
	env_teardown(&v);
}

static unsigned count_uuid_once(struct fake *f)
{
	return f->n_uuids;
}

static void test_attest_events_survive_outage_and_restart_exactly_once(void **state)
{
	struct env v;
	struct attest *a;
	json_t *st;
	const unsigned N = 300;

	env_setup(&v, "good-token");
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	RUN_UNTIL(&v, v.f.reports >= 1);
	/* The server goes away; the watcher keeps producing. */
	uplink_loopback_lock(v.lb);
	v.f.down = true;
	uplink_loopback_unlock(v.lb);
	for (unsigned i = 0; i < N; i++) {
		json_t *ev = json_pack("{s:s, s:I, s:i}", "type", "client.blocked", "time",
				       (json_int_t)1795000000, "n", i);

		assert_int_equal(attest_on_event(a, ev), 0);
		json_decref(ev);
		if (i % 50 == 0)
			sd_event_run(v.e, 1000);
		if (i == N / 2) {
			/* The agent restarts in the middle (spool on disk). */
			attest_free(a);
			assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
		}
	}
	for (int i = 0; i < 30; i++)
		sd_event_run(v.e, 10000);
	assert_int_equal(attest_status_json(a, &st), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "spool"), "depth")),
			 N);
	assert_true(json_integer_value(
			    json_object_get(json_object_get(st, "events"), "retry_attempt")) > 0);
	json_decref(st);
	/* 503 for a while, then back. */
	uplink_loopback_lock(v.lb);
	v.f.down = false;
	v.f.events_503 = true;
	uplink_loopback_unlock(v.lb);
	for (int i = 0; i < 30; i++)
		sd_event_run(v.e, 10000);
	uplink_loopback_lock(v.lb);
	v.f.events_503 = false;
	uplink_loopback_unlock(v.lb);
	RUN_UNTIL(&v, count_uuid_once(&v.f) >= N);
	for (int i = 0; i < 20; i++)
		sd_event_run(v.e, 10000);
	uplink_loopback_lock(v.lb);
	assert_int_equal(v.f.n_uuids, N);
	assert_int_equal(v.f.bad_sigs, 0);
	uplink_loopback_unlock(v.lb);
	assert_int_equal(attest_status_json(a, &st), 0);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "spool"), "depth")),
			 0);
	json_decref(st);
	attest_free(a);
	env_teardown(&v);
}

static void on_policy_hook(void *ud, const char *path)
{
	struct env *v = ud;

	v->policy_hooks++;
	assert_non_null(strstr(path, POLICY_FETCH_FILE));
}

static const char good_policy[] =
	"[policy]\nname = srv\nversion = 2\nmode = audit\nreport_interval = 600\n";

static void test_attest_server_policy_verified_applied_and_hooked(void **state)
{
	char path[PATH_MAX], *text = NULL;
	struct env v;
	struct attest *a;
	struct policy *p = NULL;
	json_t *st;

	/* The text must lint on its own for this test to mean anything. */
	assert_int_equal(policy_load_buffer("t", good_policy, strlen(good_policy), &p, NULL), 0);
	policy_free(p);
	env_setup(&v, "good-token");
	v.f.policy_text = strdup(good_policy);
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	attest_set_policy_hook(a, on_policy_hook, &v);
	for (int i = 0; i < 1500 && v.policy_hooks == 0; i++)
		sd_event_run(v.e, 10000);
	assert_int_equal(v.policy_hooks, 1);
	snprintf(path, sizeof(path), "%s/policy.d/%s", v.dir, POLICY_FETCH_FILE);
	assert_int_equal(read_full_file(path, 65536, &text, NULL), 0);
	assert_string_equal(text, good_policy);
	free(text);

	/* A new policy with a bad signature: refused, the good one stays, status says why. */
	uplink_loopback_lock(v.lb);
	free(v.f.policy_text);
	v.f.policy_text = strdup("[policy]\nname = evil\nversion = 3\nmode = audit\n");
	v.f.policy_bad_sig = true;
	uplink_loopback_unlock(v.lb);
	assert_int_equal(attest_report_now(a), 0);
	RUN_UNTIL(&v, v.f.policy_gets >= 2);
	for (int i = 0; i < 20; i++)
		sd_event_run(v.e, 10000);
	assert_int_equal(v.policy_hooks, 1);
	assert_int_equal(read_full_file(path, 65536, &text, NULL), 0);
	assert_string_equal(text, good_policy);
	free(text);
	assert_int_equal(attest_status_json(a, &st), 0);
	assert_non_null(strstr(
		json_string_value(json_object_get(json_object_get(st, "policy"), "last_error")),
		"signature"));
	json_decref(st);
	attest_free(a);
	env_teardown(&v);
}

static void test_policy_fetch_refuses_unlintable_and_mismatched(void **state)
{
	char *dir = wxg_test_mkdtemp(), pdir[PATH_MAX], detail[512], hex[HASH_SHA256_HEX], *sig,
	     *body;
	struct sign_key *k;
	char *pub;
	const char *bad = "[policy]\nname = x\nno_such_key = 1\n";
	struct uplink_reply y;
	struct uplink_reply_buf yb;
	json_t *o;

	snprintf(pdir, sizeof(pdir), "%s/policy.d", dir);
	assert_int_equal(sign_key_generate(&k), 0);
	assert_int_equal(sign_key_public_b64(k, &pub), 0);
	hash_sha256_buf(bad, strlen(bad), hex);
	sign_data_b64(k, bad, strlen(bad), &sig);
	o = json_pack("{s:s, s:s, s:s}", "sha256", hex, "text", bad, "signature", sig);
	body = json_dumps(o, 0);
	/* What the uplink child makes of the body: typed fields. */
	assert_int_equal(uplink_reply_parse(UPLINK_REPLY_POLICY, 200, body, strlen(body), &y, &yb),
			 0);
	assert_true(y.valid);
	assert_int_equal(policy_fetch_apply(&y,
					    &(struct policy_fetch_opts){ .policy_dir = pdir,
									 .server_public_key = pub },
					    detail, sizeof(detail)),
			 -EBADMSG);
	assert_non_null(strstr(detail, "lint"));
	assert_int_equal(policy_fetch_current_sha256(pdir, hex), -ENOENT);
	/* Announced hash differs from the text's. */
	assert_int_equal(
		policy_fetch_apply(&y,
				   &(struct policy_fetch_opts){ .policy_dir = pdir,
								.server_public_key = pub,
								.want_sha256 = REPORT_ZERO_HASH },
				   detail, sizeof(detail)),
		-EBADMSG);
	assert_non_null(strstr(detail, "hash mismatch"));
	/* A text that is not the signed one: the signature check (in the agent) refuses it. */
	y.text = "[policy]\nname = x\n";
	y.text_len = strlen(y.text);
	assert_int_equal(policy_fetch_apply(&y,
					    &(struct policy_fetch_opts){ .policy_dir = pdir,
									 .server_public_key = pub },
					    detail, sizeof(detail)),
			 -EBADMSG);
	assert_non_null(strstr(detail, "signature"));
	uplink_reply_buf_clear(&yb);
	/* A reply without a signature never gets that far: not valid, nothing to verify. */
	json_object_del(o, "signature");
	free(body);
	body = json_dumps(o, 0);
	assert_int_equal(uplink_reply_parse(UPLINK_REPLY_POLICY, 200, body, strlen(body), &y, &yb),
			 0);
	assert_false(y.valid);
	assert_int_equal(policy_fetch_apply(&y,
					    &(struct policy_fetch_opts){ .policy_dir = pdir,
									 .server_public_key = pub },
					    detail, sizeof(detail)),
			 -EBADMSG);
	assert_non_null(strstr(detail, "malformed reply"));
	uplink_reply_buf_clear(&yb);
	free(body);
	free(sig);
	json_decref(o);
	free(pub);
	sign_key_free(k);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_attest_check_status_change_triggers_report(void **state)
{
	static struct check_result res[1] = {
		{ .id = "screen_lock", .status = CHECK_PASS, .summary_en = "ok" }
	};
	struct check_report rep = { .results = res, .n_results = 1 };
	struct attest_opts slow = fast;
	struct env v;
	struct attest *a;
	unsigned before;

	slow.first_report_usec = 60000000; /* only a change can make it report now */
	env_setup(&v, "good-token");
	assert_int_equal(attest_new_opts(v.e, v.cfg, &slow, &a), 0);
	RUN_UNTIL(&v, v.f.reports >= 1); /* the one right after enrollment */
	assert_int_equal(attest_on_checks(a, &rep, NULL), 0);
	RUN_UNTIL(&v, v.f.reports >= 2);
	uplink_loopback_lock(v.lb);
	before = v.f.reports;
	uplink_loopback_unlock(v.lb);
	/* Same statuses: no new report. */
	assert_int_equal(attest_on_checks(a, &rep, NULL), 0);
	for (int i = 0; i < 30; i++)
		sd_event_run(v.e, 10000);
	uplink_loopback_lock(v.lb);
	assert_int_equal(v.f.reports, before);
	uplink_loopback_unlock(v.lb);
	/* A check fails: at once. */
	res[0].status = CHECK_FAIL;
	assert_int_equal(attest_on_checks(a, &rep, NULL), 0);
	RUN_UNTIL(&v, v.f.reports >= before + 1);
	uplink_loopback_lock(v.lb);
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(v.f.last_report, "checks"), 0), "status")),
		"fail");
	uplink_loopback_unlock(v.lb);
	attest_free(a);
	env_teardown(&v);
}

static void test_attest_event_with_real_number_is_refused(void **state)
{
	struct env v;
	struct attest *a;
	json_t *ev;

	env_setup(&v, "good-token");
	assert_int_equal(attest_new_opts(v.e, v.cfg, &fast, &a), 0);
	ev = json_pack("{s:s, s:f}", "type", "x", "load", 0.5);
	assert_int_equal(attest_on_event(a, ev), -EINVAL);
	json_decref(ev);
	attest_free(a);
	env_teardown(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attest_enrolls_from_dropin_then_sends_chained_signed_reports),
		cmocka_unit_test(test_attest_stale_nonce_is_recovered),
		cmocka_unit_test(test_attest_bad_token_is_retried_with_backoff_and_reported),
		cmocka_unit_test(test_attest_events_survive_outage_and_restart_exactly_once),
		cmocka_unit_test(test_attest_server_policy_verified_applied_and_hooked),
		cmocka_unit_test(test_policy_fetch_refuses_unlintable_and_mismatched),
		cmocka_unit_test(test_attest_check_status_change_triggers_report),
		cmocka_unit_test(test_attest_event_with_real_number_is_refused),
	};

	uplink_child_entry(); /* when re-executed as the uplink child */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
