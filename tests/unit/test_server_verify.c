/* Server-side verification, enrollment, events, alerts and admin API (server/api/) against
 * SQLite and against a real PostgreSQL started by the test (tests/e2e/server_pg.sh). Every test
 * runs once per backend. */
#include "testlib.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/canon.h"
#include "common/fileio.h"
#include "common/hash.h"
#include "common/sign.h"
#include "server/alerts.h"
#include "server/api/api.h"
#include "server/srv.h"
#include "simclient.h"
#include "server/store/store.h"

struct fx {
	struct srv srv;
	struct store *st;
	char *dir;
	char pgdir[256];
	char admin[128];
};

static long long now_s(void)
{
	return (long long)time(NULL);
}

static int setup_common(struct fx *f, const char *db_url)
{
	char path[512], err[512];
	char *tok;
	size_t len;

	assert_int_equal(srv_config_load(&f->srv.cfg, NULL), 0);
	free(f->srv.cfg.state_dir);
	f->srv.cfg.state_dir = strdup(f->dir);
	snprintf(path, sizeof(path), "%s/server-key.pem", f->dir);
	free(f->srv.cfg.server_key);
	f->srv.cfg.server_key = strdup(path);
	snprintf(path, sizeof(path), "%s/admin.token", f->dir);
	free(f->srv.cfg.admin_token_file);
	f->srv.cfg.admin_token_file = strdup(path);
	free(f->srv.cfg.database);
	f->srv.cfg.database = strdup(db_url);
	f->srv.cfg.rate_limit = 3;
	if (store_open(db_url, &f->st, err, sizeof(err)) < 0) {
		fprintf(stderr, "store_open %s: %s\n", db_url, err);
		return -1;
	}
	assert_int_equal(srv_init(&f->srv, f->st), 0);
	assert_int_equal(read_full_file(path, 4096, &tok, &len), 0);
	tok[strcspn(tok, "\n")] = 0;
	snprintf(f->admin, sizeof(f->admin), "Bearer %s", tok);
	free(tok);
	return 0;
}

static int teardown(void **state);

static int setup_sqlite(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char url[512];

	f->dir = wxg_test_mkdtemp();
	snprintf(url, sizeof(url), "sqlite:%s/wxguard.db", f->dir);
	if (setup_common(f, url) < 0)
		return -1;
	*state = f;
	return 0;
}

static int setup_pg(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char cmd[1024], conninfo[512] = "";
	FILE *p;

	f->dir = wxg_test_mkdtemp();
	snprintf(f->pgdir, sizeof(f->pgdir), "/tmp/wxgpg-unit.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s/../e2e/server_pg.sh start %s", wxg_test_data_dir(),
		 f->pgdir);
	p = popen(cmd, "r");
	if (!p || !fgets(conninfo, sizeof(conninfo), p)) {
		fprintf(stderr, "cannot start PostgreSQL: %s\n", cmd);
		if (p)
			pclose(p);
		return -1;
	}
	if (pclose(p) != 0)
		return -1;
	conninfo[strcspn(conninfo, "\n")] = 0;
	{
		char url[600];

		snprintf(url, sizeof(url), "pg:%s", conninfo);
		if (setup_common(f, url) < 0) {
			teardown((void **)&f);
			return -1;
		}
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[1024];

	if (!f)
		return 0;
	store_close(f->st);
	srv_done(&f->srv);
	if (f->pgdir[0]) {
		snprintf(cmd, sizeof(cmd), "%s/../e2e/server_pg.sh stop %s", wxg_test_data_dir(),
			 f->pgdir);
		if (system(cmd) != 0)
			fprintf(stderr, "pg stop failed\n");
	}
	wxg_test_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---- helpers ---- */

static json_t *call_raw(struct fx *f, const char *method, const char *path, const char *body,
			size_t len, const char *auth, const char *device, int *status)
{
	struct api_request rq = { .method = method,
				  .path = path,
				  .authorization = auth,
				  .device = device,
				  .body = body,
				  .body_len = len };
	struct api_response rs;
	json_t *j;
	char *q = strchr(path, '?'), pbuf[256];

	if (q) {
		snprintf(pbuf, sizeof(pbuf), "%.*s", (int)(q - path), path);
		rq.path = pbuf;
		rq.query = q + 1;
	}
	assert_int_equal(api_handle(&f->srv, f->st, &rq, &rs, now_s()), 0);
	*status = rs.status;
	j = strcmp(rs.content_type, "application/json") == 0
		    ? json_loadb(rs.body, rs.body_len, 0, NULL)
		    : json_stringn(rs.body, rs.body_len);
	free(rs.body);
	assert_non_null(j);
	return j;
}

static json_t *call(struct fx *f, const char *method, const char *path, json_t *body,
		    const char *auth, int *status)
{
	char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;
	json_t *j = call_raw(f, method, path, txt ? txt : "", txt ? strlen(txt) : 0, auth, NULL,
			     status);

	free(txt);
	json_decref(body);
	return j;
}

static const char *err_code(json_t *j)
{
	return json_string_value(json_object_get(j, "error")) ?: "(none)";
}

static struct simclient *enroll(struct fx *f, bool hold)
{
	struct simclient *c;
	json_t *tok, *ch, *rep;
	int st;

	assert_int_equal(simclient_new(&c), 0);
	assert_int_equal(api_token_create(&f->srv, f->st, 1, 3600, hold, now_s(), &tok), 0);
	ch = call(f, "POST", "/api/v1/enroll/challenge", NULL, NULL, &st);
	assert_int_equal(st, 200);
	rep = call(f, "POST", "/api/v1/enroll",
		   simclient_enroll(c, json_string_value(json_object_get(tok, "token")),
				    json_string_value(json_object_get(ch, "challenge")), "host-a"),
		   NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(simclient_enrolled(c, rep), 0);
	assert_true(json_is_true(json_object_get(rep, "approved")) == !hold);
	assert_string_equal(json_string_value(json_object_get(rep, "server_public_key")),
			    f->srv.public_key_b64);
	json_decref(tok);
	json_decref(ch);
	json_decref(rep);
	return c;
}

static json_t *send_report(struct fx *f, struct simclient *c, long long t, const char *failing,
			   int *st)
{
	json_t *rep = call(f, "POST", "/api/v1/report", simclient_report(c, t, failing, -1), NULL,
			   st);

	if (*st == 200)
		assert_int_equal(simclient_accepted(c, rep), 0);
	return rep;
}

static int count_alerts(struct fx *f, const char *device, const char *rule)
{
	json_t *a, *v;
	size_t i;
	int n = 0;

	assert_int_equal(store_alerts_list(f->st, device, 1000, &a), 0);
	json_array_foreach (a, i, v)
		if (strcmp(json_string_value(json_object_get(v, "rule")), rule) == 0)
			n++;
	json_decref(a);
	return n;
}

/* ---- tests ---- */

static void test_report_valid_is_accepted_and_chained(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *r;
	int st;

	for (int i = 0; i < 3; i++) {
		char old_nonce[64];

		snprintf(old_nonce, sizeof(old_nonce), "%s", c->nonce);
		r = send_report(f, c, now_s(), NULL, &st);
		assert_int_equal(st, 200);
		assert_string_equal(json_string_value(json_object_get(r, "status")), "accepted");
		assert_false(json_is_true(json_object_get(r, "chain_gap")));
		assert_string_not_equal(c->nonce, old_nonce); /* a fresh nonce per reply */
		assert_int_equal(json_integer_value(json_object_get(r, "report_interval")), 300);
		json_decref(r);
	}
	assert_int_equal(c->seq, 3);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_CHAIN_GAP), 0);
	/* the stored envelope is its canonical serialization (built from the signed bytes) */
	{
		static const char sql[] =
			"SELECT body FROM reports WHERE device_id = $1 AND seq = 4";
		struct store_param p = SP_TEXT(c->device_id);
		json_t *env = simclient_report(c, now_s(), "antivirus", -1);
		char *want = json_dumps(env, CANON_FLAGS);
		struct store_res *res;

		json_decref(call(f, "POST", "/api/v1/report", json_incref(env), NULL, &st));
		assert_int_equal(st, 200);
		assert_int_equal(store_exec(f->st, sql, &p, 1, &res), 0);
		assert_string_equal(store_res_get(res, 0, 0), want);
		store_res_free(res);
		free(want);
		json_decref(env);
	}
	simclient_free(c);
}

static void test_report_tampered_is_bad_signature(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *env = simclient_report(c, now_s(), "screen_lock", -1), *r;
	int st;

	/* flip the failing check to pass after signing */
	json_t *chk = json_array_get(json_object_get(json_object_get(env, "report"), "checks"), 0);

	json_object_set_new(chk, "status", json_string("pass"));
	r = call(f, "POST", "/api/v1/report", env, NULL, &st);
	assert_int_equal(st, 401);
	assert_string_equal(err_code(r), "bad_signature");
	assert_null(json_object_get(r, "nonce")); /* unauthenticated: no nonce handed out */
	json_decref(r);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_VERIFY), 1);
	/* the genuine device still works */
	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	simclient_free(c);
}

