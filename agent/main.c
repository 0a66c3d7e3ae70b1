/* wxguard: the WeCom device-security agent. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli/cmd.h"
#include "agent/uplink/uplink_child_main.h"
#include "common/log.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} cmds[] = {
	{ "check", cmd_check, "evaluate the posture checks and print the results" },
	{ "policy", cmd_policy, "policy tools: `policy lint FILE...`, `policy show`" },
	{ "run", cmd_run, "watch and enforce with eBPF (the service)" },
	{ "status", cmd_status, "show the agent's state" },
	{ "enroll", cmd_enroll, "enroll this device with a wxguard server" },
	{ "backends", cmd_backends, "what this kernel offers for enforcement, rung by rung" },
	{ "manifest", cmd_manifest,
	  "`manifest create PREFIX`: the sha256 manifest of a Wine prefix" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: wxguard COMMAND [OPTIONS]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-8s %s\n", cmds[i].name, cmds[i].help);
	fprintf(f, "  %-8s %s\n", "version", "print the version");
	fprintf(f, "\n`wxguard COMMAND --help` for a command's options. Docs: "
		   "/usr/share/doc/wxguard\n");
}

int main(int argc, char **argv)
{
	/* The uplink child: this binary re-executed by the agent to speak HTTPS without privileges
	 * (agent/uplink/uplink_child_main.h). Before anything else runs. */
	if (uplink_child_main_wanted())
		_exit(uplink_child_main());
	log_open_auto();
	if (argc < 2) {
		usage(stderr);
		return WXG_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return WXG_EXIT_OK;
	}
	if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
		printf("wxguard %s\n", WXG_VERSION);
		return WXG_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "wxguard: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return WXG_EXIT_USAGE;
}
