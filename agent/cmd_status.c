/* Placeholder until `wxguard status` is implemented. */
#include <stdio.h>

#include "agent/cmd.h"

int cmd_status(int argc, char **argv)
{
	fprintf(stderr, "wxguard status: not available in this build\n");
	return WXG_EXIT_USAGE;
}
