/* Ring-buffer records -> JSON events, and the judgements the kernel leaves to user space:
 * which .exe an approved Wine loader runs and in which prefix, whether a library comes from
 * the client's lib_dirs. What to do with a judgement is agent/watch/watch_act.c. */
#include <bpf/bpf.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/policy/policy_match.h"
#include "agent/watch/watch_events.h"
#include "agent/host/proc.h"
#include "agent/host/proc_wine.h"
#include "agent/watch/watch_internal.h"
#include "agent/watch/watch_wine.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/path.h"
#include "watch.skel.h"

static const char *action_str(unsigned a)
{
	switch (a) {
	case WXG_A_KILL: return "kill";
	case WXG_A_LSM_DENY: return "lsm_deny";
	case WXG_A_FAN_DENY: return "fanotify_deny";
	case WXG_A_KILL_USER: return "kill_user";
	default: return "none";
	}
}

static char *home_of(uid_t uid)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &res) != 0 || !res || !res->pw_dir)
		return NULL;
	return strdup(res->pw_dir);
}

static json_t *task_json(const struct wxg_ev_task *t, uint32_t tgid)
{
	return json_pack("{s:i, s:i, s:i, s:i, s:s%, s:I}", "pid", (int)tgid, "tid", (int)t->pid,
			 "ppid", (int)t->ppid, "uid", (int)t->uid, "comm", t->comm,
			 strnlen(t->comm, WXG_COMM_LEN), "start_ns", (json_int_t)t->start_ns);
}

static void set_ids(const struct watch *w, json_t *ev, unsigned idx, bool denied)
{
	if (denied) {
		const struct policy_deny *d = watch_deny_of(w, idx);

		if (d)
			watch_events_set_str(ev, "deny", d->id);
	} else {
		const struct policy_client *c = watch_client_of(w, idx);

		if (c)
			watch_events_set_str(ev, "client", c->id);
	}
}

static void set_verdict(json_t *ev, const char *rule, unsigned reason, unsigned verdict,
			const char *action)
{
	json_object_set_new(ev, "rule", json_string(rule));
	json_object_set_new(ev, "reason", json_string(watch_events_reason_to_string(reason)));
	json_object_set_new(ev, "verdict", json_string(watch_events_verdict_to_string(verdict)));
	json_object_set_new(ev, "action", json_string(action));
}

static void flags_json(json_t *ev, uint32_t f)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} names[] = {
		{ WXG_EXEC_F_SCRIPT, "script" },   { WXG_EXEC_F_FD, "fd" },
		{ WXG_EXEC_F_NOLINK, "unlinked" }, { WXG_EXEC_F_PRELOAD, "ld_preload" },
		{ WXG_EXEC_F_AUDIT, "ld_audit" },  { WXG_EXEC_F_THREAD, "thread" },
		{ WXG_EXEC_F_LOADER, "loader" },
	};
	json_t *a = json_array();

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (f & names[i].bit)
			json_array_append_new(a, json_string(names[i].name));
	json_object_set_new(ev, "flags", a);
}

/* A Wine process judged allowed: its prefix's images known to the kernel (a prefix made since
 * the tables were built), its watched entry what it turned out to be (the client in its prefix;
 * elsewhere another program, no longer the client), and, held in its exec, continued. */
static void wine_allowed(struct watch *w, const struct wxg_ev_exec *e,
			 const struct policy_client *c, const struct watch_wine_verdict *v)
{
	int fd = w->skel ? bpf_map__fd(w->skel->maps.watched) : -1;
	uint32_t tgid = e->hdr.tgid;
	struct wxg_watch ww;
	int r;

	if (v->own_prefix && c->wine_manifest && w->skel &&
	    !watch_wine_images_has(&w->tables, e->v.client, v->prefix)) {
		r = watch_wine_images_add(w, &w->tables, e->v.client, c, v->prefix);
		if (r >= 0)
			r = watch_tables_apply(w, w->policy, &w->tables, w->generation);
		if (r < 0)
			log_warning("wine prefix %s: cannot list its manifest's files for the "
				    "kernel: %s",
				    v->prefix, strerror(-r));
	}
	if (fd >= 0 && c->wine_prefix && bpf_map_lookup_elem(fd, &tgid, &ww) == 0 &&
	    ww.start_ns == e->task.start_ns) {
		ww.flags &= ~WXG_W_PENDING;
		if (!v->own_prefix)
			ww.flags = (ww.flags & ~WXG_W_CLIENT) | WXG_W_CHILD;
		bpf_map_update_elem(fd, &tgid, &ww, BPF_EXIST);
	}
	if (e->v.action == WXG_A_HOLD)
		watch_act_kill(w, (pid_t)tgid, e->task.start_ns, SIGCONT);
}

