/* agent/uplink: HTTP(S) on the sd-event loop, pinning, backoff. Loopback only. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent/uplink/uplink.h"
#include "tests/lib/uplink_child_entry.h"
#include "tests/lib/uplink_loopback.h"
#include "tests/lib/uplink_pki.h"
#include "common/fileio.h"

struct srv {
	unsigned hits;
	unsigned sleep_ms;
	char last_path[256];
	char last_body[256];
	char last_method[16];
	bool saw_json_ct;
};

static bool handler(void *ud, const struct uplink_loopback_req *req, int *status, char **body)
{
	struct srv *s = ud;

	s->hits++;
	snprintf(s->last_path, sizeof(s->last_path), "%s", req->path);
	snprintf(s->last_body, sizeof(s->last_body), "%s", req->body);
	snprintf(s->last_method, sizeof(s->last_method), "%s", req->method);
	s->saw_json_ct = strstr(req->headers, "Content-Type: application/json") != NULL;
	if (s->sleep_ms)
		usleep(s->sleep_ms * 1000);
	if (strcmp(req->path, "/drop") == 0)
		return false;
	*status = strcmp(req->path, "/missing") == 0 ? 404 : 200;
	*body = strdup(strcmp(req->path, "/missing") == 0 ? "{\"error\":\"nope\"}"
							  : "{\"ok\":true}");
	return true;
}

struct result {
	int done;
	int err;
	long status;
	char body[256];
};

static void on_done(void *ud, const struct uplink_response *r)
{
	struct result *res = ud;

	res->done++;
	res->err = r->err;
	res->status = r->status;
	snprintf(res->body, sizeof(res->body), "%s", r->body);
}

static void run_until(sd_event *e, int *flag, int want)
{
	for (int i = 0; i < 1000 && *flag < want; i++)
		assert_true(sd_event_run(e, 20 * 1000) >= 0);
	assert_int_equal(*flag, want);
}

static void test_uplink_post_and_get_roundtrip_on_event_loop(void **state)
{
	struct srv s = { 0 };
	struct uplink_loopback *lb;
	struct uplink *u;
	struct result res = { 0 };
	sd_event *e;

	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(
		uplink_new(e, &(struct uplink_opts){ .base_url = uplink_loopback_url(lb) }, &u), 0);
	assert_int_equal(
		uplink_request(u, "POST", "/api/v1/report", NULL, "{\"a\":1}", 7, on_done, &res),
		0);
	assert_int_equal(uplink_in_flight(u), 1);
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "{\"ok\":true}");
	uplink_loopback_lock(lb);
	assert_string_equal(s.last_method, "POST");
	assert_string_equal(s.last_path, "/api/v1/report");
	assert_string_equal(s.last_body, "{\"a\":1}");
	assert_true(s.saw_json_ct);
	uplink_loopback_unlock(lb);
	assert_int_equal(uplink_in_flight(u), 0);

	assert_int_equal(uplink_request(u, "GET", "/missing",
					(const char *const[]){ "X-Wxguard-Device: d1", NULL }, NULL,
					0, on_done, &res),
			 0);
	run_until(e, &res.done, 2);
	assert_int_equal(res.status, 404);
	assert_string_equal(res.body, "{\"error\":\"nope\"}");

	/* A server that hangs up without answering is a transport error, not a status. */
	assert_int_equal(uplink_request(u, "GET", "/drop", NULL, NULL, 0, on_done, &res), 0);
	run_until(e, &res.done, 3);
	assert_true(res.err < 0);
	uplink_free(u);
	sd_event_unref(e);
	uplink_loopback_stop(lb);
}

static void test_uplink_connection_refused_is_reported(void **state)
{
	struct srv s = { 0 };
	struct uplink_loopback *lb;
	struct uplink *u;
	struct result res = { 0 };
	char url[64];
	sd_event *e;

	/* A port that was just free. */
	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);
	snprintf(url, sizeof(url), "%s", uplink_loopback_url(lb));
	uplink_loopback_stop(lb);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(uplink_new(e, &(struct uplink_opts){ .base_url = url }, &u), 0);
	assert_int_equal(uplink_request(u, "POST", "/x", NULL, "{}", 2, on_done, &res), 0);
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, -ECONNREFUSED);
	uplink_free(u);
	sd_event_unref(e);
}

static int tick_count;

static int on_tick(sd_event_source *src, uint64_t usec, void *ud)
{
	tick_count++;
	sd_event_source_set_time_relative(src, 20 * 1000);
	return 0;
}

