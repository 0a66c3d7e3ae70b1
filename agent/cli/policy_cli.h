/* Loading a policy for a command line tool: prints every diagnostic to stderr. */
#pragma once
#include "common/policy/policy.h"

/* 0, or -errno after printing why (each diagnostic on its own line, "file:line: ..."). */
int policy_cli_load(const char *path, struct policy **ret);
