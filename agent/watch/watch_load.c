/* The backend ladder (docs/watch.md, docs/kernels.md): what the kernel offers, rung by rung
 * (watch_probe()), the rung each decision gets (the best offered, at most the one forced with
 * --backend), and loading only those programs of the one skeleton
 * (bpf_program__set_autoload). The rungs, best first: BPF LSM (refuse), tracing (fentry, or
 * kprobes where fentry does not attach: kill before the call returns), raw tracepoints (kill
 * after the fact; sys_enter for library opens and injection), fanotify (no BPF), none.
 * Called by the facade (agent/watch/watch.c) only. */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "agent/watch/watch_fanotify.h"
#include "agent/watch/watch_internal.h"
#include "common/log.h"
#include "common/strv.h"
#include "probe.skel.h"
#include "watch.skel.h"

/* What libbpf said last about a program that failed to load: the program and the verifier's
 * last complaint, for the one error line watch_load_degrade() logs. libbpf prints the
 * verifier's whole log as one multi-line message; every line of it goes to the debug log. */
static char last_prog[160], last_complaint[256];

static void note_libbpf_line(const char *line, bool *in_log)
{
	if (strstr(line, "-- BEGIN PROG LOAD LOG --")) {
		*in_log = true;
		last_complaint[0] = 0;
		return;
	}
	if (strstr(line, "-- END PROG LOAD LOG --")) {
		*in_log = false;
		return;
	}
	if (*in_log && line[0] && !str_startswith(line, "processed ") &&
	    !str_startswith(line, "verification time"))
		snprintf(last_complaint, sizeof(last_complaint), "%s", line);
	else if (!*in_log && strstr(line, "prog '") && strstr(line, "failed"))
		snprintf(last_prog, sizeof(last_prog), "%s", line);
}

static int libbpf_debug(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	static bool in_log;
	char *msg = NULL, *line, *save = NULL;

	if (level == LIBBPF_DEBUG)
		return 0;
	if (vasprintf(&msg, fmt, ap) < 0)
		return 0;
	for (line = strtok_r(msg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		note_libbpf_line(line, &in_log);
		log_debug("libbpf: %s", line);
	}
	free(msg);
	return 0;
}

static const char *errno_why(int err)
{
	err = err < 0 ? -err : err;
	if (err == EPERM)
		return geteuid() == 0 ? "Operation not permitted (refused by the kernel)"
				      : "Operation not permitted (need root / CAP_BPF+CAP_PERFMON)";
	return strerror(err);
}

/* ---- probes: one static function per rung ---- */

enum probe_prog {
	PROBE_LSM,
	PROBE_FENTRY,
	PROBE_KPROBE,
	PROBE_RAW_TP
};

/* Load and attach one no-op program of bpf/probe.bpf.c, alone. */
static bool probe_prog(enum probe_prog which, const char *btf_path, char *why, size_t size)
{
	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = btf_path);
	struct probe_bpf *p;
	struct bpf_program *progs[4], *prog;
	struct bpf_link *link = NULL;
	int r;

	libbpf_set_print(libbpf_debug);
	p = probe_bpf__open_opts(&oo);
	if (!p) {
		snprintf(why, size, "cannot open the probe: %s", errno_why(errno));
		return false;
	}
	progs[PROBE_LSM] = p->progs.probe_lsm;
	progs[PROBE_FENTRY] = p->progs.probe_fentry;
	progs[PROBE_KPROBE] = p->progs.probe_kprobe;
	progs[PROBE_RAW_TP] = p->progs.probe_raw_tp;
	for (int i = 0; i < 4; i++)
		bpf_program__set_autoload(progs[i], i == (int)which);
	prog = progs[which];
	r = probe_bpf__load(p);
	if (r < 0) {
		snprintf(why, size, "load: %s", errno_why(r));
		goto out;
	}
	link = bpf_program__attach(prog);
	r = link ? 0 : -errno;
	if (r < 0)
		snprintf(why, size, "attach: %s", errno_why(r));
out:
	bpf_link__destroy(link);
	probe_bpf__destroy(p);
	return r == 0;
}