static void test_report_replayed_seq_is_refused(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *env, *r;
	char *txt;
	int st;

	env = simclient_report(c, now_s(), NULL, -1);
	txt = json_dumps(env, JSON_COMPACT);
	r = call(f, "POST", "/api/v1/report", env, NULL, &st);
	assert_int_equal(st, 200);
	simclient_accepted(c, r);
	json_decref(r);
	/* the very same bytes again: refused as a replay, flagged as a harmless duplicate */
	r = call_raw(f, "POST", "/api/v1/report", txt, strlen(txt), NULL, NULL, &st);
	assert_int_equal(st, 409);
	assert_string_equal(err_code(r), "replay");
	assert_true(json_is_true(json_object_get(r, "duplicate")));
	assert_int_equal(json_integer_value(json_object_get(r, "last_seq")), 1);
	json_decref(r);
	free(txt);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_VERIFY), 0);
	/* same seq, new content, current nonce: a replay, alerted (cloned identity?) */
	r = call(f, "POST", "/api/v1/report", simclient_report(c, now_s(), "antivirus", 1), NULL,
		 &st);
	assert_int_equal(st, 409);
	assert_string_equal(err_code(r), "replay");
	assert_false(json_is_true(json_object_get(r, "duplicate")));
	assert_string_equal(json_string_value(json_object_get(r, "nonce")), c->nonce);
	json_decref(r);
	/* lower seq too */
	r = call(f, "POST", "/api/v1/report", simclient_report(c, now_s(), NULL, 0), NULL, &st);
	assert_int_equal(st, 409);
	json_decref(r);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_VERIFY),
			 1); /* de-duplicated per hour */
	simclient_free(c);
}

static void test_report_signed_by_other_key_is_refused(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false), *mallory;
	json_t *r;
	int st;

	assert_int_equal(simclient_new(&mallory), 0);
	memcpy(mallory->device_id, c->device_id, sizeof(c->device_id));
	memcpy(mallory->nonce, c->nonce, sizeof(c->nonce));
	r = call(f, "POST", "/api/v1/report", simclient_report(mallory, now_s(), NULL, -1), NULL,
		 &st);
	assert_int_equal(st, 401);
	assert_string_equal(err_code(r), "bad_signature");
	json_decref(r);
	/* an unknown device id */
	snprintf(mallory->device_id, sizeof(mallory->device_id),
		 "00000000-0000-4000-8000-000000000000");
	r = call(f, "POST", "/api/v1/report", simclient_report(mallory, now_s(), NULL, -1), NULL,
		 &st);
	assert_int_equal(st, 404);
	assert_string_equal(err_code(r), "unknown_device");
	json_decref(r);
	simclient_free(mallory);
	simclient_free(c);
}

