#include "agent/cli/policy_cli.h"

#include <stdio.h>
#include <string.h>

int policy_cli_load(const char *path, struct policy **ret)
{
	struct policy_diags diags = { 0 };
	char line[1024];
	int r;

	r = policy_load(path, ret, &diags);
	for (size_t i = 0; i < diags.n; i++) {
		policy_diag_format(&diags.v[i], line, sizeof(line));
		fprintf(stderr, "%s\n", line);
	}
	if (r < 0 && diags.n == 0)
		fprintf(stderr, "%s: cannot load policy: %s\n", path, strerror(-r));
	else if (r < 0)
		fprintf(stderr, "%s: policy refused: %zu error%s\n", path, diags.n,
			diags.n == 1 ? "" : "s");
	policy_diags_clear(&diags);
	return r;
}