/* BPF LSM: "bpf" must be among the active LSMs (/sys/kernel/security/lsm: a kernel booted with
 * an lsm= list without it still loads and attaches LSM programs, which then never run), and a
 * no-op LSM program must load and attach. */
static bool probe_lsm(const struct sysroot *sr, char *why, size_t size)
{
	char *lsms = NULL;
	int r;

	r = sysroot_read_line(sr, "/sys/kernel/security/lsm", &lsms);
	if (r == 0) {
		bool active = false;
		char *tok, *save = NULL;

		for (tok = strtok_r(lsms, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
			active = active || strcmp(tok, "bpf") == 0;
		free(lsms);
		if (!active) {
			snprintf(why, size,
				 "bpf is not among the active LSMs (boot with lsm=...,bpf)");
			return false;
		}
	}
	return probe_prog(PROBE_LSM, NULL, why, size);
}

/* Tracing: an fentry program on security_bprm_check, else a kprobe on it. */
static bool probe_tracing(bool *fentry, char *why, size_t size)
{
	char w1[128] = "", w2[128] = "";

	*fentry = probe_prog(PROBE_FENTRY, NULL, w1, sizeof(w1));
	if (*fentry)
		return true;
	if (probe_prog(PROBE_KPROBE, NULL, w2, sizeof(w2))) {
		log_debug("fentry does not attach (%s): tracing with kprobes", w1);
		return true;
	}
	snprintf(why, size, "fentry %s; kprobe %s", w1, w2);
	return false;
}

static bool probe_raw_tp(const struct watch_btf *btf, char *why, size_t size)
{
	return probe_prog(PROBE_RAW_TP, watch_btf_custom_path(btf), why, size);
}

/* fanotify permission events + the netlink proc connector (watch_fanotify.c). */
static bool probe_fanotify(char *why, size_t size)
{
	return watch_fanotify_probe(why, size) == 0;
}

/* The BPF rungs at all: BTF (the kernel's own, or one found elsewhere: watch_btf.c) and the
 * ring buffer (5.8+). false with why when they cannot run. */
static bool probe_bpf_usable(const struct sysroot *sr, struct watch_btf *btf, char *why,
			     size_t size)
{
	struct watch_kernel_features feat;

	watch_btf_find(sr, NULL, btf);
	if (watch_kernel_features(&feat) < 0)
		feat.bpf = feat.ringbuf = true; /* cannot ask: the load will say */
	return watch_kernel_bpf_usable(btf, &feat, NULL, why, size);
}

static void probe_all(const struct sysroot *sr, bool no_lsm, struct watch_probe *pr,
		      struct watch_btf *btf, bool *fentry)
{
	struct utsname u;
	size_t n = sizeof(pr->why[0]);
	char why[256] = "";
	bool bpf;

	memset(pr, 0, sizeof(*pr));
	if (uname(&u) == 0)
		snprintf(pr->kernel, sizeof(pr->kernel), "%s", u.release);
	bpf = probe_bpf_usable(sr, btf, why, sizeof(why));
	snprintf(pr->btf, sizeof(pr->btf), "%s", btf->path);
	pr->available[WATCH_BACKEND_NONE] = true;
	pr->available[WATCH_BACKEND_FANOTIFY] = probe_fanotify(pr->why[WATCH_BACKEND_FANOTIFY], n);
	if (!bpf) {
		for (int b = WATCH_BACKEND_RAW_TP; b <= WATCH_BACKEND_LSM; b++)
			snprintf(pr->why[b], n, "%s", why);
		return;
	}
	pr->available[WATCH_BACKEND_RAW_TP] = probe_raw_tp(btf, pr->why[WATCH_BACKEND_RAW_TP], n);
	if (btf->source != WATCH_BTF_KERNEL) {
		/* LSM and tracing programs attach by the kernel's own BTF ids. */
		for (int b = WATCH_BACKEND_TRACING; b <= WATCH_BACKEND_LSM; b++)
			snprintf(pr->why[b], n, "needs the kernel's own BTF (found only %.100s)",
				 btf->path[0] ? btf->path : "none");
		return;
	}
	pr->available[WATCH_BACKEND_TRACING] = probe_tracing(fentry, pr->why[WATCH_BACKEND_TRACING],
							     n);
	if (no_lsm) {
		snprintf(pr->why[WATCH_BACKEND_LSM], n, "not used (--no-lsm)");
	} else {
		pr->available[WATCH_BACKEND_LSM] = probe_lsm(sr, pr->why[WATCH_BACKEND_LSM], n);
	}
	/* The BPF rungs above raw tracepoints still need them (exec, fork, exit, renames). */
	for (int b = WATCH_BACKEND_TRACING; b <= WATCH_BACKEND_LSM; b++)
		if (pr->available[b] && !pr->available[WATCH_BACKEND_RAW_TP]) {
			pr->available[b] = false;
			snprintf(pr->why[b], n, "raw tracepoints unavailable");
		}
}

int watch_probe(struct watch_probe *ret)
{
	struct sysroot *sr = NULL;
	struct watch_btf btf;
	bool fentry;
	int r;

	r = sysroot_new("/", &sr);
	if (r < 0)
		return r;
	probe_all(sr, false, ret, &btf, &fentry);
	sysroot_free(sr);
	return 0;
}

/* ---- the choice ---- */

/* Which rungs can take a decision (the fanotify rung will add exec and libraries). */
static bool rung_has(enum watch_backend b, enum watch_decision d)
{
	switch (b) {
	case WATCH_BACKEND_LSM:
	case WATCH_BACKEND_TRACING: return d != WATCH_DEC_RENAMES;
	case WATCH_BACKEND_RAW_TP: return true;
	default: return false;
	}
}

static enum watch_effect rung_effect(enum watch_backend b)
{
	switch (b) {
	case WATCH_BACKEND_LSM: return WATCH_EFFECT_REFUSED;
	case WATCH_BACKEND_TRACING:
	case WATCH_BACKEND_RAW_TP: return WATCH_EFFECT_STOPPED;
	case WATCH_BACKEND_FANOTIFY: return WATCH_EFFECT_REFUSED;
	default: return WATCH_EFFECT_NONE;
	}
}

/* Per decision, the best rung at most cap that the kernel offers. */
static void choose(const struct watch_probe *pr, enum watch_backend cap,
		   struct watch_decision_state dec[WATCH_DEC_MAX])
{
	for (int d = 0; d < WATCH_DEC_MAX; d++) {
		dec[d].backend = WATCH_BACKEND_NONE;
		for (int b = cap; b > WATCH_BACKEND_NONE; b--)
			if (pr->available[b] && rung_has(b, d)) {
				dec[d].backend = b;
				break;
			}
		dec[d].effect = rung_effect(dec[d].backend);
	}
}

void watch_load_degrade(struct watch *w, const char *what, int err)
{
	struct utsname u;

	w->state = WATCH_STATE_POSTURE_ONLY;
	w->enf = WATCH_ENF_NONE;
	for (int d = 0; d < WATCH_DEC_MAX; d++)
		w->dec[d] = (struct watch_decision_state){ WATCH_BACKEND_NONE, WATCH_EFFECT_NONE };
	snprintf(w->reason, sizeof(w->reason), "%s: %s", what, errno_why(err));
	if (last_complaint[0] && uname(&u) == 0)
		log_error("BPF verifier refused a program on kernel %s: %s; verifier: %s "
			  "(WXGUARD_LOG_LEVEL=debug shows its whole log)",
			  u.release, last_prog[0] ? last_prog : "(program unknown)",
			  last_complaint);
	watch_bpf__destroy(w->skel);
	w->skel = NULL;
}

/* Does the running kernel have this raw tracepoint (its btf_trace_<name> typedef)? */
static bool kernel_has_tracepoint(const struct watch_btf *b, const char *btf_name)
{
	const char *custom = watch_btf_custom_path(b);
	struct btf *btf = custom ? btf__parse(custom, NULL) : btf__load_vmlinux_btf();
	bool r;

	if (!btf)
		return false;
	r = btf__find_by_name_kind(btf, btf_name, BTF_KIND_TYPEDEF) > 0;
	btf__free(btf);
	return r;
}

static void set_rung(struct bpf_program *lsm, struct bpf_program *fentry,
		     struct bpf_program *kprobe, enum watch_backend b, bool use_fentry)
{
	bpf_program__set_autoload(lsm, b == WATCH_BACKEND_LSM);
	bpf_program__set_autoload(fentry, b == WATCH_BACKEND_TRACING && use_fentry);
	bpf_program__set_autoload(kprobe, b == WATCH_BACKEND_TRACING && !use_fentry);
}

/* Open, arm and load the watcher with the programs of the chosen rungs, and attach them. */
static int load_chosen(struct watch *w, const struct watch_decision_state dec[WATCH_DEC_MAX],
		       bool use_fentry, const char **step)
{
	struct watch_bpf *s;
	bool opens = dec[WATCH_DEC_LIBRARIES].backend == WATCH_BACKEND_RAW_TP;
	bool inject = dec[WATCH_DEC_INJECTION].backend == WATCH_BACKEND_RAW_TP;
	int r;

	LIBBPF_OPTS(bpf_object_open_opts, oo, .btf_custom_path = watch_btf_custom_path(&w->btf));

	*step = "open the BPF object";
	s = w->skel = watch_bpf__open_opts(&oo);
	if (!s)
		return -errno;
	s->rodata->nr_openat = SYS_openat;
#ifdef SYS_open
	s->rodata->nr_open = SYS_open;
#endif
#ifdef SYS_openat2
	s->rodata->nr_openat2 = SYS_openat2;
#else
	s->rodata->nr_openat2 = 437;
#endif
	s->rodata->nr_ptrace = SYS_ptrace;
	s->rodata->nr_mmap = SYS_mmap;
	s->rodata->nr_process_vm_writev = SYS_process_vm_writev;
	s->rodata->sys_enter_opens = opens;
	s->rodata->sys_enter_inject = inject;

	/* Nothing on every syscall unless raw tracepoints have libraries or injection. */
	bpf_program__set_autoload(s->progs.handle_sys_enter, opens || inject);
	set_rung(s->progs.handle_bprm_check, s->progs.fentry_bprm_check, s->progs.kprobe_bprm_check,
		 dec[WATCH_DEC_EXEC].backend, use_fentry);
	set_rung(s->progs.handle_mmap_file, s->progs.fentry_mmap_file, s->progs.kprobe_mmap_file,
		 dec[WATCH_DEC_LIBRARIES].backend, use_fentry);
	set_rung(s->progs.handle_file_mprotect, s->progs.fentry_file_mprotect,
		 s->progs.kprobe_file_mprotect, dec[WATCH_DEC_LIBRARIES].backend, use_fentry);
	set_rung(s->progs.handle_ptrace_access_check, s->progs.fentry_ptrace_access_check,
		 s->progs.kprobe_ptrace_access_check, dec[WATCH_DEC_INJECTION].backend, use_fentry);
	/* Files opened for writing by a watched process: with the exec decision's rung. */
	set_rung(s->progs.handle_file_open, s->progs.fentry_file_open, s->progs.kprobe_file_open,
		 dec[WATCH_DEC_EXEC].backend, use_fentry);
	/* ctime_ns_xchg (multigrain timestamps, 6.13+) is optional: files written on tmpfs. */
	bpf_program__set_autoload(s->progs.handle_ctime_ns_xchg,
				  kernel_has_tracepoint(&w->btf, "btf_trace_ctime_ns_xchg"));

	last_prog[0] = last_complaint[0] = 0;
	*step = "load the BPF programs";
	r = watch_bpf__load(s);
	if (r < 0)
		return r;
	*step = "attach the BPF programs";
	return watch_bpf__attach(s);
}

static enum watch_enforcement exec_enforcement(enum watch_backend b)
{
	switch (b) {
	case WATCH_BACKEND_LSM: return WATCH_ENF_LSM;
	case WATCH_BACKEND_TRACING: return WATCH_ENF_TRACING;
	case WATCH_BACKEND_RAW_TP: return WATCH_ENF_SIGNAL;
	case WATCH_BACKEND_FANOTIFY: return WATCH_ENF_FANOTIFY;
	default: return WATCH_ENF_NONE;
	}
}

static void set_state(struct watch *w, const struct watch_decision_state dec[WATCH_DEC_MAX])
{
	size_t len = 0;

	memcpy(w->dec, dec, sizeof(w->dec));
	w->enf = exec_enforcement(dec[WATCH_DEC_EXEC].backend);
	w->state = WATCH_STATE_RUNNING;
	w->reason[0] = 0;
	for (int d = 0; d < WATCH_DEC_MAX; d++) {
		if (dec[d].effect >= WATCH_EFFECT_STOPPED)
			continue;
		w->state = WATCH_STATE_DEGRADED;
		len += snprintf(w->reason + len,
				len < sizeof(w->reason) ? sizeof(w->reason) - len : 0,
				"%s%s not watched", len ? "; " : "", watch_decision_to_string(d));
		if (len >= sizeof(w->reason))
			len = sizeof(w->reason) - 1;
	}
}

int watch_load_bpf(struct watch *w)
{
	struct watch_decision_state dec[WATCH_DEC_MAX];
	struct watch_probe pr;
	enum watch_backend cap;
	const char *step = NULL;
	bool fentry = false;
	int r;

	libbpf_set_print(libbpf_debug);
	if (w->opts.force_backend && w->opts.backend == WATCH_BACKEND_NONE) {
		watch_load_degrade(w, "backend none (--backend none)", 0);
		snprintf(w->reason, sizeof(w->reason), "posture only (--backend none)");
		return 0;
	}
	if (w->opts.no_bpf) {
		watch_load_degrade(w, "BPF disabled (--no-bpf)", 0);
		snprintf(w->reason, sizeof(w->reason), "BPF disabled (--no-bpf)");
		return 0;
	}
	cap = w->opts.force_backend ? w->opts.backend : WATCH_BACKEND_LSM;
	probe_all(w->sr, w->opts.no_lsm, &pr, &w->btf, &fentry);
	for (int b = cap; b > WATCH_BACKEND_NONE; b--)
		if (!pr.available[b])
			log_debug("backend %s not available: %s", watch_backend_to_string(b),
				  pr.why[b]);
	choose(&pr, cap, dec);
	/* A forced rung must take the exec decision: else the caller exits (wxguard run: 3). */
	if (w->opts.force_backend && dec[WATCH_DEC_EXEC].backend != cap) {
		log_debug("--backend %s: %s", watch_backend_to_string(cap),
			  pr.why[cap][0] ? pr.why[cap] : "does not take execs");
		return -EOPNOTSUPP;
	}
	for (;;) {
		enum watch_backend top = WATCH_BACKEND_NONE;

		for (int d = 0; d < WATCH_DEC_MAX; d++)
			if (dec[d].backend > top)
				top = dec[d].backend;
		if (top < WATCH_BACKEND_RAW_TP) {
			/* The fanotify rung, when it exists, starts here instead. */
			watch_load_degrade(w, "no backend", -EOPNOTSUPP);
			snprintf(w->reason, sizeof(w->reason), "no backend: raw_tp: %.100s%s%.120s",
				 pr.why[WATCH_BACKEND_RAW_TP],
				 pr.available[WATCH_BACKEND_FANOTIFY] ? "" : "; fanotify: ",
				 pr.available[WATCH_BACKEND_FANOTIFY]
					 ? ""
					 : pr.why[WATCH_BACKEND_FANOTIFY]);
			return 0;
		}
		r = load_chosen(w, dec, fentry, &step);
		if (r == 0)
			break;
		if (w->opts.force_backend || top == WATCH_BACKEND_RAW_TP) {
			watch_load_degrade(w, step, r);
			return 0;
		}
		/* The probe passed but the real programs did not verify or attach: one rung
		 * down for every decision above raw tracepoints. */
		log_warning("backend %s: cannot %s (%s): trying %s", watch_backend_to_string(top),
			    step, errno_why(r), watch_backend_to_string(top - 1));
		watch_bpf__destroy(w->skel);
		w->skel = NULL;
		pr.available[top] = false;
		choose(&pr, cap, dec);
	}
	set_state(w, dec);
	return 0;
}
