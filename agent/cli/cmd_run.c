/* `wxguard run`: the service. Loads the eBPF watcher (agent/watch/watch.h), arms it with the
 * policy, tells systemd it is ready, then runs an sd-event loop: ring-buffer records become
 * one JSON line each on stdout (the journal under systemd), SIGHUP reloads the policy
 * atomically, the state is published to /run/wxguard/status.json for `wxguard status`, and
 * the posture checks run every report_interval (alone when nothing can watch: posture only). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <time.h>
#include <unistd.h>

#include "agent/attest/attest.h"
#include "agent/checks/check.h"
#include "agent/attest/config.h"
#include "agent/checks/posture.h"
#include "agent/cli/cmd.h"
#include "agent/watch/watch_events.h"
#include "agent/cli/policy_cli.h"
#include "agent/watch/watch.h"
#include "common/fileio.h"
#include "common/log.h"

#define STATUS_FILE_DEFAULT "/run/wxguard/status.json"
#define STATUS_INTERVAL_US (5ULL * 1000 * 1000)

struct run {
	struct watch *w;
	const char *policy_path;
	const char *status_path;
	time_t started;
	unsigned posture_interval; /* seconds; 0: from the policy's report_interval */
	bool no_posture;
	json_t *last_posture; /* overall + per-check status of the last run */
	FILE *out;
	struct posture *posture; /* checks on a worker thread */
	struct attest *at;       /* reports and event uplink; NULL without a server */
	const char *config_path;
};

static void print_event(const json_t *ev, void *userdata)
{
	struct run *run = userdata;
	const char *type = json_string_value(json_object_get(ev, "type"));

	if (type && strcmp(type, "drops") == 0)
		log_warning("%lld events lost: the ring buffer was full (%lld in total)",
			    (long long)json_integer_value(json_object_get(ev, "lost")),
			    (long long)json_integer_value(json_object_get(ev, "lost_total")));
	watch_events_write_line(run->out, ev);
	/* Violations and agent events go to the server; posture results travel in reports. */
	if (run->at && !(type && strcmp(type, "posture") == 0)) {
		int r = attest_on_event(run->at, ev);

		if (r < 0)
			log_error_errno(r, "event could not be spooled for the server");
	}
}

static void emit_agent_event(struct run *run, const char *what, const char *result, json_t *extra)
{
	const struct policy *p = watch_policy(run->w);
	json_t *ev = watch_events_new("agent", 0, p ? policy_mode_to_string(p->mode) : NULL);

	if (!ev) {
		json_decref(extra);
		return;
	}
	json_object_set_new(ev, "rule", json_string(what));
	json_object_set_new(ev, "result", json_string(result));
	if (extra)
		json_object_update(ev, extra);
	json_decref(extra);
	print_event(ev, run);
	json_decref(ev);
}

static int write_status(struct run *run, const char *phase)
{
	struct watch_state st;
	json_t *doc;
	char *text;
	int r;

	watch_get_state(run->w, &st);
	doc = watch_state_to_json(&st);
	if (!doc)
		return -ENOMEM;
	json_object_set_new(doc, "pid", json_integer(getpid()));
	json_object_set_new(doc, "phase", json_string(phase));
	json_object_set_new(doc, "started", json_integer(run->started));
	json_object_set_new(doc, "updated", json_integer(time(NULL)));
	json_object_set_new(doc, "version", json_string(WXG_VERSION));
	json_object_set_new(doc, "policy_path", json_string(run->policy_path));
	if (run->last_posture)
		json_object_set(doc, "posture", run->last_posture);
	if (run->at) {
		json_t *a = NULL;

		attest_set_watcher_state(run->at, &st);
		if (attest_status_json(run->at, &a) == 0)
			json_object_set_new(doc, "attestation", a);
	}
	text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		return -ENOMEM;
	r = write_file_atomic(run->status_path, text, strlen(text), 0644);
	free(text);
	sd_notifyf(0, "STATUS=%s, %s mode, enforcement %s; %llu events, %llu kills, %llu drops",
		   watch_run_state_to_string(st.state), policy_mode_to_string(st.mode),
		   watch_enforcement_to_string(st.enforcement),
		   (unsigned long long)st.counters.events,
		   (unsigned long long)(st.counters.kills + st.counters.user_kills),
		   (unsigned long long)st.counters.drops);
	return r;
}

/* A posture run finished on the worker thread (agent/checks/posture.c): publish it, log it as an
 * event line, and hand it to attestation (a changed status triggers a report at once). */