static void test_report_revoked_and_unapproved_devices_are_refused(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, true);
	char path[256];
	json_t *r;
	int st;

	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 403);
	assert_string_equal(err_code(r), "not_approved");
	json_decref(r);
	snprintf(path, sizeof(path), "/api/v1/admin/devices/%s/approve", c->device_id);
	r = call(f, "POST", path, NULL, f->admin, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	snprintf(path, sizeof(path), "/api/v1/admin/devices/%s/revoke", c->device_id);
	r = call(f, "POST", path, NULL, f->admin, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 403);
	assert_string_equal(err_code(r), "revoked");
	json_decref(r);
	r = call(f, "POST", "/api/v1/events", simclient_events(c, now_s(), 1, "client.blocked"),
		 NULL, &st);
	assert_int_equal(st, 403);
	json_decref(r);
	simclient_free(c);
}

static void test_report_bad_nonce_is_refused(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	char good[64];
	json_t *r;
	int st;

	snprintf(good, sizeof(good), "%s", c->nonce);
	snprintf(c->nonce, sizeof(c->nonce), "AAAAAAAAAAAAAAAAAAAAAA==");
	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 409);
	assert_string_equal(err_code(r), "bad_nonce");
	assert_string_equal(json_string_value(json_object_get(r, "nonce")), good);
	/* the agent retries with the nonce from the refusal */
	snprintf(c->nonce, sizeof(c->nonce), "%s", good);
	json_decref(r);
	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	simclient_free(c);
}

static void test_report_clock_skew_is_refused(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *r;
	int st;

	r = send_report(f, c, now_s() + 3600, NULL, &st);
	assert_int_equal(st, 400);
	assert_string_equal(err_code(r), "clock_skew");
	assert_true(json_is_integer(json_object_get(r, "server_time")));
	json_decref(r);
	r = send_report(f, c, now_s() - 3600, NULL, &st);
	assert_int_equal(st, 400);
	json_decref(r);
	r = send_report(f, c, now_s() - 200, NULL, &st); /* within max_skew (300 s) */
	assert_int_equal(st, 200);
	json_decref(r);
	simclient_free(c);
}

static void test_report_chain_gap_is_flagged_and_alerted(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *r, *dev;
	char path[256];
	int st;

	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	/* a report was lost: the next one chains to a hash the server never saw */
	memset(c->prev_hash, 'a', 64);
	c->seq++;
	r = send_report(f, c, now_s(), NULL, &st);
	assert_int_equal(st, 200);
	assert_true(json_is_true(json_object_get(r, "chain_gap")));
	json_decref(r);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_CHAIN_GAP), 1);
	r = send_report(f, c, now_s(), NULL, &st); /* and the chain continues from there */
	assert_false(json_is_true(json_object_get(r, "chain_gap")));
	json_decref(r);
	snprintf(path, sizeof(path), "/api/v1/admin/devices/%s", c->device_id);
	dev = call(f, "GET", path, NULL, f->admin, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(dev, "chain_gaps")), 1);
	assert_int_equal(json_array_size(json_object_get(dev, "reports")), 3);
	json_decref(dev);
	simclient_free(c);
}

static void test_report_malformed_bodies_are_400(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	const char *bad[] = { "",
			      "{",
			      "[]",
			      "{\"report\": 1, \"signature\": \"x\"}",
			      "{\"report\": {}}",
			      "{\"report\": {\"seq\": 1.5}, \"signature\": \"AAAA\"}",
			      "{\"report\": {\"a\":1, \"a\":2}, \"signature\": \"AAAA\"}" };
	json_t *env, *r;
	int st;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = call_raw(f, "POST", "/api/v1/report", bad[i], strlen(bad[i]), NULL, NULL, &st);
		assert_int_equal(st, 400);
		assert_string_equal(err_code(r), "malformed");
		json_decref(r);
	}
	/* a real number inside an otherwise valid, signed report */
	env = simclient_report(c, now_s(), NULL, -1);
	json_object_set_new(json_object_get(env, "report"), "load", json_real(0.5));
	r = call(f, "POST", "/api/v1/report", env, NULL, &st);
	assert_int_equal(st, 400);
	assert_string_equal(err_code(r), "malformed");
	json_decref(r);
	simclient_free(c);
}

static void test_enroll_token_uses_expiry_and_challenge(void **state)
{
	struct fx *f = *state;
	struct simclient *a, *b;
	json_t *tok, *r;
	char chal[200];
	int st;

	assert_int_equal(simclient_new(&a), 0);
	assert_int_equal(simclient_new(&b), 0);
	assert_int_equal(api_token_create(&f->srv, f->st, 1, 3600, false, now_s(), &tok), 0);
	assert_int_equal(api_challenge_make(&f->srv, now_s(), chal, sizeof(chal)), 0);
	r = call(f, "POST", "/api/v1/enroll",
		 simclient_enroll(a, json_string_value(json_object_get(tok, "token")), chal, "a"),
		 NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	/* used up */
	r = call(f, "POST", "/api/v1/enroll",
		 simclient_enroll(b, json_string_value(json_object_get(tok, "token")), chal, "b"),
		 NULL, &st);
	assert_int_equal(st, 403);
	assert_string_equal(err_code(r), "bad_token");
	json_decref(r);
	json_decref(tok);
	/* expired */
	assert_int_equal(api_token_create(&f->srv, f->st, 5, 1, false, now_s() - 10, &tok), 0);
	r = call(f, "POST", "/api/v1/enroll",
		 simclient_enroll(b, json_string_value(json_object_get(tok, "token")), chal, "b"),
		 NULL, &st);
	assert_int_equal(st, 403);
	json_decref(r);
	json_decref(tok);
	/* forged / expired challenges */
	assert_int_equal(api_token_create(&f->srv, f->st, 5, 3600, false, now_s(), &tok), 0);
	chal[strlen(chal) - 1] = chal[strlen(chal) - 1] == '0' ? '1' : '0';
	r = call(f, "POST", "/api/v1/enroll",
		 simclient_enroll(b, json_string_value(json_object_get(tok, "token")), chal, "b"),
		 NULL, &st);
	assert_int_equal(st, 400);
	assert_string_equal(err_code(r), "bad_challenge");
	json_decref(r);
	assert_int_equal(api_challenge_make(&f->srv, now_s() - 3600, chal, sizeof(chal)), 0);
	assert_int_equal(api_challenge_check(&f->srv, chal, now_s()), -ETIMEDOUT);
	/* the same key twice: conflict, and the token use is not burned */
	assert_int_equal(api_challenge_make(&f->srv, now_s(), chal, sizeof(chal)), 0);
	r = call(f, "POST", "/api/v1/enroll",
		 simclient_enroll(a, json_string_value(json_object_get(tok, "token")), chal, "a"),
		 NULL, &st);
	assert_int_equal(st, 409);
	json_decref(r);
	/* enroll signature by another key than public_key */
	{
		json_t *env = simclient_enroll(b, json_string_value(json_object_get(tok, "token")),
					       chal, "b");

		json_object_set_new(json_object_get(env, "enroll"), "public_key",
				    json_string(a->public_key));
		r = call(f, "POST", "/api/v1/enroll", env, NULL, &st);
		assert_int_equal(st, 401);
		json_decref(r);
	}
	r = call(f, "GET", "/api/v1/admin/tokens", NULL, f->admin, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	json_decref(tok);
	simclient_free(a);
	simclient_free(b);
}

static void test_events_are_deduplicated_and_alerted(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *env = simclient_events(c, now_s(), 3, "client.blocked"), *r;
	char *txt = json_dumps(env, JSON_COMPACT);
	int st;

	r = call(f, "POST", "/api/v1/events", env, NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "accepted")), 3);
	json_decref(r);
	r = call_raw(f, "POST", "/api/v1/events", txt, strlen(txt), NULL, NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "accepted")), 0);
	assert_int_equal(json_integer_value(json_object_get(r, "duplicates")), 3);
	json_decref(r);
	free(txt);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_CLIENT_UNAPPROVED),
			 3); /* old-style type names */
	r = call(f, "POST", "/api/v1/events", simclient_events(c, now_s(), 1, "ptrace.injection"),
		 NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_INJECTION), 1);
	r = call(f, "GET", "/api/v1/admin/events?limit=2", NULL, f->admin, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_array_size(r), 2);
	json_decref(r);
	simclient_free(c);
}

