/* `wxguard backends [--json]`: what this kernel offers, rung by rung of the backend ladder
 * (watch_probe(), agent/watch/watch_load.c): each rung available or why not. `wxguard run`
 * picks the best per decision; `--backend NAME` caps it; `--best` names the best rung. Needs the
 * privileges `run` has: without them every BPF rung says why. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "agent/cli/cmd.h"
#include "agent/watch/watch.h"
#include "common/log.h"

/* Best first, as the ladder is climbed down. */
static const enum watch_backend rungs[] = { WATCH_BACKEND_LSM, WATCH_BACKEND_TRACING,
					    WATCH_BACKEND_RAW_TP, WATCH_BACKEND_FANOTIFY,
					    WATCH_BACKEND_NONE };

static json_t *probe_to_json(const struct watch_probe *pr)
{
	json_t *o = json_object(), *b = json_object();

	if (!o || !b) {
		json_decref(o);
		json_decref(b);
		return NULL;
	}
	json_object_set_new(o, "kernel", json_string(pr->kernel));
	json_object_set_new(o, "btf", json_string(pr->btf));
	for (size_t i = 0; i < sizeof(rungs) / sizeof(rungs[0]); i++) {
		enum watch_backend r = rungs[i];
		json_t *e = json_pack("{s:b}", "available", pr->available[r]);

		if (e && !pr->available[r])
			json_object_set_new(e, "why", json_string(pr->why[r]));
		json_object_set_new(b, watch_backend_to_string(r), e);
	}
	json_object_set_new(o, "backends", b);
	return o;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wxguard backends [--json | --best]\n"
		"What this kernel offers for `wxguard run`, best first: lsm (BPF LSM: refused),\n"
		"tracing (fentry/kprobes: killed before the call returns), raw_tp (raw\n"
		"tracepoints: killed), fanotify (no BPF), none (posture only). Run as root.\n\n"
		"  --json   one JSON object: kernel, btf, backends.NAME.{available, why}\n"
		"  --best   only the name of the best rung available (what `run` enforces execs\n"
		"           with; packaging/libexec/write-backend-dropin uses it)\n");
}

int cmd_backends(int argc, char **argv)
{
	static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
					      { "best", no_argument, NULL, 'b' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct watch_probe pr;
	bool as_json = false, best = false;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'j': as_json = true; break;
		case 'b': best = true; break;
		case 'h': usage(stdout); return WXG_EXIT_OK;
		default: usage(stderr); return WXG_EXIT_USAGE;
		}
	}
	if (optind < argc || (as_json && best)) {
		usage(stderr);
		return WXG_EXIT_USAGE;
	}
	r = watch_probe(&pr);
	if (r < 0) {
		log_error_errno(r, "cannot probe the kernel's backends");
		return WXG_EXIT_FAIL;
	}
	if (best) {
		for (size_t i = 0; i < sizeof(rungs) / sizeof(rungs[0]); i++)
			if (pr.available[rungs[i]]) {
				puts(watch_backend_to_string(rungs[i]));
				break;
			}
		return WXG_EXIT_OK;
	}
	if (as_json) {
		json_t *o = probe_to_json(&pr);

		if (!o || json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0) {
			json_decref(o);
			return WXG_EXIT_FAIL;
		}
		putchar('\n');
		json_decref(o);
		return WXG_EXIT_OK;
	}
	printf("kernel %s, BTF %s\n", pr.kernel, pr.btf[0] ? pr.btf : "(none found)");
	for (size_t i = 0; i < sizeof(rungs) / sizeof(rungs[0]); i++) {
		enum watch_backend b = rungs[i];

		if (pr.available[b])
			printf("  %-9s available\n", watch_backend_to_string(b));
		else
			printf("  %-9s unavailable: %s\n", watch_backend_to_string(b), pr.why[b]);
	}
	return WXG_EXIT_OK;
}
