/* Fuzz the policy parser: any bytes must give either a policy or diagnostics, never a crash,
 * a leak or undefined behaviour. A policy that loads must also survive policy_format() and
 * load again to the same text (the canonical form is stable). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* policy_format() output after its leading comments (digest and sources differ). */
static const char *body(const char *text)
{
	const char *b = strstr(text, "\n[policy]");

	return b ? b : text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy_diags diags = { 0 };
	struct policy *p = NULL, *q = NULL;
	char line[256], *one = NULL, *two = NULL;
	int r;

	r = policy_load_buffer("fuzz.ini", (const char *)data, size, &p, &diags);
	for (size_t i = 0; i < diags.n; i++)
		policy_diag_format(&diags.v[i], line, sizeof(line));
	if (r < 0 && p)
		abort(); /* *ret is set only on success */
	if (r == 0 && diags.n)
		abort(); /* success means no diagnostic */
	policy_diags_clear(&diags);
	if (r < 0)
		return 0;

	if (policy_format(p, &one) == 0) {
		r = policy_load_buffer("format.ini", one, strlen(one), &q, &diags);
		if (r < 0) {
			for (size_t i = 0; i < diags.n; i++) {
				policy_diag_format(&diags.v[i], line, sizeof(line));
				fprintf(stderr, "%s\n", line);
			}
			fprintf(stderr, "policy_format() output does not load:\n%s\n", one);
			abort();
		}
		if (policy_format(q, &two) == 0 && strcmp(body(one), body(two)) != 0) {
			fprintf(stderr, "format is not stable:\n%s\n----\n%s\n", one, two);
			abort();
		}
	}
	free(one);
	free(two);
	policy_diags_clear(&diags);
	policy_free(q);
	policy_free(p);
	return 0;
}
