/* Presenting a check report: a table for people, a JSON document for machines
 * (schema in docs/check-json.md). */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "agent/checks/check.h"
#include "common/policy/policy.h"

const char *check_status_label(enum check_status s, bool zh);
int check_output_table(FILE *f, const struct check_report *rep, const struct policy *p, bool zh,
		       bool color);
/* One result as JSON: {"id","title","status","summary":{"en","zh"},"evidence":{},
 * "remediation":{"en","zh"}|null,"changes":[],"duration_ms"} */
json_t *check_output_result_json(const struct check_result *r);
/* The whole document. hostname may be NULL. */
int check_output_json(const struct check_report *rep, const struct policy *p, const char *hostname,
		      json_t **ret);