/* An approved Wine loader's exec: true when what it runs may run (watch_wine.c judges). */
static bool judge_wine(struct watch *w, const struct wxg_ev_exec *e, json_t *ev, char *why,
		       size_t size)
{
	const struct policy_client *c = watch_client_of(w, e->v.client);
	struct watch_wine_verdict *v;
	char *home = NULL;
	bool ok = true;

	if (!c)
		goto cont;
	v = malloc(sizeof(*v));
	if (!v)
		goto cont;
	home = home_of(e->task.uid);
	if (watch_wine_judge(w->sr, w->policy, c, e->hdr.tgid, home, v) < 0) {
		free(home);
		free(v);
		goto cont; /* gone already: nothing left to judge */
	}
	if (v->program[0])
		watch_events_set_str(ev, "wine_exe", v->program);
	if (v->exe[0])
		watch_events_set_str(ev, "wine_exe_path", v->exe);
	if (v->sha256[0])
		watch_events_set_str(ev, "wine_exe_sha256", v->sha256);
	if (v->prefix[0])
		watch_events_set_str(ev, "wineprefix", v->prefix);
	watch_events_set_str(ev, "wine_family", v->family);
	if (v->deny) {
		snprintf(why, size, "%.*s", (int)(size - 1), v->why);
		ok = false;
	} else {
		wine_allowed(w, e, c, v);
	}
	free(home);
	free(v);
	return ok;
cont:
	/* Nothing to judge it by: a held process is not left stopped. */
	if (e->v.action == WXG_A_HOLD)
		watch_act_kill(w, (pid_t)e->hdr.tgid, e->task.start_ns, SIGCONT);
	return true;
}

static void on_exec(struct watch *w, const struct wxg_ev_exec *e)
{
	bool denied_family = e->flags & WXG_EXEC_F_DENIED_FAMILY;
	unsigned verdict = e->v.verdict, reason = e->v.reason;
	const char *action = action_str(e->v.action), *rule;
	const struct watch_inode *wi = watch_tables_find(&w->tables, e->dev, e->ino);
	char why[PATH_MAX + 64] = "", subject[WXG_PATH_LEN];
	json_t *ev, *exe;

	ev = watch_events_new("exec", e->hdr.ts_ns, watch_mode_str(w));
	if (!ev)
		return;
	json_object_set_new(ev, "process", task_json(&e->task, e->hdr.tgid));
	exe = json_pack("{s:s%, s:s, s:I, s:I}", "path", e->filename,
			strnlen(e->filename, WXG_PATH_LEN), "dev", "", "ino", (json_int_t)e->ino,
			"size", (json_int_t)e->size);
	if (exe) {
		char dev[32], hex[HASH_SHA256_HEX];
		struct stat st;

		snprintf(dev, sizeof(dev), "%u:%u", e->dev >> 20, e->dev & 0xfffff);
		json_object_set_new(exe, "dev", json_string(dev));
		if (wi && wi->sha256[0])
			json_object_set_new(exe, "sha256", json_string(wi->sha256));
		else if (verdict != WXG_V_ALLOW && e->filename[0] == '/' &&
			 hashcache_sha256(w->hc, e->filename, hex, &st) == 0 &&
			 watch_kdev(st.st_dev) == e->dev && st.st_ino == e->ino)
			json_object_set_new(exe, "sha256", json_string(hex));
		json_object_set_new(ev, "exe", exe);
	}
	if (e->name[0])
		json_object_set_new(ev, "name",
				    json_stringn(e->name, strnlen(e->name, WXG_NAME_LEN)));
	flags_json(ev, e->flags);
	if (e->v.client != WXG_CLIENT_NONE)
		set_ids(w, ev, e->v.client, denied_family);

	if (reason == WXG_R_WINE) {
		if (judge_wine(w, e, ev, why, sizeof(why))) {
			json_decref(ev); /* the approved client, or its Wine machinery */
			return;
		}
		verdict = WXG_V_DENY;
		action = watch_act_enforce(w, e->hdr.tgid, e->task.start_ns, action);
		if (w->wine_denied_pid == e->hdr.tgid &&
		    w->wine_denied_start_ns == e->task.start_ns) {
			json_decref(ev); /* the same start, re-exec'd by Wine's loader: reported */
			return;
		}
		w->wine_denied_pid = e->hdr.tgid;
		w->wine_denied_start_ns = e->task.start_ns;
	}
	rule = watch_events_rule_for_reason(reason, denied_family);
	set_verdict(ev, rule, reason, verdict, action);
	if (why[0])
		watch_events_set_str(ev, "detail", why);
	if (reason == WXG_R_ATTACHMENT || reason == WXG_R_MEMFD)
		snprintf(subject, sizeof(subject), "%s", path_basename(e->filename));
	else if (e->name[0])
		snprintf(subject, sizeof(subject), "%.*s", WXG_NAME_LEN, e->name);
	else
		snprintf(subject, sizeof(subject), "%.*s", WXG_COMM_LEN, e->task.comm);
	watch_act_report(w, ev, rule, verdict == WXG_V_DENY, strcmp(action, "none") != 0, subject,
			 why[0] ? why : NULL, e->task.uid, e->task.ppid);
	json_decref(ev);
}