static void on_posture_done(struct check_report *rep, struct policy *pol, void *userdata)
{
	struct run *run = userdata;
	json_t *checks, *ev;

	checks = json_object();
	for (size_t i = 0; i < rep->n_results; i++)
		json_object_set_new(checks, rep->results[i].id,
				    json_string(check_status_to_string(rep->results[i].status)));
	json_decref(run->last_posture);
	run->last_posture = json_pack("{s:s, s:I, s:O}", "overall",
				      check_status_to_string(rep->overall), "time",
				      (json_int_t)rep->time, "checks", checks);
	ev = watch_events_new("posture", 0, policy_mode_to_string(pol->mode));
	if (ev) {
		json_object_set_new(ev, "rule", json_string("posture"));
		json_object_set_new(ev, "overall",
				    json_string(check_status_to_string(rep->overall)));
		json_object_set(ev, "checks", checks);
		print_event(ev, run);
		json_decref(ev);
	}
	json_decref(checks);
	if (run->at) {
		int r = attest_on_checks(run->at, rep, pol);

		if (r < 0)
			log_warning_errno(r, "attestation: cannot take the posture results");
	}
	check_report_free(rep);
	policy_free(pol);
	write_status(run, "running");
}

static void run_posture(struct run *run)
{
	int r;

	if (!run->posture || run->no_posture)
		return;
	r = posture_start(run->posture);
	if (r == -EBUSY)
		log_debug("posture checks still running: they run again when done");
	else if (r < 0)
		log_warning_errno(r, "posture checks could not start");
}

static int on_ringbuf(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct run *run = userdata;
	int r = watch_dispatch(run->w, 0);

	if (r < 0)
		log_warning_errno(r, "watch: reading the ring buffer failed");
	return 0;
}

static int on_status_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *run = userdata;
	int r;

	watch_dispatch(run->w, 0); /* drops are reported here too when nothing else wakes us */
	r = write_status(run, "running");
	if (r < 0)
		log_debug("status %s: %s", run->status_path, strerror(-r));
	return sd_event_source_set_time(s, usec + STATUS_INTERVAL_US);
}

static int on_posture_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct run *run = userdata;
	const struct policy *p = watch_policy(run->w);
	unsigned sec = run->posture_interval ? run->posture_interval
					     : (p && p->report_interval ? p->report_interval : 300);

	run_posture(run);
	return sd_event_source_set_time(s, usec + (uint64_t)sec * 1000000);
}

static void reload_policy(struct run *run)
{
	struct policy_diags d = {};
	int r;

	r = watch_reload(run->w, run->policy_path, &d);
	if (r < 0) {
		json_t *diags = json_array();

		for (size_t i = 0; i < d.n; i++) {
			char buf[512];

			policy_diag_format(&d.v[i], buf, sizeof(buf));
			log_error("policy %s: %s", run->policy_path, buf);
			json_array_append_new(diags, json_string(buf));
		}
		log_error_errno(r, "policy %s: refused, the policy in force stays",
				run->policy_path);
		emit_agent_event(
			run, "policy.reload", "refused",
			json_pack("{s:s, s:o}", "error", strerror(-r), "diagnostics", diags));
	} else {
		const struct policy *p = watch_policy(run->w);

		log_info("policy %s reloaded: %s %s, %s mode", run->policy_path,
			 p->name ? p->name : "", p->version ? p->version : "",
			 policy_mode_to_string(p->mode));
		emit_agent_event(run, "policy.reload", "applied",
				 json_pack("{s:s, s:s}", "policy_sha256", p->sha256, "policy_mode",
					   policy_mode_to_string(p->mode)));
	}
	policy_diags_clear(&d);
	write_status(run, "running");
	run_posture(run); /* the new policy's checks, and a report to the server */
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	sd_notify(0, "RELOADING=1");
	reload_policy(userdata);
	sd_notify(0, "READY=1");
	return 0;
}

/* attestation wrote a verified server policy into the policy directory. */
static void on_server_policy(void *userdata, const char *path)
{
	struct run *run = userdata;

	log_info("server policy written to %s: reloading %s", path, run->policy_path);
	reload_policy(run);
}

/* Reports and the event uplink start when a server is configured (agent.conf, or an [enroll]
 * drop-in) or the device is already enrolled. Without one, events stay local (stdout/journal). */
static int start_attest(struct run *run, sd_event *e)
{
	struct agent_config_error err = { 0 };
	struct agent_config *cfg = NULL;
	char path[4096];
	int r;

	r = agent_config_load(run->config_path, &cfg, &err);
	if (r < 0) {
		if (err.line)
			log_error("%s:%u: %s", err.file, err.line, err.message);
		else if (err.file[0])
			log_error("%s: %s", err.file, err.message);
		return log_error_errno(r, "agent configuration %s: cannot load",
				       run->config_path ? run->config_path
							: AGENT_CONFIG_PATH_DEFAULT);
	}
	snprintf(path, sizeof(path), "%s/enrollment.json", cfg->state_dir);
	if (!agent_config_server_url(cfg) && access(path, F_OK) < 0) {
		log_info("no server configured: events stay on this machine");
		agent_config_free(cfg);
		return 0;
	}
	r = attest_new(e, cfg, &run->at);
	agent_config_free(cfg);
	if (r < 0)
		return log_error_errno(r, "attestation cannot start");
	attest_set_policy_hook(run->at, on_server_policy, run);
	return 0;
}

