/* The eBPF watcher's facade: BPF lifecycle, ring buffer, counters, state, policy swaps.
 * The backend ladder (probe, choose, load) is agent/watch/watch_load.c; policy -> kernel tables is
 * agent/watch/watch_tables.c, the judgements user space finishes
 * agent/watch/watch_judge.c, the start-up /proc scan agent/watch/watch_scan.c; what they do
 * with a judgement (emit, notify, kill) agent/watch/watch_act.c. */
#include "agent/watch/watch.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "agent/watch/watch_btf.h"
#include "agent/watch/watch_events.h"
#include "agent/watch/watch_fanotify.h"
#include "agent/host/pkgdb/pkgdb.h"
#include "agent/watch/watch_internal.h"
#include "agent/watch/watch_summary.h"
#include "common/log.h"
#include "watch.skel.h"

_Static_assert(sizeof(struct wxg_ev_hdr) == 16, "ABI drift");
_Static_assert(sizeof(struct wxg_ev_task) == 40, "ABI drift");
_Static_assert(sizeof(struct wxg_ev_exec) == 376, "ABI drift");
_Static_assert(sizeof(struct wxg_ev_rename) == 80, "ABI drift");
_Static_assert(sizeof(struct wxg_ev_open) == 328, "ABI drift");
_Static_assert(sizeof(struct wxg_ev_inject) == 88, "ABI drift");
_Static_assert(sizeof(struct wxg_inode_key) == 16, "ABI drift");
_Static_assert(sizeof(struct wxg_inode_val) == 24, "ABI drift");
_Static_assert(sizeof(struct wxg_watch) == 24, "ABI drift");
_Static_assert(sizeof(struct wxg_config) == 16, "ABI drift");
_Static_assert(sizeof(struct wxg_lib_dir_val) == 16, "ABI drift");

const char *watch_enforcement_to_string(enum watch_enforcement e)
{
	switch (e) {
	case WATCH_ENF_SIGNAL: return "signal";
	case WATCH_ENF_LSM: return "lsm";
	case WATCH_ENF_TRACING: return "tracing";
	case WATCH_ENF_FANOTIFY: return "fanotify";
	default: return "none";
	}
}

const char *watch_run_state_to_string(enum watch_run_state s)
{
	switch (s) {
	case WATCH_STATE_RUNNING: return "running";
	case WATCH_STATE_DEGRADED: return "degraded";
	default: return "posture_only";
	}
}

static const char *const backend_names[] = {
	[WATCH_BACKEND_NONE] = "none",     [WATCH_BACKEND_FANOTIFY] = "fanotify",
	[WATCH_BACKEND_RAW_TP] = "raw_tp", [WATCH_BACKEND_TRACING] = "tracing",
	[WATCH_BACKEND_LSM] = "lsm",       [WATCH_BACKEND_AUTO] = "auto",
};

const char *watch_backend_to_string(enum watch_backend b)
{
	return (unsigned)b < sizeof(backend_names) / sizeof(backend_names[0]) ? backend_names[b]
									      : "none";
}

