/* Placeholder until `wxguard run` is implemented. */
#include <stdio.h>

#include "agent/cmd.h"

int cmd_run(int argc, char **argv)
{
	fprintf(stderr, "wxguard run: not available in this build\n");
	return WXG_EXIT_USAGE;
}