static void test_uplink_slow_server_does_not_block_loop(void **state)
{
	struct srv s = { .sleep_ms = 400 };
	struct uplink_loopback *lb;
	struct uplink *u;
	struct result res[8] = { 0 };
	int done = 0;
	sd_event_source *tick;
	sd_event *e;

	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(
		sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, 20 * 1000, 0, on_tick, NULL),
		0);
	sd_event_source_set_enabled(tick, SD_EVENT_ON);
	assert_int_equal(
		uplink_new(e, &(struct uplink_opts){ .base_url = uplink_loopback_url(lb) }, &u), 0);
	tick_count = 0;
	assert_int_equal(uplink_request(u, "POST", "/slow", NULL, "{}", 2, on_done, &res[0]), 0);
	for (int i = 0; i < 500 && !res[0].done; i++)
		assert_true(sd_event_run(e, 50 * 1000) >= 0);
	assert_int_equal(res[0].done, 1);
	assert_int_equal(res[0].status, 200);
	/* The timer kept firing while the server sat on the request. */
	assert_true(tick_count >= 5);
	/* Several at once. */
	uplink_loopback_lock(lb);
	s.sleep_ms = 0;
	uplink_loopback_unlock(lb);
	for (int i = 1; i < 8; i++)
		assert_int_equal(
			uplink_request(u, "POST", "/many", NULL, "{}", 2, on_done, &res[i]), 0);
	for (int i = 0; i < 500 && done < 7; i++) {
		assert_true(sd_event_run(e, 50 * 1000) >= 0);
		done = 0;
		for (int k = 1; k < 8; k++)
			done += res[k].done;
	}
	assert_int_equal(done, 7);
	sd_event_source_unref(tick);
	uplink_free(u);
	sd_event_unref(e);
	uplink_loopback_stop(lb);
}

static void tls_case(sd_event *e, const char *url, const char *ca, const char *pin, int want_err)
{
	struct uplink *u;
	struct result res = { 0 };

	assert_int_equal(
		uplink_new(e, &(struct uplink_opts){ .base_url = url, .ca = ca, .pin_sha256 = pin },
			   &u),
		0);
	assert_int_equal(uplink_request(u, "POST", "/api/v1/report", NULL, "{}", 2, on_done, &res),
			 0);
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, want_err);
	if (!want_err)
		assert_int_equal(res.status, 200);
	uplink_free(u);
}

static void test_uplink_tls_pins_ca_and_public_key(void **state)
{
	struct uplink_pki pki;
	struct srv s = { 0 };
	struct uplink_loopback *lb;
	char url[64];
	sd_event *e;

	if (uplink_pki_make(&pki) < 0) {
		uplink_pki_free(&pki);
		skip();
	}
	assert_int_equal(uplink_loopback_start(0, pki.cert, pki.key, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	tls_case(e, uplink_loopback_url(lb), pki.ca, NULL, 0);
	tls_case(e, uplink_loopback_url(lb), pki.ca, pki.pin, 0);
	/* The wrong CA: refused, the request never reaches the handler. */
	uplink_loopback_lock(lb);
	s.hits = 0;
	uplink_loopback_unlock(lb);
	tls_case(e, uplink_loopback_url(lb), pki.other_ca, NULL, UPLINK_ETLS);
	/* Right CA, wrong public key pin. */
	tls_case(e, uplink_loopback_url(lb), pki.ca,
		 "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", UPLINK_ETLS);
	uplink_loopback_lock(lb);
	assert_int_equal(s.hits, 0);
	uplink_loopback_unlock(lb);
	/* Plain http to a TLS port is not quietly accepted either. */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", uplink_loopback_port(lb));
	{
		struct uplink *u;
		struct result res = { 0 };

		assert_int_equal(
			uplink_new(e, &(struct uplink_opts){ .base_url = url, .timeout_s = 3 }, &u),
			0);
		assert_int_equal(uplink_request(u, "POST", "/x", NULL, "{}", 2, on_done, &res), 0);
		run_until(e, &res.done, 1);
		assert_true(res.err < 0 || res.status != 200);
		uplink_free(u);
	}
	sd_event_unref(e);
	uplink_loopback_stop(lb);
	uplink_pki_free(&pki);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uplink_post_and_get_roundtrip_on_event_loop),
		cmocka_unit_test(test_uplink_connection_refused_is_reported),
		cmocka_unit_test(test_uplink_slow_server_does_not_block_loop),
		cmocka_unit_test(test_uplink_tls_pins_ca_and_public_key),
	};

	uplink_child_entry(); /* when re-executed as the uplink child */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
