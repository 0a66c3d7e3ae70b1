/* The start-up scan: clients already running when the watcher starts (the first policy).
 * A denied or unapproved client found in /proc is reported (killed in enforce mode); the
 * processes of an approved client are seeded into the kernel's watched map and instance
 * counts, which the exec hook would otherwise have filled. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/passwd.h"
#include "agent/host/proc.h"
#include "agent/watch/watch_wine.h"
#include "agent/watch/watch_events.h"
#include "agent/watch/watch_fanotify.h"
#include "agent/watch/watch_internal.h"
#include "common/policy/policy_match.h"
#include "watch.skel.h"

struct scanned {
	pid_t pid, ppid;
	uid_t uid;
	unsigned client;
};

static void scan_report(struct watch *w, const struct proc_info *pi, const char *rule,
			const char *reason, const char *id_key, const char *id)
{
	const char *action = watch_act_enforce(w, pi->pid, 0, "none");
	json_t *ev;

	ev = watch_events_new("scan", 0, watch_mode_str(w));
	if (!ev)
		return;
	json_object_set_new(ev, "process",
			    json_pack("{s:i, s:i, s:i, s:s}", "pid", (int)pi->pid, "ppid",
				      (int)pi->ppid, "uid", (int)pi->uid, "comm", pi->comm));
	if (pi->exe)
		json_object_set_new(ev, "exe", json_pack("{s:s}", "path", pi->exe));
	watch_events_set_str(ev, id_key, id);
	json_object_set_new(ev, "rule", json_string(rule));
	json_object_set_new(ev, "reason", json_string(reason));
	json_object_set_new(ev, "verdict", json_string("deny"));
	json_object_set_new(ev, "action", json_string(action));
	watch_act_report(w, ev, rule, true, strcmp(action, "none") != 0, pi->comm, NULL, pi->uid,
			 pi->pid);
	json_decref(ev);
}

/* Is pid stopped (state T)? */
static bool is_stopped(const struct sysroot *sr, pid_t pid)
{
	char path[64], *text = NULL, *p;
	bool r = false;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (sysroot_read_file(sr, path, 4096, &text, NULL) < 0)
		return false;
	p = strrchr(text, ')');
	r = p && p[1] == ' ' && p[2] == 'T';
	free(text);
	return r;
}

/* A process of an approved Wine loader, running before the watcher: judged by what it runs
 * (watch_wine.c), as its exec would have been. One left stopped in its exec by an agent that
 * died before its verdict is continued or killed now. true when it belongs to the client (in
 * its prefix, or no prefix named), false when denied (reported) or another program. */
static bool scan_wine(struct watch *w, const struct proc_info *pi, unsigned idx)
{
	const struct policy_client *c = watch_client_of(w, idx);
	struct watch_wine_verdict *v;
	char *home = NULL;
	bool mine = true;

	if (!c || !(v = malloc(sizeof(*v))))
		return true;
	passwd_lookup_uid(w->sr, pi->uid, NULL, &home);
	if (watch_wine_judge(w->sr, w->policy, c, pi->pid, home, v) == 0) {
		if (v->deny) {
			scan_report(w, pi, watch_events_rule_for_reason(WXG_R_WINE, false), "wine",
				    "client", c->id);
			mine = false;
		} else {
			mine = !c->wine_prefix || v->own_prefix;
			if (is_stopped(w->sr, pi->pid))
				kill(pi->pid, SIGCONT);
		}
	}
	free(home);
	free(v);
	return mine;
}

int watch_scan_proc(struct watch *w)
{
	struct scanned *found = NULL;
	size_t n_found = 0, n_pids = 0;
	pid_t *pids = NULL, self = getpid();
	int r;

	r = proc_list_pids(w->sr, &pids, &n_pids);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n_pids; i++) {
		struct proc_info pi = {};
		struct policy_match m;
		const struct watch_inode *wi = NULL;
		char path[64];
		struct stat st;

		if (pids[i] == self || proc_read(w->sr, pids[i], PROC_WANT_ARGV, &pi) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/exe", (int)pids[i]);
		if (stat(path, &st) == 0)
			wi = watch_tables_find(&w->tables, watch_kdev(st.st_dev), st.st_ino);
		policy_match_process(w->policy, pi.comm, pi.exe, pi.argv.v, pi.argv.n, &m);
		if ((wi && (wi->val.flags & WXG_I_DENIED)) || m.kind == POLICY_MATCH_DENIED) {
			const struct policy_deny *d = wi && (wi->val.flags & WXG_I_DENIED)
							      ? watch_deny_of(w, wi->val.client)
							      : m.deny;

			scan_report(w, &pi, "client.denied", "denied_running", "deny",
				    d ? d->id : NULL);
		} else if (wi && (wi->val.flags & WXG_I_APPROVED)) {
			struct scanned *nf = NULL;

			if (!(wi->val.flags & WXG_I_WINE) || scan_wine(w, &pi, wi->val.client))
				nf = realloc(found, (n_found + 1) * sizeof(*nf));
			if (nf) {
				found = nf;
				found[n_found++] = (struct scanned){ pi.pid, pi.ppid, pi.uid,
								     wi->val.client };
			}
		} else if (m.kind == POLICY_MATCH_APPROVED) {
			scan_report(w, &pi, "client.approved", "unapproved_build", "client",
				    m.client->id);
		}
		proc_info_clear(&pi);
	}
	/* Watch every process of an approved client; count as instances those whose parent is
	 * not one (forks of a multi-process client are one instance). start_ns 0: taken from
	 * /proc, the kernel accepts it for this PID until the process exits. */
	for (size_t i = 0; i < n_found; i++) {
		struct wxg_watch ww = { .uid = found[i].uid,
					.client = found[i].client,
					.flags = WXG_W_CLIENT };
		uint32_t tgid = found[i].pid;
		bool child = false;

		for (size_t j = 0; j < n_found; j++)
			child |= found[j].pid == found[i].ppid;
		if (!w->skel) { /* the fanotify rung */
			watch_fanotify_seed(w->fan, tgid, found[i].uid, found[i].client, !child);
			continue;
		}
		if (!child) {
			struct wxg_instance_key ik = { .uid = found[i].uid,
						       .client = found[i].client };
			uint32_t cnt = 0;

			bpf_map_lookup_elem(bpf_map__fd(w->skel->maps.instances), &ik, &cnt);
			cnt++;
			bpf_map_update_elem(bpf_map__fd(w->skel->maps.instances), &ik, &cnt,
					    BPF_ANY);
			ww.flags |= WXG_W_INSTANCE;
		}
		bpf_map_update_elem(bpf_map__fd(w->skel->maps.watched), &tgid, &ww, BPF_NOEXIST);
	}
	free(found);
	free(pids);
	return 0;
}