static void test_noncompliant_alert_once_per_transition_and_rate_limited(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *r, *a, *v;
	size_t i;
	int st, suppressed = 0;

	r = send_report(f, c, now_s(), "disk_encryption", &st);
	assert_int_equal(st, 200);
	json_decref(r);
	r = send_report(f, c, now_s(), "disk_encryption", &st); /* still failing: no new alert */
	json_decref(r);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_NONCOMPLIANT), 1);
	/* flapping: rate limit 3 per hour; later ones are kept but suppressed */
	for (int k = 0; k < 4; k++) {
		r = send_report(f, c, now_s(), NULL, &st);
		json_decref(r);
		r = send_report(f, c, now_s(), "antivirus", &st);
		assert_int_equal(st, 200);
		json_decref(r);
	}
	assert_int_equal(count_alerts(f, c->device_id, ALERT_NONCOMPLIANT), 5);
	assert_int_equal(store_alerts_list(f->st, c->device_id, 100, &a), 0);
	json_array_foreach (a, i, v)
		suppressed += json_is_true(json_object_get(v, "suppressed"));
	assert_int_equal(suppressed, 2);
	json_decref(a);
	simclient_free(c);
}

static void test_stale_device_is_alerted_once(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false), *never = enroll(f, false);
	json_t *r, *states;
	int st;

	r = send_report(f, c, now_s(), NULL, &st);
	json_decref(r);
	/* 2 x 300 s + 300 s grace later */
	assert_true(alerts_sweep(&f->srv, f->st, now_s() + 901) >= 0);
	assert_true(alerts_sweep(&f->srv, f->st, now_s() + 1000) >= 0);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_STALE), 1);
	assert_int_equal(count_alerts(f, never->device_id, ALERT_STALE), 0);
	assert_int_equal(store_device_states(f->st, now_s() + 901, 300, &states), 0);
	assert_true(json_integer_value(json_object_get(states, "stale")) >= 1);
	assert_true(json_integer_value(json_object_get(states, "never_reported")) >= 1);
	json_decref(states);
	simclient_free(c);
	simclient_free(never);
}

static void test_admin_api_needs_token(void **state)
{
	struct fx *f = *state;
	json_t *r;
	int st;

	r = call(f, "GET", "/api/v1/admin/devices", NULL, NULL, &st);
	assert_int_equal(st, 401);
	json_decref(r);
	r = call(f, "GET", "/api/v1/admin/devices", NULL, "Bearer wxa_wrong_wrong_wrong", &st);
	assert_int_equal(st, 401);
	json_decref(r);
	r = call(f, "GET", "/api/v1/admin/summary", NULL, f->admin, &st);
	assert_int_equal(st, 200);
	assert_non_null(json_object_get(json_object_get(r, "states"), "compliant"));
	assert_true(json_is_array(json_object_get(r, "series")));
	json_decref(r);
	r = call(f, "POST", "/api/v1/admin/tokens",
		 json_pack("{s:i, s:s}", "uses", 2, "expires", "2h"), f->admin, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "uses")), 2);
	json_decref(r);
}

static void test_policy_upload_is_signed_and_served(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	const char *ini =
		"[policy]\nname = corp\nversion = 7\nmode = audit\nreport_interval = 120\n";
	char sha[65];
	json_t *r;
	int st;

	r = call_raw(f, "POST", "/api/v1/admin/policy", ini, strlen(ini), f->admin, NULL, &st);
	assert_int_equal(st, 200);
	json_decref(r);
	r = call_raw(f, "GET", "/api/v1/policy", "", 0, NULL, c->device_id, &st);
	assert_int_equal(st, 200);
	assert_string_equal(json_string_value(json_object_get(r, "text")), ini);
	hash_sha256_buf(ini, strlen(ini), sha);
	assert_string_equal(json_string_value(json_object_get(r, "sha256")), sha);
	assert_int_equal(sign_verify_b64(f->srv.public_key_b64, ini, strlen(ini),
					 json_string_value(json_object_get(r, "signature"))),
			 0);
	json_decref(r);
	r = send_report(f, c, now_s(), NULL, &st);
	assert_string_equal(json_string_value(json_object_get(r, "policy_sha256")), sha);
	assert_int_equal(json_integer_value(json_object_get(r, "report_interval")), 120);
	json_decref(r);
	r = call_raw(f, "GET", "/api/v1/policy", "", 0, NULL, "nope", &st);
	assert_int_equal(st, 404);
	json_decref(r);
	simclient_free(c);
}

