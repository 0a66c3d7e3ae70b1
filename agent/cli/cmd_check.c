/* wxguard check: evaluate every posture check once and print the results. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/cli/check_output.h"
#include "agent/cli/cmd.h"
#include "common/i18n.h"
#include "agent/cli/policy_cli.h"
#include "common/log.h"

#define CACHE_DIR_DEFAULT "/var/cache/wxguard"

static void check_usage(FILE *f)
{
	fputs("usage: wxguard check [OPTIONS]\n"
	      "  --policy PATH     policy file or directory (default " POLICY_DIR_DEFAULT ")\n"
	      "  --json            print the JSON document (docs/check-json.md)\n"
	      "  --only ID         run only this check (repeatable)\n"
	      "  --root DIR        read the system below DIR (fixture trees; default /)\n"
	      "  --cache-dir DIR   package-manager query cache (default " CACHE_DIR_DEFAULT
	      " for root,\n"
	      "                    ~/.cache/wxguard for other users; empty string: no cache)\n"
	      "  --no-remediate    never change the system, even in enforce mode\n"
	      "  --lang en|zh      language of the table (default from LANG)\n"
	      "  --list            list the checks and exit\n"
	      "exit status: 0 all pass, 1 something fails (or a check errored), 2 could not run\n",
	      f);
}

/* root shares the system cache; other users get their own, since they cannot write root's
 * and must not trust a cache others can write. */
static const char *default_cache_dir(char *buf, size_t size)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (geteuid() == 0)
		return CACHE_DIR_DEFAULT;
	if (xdg && xdg[0] == '/')
		snprintf(buf, size, "%s/wxguard", xdg);
	else if (home && home[0] == '/')
		snprintf(buf, size, "%s/.cache/wxguard", home);
	else
		return NULL;
	return buf;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "only", required_argument, NULL, 'o' },
		{ "root", required_argument, NULL, 'r' },
		{ "cache-dir", required_argument, NULL, 'c' },
		{ "no-remediate", no_argument, NULL, 'n' },
		{ "lang", required_argument, NULL, 'l' },
		{ "list", no_argument, NULL, 'L' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *policy_path = POLICY_DIR_DEFAULT, *root = "/", *cache_dir = NULL;
	bool cache_set = false;
	char user_cache[PATH_MAX];
	bool json = false, no_remediate = false;
	struct check_report *rep = NULL;
	struct policy *pol = NULL;
	struct sysroot *sr = NULL;
	struct strv only = { 0 };
	struct check_ctx ctx;
	int c, r, ret = WXG_EXIT_USAGE;

	optind = 0;
	while ((c = getopt_long(argc, argv, "p:jo:r:c:nl:Lh", opts, NULL)) >= 0) {
		switch (c) {
		case 'p': policy_path = optarg; break;
		case 'j': json = true; break;
		case 'o':
			if (!check_def_find(optarg)) {
				fprintf(stderr, "wxguard check: unknown check '%s' (see --list)\n",
					optarg);
				goto out;
			}
			strv_push(&only, optarg);
			break;
		case 'r': root = optarg; break;
		case 'c':
			cache_dir = *optarg ? optarg : NULL;
			cache_set = true;
			break;
		case 'n': no_remediate = true; break;
		case 'l':
			if (strcmp(optarg, "zh") && strcmp(optarg, "en")) {
				fprintf(stderr, "wxguard check: --lang takes en or zh\n");
				goto out;
			}
			i18n_set(strcmp(optarg, "zh") == 0);
			break;
		case 'L':
			for (size_t i = 0; i < check_defs_count; i++)
				printf("%-24s %s\n", check_defs[i].id,
				       i18n_pick(check_defs[i].title_en, check_defs[i].title_zh));
			ret = WXG_EXIT_OK;
			goto out;
		case 'h':
			check_usage(stdout);
			ret = WXG_EXIT_OK;
			goto out;
		default: check_usage(stderr); goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "wxguard check: unexpected argument '%s'\n", argv[optind]);
		goto out;
	}

	if (!cache_set)
		cache_dir = default_cache_dir(user_cache, sizeof(user_cache));

	r = policy_cli_load(policy_path, &pol);
	if (r < 0)
		goto out;
	r = sysroot_new(root, &sr);
	if (r < 0) {
		log_error_errno(r, "--root %s: must be an absolute path", root);
		goto out;
	}
	ctx = (struct check_ctx){
		.policy = pol,
		.root = sr,
		.cache_dir = cache_dir,
		.remediate = pol->mode == POLICY_MODE_ENFORCE && !no_remediate,
		.now = time(NULL),
	};
	/* Remediation writes system files: only as root, and never into a fixture by accident. */
	if (ctx.remediate && geteuid() != 0)
		ctx.remediate = false;
	r = check_report_run(&ctx, &only, &rep);
	if (r < 0) {
		log_error_errno(r, "cannot run the checks");
		goto out;
	}
	if (json) {
		char host[256] = "";
		json_t *doc = NULL;

		gethostname(host, sizeof(host) - 1);
		r = check_output_json(rep, pol, host, &doc);
		if (r < 0) {
			log_error_errno(r, "cannot build the JSON document");
			goto out;
		}
		json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		check_output_table(stdout, rep, pol, i18n_zh(),
				   isatty(STDOUT_FILENO) && !getenv("NO_COLOR"));
	}
	ret = rep->overall == CHECK_FAIL || rep->overall == CHECK_ERROR ? WXG_EXIT_FAIL
									: WXG_EXIT_OK;
	for (size_t i = 0; i < rep->n_results; i++)
		if (rep->results[i].status == CHECK_ERROR)
			ret = WXG_EXIT_FAIL;
out:
	fflush(stdout);
	check_report_free(rep);
	policy_free(pol);
	sysroot_free(sr);
	strv_clear(&only);
	return ret;
}