static int on_exit_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static const struct {
	int sig;
	const char *name;
	sd_event_signal_handler_t handler;
} run_signals[] = {
	{ SIGHUP, "SIGHUP", on_sighup },
	{ SIGTERM, "SIGTERM", on_exit_signal },
	{ SIGINT, "SIGINT", on_exit_signal },
};

/* The loop's sources: ring buffer, signals, status and posture timers, the watchdog. */
static int add_event_sources(struct run *run, sd_event *e, sd_event_source **status_src,
			     sd_event_source **posture_src)
{
	uint64_t now;
	int r;

	if (watch_fd(run->w) >= 0) {
		r = sd_event_add_io(e, NULL, watch_fd(run->w), EPOLLIN, on_ringbuf, run);
		if (r < 0)
			return log_error_errno(r, "event loop: cannot watch the ring buffer");
	}
	for (size_t i = 0; i < sizeof(run_signals) / sizeof(run_signals[0]); i++) {
		r = sd_event_add_signal(e, NULL, run_signals[i].sig, run_signals[i].handler, run);
		if (r < 0)
			return log_error_errno(r, "event loop: cannot handle %s",
					       run_signals[i].name);
	}
	r = sd_event_now(e, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return log_error_errno(r, "event loop: cannot read the clock");
	r = sd_event_add_time(e, status_src, CLOCK_MONOTONIC, now + STATUS_INTERVAL_US, 0,
			      on_status_timer, run);
	if (r < 0)
		return log_error_errno(r, "event loop: cannot add the status timer");
	r = sd_event_add_time(e, posture_src, CLOCK_MONOTONIC, now + 1000000, 0, on_posture_timer,
			      run);
	if (r < 0)
		return log_error_errno(r, "event loop: cannot add the posture timer");
	r = sd_event_set_watchdog(e, true);
	if (r < 0)
		return log_error_errno(r, "event loop: cannot enable the systemd watchdog");
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: wxguard run [--policy PATH] [OPTIONS]\n"
		"Watch and enforce with eBPF (foreground; the systemd unit runs the same).\n\n"
		"  --policy PATH        policy file or directory (default %s)\n"
		"  --status-file PATH   where the state is published (default %s)\n"
		"  --notify-cmd CMD     run CMD UID LANG TITLE BODY instead of D-Bus "
		"notifications\n"
		"  --no-notify          no desktop notifications\n"
		"  --no-lsm             enforce with signals even where BPF LSM is available\n"
		"  --no-bpf             do not load BPF (degraded: posture checks only)\n"
		"  --backend NAME       the highest rung of the backend ladder to use: lsm, "
		"tracing,\n"
		"                       raw_tp, fanotify, none (posture only) or auto (default)\n"
		"  --no-posture         do not run the posture checks\n"
		"  --posture-interval S seconds between posture runs (default: report_interval)\n"
		"  --no-proc-scan       do not look for clients already running\n"
		"  --config PATH        agent configuration (default " AGENT_CONFIG_PATH_DEFAULT
		")\n"
		"  --cache-dir DIR      package-manager query cache (default /var/cache/wxguard)\n",
		POLICY_DIR_DEFAULT, STATUS_FILE_DEFAULT);
}

