/* Placeholder until `wxguard enroll` is implemented. */
#include <stdio.h>

#include "agent/cmd.h"

int cmd_enroll(int argc, char **argv)
{
	fprintf(stderr, "wxguard enroll: not available in this build\n");
	return WXG_EXIT_USAGE;
}
