/* wxguard-server: the CLI. `serve` runs the HTTPS server; the other commands work on the
 * database directly (same configuration file), like the admin API does. */
#include <errno.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "common/log.h"
#include "server/alerts.h"
#include "server/api/api.h"
#include "server/http.h"
#include "server/server.h"
#include "server/store/store.h"
#include "server/tls.h"

#define DEFAULT_CONF "/etc/wxguard/server.conf"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: wxguard-server [-c CONFIG] [--json] COMMAND\n"
		"  serve                              run the HTTPS server (API, dashboard, /metrics)\n"
		"  init                               create keys, TLS files, admin token and schema\n"
		"  token create [--uses N] [--expires 7d] [--hold]\n"
		"  token list | token revoke ID\n"
		"  device list | device show ID | device approve ID | device revoke ID\n"
		"  events [--device ID] [--limit N]\n"
		"  alerts [--device ID] [--limit N]\n"
		"  policy upload FILE | policy show\n"
		"CONFIG defaults to $WXGUARD_SERVER_CONF or " DEFAULT_CONF " (see docs/server.md).\n");
}

static void print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s)
		puts(s);
	free(s);
}

static const char *fmt_time(json_t *v, char *buf, size_t len)
{
	time_t t = (time_t)json_integer_value(v);
	struct tm tm;

	if (!json_is_integer(v) || t <= 0)
		return "-";
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

static const char *jstr(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
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

/* One watcher event (docs/events.md): time, host, rule/reason, verdict/action, what was seen
 * (the agent's message in the user's language, else the process). Old-style events without a
 * rule show their type. */
static void print_event(json_t *v, char *tb, size_t tblen)
{
	json_t *e = json_object_get(v, "event"), *msg = json_object_get(e, "message");
	const char *lang = getenv("LANG"), *text;
	char what[96], rr[160];

	text = json_string_value(json_object_get(msg, lang && strncmp(lang, "zh", 2) == 0 ? "zh" : "en"));
	snprintf(what, sizeof(what), "%s", jstr(json_object_get(e, "process"), "comm"));
	if (strcmp(what, "-") == 0)
		snprintf(what, sizeof(what), "%s", jstr(e, "comm"));
	if (json_is_string(json_object_get(e, "rule")))
		snprintf(rr, sizeof(rr), "%s/%s", jstr(e, "rule"), jstr(e, "reason"));
	else
		snprintf(rr, sizeof(rr), "%s", jstr(v, "type"));
	printf("%s %-20s %-32s %-4s %-9s %s\n", fmt_time(json_object_get(v, "time"), tb, tblen), jstr(v, "hostname"),
	       rr, jstr(e, "verdict"), jstr(e, "action"), text && *text ? text : what);
}

static int serve(struct srv *s)
{
	struct http_server *h = NULL;
	struct alerts_worker aw = { 0 };
	int r;

	/* Each worker thread allocates and frees in its own malloc arena; glibc gives the top of
	 * an arena back with madvise() whenever it passes the trim threshold, and on a VM every
	 * madvise() is a TLB shootdown on all CPUs: a quarter of the server's CPU time in a
	 * profile under load (docs/performance.md). Keep freed memory for reuse instead: RSS stays
	 * at its high-water mark, flat under steady load. Large blocks stay in the arenas too. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	r = http_server_start(s, &h);
	if (r < 0)
		return log_error_errno(r, "cannot listen on %s port %d (TLS %s)", s->cfg.listen, s->cfg.port,
				       s->cfg.tls_cert);
	r = alerts_worker_start(&aw, s);
	if (r < 0) {
		http_server_free(h);
		return log_error_errno(r, "cannot start the alert worker");
	}
	log_notice("wxguard-server %s listening on https://%s%s%s:%d/ (%d workers, database %s)", WXG_VERSION,
		   strchr(s->cfg.listen, ':') ? "[" : "", s->cfg.listen, strchr(s->cfg.listen, ':') ? "]" : "",
		   http_server_port(h), s->cfg.workers, s->cfg.database);
	printf("listening port %d\n", http_server_port(h));
	fflush(stdout);
	sd_notifyf(0, "READY=1\nSTATUS=listening on port %d", http_server_port(h));
	http_server_wait(h);
	sd_notify(0, "STOPPING=1");
	http_server_free(h);
	alerts_worker_stop(&aw);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' }, { "json", no_argument, NULL, 'j' },
		{ "uses", required_argument, NULL, 'u' },   { "expires", required_argument, NULL, 'e' },
		{ "hold", no_argument, NULL, 'H' },         { "device", required_argument, NULL, 'd' },
		{ "limit", required_argument, NULL, 'l' },  { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *conf = getenv("WXGUARD_SERVER_CONF"), *device = NULL, *cmd, *sub, *arg;
	long long uses = 1, ttl = 7 * 86400, limit = 50, now = (long long)time(NULL);
	bool json = false, hold = false;
	struct srv s = { 0 };
	struct store *st = NULL;
	json_t *j = NULL, *v;
	char err[512], tb[64];
	size_t i;
	int c, r;

	log_open_auto();
	/* Options go anywhere: before the command, after it or after its arguments
	 * ("events --limit 5", "-c FILE token create --uses 5"); GNU getopt permutes argv so the
	 * words that are not options end up, in order, at argv[optind...]. "--" ends options. */
	while ((c = getopt_long(argc, argv, "c:jh", opts, NULL)) >= 0) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 'j': json = true; break;
		case 'u':
			if (parse_count(optarg, "--uses", &uses) < 0)
				return 2;
			break;
		case 'e':
			if (srv_parse_duration(optarg, &ttl) < 0) {
				fprintf(stderr, "--expires %s: use e.g. 3600, 90m, 12h or 7d\n", optarg);
				return 2;
			}
			break;
		case 'H': hold = true; break;
		case 'd': device = optarg; break;
		case 'l':
			if (parse_count(optarg, "--limit", &limit) < 0)
				return 2;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	sub = optind + 1 < argc ? argv[optind + 1] : "";
	arg = optind + 2 < argc ? argv[optind + 2] : NULL;
	if (optind + 3 < argc) {
		fprintf(stderr, "%s: unexpected argument\n", argv[optind + 3]);
		usage(stderr);
		return 2;
	}
	if (!conf && access(DEFAULT_CONF, F_OK) == 0)
		conf = DEFAULT_CONF;
	r = srv_config_load(&s.cfg, conf);
	if (r != 0) {
		if (r > 0)
			log_error("%s line %d: unknown key or bad value; see docs/server.md", conf, r);
		else
			log_error_errno(r, "%s: cannot read the configuration", conf);
		return 1;
	}
	r = mkdir_p(s.cfg.state_dir, 0700);
	if (r < 0) {
		log_error_errno(r, "state directory %s: cannot create it", s.cfg.state_dir);
		goto fail;
	}
	r = store_open(s.cfg.database, &st, err, sizeof(err));
	if (r < 0) {
		log_error_errno(r, "database %s: %s", s.cfg.database, err);
		goto fail;
	}
	r = srv_init(&s, st);
	if (r < 0) {
		log_error_errno(r, "cannot load the server key %s or admin token %s", s.cfg.server_key,
				s.cfg.admin_token_file);
		goto fail;
	}

	if (strcmp(cmd, "serve") == 0 || strcmp(cmd, "init") == 0) {
		r = tls_ensure_files(&s.cfg);
		if (r < 0) {
			log_error_errno(r, "TLS files: set both [tls] cert and key, or neither (generated in %s/tls)",
					s.cfg.state_dir);
			goto fail;
		}
		if (strcmp(cmd, "init") == 0) {
			printf("server key      %s\npublic key      %s\nadmin token     %s\nTLS certificate %s\n"
			       "TLS CA (pin it) %s\ndatabase        %s (%s)\n",
			       s.cfg.server_key, s.public_key_b64, s.cfg.admin_token_file, s.cfg.tls_cert,
			       s.cfg.tls_ca ? s.cfg.tls_ca : "(configured)", s.cfg.database, store_kind(st));
			r = 0;
		} else {
			store_close(st);
			st = NULL;
			r = serve(&s);
		}
	} else if (strcmp(cmd, "token") == 0 && strcmp(sub, "create") == 0) {
		r = api_token_create(&s, st, uses, ttl, hold, now, &j);
		if (r == 0) {
			if (json)
				print_json(j);
			else
				printf("%s\n# id %s, %lld use(s), expires %s%s\n", jstr(j, "token"), jstr(j, "id"), uses,
				       fmt_time(json_object_get(j, "expires"), tb, sizeof(tb)),
				       hold ? ", devices wait for approval" : "");
		} else if (r == -EINVAL) {
			log_error("token create: --uses and --expires must be positive");
		}
	} else if (strcmp(cmd, "token") == 0 && strcmp(sub, "list") == 0) {
		r = store_token_list(st, &j);
		if (r == 0 && json)
			print_json(j);
		else if (r == 0) {
			printf("%-16s %5s %5s %-16s %-5s %s\n", "ID", "LEFT", "USES", "EXPIRES", "HOLD", "STATE");
			json_array_foreach(j, i, v) {
				bool expired = json_integer_value(json_object_get(v, "expires")) <= now;

				printf("%-16s %5lld %5lld %-16s %-5s %s\n", jstr(v, "id"),
				       (long long)json_integer_value(json_object_get(v, "uses_left")),
				       (long long)json_integer_value(json_object_get(v, "uses_total")),
				       fmt_time(json_object_get(v, "expires"), tb, sizeof(tb)),
				       json_is_true(json_object_get(v, "hold")) ? "yes" : "no",
				       json_is_true(json_object_get(v, "revoked")) ? "revoked" : expired ? "expired" : "active");
			}
		}
	} else if (strcmp(cmd, "token") == 0 && strcmp(sub, "revoke") == 0 && arg) {
		const char *id = arg;

		r = store_token_revoke(st, id);
		if (r == -ENOENT)
			log_error("token %s: no such token (wxguard-server token list)", id);
		else if (r == 0)
			printf("token %s revoked\n", id);
	} else if (strcmp(cmd, "device") == 0 && strcmp(sub, "list") == 0) {
		r = store_device_list(st, now, s.cfg.stale_grace, &j);
		if (r == 0 && json)
			print_json(j);
		else if (r == 0) {
			printf("%-36s %-20s %-14s %-8s %-16s %s\n", "ID", "HOSTNAME", "STATE", "SEQ", "LAST REPORT", "FAILING");
			json_array_foreach(j, i, v)
				printf("%-36s %-20s %-14s %-8lld %-16s %s\n", jstr(v, "id"), jstr(v, "hostname"), jstr(v, "state"),
				       (long long)json_integer_value(json_object_get(v, "last_seq")),
				       fmt_time(json_object_get(v, "last_report"), tb, sizeof(tb)), jstr(v, "failing"));
		}
	} else if (strcmp(cmd, "device") == 0 && strcmp(sub, "show") == 0 && arg) {
		r = store_device_detail(st, arg, now, s.cfg.stale_grace, &j);
		if (r == 0)
			print_json(j);
		else if (r == -ENOENT)
			log_error("device %s: no such device (wxguard-server device list)", arg);
	} else if (strcmp(cmd, "device") == 0 && (strcmp(sub, "approve") == 0 || strcmp(sub, "revoke") == 0) && arg) {
		const char *id = arg;

		r = store_device_set_status(st, id, sub[0] == 'a' ? "approved" : "revoked");
		if (r == -ENOENT)
			log_error("device %s: no such device (wxguard-server device list)", id);
		else if (r == 0)
			printf("device %s %s\n", id, sub[0] == 'a' ? "approved" : "revoked");
	} else if (strcmp(cmd, "events") == 0 && !*sub) {
		r = store_events_list(st, device, limit, &j);
		if (r == 0 && json)
			print_json(j);
		else if (r == 0)
			json_array_foreach(j, i, v)
				print_event(v, tb, sizeof(tb));
	} else if (strcmp(cmd, "alerts") == 0 && !*sub) {
		r = store_alerts_list(st, device, limit, &j);
		if (r == 0 && json)
			print_json(j);
		else if (r == 0)
			json_array_foreach(j, i, v) {
				json_t *d;
				size_t k;

				printf("%s %-8s %-20s %s%s\n", fmt_time(json_object_get(v, "created"), tb, sizeof(tb)),
				       jstr(v, "severity"), jstr(v, "rule"), jstr(v, "message"),
				       json_is_true(json_object_get(v, "suppressed")) ? " [rate limited]" : "");
				json_array_foreach(json_object_get(v, "deliveries"), k, d)
					printf("    -> %s: %s (%lld attempts)%s%s\n", jstr(d, "sink"), jstr(d, "state"),
					       (long long)json_integer_value(json_object_get(d, "attempts")),
					       json_object_get(d, "last_error") && json_is_string(json_object_get(d, "last_error")) ? " " : "",
					       json_string_value(json_object_get(d, "last_error")) ?: "");
			}
	} else if (strcmp(cmd, "policy") == 0 && strcmp(sub, "upload") == 0 && arg) {
		const char *path = arg;
		char *text;
		size_t len;

		r = read_full_file(path, 1024 * 1024, &text, &len);
		if (r < 0) {
			log_error_errno(r, "policy %s: cannot read it", path);
		} else {
			r = api_policy_upload(&s, st, text, len, now, &j);
			free(text);
			if (r > 0) {
				log_error("policy %s line %d: not valid INI; fix it (wxguard policy lint) and upload again", path, r);
				r = -EINVAL;
			} else if (r == 0) {
				if (json)
					print_json(j);
				else
					printf("policy %s %s uploaded, sha256 %s, signed with the server key\n",
					       jstr(j, "name"), jstr(j, "version"), jstr(j, "sha256"));
			}
		}
	} else if (strcmp(cmd, "policy") == 0 && strcmp(sub, "show") == 0) {
		r = store_policy_current(st, &j);
		if (r == 0)
			print_json(j);
		else if (r == -ENOENT)
			log_error("no policy uploaded yet (wxguard-server policy upload FILE)");
	} else {
		usage(stderr);
		r = -EINVAL;
		json_decref(j);
		store_close(st);
		srv_done(&s);
		return 2;
	}
	if (r < 0 && r != -ENOENT && r != -EINVAL && st)
		log_error_errno(r, "database: %s", store_errmsg(st));
fail:
	json_decref(j);
	store_close(st);
	srv_done(&s);
	return r < 0 ? 1 : 0;
}
