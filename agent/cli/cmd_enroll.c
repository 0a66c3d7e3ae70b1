/* wxguard enroll --server URL --token TOKEN [--ca FILE] [--config PATH] [--force]
 * Enroll this device with a wxguard server (docs/protocol.md "Enrollment"). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli/cmd.h"
#include "agent/attest/config.h"
#include "agent/attest/enroll.h"
#include "common/i18n.h"
#include "agent/attest/identity.h"
#include "agent/attest/report.h"
#include "agent/host/sysroot.h"
#include "agent/uplink/uplink.h"
#include "common/log.h"
#include "common/url.h"

struct enroll_cli {
	sd_event *e;
	bool done;
	int r;
	char device_id[128];
	char error[512];
	char nonce[128];
	bool approved;
};

static void on_done(void *userdata, const struct enroll_result *res)
{
	struct enroll_cli *c = userdata;

	c->done = true;
	c->r = res->r;
	c->approved = res->approved;
	snprintf(c->device_id, sizeof(c->device_id), "%s", res->device_id ? res->device_id : "");
	snprintf(c->nonce, sizeof(c->nonce), "%s", res->nonce ? res->nonce : "");
	snprintf(c->error, sizeof(c->error), "%s%s%s", res->error, res->message[0] ? ": " : "",
		 res->message);
	sd_event_exit(c->e, 0);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wxguard enroll --server URL --token TOKEN [--ca FILE] [--config PATH] "
		"[--force]\n"
		"Enroll this device with a wxguard server. The device key is created in the state\n"
		"directory (agent.conf [agent] state_dir) if needed; the server's answer is kept "
		"there.\n");
}

int cmd_enroll(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "token", required_argument, NULL, 't' },
		{ "ca", required_argument, NULL, 'c' },
		{ "config", required_argument, NULL, 'f' },
		{ "force", no_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *server = NULL, *token = NULL, *ca = NULL, *conf = NULL;
	struct agent_config_error cerr = { 0 };
	struct agent_config *cfg = NULL;
	struct identity *id = NULL;
	struct sysroot *root = NULL;
	struct uplink *u = NULL;
	struct enroll *en = NULL;
	struct enroll_cli cli = { 0 };
	bool force = false;
	int c, r, ret = WXG_EXIT_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's': server = optarg; break;
		case 't': token = optarg; break;
		case 'c': ca = optarg; break;
		case 'f': conf = optarg; break;
		case 'F': force = true; break;
		case 'h': usage(stdout); return WXG_EXIT_OK;
		default: usage(stderr); return WXG_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return WXG_EXIT_USAGE;
	}
	r = agent_config_load(conf, &cfg, &cerr);
	if (r < 0) {
		fprintf(stderr, "%s:%u: %s\n", cerr.file, cerr.line, cerr.message);
		fprintf(stderr, "%s\n",
			i18n_pick("wxguard enroll: fix agent.conf (docs/agent-conf.md) and try "
				  "again.",
				  "wxguard enroll：请修正 agent.conf（见 "
				  "docs/agent-conf.md）后重试。"));
		return WXG_EXIT_USAGE;
	}
	if (!server)
		server = agent_config_server_url(cfg);
	if (!token)
		token = cfg->enroll_token;
	if (!ca)
		ca = agent_config_ca(cfg);
	if (!server || !token) {
		fprintf(stderr, "%s\n",
			i18n_pick("wxguard enroll: --server and --token are required (or [enroll] "
				  "server= and token= in agent.conf.d).",
				  "wxguard enroll：需要 --server 和 --token（或在 agent.conf.d "
				  "中设置 [enroll] server= 与 token=）。"));
		usage(stderr);
		ret = WXG_EXIT_USAGE;
		goto out;
	}
	if (url_check_server(server) < 0) {
		fprintf(stderr,
			i18n_pick("wxguard enroll: server URL '%s' must be https:// (http:// only "
				  "to localhost).\n",
				  "wxguard enroll：服务器地址 '%s' 必须是 https://（http:// "
				  "仅限本机）。\n"),
			server);
		ret = WXG_EXIT_USAGE;
		goto out;
	}
	r = identity_load(cfg->state_dir, &id);
	if (r < 0) {
		log_error_errno(r, "wxguard enroll: cannot load or create the device key in %s",
				cfg->state_dir);
		goto out;
	}
	if (identity_enrolled(id) && !force) {
		printf(i18n_pick(
			       "Already enrolled as %s with %s. Use --force to enroll again.\n",
			       "本设备已注册为 %s（服务器 %s）。如需重新注册，请使用 --force。\n"),
		       id->device_id, id->server_url ? id->server_url : "?");
		ret = WXG_EXIT_OK;
		goto out;
	}
	r = sd_event_new(&cli.e);
	if (r < 0) {
		log_error_errno(r, "wxguard enroll: cannot create the event loop");
		goto out;
	}
	r = sysroot_new("/", &root);
	if (r < 0) {
		log_error_errno(r, "wxguard enroll: cannot open the root file system");
		goto out;
	}
	r = uplink_new(cli.e,
		       &(struct uplink_opts){ .base_url = server,
					      .ca = ca,
					      .pin_sha256 = cfg->pin_sha256,
					      .proxy = cfg->proxy },
		       &u);
	if (r < 0) {
		log_error_errno(r, "wxguard enroll: cannot start the uplink to %s", server);
		goto out;
	}
	r = enroll_start(u, id, root, token, server, ca, on_done, &cli, &en);
	if (r < 0) {
		log_error_errno(r, "wxguard enroll: cannot start the enrollment");
		goto out;
	}
	r = sd_event_loop(cli.e);
	if (r < 0 || !cli.done) {
		log_error_errno(r, "wxguard enroll: event loop failed");
		goto out;
	}
	if (cli.r < 0) {
		fprintf(stderr,
			i18n_pick("wxguard enroll: enrollment with %s failed: %s (%s).\n",
				  "wxguard enroll：向 %s 注册失败：%s（%s）。\n"),
			server, cli.error, strerror(-cli.r));
		fprintf(stderr, "%s\n",
			cli.r == -EACCES
				? i18n_pick("Check the token with your administrator; tokens "
					    "expire and have a number of uses.",
					    "请向管理员确认注册令牌；令牌有有效期和使用次数限制。")
				: i18n_pick("Check the server URL, the CA file (--ca) and the "
					    "network or proxy, then try again.",
					    "请检查服务器地址、CA "
					    "文件（--ca）以及网络或代理设置后重试。"));
		goto out;
	}
	if (cli.nonce[0]) {
		struct report_chain chain;
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", cfg->state_dir, REPORT_STATE_FILE);
		if (report_chain_load(path, &chain) == 0 &&
		    report_chain_set_nonce(&chain, cli.nonce) == 0)
			report_chain_save(path, &chain);
		report_chain_clear(&chain);
	}
	printf(i18n_pick("Enrolled with %s as device %s.%s\n", "已向 %s 注册，设备编号 %s。%s\n"),
	       server, cli.device_id,
	       cli.approved ? ""
			    : i18n_pick(" Waiting for an administrator to approve this device.",
					"等待管理员批准本设备。"));
	ret = WXG_EXIT_OK;
out:
	enroll_free(en);
	uplink_free(u);
	sd_event_unref(cli.e);
	sysroot_free(root);
	identity_free(id);
	agent_config_free(cfg);
	return ret;
}
