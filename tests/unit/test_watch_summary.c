/* agent/watch/watch_summary.c: the one-line summary, English and Chinese, for every combination
 * of rungs the backend ladder produces. Data-driven: one file per case in
 * tests/data/watch_summary/NAME.case, a test named test_watch_summary_NAME:
 *
 *   # what the case is (a kernel, a boot option, a forced backend)
 *   [state]
 *   state = running | degraded | posture_only
 *   kernel = 5.10.0-30-amd64
 *   btf = /sys/kernel/btf/vmlinux      (empty: none found)
 *   reason = ...                       (the watcher's reason; may be empty)
 *   exec = BACKEND EFFECT              (and libraries, injection, renames; absent: none none)
 *   [expect]
 *   summary = the exact English line   (~ contains, !~ does not contain)
 *   summary_zh = the exact Chinese line
 *
 * Every case also checks that both lines are valid UTF-8 and that the English one fits the
 * state's summary field (256 bytes) uncut. WXG_CASE_VERBOSE=1 prints every line. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/watch/watch_summary.h"

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : 3;

		if (*p >= 0x80 && (*p & 0xc0) == 0x80)
			return false;
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				return false;
	}
	return true;
}

static bool set_decision(struct watch_state *s, const char *key, const char *value)
{
	static const char *const effects[] = { "none", "reported", "stopped", "refused" };
	char backend[32] = "", effect[32] = "";

	for (int d = 0; d < WATCH_DEC_MAX; d++) {
		enum watch_backend b;

		if (strcmp(key, watch_decision_to_string(d)) != 0)
			continue;
		if (sscanf(value, "%31s %31s", backend, effect) != 2 ||
		    watch_backend_from_string(backend, &b) < 0 || b == WATCH_BACKEND_AUTO)
			return false;
		s->decisions[d].backend = b;
		for (int e = 0; e < 4; e++)
			if (strcmp(effect, effects[e]) == 0) {
				s->decisions[d].effect = e;
				return true;
			}
		return false;
	}
	return false;
}

static bool set_state(struct watch_state *s, const char *key, const char *value)
{
	if (strcmp(key, "state") == 0) {
		for (int st = WATCH_STATE_RUNNING; st <= WATCH_STATE_POSTURE_ONLY; st++)
			if (strcmp(value, watch_run_state_to_string(st)) == 0) {
				s->state = st;
				return true;
			}
		return false;
	}
	if (strcmp(key, "kernel") == 0)
		snprintf(s->kernel, sizeof(s->kernel), "%s", value);
	else if (strcmp(key, "btf") == 0)
		snprintf(s->btf, sizeof(s->btf), "%s", value);
	else if (strcmp(key, "reason") == 0)
		snprintf(s->reason, sizeof(s->reason), "%s", value);
	else
		return set_decision(s, key, value);
	return true;
}

static bool expect(const char *name, unsigned lineno, const char *key, const char *op,
		   const char *want, const char *have)
{
	bool ok = strcmp(op, "=") == 0    ? strcmp(have, want) == 0
		  : strcmp(op, "~") == 0  ? strstr(have, want) != NULL
		  : strcmp(op, "!~") == 0 ? strstr(have, want) == NULL
					  : false;

	if (!ok)
		fprintf(stderr, "%s:%u: %s %s '%s'\n  got: '%s'\n", name, lineno, key, op, want,
			have);
	return ok;
}

static void case_test(void **state)
{
	const struct wxg_test_case *c = *state;
	struct watch_state s = { 0 };
	char line[1024], section[16] = "", en_full[1024], zh_full[1024], zh_field[256];
	bool ok = true, parsed = false;
	unsigned lineno = 0, expects = 0;
	FILE *f = fopen(c->path, "re");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char *l = trim(line), *eq;

		lineno++;
		if (!*l || *l == '#')
			continue;
		if (*l == '[') {
			snprintf(section, sizeof(section), "%.*s", (int)strcspn(l + 1, "]"), l + 1);
			if (strcmp(section, "expect") == 0 && !parsed) {
				watch_state_summarize(&s);
				watch_summary_format(&s, false, en_full, sizeof(en_full));
				watch_summary_format(&s, true, zh_full, sizeof(zh_full));
				watch_summary_format(&s, true, zh_field, sizeof(zh_field));
				parsed = true;
			}
			continue;
		}
		if (strcmp(section, "state") == 0) {
			eq = strchr(l, '=');
			if (!eq)
				fail_msg("%s:%u: key = value expected", c->path, lineno);
			*eq = 0;
			if (!set_state(&s, trim(l), trim(eq + 1)))
				fail_msg("%s:%u: bad state line", c->path, lineno);
		} else if (strcmp(section, "expect") == 0) {
			char key[64], op[3] = "";
			const char *rest;

			if (sscanf(l, "%63s %2s", key, op) != 2)
				fail_msg("%s:%u: key OP value expected", c->path, lineno);
			rest = strstr(l, op) + strlen(op);
			while (*rest == ' ')
				rest++;
			if (strcmp(key, "summary") == 0)
				ok = expect(c->name, lineno, key, op, rest, en_full) && ok;
			else if (strcmp(key, "summary_zh") == 0)
				ok = expect(c->name, lineno, key, op, rest, zh_full) && ok;
			else
				fail_msg("%s:%u: unknown key '%s'", c->path, lineno, key);
			expects++;
		} else {
			fail_msg("%s:%u: unknown section [%s]", c->path, lineno, section);
		}
	}
	fclose(f);
	assert_true(parsed);
	assert_true(expects > 0);
	if (getenv("WXG_CASE_VERBOSE"))
		fprintf(stderr, "%s\n  en: %s\n  zh: %s\n", c->name, en_full, zh_full);
	assert_true(utf8_valid(s.summary));
	assert_true(utf8_valid(zh_field));
	assert_true(strlen(s.summary) > 0);
	if (strcmp(s.summary, en_full) != 0)
		fail_msg("%s: the English line does not fit the summary field (%zu bytes)", c->name,
			 strlen(en_full));
	if (!ok)
		fail_msg("case %s does not match its expectations", c->name);
}

/* A cut never leaves half a character: 3-byte Chinese characters into small buffers. */
static void test_watch_summary_cut_on_a_utf8_boundary(void **state)
{
	struct watch_state s = { .state = WATCH_STATE_POSTURE_ONLY };
	char buf[64];

	(void)state;
	snprintf(s.reason, sizeof(s.reason), "cannot open the BPF object: No such file");
	for (size_t size = 1; size <= sizeof(buf); size++) {
		watch_summary_format(&s, true, buf, size);
		assert_true(strlen(buf) < size);
		assert_true(utf8_valid(buf));
	}
}

/* watch_state_summarize() writes the field and nothing else. */
static void test_watch_summary_fills_only_the_summary(void **state)
{
	struct watch_state s = { .state = WATCH_STATE_RUNNING }, before;

	(void)state;
	for (int d = 0; d < WATCH_DEC_MAX; d++)
		s.decisions[d] = (struct watch_decision_state){ WATCH_BACKEND_LSM,
								WATCH_EFFECT_REFUSED };
	before = s;
	watch_state_summarize(&s);
	assert_string_equal(s.summary, "enforcing with the BPF LSM: execs, libraries, injection "
				       "and renames are refused before they happen");
	memset(s.summary, 0, sizeof(s.summary));
	assert_memory_equal(&s, &before, sizeof(s));
}

int main(void)
{
	const struct CMUnitTest extra[] = {
		cmocka_unit_test(test_watch_summary_cut_on_a_utf8_boundary),
		cmocka_unit_test(test_watch_summary_fills_only_the_summary),
	};

	return wxg_test_run_case_dir("test_watch_summary", "watch_summary", 1, case_test, extra,
				     sizeof(extra) / sizeof(extra[0]));
}
