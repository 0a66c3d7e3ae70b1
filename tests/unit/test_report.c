/* agent/report: building, canonical signing and chaining attestation reports. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/attest/report.h"
#include "common/canon.h"
#include "common/sign.h"

static struct check_kv ev_lock[] = { { "user", "alice" },
				     { "user", "bob" },
				     { "idle_delay", "300" } };

static struct check_result results[] = {
	{ .id = "screen_lock",
	  .status = CHECK_PASS,
	  .summary_en = "locks after 300 s",
	  .summary_zh = "300 秒后锁屏",
	  .evidence = ev_lock,
	  .n_evidence = 3 },
	{ .id = "device.ptrace_scope", .status = CHECK_FAIL, .summary_en = "ptrace_scope is 0" },
};

static struct check_report checks = { .results = results, .n_results = 2, .overall = CHECK_FAIL };

static void input(struct report_input *in, struct policy *p, struct report_watcher *w)
{
	memset(p, 0, sizeof(*p));
	p->name = "corp";
	p->version = "7";
	p->mode = POLICY_MODE_ENFORCE;
	strcpy(p->sha256, "ab"
			  "cdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
	*w = (struct report_watcher){
		.state = "running", .enforcement = "lsm", .events = 10, .drops = 1, .kills = 2
	};
	*in = (struct report_input){
		.device_id = "d-1",
		.seq = 42,
		.boot_id = "b-1",
		.time = 1795000000,
		.nonce = "bm9uY2U=",
		.prev_hash = NULL,
		.agent_version = "0.1.0",
		.agent_sha256 = "1111111111111111111111111111111111111111111111111111111111111111",
		.policy = p,
		.checks = &checks,
		.watcher = w,
		.spool_depth = 3,
		.spool_evicted = 4,
	};
}

static void test_report_build_has_every_protocol_field(void **state)
{
	struct report_input in;
	struct report_watcher w;
	struct policy p;
	json_t *r, *c0, *ev;

	input(&in, &p, &w);
	assert_int_equal(report_build(&in, &r), 0);
	assert_string_equal(json_string_value(json_object_get(r, "device_id")), "d-1");
	assert_int_equal(json_integer_value(json_object_get(r, "seq")), 42);
	assert_string_equal(json_string_value(json_object_get(r, "boot_id")), "b-1");
	assert_int_equal(json_integer_value(json_object_get(r, "time")), 1795000000);
	assert_string_equal(json_string_value(json_object_get(r, "nonce")), "bm9uY2U=");
	assert_string_equal(json_string_value(json_object_get(r, "prev_hash")), REPORT_ZERO_HASH);
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "agent"), "version")),
		"0.1.0");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "policy"), "mode")),
		"enforce");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "policy"), "name")), "corp");
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "watcher"), "enforcement")),
		"lsm");
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(r, "watcher"), "kills")), 2);
	assert_int_equal(
		json_integer_value(json_object_get(json_object_get(r, "spool"), "evicted")), 4);
	assert_int_equal(json_array_size(json_object_get(r, "checks")), 2);
	c0 = json_array_get(json_object_get(r, "checks"), 0);
	assert_string_equal(json_string_value(json_object_get(c0, "status")), "pass");
	assert_string_equal(json_string_value(json_object_get(c0, "summary")), "locks after 300 s");
	ev = json_object_get(c0, "evidence");
	assert_int_equal(json_array_size(json_object_get(ev, "user")), 2);
	assert_string_equal(json_string_value(json_object_get(ev, "idle_delay")), "300");
	/* Exactly the documented top-level members (docs/privacy.md). */
	assert_int_equal(json_object_size(r), 11);
	json_decref(r);
}

static void test_report_without_policy_or_watcher_is_canonical(void **state)
{
	struct report_input in;
	struct report_watcher w;
	struct policy p;
	json_t *r;
	char *text;

	input(&in, &p, &w);
	in.policy = NULL;
	in.watcher = NULL;
	in.checks = NULL;
	assert_int_equal(report_build(&in, &r), 0);
	assert_true(json_is_null(json_object_get(json_object_get(r, "policy"), "name")));
	assert_string_equal(
		json_string_value(json_object_get(json_object_get(r, "watcher"), "state")), "off");
	assert_int_equal(canon_dump(r, &text, NULL), 0);
	free(text);
	json_decref(r);
	in.prev_hash = "short";
	assert_int_equal(report_build(&in, &r), -EINVAL);
}