int watch_backend_from_string(const char *s, enum watch_backend *ret)
{
	for (unsigned i = 0; s && i < sizeof(backend_names) / sizeof(backend_names[0]); i++)
		if (strcmp(s, backend_names[i]) == 0) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

const char *watch_decision_to_string(enum watch_decision d)
{
	switch (d) {
	case WATCH_DEC_EXEC: return "exec";
	case WATCH_DEC_LIBRARIES: return "libraries";
	case WATCH_DEC_INJECTION: return "injection";
	case WATCH_DEC_RENAMES: return "renames";
	default: return "unknown";
	}
}

const char *watch_effect_to_string(enum watch_effect e)
{
	switch (e) {
	case WATCH_EFFECT_REPORTED: return "reported";
	case WATCH_EFFECT_STOPPED: return "stopped";
	case WATCH_EFFECT_REFUSED: return "refused";
	default: return "none";
	}
}

static int handle_record(void *ctx, void *data, size_t size);

/* The fanotify rung (no BPF): -EOPNOTSUPP when this kernel does not offer it. */
static int start_fanotify(struct watch *w)
{
	int r = watch_fanotify_new(w, &w->fan);

	if (r < 0) {
		log_debug("fanotify rung: %s", strerror(-r));
		return r == -ENOMEM ? r : -EOPNOTSUPP;
	}
	w->enf = WATCH_ENF_FANOTIFY;
	w->state = WATCH_STATE_DEGRADED;
	snprintf(w->reason, sizeof(w->reason),
		 "fanotify (no BPF): library opens not judged; process_vm_writev and "
		 "/proc/PID/mem writes into the client not seen");
	return 0;
}

static int load_bpf(struct watch *w)
{
	int r;

	if (w->opts.force_backend && w->opts.backend == WATCH_BACKEND_FANOTIFY) {
		r = start_fanotify(w);
		if (r == 0) /* the summary names the option, not a missing BTF */
			snprintf(w->reason, sizeof(w->reason),
				 "fanotify (--backend fanotify): library opens not judged; "
				 "process_vm_writev and /proc/PID/mem writes into the client not "
				 "seen");
		return r;
	}
	r = watch_load_bpf(w);
	if (r < 0 || !w->skel)
		return r;
	w->rb = ring_buffer__new(bpf_map__fd(w->skel->maps.events), handle_record, w, NULL);
	if (!w->rb)
		watch_load_degrade(w, "cannot open the ring buffer", -errno);
	return 0;
}

int watch_new(const struct watch_opts *opts, struct watch **ret)
{
	struct watch *w;
	int r;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	if (opts)
		w->opts = *opts;
	w->ncpus = libbpf_num_possible_cpus();
	if (w->ncpus <= 0)
		w->ncpus = 1;
	w->clk_tck = sysconf(_SC_CLK_TCK);
	r = hashcache_new(4096, &w->hc);
	if (r < 0)
		goto fail;
	r = sysroot_new("/", &w->sr);
	if (r < 0)
		goto fail;
	r = notify_new(w->opts.notify_cmd, w->opts.notify_dbus, &w->notify);
	if (r < 0)
		goto fail;
	r = load_bpf(w);
	if (r < 0)
		goto fail;
	/* BPF could not load: the fanotify rung, unless told not to watch. */
	if (w->state == WATCH_STATE_POSTURE_ONLY && !w->opts.no_bpf && !w->opts.force_backend) {
		char reason[sizeof(w->reason)];

		memcpy(reason, w->reason, sizeof(reason));
		if (start_fanotify(w) == 0)
			snprintf(w->reason, sizeof(w->reason), "%.200s; fanotify instead", reason);
	}
	*ret = w;
	return 0;
fail:
	watch_free(w);
	return r;
}

void watch_free(struct watch *w)
{
	if (!w)
		return;
	watch_fanotify_free(w->fan);
	ring_buffer__free(w->rb);
	watch_bpf__destroy(w->skel);
	watch_tables_clear(&w->tables);
	policy_free(w->policy);
	hashcache_free(w->hc);
	pkgdb_free(w->pkgdb);
	notify_free(w->notify);
	sysroot_free(w->sr);
	free(w);
}

const struct policy *watch_policy(const struct watch *w)
{
	return w->policy;
}

int watch_set_event_hook(struct watch *w, watch_event_fn fn, void *userdata)
{
	for (size_t i = 0; i < WATCH_MAX_HOOKS; i++)
		if (w->hooks[i].fn && w->hooks[i].ud == userdata) {
			w->hooks[i].fn = fn;
			return 0;
		}
	if (!fn)
		return 0;
	for (size_t i = 0; i < WATCH_MAX_HOOKS; i++)
		if (!w->hooks[i].fn) {
			w->hooks[i].fn = fn;
			w->hooks[i].ud = userdata;
			return 0;
		}
	return -ENOSPC;
}

int watch_fd(const struct watch *w)
{
	if (w->fan)
		return watch_fanotify_fd(w->fan);
	return w->rb ? ring_buffer__epoll_fd(w->rb) : -EBADF;
}

static void handle_fan_record(void *ctx, const struct wxg_ev_hdr *h)
{
	watch_judge_record(ctx, h);
}

static int handle_record(void *ctx, void *data, size_t size)
{
	struct watch *w = ctx;
	const struct wxg_ev_hdr *h = data;

	if (size < sizeof(*h) || h->size > size) {
		log_debug("ring buffer: short record (%zu bytes)", size);
		return 0;
	}
	watch_judge_record(w, h);
	return 0;
}

static void read_counters(struct watch *w, uint64_t out[WXG_CNT_MAX])
{
	uint64_t *vals = calloc(w->ncpus, sizeof(uint64_t));

	memset(out, 0, sizeof(uint64_t) * WXG_CNT_MAX);
	if (w->fan) {
		struct watch_state s = {};

		watch_fanotify_state(w->fan, &s);
		out[WXG_CNT_DROPS] = s.counters.drops;
	}
	if (!vals || !w->skel) {
		free(vals);
		return;
	}
	for (uint32_t i = 0; i < WXG_CNT_MAX; i++) {
		if (bpf_map_lookup_elem(bpf_map__fd(w->skel->maps.counters), &i, vals) < 0)
			continue;
		for (int c = 0; c < w->ncpus; c++)
			out[i] += vals[c];
	}
	free(vals);
}

/* A drop is never silent: every increase of the drop counter becomes an event. */
static void report_drops(struct watch *w)
{
	uint64_t c[WXG_CNT_MAX];
	json_t *ev;

	read_counters(w, c);
	if (c[WXG_CNT_DROPS] <= w->drops_reported)
		return;
	log_debug("watch: %llu events lost (ring buffer full), %llu in total",
		  (unsigned long long)(c[WXG_CNT_DROPS] - w->drops_reported),
		  (unsigned long long)c[WXG_CNT_DROPS]);
	ev = watch_events_new("drops", 0,
			      w->policy ? policy_mode_to_string(w->policy->mode) : NULL);
	if (ev) {
		json_object_set_new(ev, "rule", json_string("watch"));
		json_object_set_new(ev, "lost", json_integer(c[WXG_CNT_DROPS] - w->drops_reported));
		json_object_set_new(ev, "lost_total", json_integer(c[WXG_CNT_DROPS]));
		watch_act_emit(w, ev);
		json_decref(ev);
	}
	w->drops_reported = c[WXG_CNT_DROPS];
}

int watch_dispatch(struct watch *w, int timeout_ms)
{
	int r;

	if (w->fan) {
		struct pollfd p = { .fd = watch_fanotify_fd(w->fan), .events = POLLIN };

		if (timeout_ms > 0 && poll(&p, 1, timeout_ms) < 0 && errno != EINTR)
			return -errno;
		r = watch_fanotify_dispatch(w->fan, handle_fan_record, w);
		report_drops(w);
		return r;
	}
	if (!w->rb)
		return -EBADF;
	r = timeout_ms > 0 ? ring_buffer__poll(w->rb, timeout_ms) : ring_buffer__consume(w->rb);
	if (r == -EINTR)
		r = 0;
	report_drops(w);
	return r;
}

void watch_get_state(struct watch *w, struct watch_state *s)
{
	uint64_t c[WXG_CNT_MAX];
	struct utsname u;

	memset(s, 0, sizeof(*s));
	s->mode = w->policy ? w->policy->mode : POLICY_MODE_AUDIT;
	s->enforcement = w->enf;
	s->state = w->state;
	snprintf(s->reason, sizeof(s->reason), "%s", w->reason);
	read_counters(w, c);
	s->counters.execs = c[WXG_CNT_EXECS];
	s->counters.events = c[WXG_CNT_EVENTS];
	s->counters.drops = c[WXG_CNT_DROPS];
	s->counters.kills = c[WXG_CNT_KILLS];
	s->counters.lsm_denies = c[WXG_CNT_LSM_DENIES];
	s->counters.written = c[WXG_CNT_WRITTEN];
	s->counters.user_kills = w->user_kills;
	if (uname(&u) == 0)
		snprintf(s->kernel, sizeof(s->kernel), "%s", u.release);
	memcpy(s->decisions, w->dec, sizeof(s->decisions));
	snprintf(s->btf, sizeof(s->btf), "%s", w->btf.path);
	if (w->fan)
		watch_fanotify_state(w->fan, s);
	s->generation = w->generation;
	if (w->policy) {
		snprintf(s->policy_name, sizeof(s->policy_name), "%s",
			 w->policy->name ? w->policy->name : "");
		snprintf(s->policy_version, sizeof(s->policy_version), "%s",
			 w->policy->version ? w->policy->version : "");
		snprintf(s->policy_sha256, sizeof(s->policy_sha256), "%s", w->policy->sha256);
	}
	s->approved_files = w->tables.n_approved;
	s->denied_files = w->tables.n_denied;
	s->names = w->tables.n_names;
	if (w->skel) {
		uint32_t key, next, *prev = NULL;

		while (bpf_map_get_next_key(bpf_map__fd(w->skel->maps.watched), prev, &next) == 0) {
			s->watched++;
			key = next;
			prev = &key;
		}
	}
	watch_state_summarize(s);
}

static json_t *decisions_to_json(const struct watch_state *s)
{
	json_t *o = json_object();

	for (int d = 0; o && d < WATCH_DEC_MAX; d++)
		json_object_set_new(o, watch_decision_to_string(d),
				    json_pack("{s:s, s:s}", "backend",
					      watch_backend_to_string(s->decisions[d].backend),
					      "effect",
					      watch_effect_to_string(s->decisions[d].effect)));
	return o;
}

json_t *watch_state_to_json(const struct watch_state *s)
{
	json_t *o;

	o = json_pack(
		"{s:s, s:s, s:s, s:s, s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:{s:s, s:s, s:s, "
		"s:i},"
		" s:{s:i, s:i, s:i, s:i}}",
		"state", watch_run_state_to_string(s->state), "reason", s->reason, "mode",
		policy_mode_to_string(s->mode), "enforcement",
		watch_enforcement_to_string(s->enforcement), "counters", "execs",
		(json_int_t)s->counters.execs, "events", (json_int_t)s->counters.events, "drops",
		(json_int_t)s->counters.drops, "kills", (json_int_t)s->counters.kills, "lsm_denies",
		(json_int_t)s->counters.lsm_denies, "user_kills",
		(json_int_t)s->counters.user_kills, "files_written",
		(json_int_t)s->counters.written, "policy", "name", s->policy_name, "version",
		s->policy_version, "sha256", s->policy_sha256, "generation", (int)s->generation,
		"tables", "approved_files", (int)s->approved_files, "denied_files",
		(int)s->denied_files, "names", (int)s->names, "watched_processes", (int)s->watched);
	if (!o)
		return NULL;
	if (s->enforcement == WATCH_ENF_FANOTIFY)
		json_object_set_new(json_object_get(o, "counters"), "fanotify_denies",
				    json_integer((json_int_t)s->counters.fan_denies));
	json_object_set_new(o, "decisions", decisions_to_json(s));
	json_object_set_new(o, "kernel", json_string(s->kernel));
	json_object_set_new(o, "btf", json_string(s->btf));
	json_object_set_new(o, "summary", json_string(s->summary));
	return o;
}

/* ---- policy ---- */

int watch_set_policy(struct watch *w, struct policy *p)
{
	struct watch_tables t = {};
	int r;

	r = watch_tables_build(w, p, &t);
	/* The package database is only needed while building: don't keep dpkg's status file
	 * and file lists in memory between reloads. */
	pkgdb_free(w->pkgdb);
	w->pkgdb = NULL;
	malloc_trim(0);
	if (r < 0)
		return r;
	if (t.manifest_err)
		log_warning("wine_manifest %s cannot be read (%s): the Wine prefix's programs and "
			    "DLLs are not checked against it",
			    t.manifest_err_path, strerror(-t.manifest_err));
	if (w->skel) {
		r = watch_tables_apply(w, p, &t, w->generation + 1);
		if (r < 0) {
			watch_tables_clear(&t);
			return r;
		}
	}
	if (w->fan)
		watch_fanotify_lock(w->fan); /* its worker judges with the tables and policy */
	watch_tables_clear(&w->tables);
	w->tables = t;
	policy_free(w->policy);
	w->policy = p;
	w->generation++;
	if (w->fan)
		watch_fanotify_unlock(w->fan);
	return 0;
}

int watch_scan_running(struct watch *w)
{
	if (w->scanned || !w->policy || !(w->skel || w->fan) || w->opts.no_proc_scan)
		return 0;
	w->scanned = true;
	return watch_scan_proc(w);
}

int watch_reload(struct watch *w, const char *path, struct policy_diags *diags)
{
	struct policy *p = NULL;
	int r;

	r = policy_load(path, &p, diags);
	if (r < 0)
		return r;
	r = watch_set_policy(w, p);
	if (r < 0)
		policy_free(p);
	return r;
}
