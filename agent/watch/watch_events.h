/* The watcher's events as JSON (schema: docs/events.md): names of the kernel's verdicts and
 * reasons, the rule each reason belongs to, the bilingual message people read, and the one
 * line per event that `wxguard run` writes. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define EVENTS_SCHEMA_VERSION 1

const char *watch_events_type_to_string(unsigned type);       /* enum wxg_ev_type */
const char *watch_events_verdict_to_string(unsigned verdict); /* enum wxg_verdict */
const char *watch_events_reason_to_string(unsigned reason);   /* enum wxg_reason */
/* The policy rule a reason enforces ("client.denied", "client.approved", ...). denied_family:
 * the name matched a [deny.*] section (renames). */
const char *watch_events_rule_for_reason(unsigned reason, bool denied_family);

/* A new event object with "v", "ts" (RFC 3339 UTC, from a CLOCK_BOOTTIME stamp; 0 = now),
 * "type" and "mode". NULL on ENOMEM. */
json_t *watch_events_new(const char *type, uint64_t boot_ns, const char *mode);

/* Set key to the string val; nothing when val is NULL. */
void watch_events_set_str(json_t *ev, const char *key, const char *val);

/* Set "message": {"en", "zh"} for the rule, in the words of house-style §6: what was seen
 * (subject: the program, e.g. "electronic-wechat"), the rule, and what to do. blocked: it was
 * stopped (else: reported only, audit mode). detail may be NULL. */
int watch_events_set_message(json_t *ev, const char *rule, bool blocked, const char *subject,
			     const char *detail);
/* The message in one language from an event ("en" or "zh"), or NULL. */
const char *watch_events_message(const json_t *ev, bool zh);
/* The short title of a notification. */
const char *watch_events_title(bool blocked, bool zh);

/* One compact JSON line, flushed. 0 or -errno. */
int watch_events_write_line(FILE *f, const json_t *ev);
