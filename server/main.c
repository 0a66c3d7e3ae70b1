/* wxguard-server: the CLI. One row per command below, one file per command in server/cli/.
 * `serve` runs the HTTPS server; the other commands work on the database directly (same
 * configuration file), like the admin API does. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "server/cli/server_cli.h"
#include "server/srv.h"
#include "server/store/store.h"

#define DEFAULT_CONF "/etc/wxguard/server.conf"

struct command {
	const char *name;
	int (*run)(struct server_cli *c);
	const char *usage;
};

static const struct command commands[] = {
	{ "serve", server_cli_serve,
	  "serve                              run the HTTPS server (API, dashboard, /metrics)" },
	{ "init", server_cli_init,
	  "init                               create keys, TLS files, admin token and schema" },
	{ "token", server_cli_token,
	  "token create [--uses N] [--expires 7d] [--hold]\n  token list | token revoke ID" },
	{ "device", server_cli_device,
	  "device list | device show ID | device approve ID | device revoke ID" },
	{ "events", server_cli_events, "events [--device ID] [--limit N]" },
	{ "alerts", server_cli_alerts, "alerts [--device ID] [--limit N]" },
	{ "policy", server_cli_policy, "policy upload FILE | policy show" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: wxguard-server [-c CONFIG] [--json] COMMAND\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %s\n", commands[i].usage);
	fprintf(f, "CONFIG defaults to $WXGUARD_SERVER_CONF or " DEFAULT_CONF
		   " (see docs/server.md).\n");
}

static const struct command *command_find(const char *name)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* "--limit 5": a positive integer. */
static int parse_count(const char *v, const char *opt, long long *ret)
{
	char *end;
	long long n;

	errno = 0;
	n = strtoll(v, &end, 10);
	if (errno || end == v || *end || n < 1) {
		fprintf(stderr, "%s %s: give a positive number\n", opt, v);
		return -EINVAL;
	}
	*ret = n;
	return 0;
}

/* Options go anywhere: before the command, after it or after its arguments ("events --limit 5",
 * "-c FILE token create --uses 5"); GNU getopt permutes argv so the words that are not options
 * end up, in order, at argv[optind...]. "--" ends options. Returns 0, or the exit code. */
static int parse_options(int argc, char **argv, struct server_cli *c, const char **conf)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "uses", required_argument, NULL, 'u' },
		{ "expires", required_argument, NULL, 'e' },
		{ "hold", no_argument, NULL, 'H' },
		{ "device", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int o;

	while ((o = getopt_long(argc, argv, "c:jh", opts, NULL)) >= 0) {
		switch (o) {
		case 'c': *conf = optarg; break;
		case 'j': c->json = true; break;
		case 'u':
			if (parse_count(optarg, "--uses", &c->uses) < 0)
				return 2;
			break;
		case 'e':
			if (srv_parse_duration(optarg, &c->ttl) < 0) {
				fprintf(stderr, "--expires %s: use e.g. 3600, 90m, 12h or 7d\n",
					optarg);
				return 2;
			}
			break;
		case 'H': c->hold = true; break;
		case 'd': c->device = optarg; break;
		case 'l':
			if (parse_count(optarg, "--limit", &c->limit) < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	return 0;
}

/* The configuration, the state directory, the database and the keys every command needs. */
static int open_all(struct server_cli *c)
{
	char err[512];
	int r;

	r = mkdir_p(c->s.cfg.state_dir, 0700);
	if (r < 0)
		return log_error_errno(r, "state directory %s: cannot create it",
				       c->s.cfg.state_dir);
	r = store_open(c->s.cfg.database, &c->st, err, sizeof(err));
	if (r < 0)
		return log_error_errno(r, "database %s: %s", c->s.cfg.database, err);
	r = srv_init(&c->s, c->st);
	if (r < 0)
		return log_error_errno(r, "cannot load the server key %s or admin token %s",
				       c->s.cfg.server_key, c->s.cfg.admin_token_file);
	return 0;
}

int main(int argc, char **argv)
{
	struct server_cli c = {
		.uses = 1, .ttl = 7 * 86400, .limit = 50, .now = (long long)time(NULL)
	};
	const char *conf = getenv("WXGUARD_SERVER_CONF"), *cmd;
	const struct command *command;
	int r;

	log_open_auto();
	r = parse_options(argc, argv, &c, &conf);
	if (r != 0)
		return r == 1 ? 0 : r; /* 1: --help */
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	c.sub = optind + 1 < argc ? argv[optind + 1] : "";
	c.arg = optind + 2 < argc ? argv[optind + 2] : NULL;
	if (optind + 3 < argc) {
		fprintf(stderr, "%s: unexpected argument\n", argv[optind + 3]);
		usage(stderr);
		return 2;
	}
	if (!conf && access(DEFAULT_CONF, F_OK) == 0)
		conf = DEFAULT_CONF;
	r = srv_config_load(&c.s.cfg, conf);
	if (r != 0) {
		if (r > 0)
			log_error("%s line %d: unknown key or bad value; see docs/server.md", conf,
				  r);
		else
			log_error_errno(r, "%s: cannot read the configuration", conf);
		return 1;
	}
	r = open_all(&c);
	if (r < 0)
		goto out;
	command = command_find(cmd);
	r = command ? command->run(&c) : SERVER_CLI_USAGE;
	if (r == SERVER_CLI_USAGE)
		usage(stderr);
out:
	store_close(c.st);
	srv_done(&c.s);
	return r == SERVER_CLI_USAGE ? 2 : r < 0 ? 1 : 0;
}