static void test_metrics_count_refusals_by_reason(void **state)
{
	struct fx *f = *state;
	json_t *r;
	int st;

	r = call_raw(f, "GET", "/metrics", "", 0, NULL, NULL, &st);
	assert_int_equal(st, 200);
	assert_non_null(strstr(json_string_value(r),
			       "wxguard_reports_refused_total{reason=\"bad_signature\"} "));
	assert_null(strstr(json_string_value(r),
			   "wxguard_reports_refused_total{reason=\"bad_signature\"} 0\n"));
	assert_non_null(strstr(json_string_value(r), "wxguard_devices{state=\"compliant\"}"));
	assert_non_null(strstr(json_string_value(r), "wxguard_up 1"));
	json_decref(r);
}

/* docs/events.md: the alert comes from rule, reason, verdict and action, not the type name. */
static const struct {
	const char *type, *rule, *reason, *verdict, *action;
	const char *alert, *severity, *needle; /* alert NULL: none */
} event_cases[] = {
	{ "exec", "client.denied", "denied_name", "deny", "kill", ALERT_CLIENT_UNAPPROVED, "high",
	  "blocked unapproved client electronic-wechat" },
	{ "exec", "client.denied", "denied_executable", "deny", "lsm_deny", ALERT_CLIENT_UNAPPROVED,
	  "high", "action lsm_deny" },
	{ "scan", "client.denied", "denied_running", "deny", "kill_user", ALERT_CLIENT_UNAPPROVED,
	  "high", "已阻止未经批准的客户端" },
	{ "exec", "client.approved", "unapproved_build", "deny", "none", ALERT_CLIENT_UNAPPROVED,
	  "high", "seen (not stopped) unapproved client wecom" },
	{ "rename", "client.approved", "rename", "deny", "none", ALERT_CLIENT_UNAPPROVED, "high",
	  "发现（未阻止）" },
	{ "exec", "client.approved", "approved", "allow", "none", NULL, NULL, NULL },
	{ "exec", "client.tree", "child_exec", "allow", "none", NULL, NULL, NULL },
	{ "exec", "client.plugins", "ld_preload", "deny", "kill_user", ALERT_INJECTION, "critical",
	  "reason ld_preload" },
	{ "open", "client.plugins", "library", "deny", "none", ALERT_INJECTION, "critical",
	  "library: /tmp/libhook.so" },
	{ "inject", "client.injection", "ptrace", "deny", "lsm_deny", ALERT_INJECTION, "critical",
	  "rule client.injection" },
	{ "inject", "client.injection", "process_vm_writev", "deny", "kill", ALERT_INJECTION,
	  "critical", "process_vm_writev" },
	{ "exec", "client.fileless", "fileless_exec", "deny", "kill", ALERT_INJECTION, "critical",
	  "fileless_exec" },
	{ "exec", "watch.attachment_exec", "attachment_exec", "deny", "none", ALERT_ATTACHMENT_EXEC,
	  "critical",
	  "chat-delivered payload executed: /home/u/Documents/WXWork/Cache/invoice.pdf.sh" },
	{ "exec", "watch.attachment_exec", "attachment_exec", "deny", "kill", ALERT_ATTACHMENT_EXEC,
	  "high", "payload executed (blocked)" },
	{ "drops", "watch", "", "allow", "none", ALERT_WATCHER_DROPS, "low",
	  "lost 17 events (42 since" },
	{ "exec", "client.instances", "too_many_instances", "deny", "kill", NULL, NULL, NULL },
	{ "agent", "policy.reload", "", "allow", "none", NULL, NULL, NULL },
};

static void test_event_alert_mapping_by_rule_reason_verdict_action(void **state)
{
	static const struct {
		const char *type, *alert;
		bool blocked;
	} old[] = {
		{ "client.blocked", ALERT_CLIENT_UNAPPROVED, true },
		{ "exec.blocked", ALERT_CLIENT_UNAPPROVED, true },
		{ "client.unapproved", ALERT_CLIENT_UNAPPROVED, false },
		{ "client.seen", ALERT_CLIENT_UNAPPROVED, false },
		{ "ptrace.injection", ALERT_INJECTION, false },
		{ "exec", NULL, false },
		{ "posture", NULL, false },
	};
	struct alert_event a;
	char text[4096], key[160];

	(void)state;
	for (size_t i = 0; i < sizeof(event_cases) / sizeof(event_cases[0]); i++) {
		json_t *ev = simclient_watch_event(now_s(), event_cases[i].type,
						   event_cases[i].rule, event_cases[i].reason,
						   event_cases[i].verdict, event_cases[i].action);
		bool hit = alert_event_classify(ev, &a);

		json_object_set_new(ev, "uuid", json_string("u-1"));
		if (!event_cases[i].alert) {
			if (hit)
				fail_msg("case %zu (%s %s): unexpected alert %s", i,
					 event_cases[i].rule, event_cases[i].reason, a.rule);
			json_decref(ev);
			continue;
		}
		if (!hit)
			fail_msg("case %zu (%s %s): no alert", i, event_cases[i].rule,
				 event_cases[i].reason);
		assert_string_equal(a.rule, event_cases[i].alert);
		assert_string_equal(a.severity, event_cases[i].severity);
		alert_event_message(ev, &a, "host-a", "dev-1", text, sizeof(text));
		if (!strstr(text, event_cases[i].needle))
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, event_cases[i].needle, text);
		/* names the rule, carries the agent's message in both languages */
		if (json_object_get(ev, "message")) {
			assert_non_null(
				strstr(text, json_string_value(json_object_get(
						     json_object_get(ev, "message"), "en"))));
			assert_non_null(
				strstr(text, json_string_value(json_object_get(
						     json_object_get(ev, "message"), "zh"))));
		}
		alert_event_key(ev, &a, "dev-1", 7200, key, sizeof(key));
		assert_string_equal(key, strcmp(a.rule, ALERT_WATCHER_DROPS) == 0
						 ? "drops:dev-1:2"
						 : "event:dev-1:u-1");
		json_decref(ev);
	}
	for (size_t i = 0; i < sizeof(old) / sizeof(old[0]); i++) {
		json_t *ev = json_pack("{s:s, s:s, s:I}", "uuid", "u", "type", old[i].type, "time",
				       (json_int_t)1);

		if (!old[i].alert) {
			assert_false(alert_event_classify(ev, &a));
		} else {
			assert_true(alert_event_classify(ev, &a));
			assert_string_equal(a.rule, old[i].alert);
			assert_true(a.blocked == old[i].blocked);
		}
		json_decref(ev);
	}
	/* an old-style event names its client by its top-level comm */
	{
		json_t *ev = json_pack("{s:s, s:s, s:I, s:s, s:i}", "uuid", "u", "type",
				       "client.blocked", "time", (json_int_t)1, "comm",
				       "electronic-wechat", "pid", 4242);

		assert_true(alert_event_classify(ev, &a));
		alert_event_message(ev, &a, "host-a", "dev-1", text, sizeof(text));
		assert_non_null(strstr(
			text, "blocked unapproved client electronic-wechat (rule client.blocked"));
		assert_non_null(strstr(text, "process electronic-wechat pid 4242)"));
		json_decref(ev);
	}
}

