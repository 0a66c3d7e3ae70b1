/* What the watcher does with a judgement, one level below both the facade (watch.c) and the
 * files that judge (watch_judge.c, watch_scan.c): hand an event to the hooks, finish a deny
 * for people (message, desktop notification), and kill a process user space had to stop. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agent/watch/watch_events.h"
#include "agent/watch/watch_internal.h"
#include "common/fileio.h"

void watch_act_emit(struct watch *w, json_t *ev)
{
	w->n_emitted++;
	if (w->fan) /* which rung saw it: the BPF rungs' events keep their shape */
		json_object_set_new(ev, "backend", json_string("fanotify"));
	for (size_t i = 0; i < WATCH_MAX_HOOKS; i++)
		if (w->hooks[i].fn)
			w->hooks[i].fn(ev, w->hooks[i].ud);
}

void watch_act_report(struct watch *w, json_t *ev, const char *rule, bool deny, bool blocked,
		      const char *subject, const char *detail, uid_t uid, pid_t lang_pid)
{
	const char *lang;
	bool zh;
	int r;

	if (!deny) {
		watch_act_emit(w, ev);
		return;
	}
	watch_events_set_message(ev, rule, blocked, subject, detail);
	if (blocked && w->policy && w->policy->watch.notify) {
		lang = notify_lang_of(lang_pid);
		zh = strcmp(lang, "zh") == 0;
		r = notify_send(w->notify, uid, lang, watch_events_title(true, zh),
				watch_events_message(ev, zh));
		json_object_set_new(ev, "notify",
				    json_pack("{s:i, s:s, s:b}", "uid", (int)uid, "lang", lang,
					      "sent", r == 0));
	}
	watch_act_emit(w, ev);
}

int watch_act_kill(struct watch *w, pid_t pid, uint64_t start_ns, int sig)
{
	char path[64], *line = NULL, *p;
	unsigned long long ticks;
	int pidfd, r = 0;

	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		return -errno;
	if (start_ns) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		r = read_one_line(path, &line);
		if (r < 0)
			goto out;
		p = strrchr(line, ')');
		/* field 22: after ") " come fields 3..; skip 19 fields to reach 22 */
		for (int i = 0; p && i < 20; i++)
			p = strchr(p + 1, ' ');
		if (!p) {
			r = -EIO;
			goto out;
		}
		ticks = strtoull(p + 1, NULL, 10);
		uint64_t want = start_ns / (1000000000ull / (uint64_t)w->clk_tck);
		if (ticks + 1 < want || ticks > want + 1) {
			r = -ESRCH;
			goto out;
		}
	}
	if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
		r = -errno;
	else if (sig == SIGKILL)
		w->user_kills++;
out:
	free(line);
	close(pidfd);
	return r;
}

const char *watch_act_enforce(struct watch *w, pid_t pid, uint64_t start_ns, const char *action)
{
	if (watch_enforcing(w) && watch_act_kill(w, pid, start_ns, SIGKILL) == 0)
		return "kill_user";
	return action;
}