static void test_report_signature_verifies_after_reserialization(void **state)
{
	struct report_input in;
	struct report_watcher w;
	struct policy p;
	struct sign_key *k;
	json_t *r, *env, *parsed;
	char *pub, *wire;

	input(&in, &p, &w);
	assert_int_equal(report_build(&in, &r), 0);
	assert_int_equal(sign_key_generate(&k), 0);
	assert_int_equal(sign_key_public_b64(k, &pub), 0);
	assert_int_equal(sign_envelope(k, "report", r, &env), 0);
	/* Whitespace and key order in transit do not matter. */
	wire = json_dumps(env, JSON_INDENT(3));
	parsed = json_loads(wire, 0, NULL);
	assert_non_null(parsed);
	assert_int_equal(
		sign_verify_json_b64(pub, json_object_get(parsed, "report"),
				     json_string_value(json_object_get(parsed, "signature"))),
		0);
	/* Content does. */
	json_object_set_new(json_object_get(parsed, "report"), "seq", json_integer(43));
	assert_int_equal(
		sign_verify_json_b64(pub, json_object_get(parsed, "report"),
				     json_string_value(json_object_get(parsed, "signature"))),
		-EBADMSG);
	json_decref(parsed);
	free(wire);
	json_decref(env);
	json_decref(r);
	free(pub);
	sign_key_free(k);
}