static void test_event_alert_text_is_sanitized_and_capped(void **state)
{
	json_t *ev = simclient_watch_event(now_s(), "exec", "client.denied", "denied_name", "deny",
					   "kill");
	char big[3000], text[4096], run[611];
	struct alert_event a;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big + 595, "中文", 6); /* a cut at 600 bytes would split the second character */
	json_object_set_new(json_object_get(ev, "message"), "en", json_string(big));
	json_object_set_new(json_object_get(ev, "message"), "zh",
			    json_string("line1\nline2\r\x1b[31m"));
	assert_true(alert_event_classify(ev, &a));
	alert_event_message(ev, &a, "host-a", "dev-1", text, sizeof(text));
	assert_null(strchr(text, '\n'));
	assert_null(strchr(text, '\x1b'));
	memset(run, 'x', sizeof(run) - 1); /* a run of 610 x: the text was capped */
	run[sizeof(run) - 1] = 0;
	assert_null(strstr(text, run));
	assert_non_null(strstr(text, "x中 ")); /* cut before the split character, valid UTF-8 */
	{
		json_t *j = json_string(text); /* jansson refuses invalid UTF-8 */

		assert_non_null(j);
		json_decref(j);
	}
	json_decref(ev);
}

/* A Wine injection as the agent reports it (docs/events.md "inject": the injector's and the
 * target's Windows programs): one alert, naming both, in both languages. */
static void test_wine_injection_event_over_the_api_gives_one_named_alert(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *evs = json_array(), *ev, *proc, *r, *a;
	const char *msg;
	int st;

	ev = simclient_watch_event(now_s(), "inject", "client.injection", "ptrace", "deny", "kill");
	proc = json_object_get(ev, "process");
	json_object_set_new(proc, "comm", json_string("injector.exe"));
	json_object_set_new(proc, "exe", json_string("injector.exe"));
	json_object_set_new(proc, "windows_path",
			    json_string("C:\\users\\bob\\Desktop\\injector.exe"));
	json_object_set_new(ev, "request", json_string("pokedata"));
	json_object_set_new(ev, "target",
			    json_pack("{s:i, s:i, s:s, s:s, s:s}", "pid", 456, "tid", 456, "comm",
				      "WXWork.exe", "exe", "WXWork.exe", "windows_path",
				      "C:\\Program Files (x86)\\WXWork\\WXWork.exe"));
	json_array_append_new(evs, ev);
	r = call(f, "POST", "/api/v1/events", simclient_batch(c, now_s(), evs), NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "accepted")), 1);
	json_decref(r);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_INJECTION), 1);
	assert_int_equal(store_alerts_list(f->st, c->device_id, 10, &a), 0);
	msg = json_string_value(json_object_get(json_array_get(a, 0), "message"));
	assert_non_null(msg);
	assert_non_null(strstr(msg,
			       "injector.exe (pid 22381, uid 1000, "
			       "C:\\users\\bob\\Desktop\\injector.exe) tried to inject into "
			       "WXWork.exe (pid 456, C:\\Program Files (x86)\\WXWork\\WXWork.exe): "
			       "blocked (rule client.injection"));
	assert_non_null(strstr(msg, "试图注入 WXWork.exe（pid 456"));
	json_decref(a);
	simclient_free(c);
}

