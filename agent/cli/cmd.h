/* The agent's subcommands, one file each (agent/cli/cmd_<name>.c). Each takes the arguments after
 * its name (argv[0] is the subcommand name) and returns the process exit status. */
#pragma once

/* Exit statuses shared by every subcommand. */
enum {
	WXG_EXIT_OK = 0,          /* all pass / success */
	WXG_EXIT_FAIL = 1,        /* something fails */
	WXG_EXIT_USAGE = 2,       /* could not run: bad policy, bad arguments */
	WXG_EXIT_UNSUPPORTED = 3, /* run: the --backend asked for is not offered by this kernel */
};

int cmd_check(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_enroll(int argc, char **argv);
int cmd_backends(int argc, char **argv);
int cmd_manifest(int argc, char **argv);