int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = { { "policy", required_argument, NULL, 'p' },
					      { "status-file", required_argument, NULL, 's' },
					      { "notify-cmd", required_argument, NULL, 'n' },
					      { "no-notify", no_argument, NULL, 'N' },
					      { "no-lsm", no_argument, NULL, 'L' },
					      { "no-bpf", no_argument, NULL, 'B' },
					      { "backend", required_argument, NULL, 'b' },
					      { "no-posture", no_argument, NULL, 'P' },
					      { "posture-interval", required_argument, NULL, 'i' },
					      { "no-proc-scan", no_argument, NULL, 'S' },
					      { "config", required_argument, NULL, 'c' },
					      { "cache-dir", required_argument, NULL, 'C' },
					      { "help", no_argument, NULL, 'h' },
					      {} };
	struct watch_opts wo = { .notify_dbus = true };
	struct run run = { .policy_path = POLICY_DIR_DEFAULT,
			   .status_path = STATUS_FILE_DEFAULT,
			   .out = stdout };
	sd_event_source *status_src = NULL, *posture_src = NULL;
	const char *cache_dir = "/var/cache/wxguard";
	struct policy *p = NULL;
	struct watch_state st;
	sd_event *e = NULL;
	char dir[4096], *slash;
	sigset_t mask;
	int c, r, ret = WXG_EXIT_FAIL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
		switch (c) {
		case 'p': run.policy_path = optarg; break;
		case 's': run.status_path = optarg; break;
		case 'n': wo.notify_cmd = optarg; break;
		case 'N': wo.notify_dbus = false; break;
		case 'L': wo.no_lsm = true; break;
		case 'B': wo.no_bpf = true; break;
		case 'b':
			if (watch_backend_from_string(optarg, &wo.backend) < 0) {
				log_error("--backend %s: unknown backend (lsm, tracing, raw_tp, "
					  "fanotify, none, auto)",
					  optarg);
				return WXG_EXIT_USAGE;
			}
			wo.force_backend = wo.backend != WATCH_BACKEND_AUTO;
			break;
		case 'P': run.no_posture = true; break;
		case 'i': run.posture_interval = strtoul(optarg, NULL, 10); break;
		case 'S': wo.no_proc_scan = true; break;
		case 'c': run.config_path = optarg; break;
		case 'C': cache_dir = *optarg ? optarg : NULL; break;
		case 'h': usage(stdout); return WXG_EXIT_OK;
		default: usage(stderr); return WXG_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return WXG_EXIT_USAGE;
	}
	if (policy_cli_load(run.policy_path, &p) < 0)
		return WXG_EXIT_USAGE;
	setvbuf(stdout, NULL, _IOLBF, 0);
	run.started = time(NULL);

	r = watch_new(&wo, &run.w);
	if (r == -EOPNOTSUPP) {
		log_error("--backend %s: this kernel does not offer it (`wxguard backends` lists "
			  "what it does)",
			  watch_backend_to_string(wo.backend));
		ret = WXG_EXIT_UNSUPPORTED;
		goto out;
	}
	if (r < 0) {
		log_error_errno(r, "cannot start the watcher");
		goto out;
	}
	/* The one line that says what is enforced, why not more and what to do, once. */
	watch_get_state(run.w, &st);
	log_full_errno(st.state == WATCH_STATE_POSTURE_ONLY ? LOG_ERR
		       : st.state == WATCH_STATE_DEGRADED   ? LOG_WARNING
							    : LOG_INFO,
		       0, "watcher: %s", st.summary);
	r = watch_set_policy(run.w, p);
	if (r < 0) {
		log_error_errno(r, "policy %s: cannot be applied", run.policy_path);
		policy_free(p);
		goto out;
	}
	p = NULL;
	watch_set_event_hook(run.w, print_event, &run);
	watch_get_state(run.w, &st);
	log_info("watching: %s mode, enforcement %s, %u approved and %u denied executables",
		 policy_mode_to_string(st.mode), watch_enforcement_to_string(st.enforcement),
		 st.approved_files, st.denied_files);

	snprintf(dir, sizeof(dir), "%s", run.status_path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir_p(dir, 0755);
	}

	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(run_signals) / sizeof(run_signals[0]); i++)
		sigaddset(&mask, run_signals[i].sig);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	r = sd_event_default(&e);
	if (r < 0) {
		log_error_errno(r, "cannot create the event loop");
		goto out;
	}
	r = posture_new(e, run.policy_path, cache_dir, on_posture_done, &run, &run.posture);
	if (r < 0) {
		log_error_errno(r, "cannot set up the posture checks");
		goto out;
	}
	r = start_attest(&run, e); /* says why itself */
	if (r < 0)
		goto out;
	r = add_event_sources(&run, e, &status_src, &posture_src); /* says why itself */
	if (r < 0)
		goto out;
	/* What already runs, once its events can reach the server too. */
	r = watch_scan_running(run.w);
	if (r < 0)
		log_warning_errno(r, "the start-up scan of running processes failed");
	write_status(&run, "running");
	emit_agent_event(&run, "watch.start", watch_run_state_to_string(st.state),
			 json_pack("{s:s, s:s, s:s, s:s}", "enforcement",
				   watch_enforcement_to_string(st.enforcement), "reason", st.reason,
				   "kernel", st.kernel, "summary", st.summary));
	sd_notify(0, "READY=1");
	r = sd_event_loop(e);
	if (r < 0)
		log_error_errno(r, "event loop failed");
	sd_notify(0, "STOPPING=1");
	write_status(&run, "stopped");
	ret = r < 0 ? WXG_EXIT_FAIL : WXG_EXIT_OK;
out:
	posture_free(run.posture);
	attest_free(run.at);
	sd_event_source_unref(status_src);
	sd_event_source_unref(posture_src);
	sd_event_unref(e);
	watch_free(run.w);
	json_decref(run.last_posture);
	policy_free(p);
	return ret;
}