static void test_watcher_events_over_the_api_raise_mapped_alerts(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *evs = json_array(), *r, *a, *v;
	size_t n = sizeof(event_cases) / sizeof(event_cases[0]), i;
	int st, want_unapproved = 0, want_injection = 0, want_attach = 0;

	for (i = 0; i < n; i++) {
		json_array_append_new(
			evs, simclient_watch_event(now_s(), event_cases[i].type,
						   event_cases[i].rule, event_cases[i].reason,
						   event_cases[i].verdict, event_cases[i].action));
		want_unapproved += event_cases[i].alert &&
				   strcmp(event_cases[i].alert, ALERT_CLIENT_UNAPPROVED) == 0;
		want_injection += event_cases[i].alert &&
				  strcmp(event_cases[i].alert, ALERT_INJECTION) == 0;
		want_attach += event_cases[i].alert &&
			       strcmp(event_cases[i].alert, ALERT_ATTACHMENT_EXEC) == 0;
	}
	/* a second drops record in the same hour: stored, but one alert */
	json_array_append_new(
		evs, simclient_watch_event(now_s(), "drops", "watch", "", "allow", "none"));
	/* events as the watcher writes them: "ts" (RFC 3339), no integer "time" */
	assert_null(json_object_get(json_array_get(evs, 0), "time"));
	r = call(f, "POST", "/api/v1/events", simclient_batch(c, now_s(), evs), NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(json_integer_value(json_object_get(r, "accepted")), (json_int_t)n + 1);
	json_decref(r);
	/* the rate limit (3 per device and rule per hour in this fixture) keeps them all, sends 3
	 */
	assert_int_equal(count_alerts(f, c->device_id, ALERT_CLIENT_UNAPPROVED), want_unapproved);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_INJECTION), want_injection);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_ATTACHMENT_EXEC), want_attach);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_WATCHER_DROPS), 1);
	assert_int_equal(store_alerts_list(f->st, c->device_id, 100, &a), 0);
	json_array_foreach (a, i, v)
		if (strcmp(json_string_value(json_object_get(v, "rule")), ALERT_WATCHER_DROPS) == 0)
			assert_string_equal(json_string_value(json_object_get(v, "severity")),
					    "low");
	json_decref(a);
	/* the stored event keeps the watcher's fields; its time comes from ts */
	r = call(f, "GET", "/api/v1/admin/events?limit=1", NULL, f->admin, &st);
	assert_int_equal(st, 200);
	assert_true(llabs(json_integer_value(json_object_get(json_array_get(r, 0), "time")) -
			  now_s()) < 5);
	json_decref(r);
	/* neither time nor ts: malformed */
	evs = json_array();
	json_array_append_new(evs, json_pack("{s:s}", "type", "exec"));
	r = call(f, "POST", "/api/v1/events", simclient_batch(c, now_s(), evs), NULL, &st);
	assert_int_equal(st, 400);
	json_decref(r);
	simclient_free(c);
}

/* ---- the watcher's state: enforce mode without enforcing (docs/alerts.md not_enforcing) ---- */

/* A report's watcher as an agent with the backend ladder sends it: every decision by
 * backend, effect; injection's effect given. */
static json_t *ladder_watcher(const char *state, const char *backend, const char *effect,
			      const char *injection, const char *summary)
{
	json_t *w = json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:{}}", "state", state,
			      "enforcement", backend, "events", 0, "drops", 0, "kills", 0, "kernel",
			      "5.10.0-30-amd64", "btf", "", "reason", "", "summary", summary,
			      "decisions");
	json_t *dec = json_object_get(w, "decisions");
	static const char *const names[] = { "exec", "libraries", "injection", "renames" };

	for (int d = 0; d < 4; d++)
		json_object_set_new(dec, names[d],
				    json_pack("{s:s, s:s}", "backend", backend, "effect",
					      d == 2 ? injection : effect));
	return w;
}

static json_t *send_watcher_report(struct fx *f, struct simclient *c, const char *mode,
				   json_t *watcher, int *st)
{
	json_t *rep = call(f, "POST", "/api/v1/report",
			   simclient_report_watcher(c, now_s(), NULL, -1, mode, watcher), NULL, st);

	if (*st == 200)
		assert_int_equal(simclient_accepted(c, rep), 0);
	return rep;
}

/* The device's not_enforcing alerts: how many are open (not cleared) in *open, and the message
 * of one that contains needle in msg ("" none). Returns how many in all. */
static int not_enforcing_alerts(struct fx *f, const char *device, const char *needle, char *msg,
				size_t len, int *open)
{
	json_t *a, *v;
	size_t i;
	int n = 0;

	msg[0] = 0;
	*open = 0;
	assert_int_equal(store_alerts_list(f->st, device, 1000, &a), 0);
	json_array_foreach (a, i, v) {
		const char *m = json_string_value(json_object_get(v, "message"));

		if (strcmp(json_string_value(json_object_get(v, "rule")), ALERT_NOT_ENFORCING))
			continue;
		n++;
		*open += json_is_null(json_object_get(v, "cleared"));
		if (strstr(m, needle))
			snprintf(msg, len, "%s", m);
	}
	json_decref(a);
	return n;
}

static void test_not_enforcing_alert_raised_once_with_reason_and_cleared(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	const char *why = "kernel 5.10 has no BTF: enforcing with fanotify; injection is "
			  "reported, not refused";
	char msg[4096] = "", path[160];
	int open;
	json_t *r, *dev, *w;
	int st;

	/* enforce + running: nothing to say */
	r = send_watcher_report(f, c, "enforce",
				ladder_watcher("running", "lsm", "refused", "refused", "ok"), &st);
	assert_int_equal(st, 200);
	json_decref(r);
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "", msg, sizeof(msg), &open), 0);

	/* degraded: raised once, naming what is only reported and why */
	for (int k = 0; k < 3; k++) {
		r = send_watcher_report(
			f, c, "enforce",
			ladder_watcher("degraded", "fanotify", "refused", "reported", why), &st);
		assert_int_equal(st, 200);
		json_decref(r);
	}
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "", msg, sizeof(msg), &open), 1);
	assert_int_equal(open, 1);
	assert_non_null(strstr(msg, "enforce mode but the agent is not enforcing"));
	assert_non_null(strstr(msg, "Only reported: injection (fanotify)"));
	assert_non_null(strstr(msg, why));
	assert_non_null(strstr(msg, "5.10.0-30-amd64"));

	/* the device's API shows the watcher as reported */
	snprintf(path, sizeof(path), "/api/v1/admin/devices/%s", c->device_id);
	dev = call(f, "GET", path, NULL, f->admin, &st);
	assert_int_equal(st, 200);
	w = json_object_get(dev, "watcher");
	assert_string_equal(json_string_value(json_object_get(w, "state")), "degraded");
	assert_string_equal(json_string_value(json_object_get(w, "summary")), why);
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(w, "decisions"), "injection"), "effect")),
		"reported");
	assert_true(json_is_true(json_object_get(dev, "not_enforcing")));
	assert_string_equal(json_string_value(json_object_get(dev, "policy_mode")), "enforce");
	json_decref(dev);
	r = call_raw(f, "GET", "/metrics", "", 0, NULL, NULL, &st);
	assert_non_null(strstr(json_string_value(r), "\nwxguard_devices_not_enforcing "));
	assert_null(strstr(json_string_value(r), "\nwxguard_devices_not_enforcing 0\n"));
	json_decref(r);

	/* running again: cleared, and one enforcing_restored notice */
	for (int k = 0; k < 2; k++) {
		r = send_watcher_report(
			f, c, "enforce",
			ladder_watcher("running", "lsm", "refused", "refused", "ok"), &st);
		assert_int_equal(st, 200);
		json_decref(r);
	}
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "", msg, sizeof(msg), &open), 1);
	assert_int_equal(open, 0);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_ENFORCING_RESTORED), 1);
	dev = call(f, "GET", path, NULL, f->admin, &st);
	assert_false(json_is_true(json_object_get(dev, "not_enforcing")));
	json_decref(dev);

	/* posture only raises a new one (a new episode) */
	r = send_watcher_report(f, c, "enforce",
				ladder_watcher("posture_only", "none", "none", "none",
					       "posture only: no watcher could start"),
				&st);
	json_decref(r);
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "Not watched: exec (none)", msg,
					      sizeof(msg), &open),
			 2);
	assert_int_equal(open, 1);
	assert_non_null(strstr(msg, "posture only: no watcher could start"));
	simclient_free(c);
}