static void on_rename(struct watch *w, const struct wxg_ev_rename *e)
{
	char comm[WXG_COMM_LEN + 1];
	unsigned verdict = e->v.verdict;
	const char *action = action_str(e->v.action), *rule;
	enum policy_match_kind kind;
	json_t *ev;

	snprintf(comm, sizeof(comm), "%.*s", WXG_COMM_LEN, e->new_comm);
	kind = w->policy ? policy_match_comm(w->policy, comm) : POLICY_MATCH_NONE;
	if (verdict == WXG_V_PENDING) {
		/* An approved Wine loader naming itself after another family. */
		verdict = WXG_V_DENY;
		action = watch_act_enforce(w, e->hdr.tgid, e->task.start_ns, action);
	}
	ev = watch_events_new("rename", e->hdr.ts_ns, watch_mode_str(w));
	if (!ev)
		return;
	rule = watch_events_rule_for_reason(e->v.reason, kind == POLICY_MATCH_DENIED);
	json_object_set_new(ev, "process", task_json(&e->task, e->hdr.tgid));
	json_object_set_new(ev, "new_comm", json_string(comm));
	if (e->v.client != WXG_CLIENT_NONE)
		set_ids(w, ev, e->v.client, kind == POLICY_MATCH_DENIED);
	set_verdict(ev, rule, e->v.reason, verdict, action);
	watch_act_report(w, ev, rule, verdict == WXG_V_DENY, strcmp(action, "none") != 0, comm,
			 NULL, e->task.uid, e->task.ppid);
	json_decref(ev);
}

/* Name a process of an inject event by what /proc shows, if it is still the process the
 * kernel saw (start_ns): "comm" (target only: the event's task has one), and for Wine "exe"
 * and "windows_path" (docs/events.md). Gone, or the pid reused: nothing is added. These are
 * what the process says about itself (argv[0]): for the server's alert, not for the message
 * and notification, which keep the kernel's comm. */
static void add_wine_names(struct watch *w, json_t *o, pid_t pid, pid_t tid, uint64_t start_ns,
			   bool comm)
{
	struct proc_wine pw;

	if (!o || proc_wine_read(w->sr, pid, tid, start_ns, &pw) < 0)
		return;
	if (comm)
		watch_events_set_str(o, "comm", pw.comm);
	watch_events_set_str(o, "exe", pw.exe);
	watch_events_set_str(o, "windows_path", pw.windows_path);
	proc_wine_clear(&pw);
}

static void on_open(struct watch *w, const struct wxg_ev_open *e)
{
	const struct policy_client *c = watch_client_of(w, e->v.client);
	char path[PATH_MAX], real[PATH_MAX], cwd[PATH_MAX], link[64], *home = NULL;
	const char *action = "none", *rule = "client.plugins";
	char why[PATH_MAX + 1200] = "";
	json_t *ev;
	ssize_t n;

	if (!c)
		return;
	/* A Wine start already reported (its program was judged at exec; audit mode lets it map
	 * the image the kernel judges again): one event per start. */
	if (w->wine_denied_pid == e->hdr.tgid && w->wine_denied_start_ns == e->task.start_ns)
		return;
	snprintf(path, sizeof(path), "%.*s", WXG_PATH_LEN, e->path);
	if (e->v.verdict == WXG_V_DENY) {
		/* An executable mapping the kernel judged itself (outside lib_dirs, or a file of
		 * the client's Wine prefix its manifest does not list): refused by the BPF LSM, or
		 * killed by a tracing program, in enforce mode. */
		action = action_str(e->v.action);
		home = home_of(e->task.uid);
		if (watch_wine_image_why(w->sr, c, home, path, why, sizeof(why)) <= 0)
			why[0] = 0;
		free(home);
		goto report;
	}
	if (path[0] != '/') {
		snprintf(link, sizeof(link), "/proc/%u/cwd", e->hdr.tgid);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n < 0)
			return;
		cwd[n] = 0;
		if ((size_t)snprintf(real, sizeof(real), "%.*s/%.*s", PATH_MAX / 2, cwd,
				     WXG_PATH_LEN, e->path) >= sizeof(real))
			return;
		memcpy(path, real, sizeof(path));
	}
	if (realpath(path, real))
		snprintf(path, sizeof(path), "%s", real);
	home = home_of(e->task.uid);
	if (policy_lib_dir_match(&c->lib_dirs, home, path)) {
		free(home);
		return;
	}
	free(home);
	action = watch_act_enforce(w, e->hdr.tgid, e->task.start_ns, action);
