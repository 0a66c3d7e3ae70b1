/* wxguard policy lint|show: validate and inspect policy files. */
#include <stdio.h>
#include <string.h>

#include "agent/cli/cmd.h"
#include "agent/cli/policy_cli.h"

static void policy_usage(FILE *f)
{
	fputs("usage: wxguard policy lint PATH...   validate policy files or directories\n"
	      "       wxguard policy show [PATH]    print the effective policy "
	      "(default " POLICY_DIR_DEFAULT ")\n"
	      "exit status: 0 valid, 2 errors (each printed as file:line: [section] key: "
	      "message)\n",
	      f);
}

static void show_strv(const char *key, const struct strv *s)
{
	if (s->n == 0)
		return;
	printf("  %-15s", key);
	for (size_t i = 0; i < s->n; i++)
		printf("%s%s", i ? ", " : "", s->v[i]);
	putchar('\n');
}

static void policy_show(const struct policy *p)
{
	printf("name:     %s\nversion:  %s\nmode:     %s\nsha256:   %s\n", p->name,
	       p->version ? p->version : "-", policy_mode_to_string(p->mode), p->sha256);
	for (size_t i = 0; i < p->sources.n; i++)
		printf("source:   %s\n", p->sources.v[i]);
	for (size_t i = 0; i < p->n_clients; i++) {
		const struct policy_client *c = &p->clients[i];

		printf("\napproved client %s (%s)\n", c->id,
		       c->display_name ? c->display_name : c->id);
		show_strv("comm", &c->comm);
		show_strv("exe", &c->exe);
		show_strv("argv", &c->argv);
		if (c->package)
			printf("  %-15s%s\n", "package", c->package);
		if (c->sha256)
			printf("  %-15s%s\n", "sha256", c->sha256);
		show_strv("lib_dirs", &c->lib_dirs);
		if (c->wine_prefix)
			printf("  %-15s~/%s\n", "wine_prefix", c->wine_prefix);
		printf("  %-15s%u\n", "max_instances", c->max_instances);
	}
	for (size_t i = 0; i < p->n_denies; i++) {
		const struct policy_deny *d = &p->denies[i];

		printf("\ndenied client %s (%s)\n", d->id,
		       d->display_name ? d->display_name : d->id);
		show_strv("comm", &d->comm);
		show_strv("exe", &d->exe);
		show_strv("argv", &d->argv);
		show_strv("packages", &d->packages);
		show_strv("files", &d->files);
	}
}

int cmd_policy(int argc, char **argv)
{
	struct policy *p = NULL;
	int ret = WXG_EXIT_OK;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		policy_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? WXG_EXIT_USAGE : WXG_EXIT_OK;
	}
	if (strcmp(argv[1], "lint") == 0) {
		if (argc < 3) {
			policy_usage(stderr);
			return WXG_EXIT_USAGE;
		}
		for (int i = 2; i < argc; i++) {
			if (policy_cli_load(argv[i], &p) < 0) {
				ret = WXG_EXIT_USAGE;
				continue;
			}
			printf("%s: ok (policy %s, version %s, %s mode, %zu approved, %zu denied "
			       "clients)\n",
			       argv[i], p->name, p->version ? p->version : "-",
			       policy_mode_to_string(p->mode), p->n_clients, p->n_denies);
			policy_free(p);
			p = NULL;
		}
		return ret;
	}
	if (strcmp(argv[1], "show") == 0) {
		if (policy_cli_load(argc > 2 ? argv[2] : POLICY_DIR_DEFAULT, &p) < 0)
			return WXG_EXIT_USAGE;
		policy_show(p);
		policy_free(p);
		return WXG_EXIT_OK;
	}
	fprintf(stderr, "wxguard policy: unknown subcommand '%s'\n", argv[1]);
	policy_usage(stderr);
	return WXG_EXIT_USAGE;
}