static void test_not_enforcing_needs_enforce_mode_and_reads_old_agents(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	char msg[4096] = "";
	int open;
	json_t *r;
	int st;

	/* audit mode: degraded is not an enforcement failure */
	r = send_watcher_report(f, c, "audit",
				ladder_watcher("degraded", "fanotify", "refused", "reported", "x"),
				&st);
	assert_int_equal(st, 200);
	json_decref(r);
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "", msg, sizeof(msg), &open), 0);
	/* an agent before the ladder: only state and enforcement; still alerted */
	r = send_watcher_report(f, c, "enforce",
				json_pack("{s:s, s:s, s:i, s:i, s:i}", "state", "degraded",
					  "enforcement", "none", "events", 0, "drops", 0, "kills",
					  0),
				&st);
	assert_int_equal(st, 200);
	json_decref(r);
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "does not report its decisions", msg,
					      sizeof(msg), &open),
			 1);
	assert_int_equal(open, 1);
	assert_true(msg[0]);
	/* the policy leaves enforce mode: cleared */
	r = send_watcher_report(f, c, "audit",
				ladder_watcher("degraded", "fanotify", "refused", "reported", "x"),
				&st);
	json_decref(r);
	assert_int_equal(not_enforcing_alerts(f, c->device_id, "", msg, sizeof(msg), &open), 1);
	assert_int_equal(open, 0);
	assert_int_equal(count_alerts(f, c->device_id, ALERT_ENFORCING_RESTORED), 1);
	simclient_free(c);
}

/* A database of schema 1 (before the watcher columns) gets them in place, data kept. */
static void test_store_migrates_schema_1_in_place(void **state)
{
	struct fx *f = *state;
	struct simclient *c = enroll(f, false);
	json_t *r, *devs, *v;
	size_t i;
	int st, found = 0;

	r = send_report(f, c, now_s(), NULL, &st);
	json_decref(r);
	assert_int_equal(f->st->drv->script(f->st, "ALTER TABLE devices DROP COLUMN watcher;"
						   "ALTER TABLE devices DROP COLUMN policy_mode;"
						   "ALTER TABLE devices DROP COLUMN not_enforcing;"
						   "ALTER TABLE alerts DROP COLUMN cleared;"
						   "UPDATE wxg_meta SET value = '1'"
						   " WHERE key = 'schema_version'"),
			 0);
	assert_int_equal(store_migrate(f->st), 0);
	assert_int_equal(store_migrate(f->st), 0); /* twice: nothing to do */
	assert_int_equal(store_device_list(f->st, now_s(), 300, &devs), 0);
	json_array_foreach (devs, i, v)
		if (strcmp(json_string_value(json_object_get(v, "id")), c->device_id) == 0) {
			found++;
			assert_true(json_is_null(json_object_get(v, "watcher")));
			assert_int_equal(json_integer_value(json_object_get(v, "last_seq")), 1);
		}
	assert_int_equal(found, 1);
	json_decref(devs);
	/* and reports go on */
	r = send_watcher_report(f, c, "enforce",
				ladder_watcher("running", "lsm", "refused", "refused", "ok"), &st);
	assert_int_equal(st, 200);
	json_decref(r);
	simclient_free(c);
}

#define T(name) cmocka_unit_test(name)
#define ALL_TESTS                                                                               \
	T(test_report_valid_is_accepted_and_chained), T(test_report_tampered_is_bad_signature), \
		T(test_report_replayed_seq_is_refused),                                         \
		T(test_report_signed_by_other_key_is_refused),                                  \
		T(test_report_revoked_and_unapproved_devices_are_refused),                      \
		T(test_report_bad_nonce_is_refused), T(test_report_clock_skew_is_refused),      \
		T(test_report_chain_gap_is_flagged_and_alerted),                                \
		T(test_report_malformed_bodies_are_400),                                        \
		T(test_enroll_token_uses_expiry_and_challenge),                                 \
		T(test_events_are_deduplicated_and_alerted),                                    \
		T(test_event_alert_mapping_by_rule_reason_verdict_action),                      \
		T(test_event_alert_text_is_sanitized_and_capped),                               \
		T(test_watcher_events_over_the_api_raise_mapped_alerts),                        \
		T(test_wine_injection_event_over_the_api_gives_one_named_alert),                \
		T(test_noncompliant_alert_once_per_transition_and_rate_limited),                \
		T(test_stale_device_is_alerted_once), T(test_admin_api_needs_token),            \
		T(test_policy_upload_is_signed_and_served),                                     \
		T(test_metrics_count_refusals_by_reason),                                       \
		T(test_not_enforcing_alert_raised_once_with_reason_and_cleared),                \
		T(test_not_enforcing_needs_enforce_mode_and_reads_old_agents),                  \
		T(test_store_migrates_schema_1_in_place)

int main(void)
{
	const struct CMUnitTest tests[] = { ALL_TESTS };
	int r = 0;

	r += cmocka_run_group_tests_name("sqlite", tests, setup_sqlite, teardown);
	r += cmocka_run_group_tests_name("postgresql", tests, setup_pg, teardown);
	return r ? 1 : 0;
}