static void test_report_seq_persists_across_restarts(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX];
	struct report_chain c;
	uint64_t seq;

	snprintf(path, sizeof(path), "%s/%s", dir, REPORT_STATE_FILE);
	assert_int_equal(report_chain_load(path, &c), 0);
	assert_int_equal(c.seq, 0);
	assert_string_equal(c.prev_hash, REPORT_ZERO_HASH);
	assert_null(c.nonce);
	assert_int_equal(report_chain_next(&c, path, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(report_chain_next(&c, path, &seq), 0);
	assert_int_equal(seq, 2);
	report_chain_clear(&c);
	/* "Restart": a report taken but never accepted still consumed its seq. */
	assert_int_equal(report_chain_load(path, &c), 0);
	assert_int_equal(report_chain_next(&c, path, &seq), 0);
	assert_int_equal(seq, 3);
	report_chain_clear(&c);
	wxg_test_write(path, "{\"seq\": \"x\"}");
	assert_int_equal(report_chain_load(path, &c), -EBADMSG);
	report_chain_clear(&c);
	wxg_test_rmtree(dir);
	free(dir);
}

static void test_report_prev_hash_chains_to_last_accepted(void **state)
{
	char *dir = wxg_test_mkdtemp(), path[PATH_MAX], hex[HASH_SHA256_HEX];
	struct report_input in;
	struct report_watcher w;
	struct report_chain c;
	struct policy p;
	json_t *r1, *r2;
	uint64_t seq;

	snprintf(path, sizeof(path), "%s/%s", dir, REPORT_STATE_FILE);
	assert_int_equal(report_chain_load(path, &c), 0);
	input(&in, &p, &w);
	assert_int_equal(report_chain_next(&c, path, &seq), 0);
	in.seq = seq;
	in.prev_hash = c.prev_hash;
	in.nonce = c.nonce;
	assert_int_equal(report_build(&in, &r1), 0);
	assert_int_equal(report_chain_accepted(&c, path, r1, "bmV3"), 0);
	assert_int_equal(canon_sha256(r1, hex), 0);
	report_chain_clear(&c);

	assert_int_equal(report_chain_load(path, &c), 0);
	assert_string_equal(c.prev_hash, hex);
	assert_string_equal(c.nonce, "bmV3");
	assert_int_equal(report_chain_next(&c, path, &seq), 0);
	in.seq = seq;
	in.prev_hash = c.prev_hash;
	in.nonce = c.nonce;
	assert_int_equal(report_build(&in, &r2), 0);
	assert_string_equal(json_string_value(json_object_get(r2, "prev_hash")), hex);
	assert_string_equal(json_string_value(json_object_get(r2, "nonce")), "bmV3");
	assert_int_equal(json_integer_value(json_object_get(r2, "seq")), 2);
	json_decref(r1);
	json_decref(r2);
	report_chain_clear(&c);
	wxg_test_rmtree(dir);
	free(dir);
}

/* The backend ladder's fields (docs/protocol.md): additive members of "watcher", strings only,
 * so the report stays canonical and its signature verifies after a round trip. */
static void test_report_watcher_carries_decisions_kernel_and_summary(void **state)
{
	struct watch_state ws = { .state = WATCH_STATE_DEGRADED };
	struct report_input in;
	struct report_watcher w;
	struct policy p;
	struct sign_key *k;
	json_t *r, *wj, *env, *parsed;
	char *text, *pub;

	input(&in, &p, &w);
	for (int d = 0; d < WATCH_DEC_MAX; d++)
		ws.decisions[d] = (struct watch_decision_state){ WATCH_BACKEND_FANOTIFY,
								 WATCH_EFFECT_REFUSED };
	ws.decisions[WATCH_DEC_INJECTION].effect = WATCH_EFFECT_REPORTED;
	strcpy(ws.kernel, "5.10.0-30-amd64");
	strcpy(ws.reason, "no BTF");
	strcpy(ws.summary, "kernel 5.10 has no BTF: enforcing with fanotify; injection is "
			   "reported, not refused");
	w.state = "degraded";
	w.enforcement = "fanotify";
	w.ladder = &ws;
	assert_int_equal(report_build(&in, &r), 0);
	wj = json_object_get(r, "watcher");
	assert_string_equal(json_string_value(json_object_get(wj, "state")), "degraded");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(wj, "decisions"), "injection"), "effect")),
		"reported");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(wj, "decisions"), "exec"), "backend")),
		"fanotify");
	assert_int_equal(json_object_size(json_object_get(wj, "decisions")), 4);
	assert_string_equal(json_string_value(json_object_get(wj, "kernel")), "5.10.0-30-amd64");
	assert_string_equal(json_string_value(json_object_get(wj, "btf")), "");
	assert_string_equal(json_string_value(json_object_get(wj, "reason")), "no BTF");
	assert_string_equal(json_string_value(json_object_get(wj, "summary")), ws.summary);
	/* still 11 top-level members: the new fields live inside "watcher" */
	assert_int_equal(json_object_size(r), 11);
	assert_int_equal(sign_key_generate(&k), 0);
	assert_int_equal(sign_key_public_b64(k, &pub), 0);
	assert_int_equal(sign_envelope(k, "report", r, &env), 0);
	text = json_dumps(env, JSON_INDENT(3));
	parsed = json_loads(text, 0, NULL);
	assert_int_equal(
		sign_verify_json_b64(pub, json_object_get(parsed, "report"),
				     json_string_value(json_object_get(parsed, "signature"))),
		0);
	free(text);
	free(pub);
	json_decref(parsed);
	json_decref(env);
	json_decref(r);
	sign_key_free(k);

	/* without the ladder (an agent before it): none of the new members */
	w.ladder = NULL;
	assert_int_equal(report_build(&in, &r), 0);
	assert_null(json_object_get(json_object_get(r, "watcher"), "decisions"));
	assert_null(json_object_get(json_object_get(r, "watcher"), "summary"));
	json_decref(r);
}

static void test_report_self_sha256_is_hex(void **state)
{
	char hex[HASH_SHA256_HEX];

	assert_int_equal(report_self_sha256(hex), 0);
	assert_int_equal(strlen(hex), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_build_has_every_protocol_field),
		cmocka_unit_test(test_report_without_policy_or_watcher_is_canonical),
		cmocka_unit_test(test_report_signature_verifies_after_reserialization),
		cmocka_unit_test(test_report_seq_persists_across_restarts),
		cmocka_unit_test(test_report_prev_hash_chains_to_last_accepted),
		cmocka_unit_test(test_report_watcher_carries_decisions_kernel_and_summary),
		cmocka_unit_test(test_report_self_sha256_is_hex),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