report:
	ev = watch_events_new("open", e->hdr.ts_ns, watch_mode_str(w));
	if (!ev)
		return;
	json_object_set_new(ev, "process", task_json(&e->task, e->hdr.tgid));
	watch_events_set_str(ev, "library", path);
	watch_events_set_str(ev, "how",
			     e->how == WXG_OPEN_MMAP       ? "mmap"
			     : e->how == WXG_OPEN_MPROTECT ? "mprotect"
							   : "open");
	set_ids(w, ev, e->v.client, false);
	set_verdict(ev, rule, e->v.reason, WXG_V_DENY, action);
	if (why[0])
		watch_events_set_str(ev, "detail", why);
	add_wine_names(w, json_object_get(ev, "process"), (pid_t)e->hdr.tgid, (pid_t)e->task.pid,
		       e->task.start_ns, false);
	watch_act_report(w, ev, rule, true, strcmp(action, "none") != 0,
			 c->display_name ? c->display_name : c->id, path_basename(path),
			 e->task.uid, e->hdr.tgid);
	json_decref(ev);
}

static const char *ptrace_req_str(uint64_t req)
{
	/* A ptrace access check (BPF LSM or tracing): attach, /proc/PID/mem, process_vm_*,
	 * pidfd_getfd; the kernel does not say which. */
	if (req & WXG_INJECT_ACCESS)
		return "access";
	switch (req) {
	case 0: return "process_vm_writev";
	case 4: return "poketext";
	case 5: return "pokedata";
	case 6: return "pokeuser";
	case 13: return "setregs";
	case 15: return "setfpregs";
	case 16: return "attach";
	case 0x4205: return "setregset";
	case 0x4206: return "seize";
	default: return "other";
	}
}

static void on_inject(struct watch *w, const struct wxg_ev_inject *e)
{
	const struct policy_client *c = watch_client_of(w, e->v.client);
	const char *rule = watch_events_rule_for_reason(e->v.reason, false);
	char detail[128], comm[WXG_COMM_LEN + 1];
	json_t *ev, *proc, *tgt;

	/* PTRACE_ATTACH queued a SIGSTOP for the client: once the dead injector is detached,
	 * let the client go on (a tracing program's kill at the access check may be one). */
	if (e->v.action == WXG_A_KILL && (e->request == 16 || (e->request & WXG_INJECT_ACCESS)))
		watch_act_kill(w, e->target_tgid, e->target_start_ns, SIGCONT);
	ev = watch_events_new("inject", e->hdr.ts_ns, watch_mode_str(w));
	if (!ev)
		return;
	snprintf(comm, sizeof(comm), "%.*s", WXG_COMM_LEN, e->task.comm);
	proc = task_json(&e->task, e->hdr.tgid);
	/* the injector may be dead already (killed in the kernel): its comm stays */
	add_wine_names(w, proc, (pid_t)e->hdr.tgid, (pid_t)e->task.pid, e->task.start_ns, false);
	json_object_set_new(ev, "process", proc);
	tgt = json_pack("{s:i, s:i}", "pid", (int)e->target_tgid, "tid", (int)e->target_pid);
	add_wine_names(w, tgt, (pid_t)e->target_tgid, 0, e->target_start_ns, true);
	json_object_set_new(ev, "target", tgt);
	watch_events_set_str(ev, "request", ptrace_req_str(e->request));
	set_ids(w, ev, e->v.client, false);
	set_verdict(ev, rule, e->v.reason, e->v.verdict, action_str(e->v.action));
	snprintf(detail, sizeof(detail), "%s on %s, pid %u", ptrace_req_str(e->request),
		 c ? (c->display_name ? c->display_name : c->id) : "client", e->target_tgid);
	watch_act_report(w, ev, rule, true, e->v.action != WXG_A_NONE, comm, detail, e->task.uid,
			 e->target_tgid);
	json_decref(ev);
}

void watch_judge_record(struct watch *w, const struct wxg_ev_hdr *h)
{
	switch (h->type) {
	case WXG_EV_EXEC:
		if (h->size >= sizeof(struct wxg_ev_exec))
			on_exec(w, (const struct wxg_ev_exec *)h);
		break;
	case WXG_EV_RENAME:
		if (h->size >= sizeof(struct wxg_ev_rename))
			on_rename(w, (const struct wxg_ev_rename *)h);
		break;
	case WXG_EV_OPEN:
		if (h->size >= sizeof(struct wxg_ev_open))
			on_open(w, (const struct wxg_ev_open *)h);
		break;
	case WXG_EV_INJECT:
		if (h->size >= sizeof(struct wxg_ev_inject))
			on_inject(w, (const struct wxg_ev_inject *)h);
		break;
	default: log_debug("ring buffer: unknown record type %u", h->type);
	}
}
