/* Placeholder until this check is implemented: reports unknown, never pass. */
#include "agent/check.h"

int check_client_plugins(struct check_ctx *ctx, struct check_result *r)
{
	check_result_set(r, CHECK_UNKNOWN, "not implemented yet", "尚未实现");
	return 0;
}
