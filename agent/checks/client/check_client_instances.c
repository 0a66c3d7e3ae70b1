/* client.instances: running instances of each approved client per user, against
 * max_instances. A "multi-open" (多开) tool shows up as one instance too many.
 * docs/checks/client.md. */
#include "agent/checks/check.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/checks/client/check_client.h"

#define ANCESTRY_MAX 4096 /* guards the ppid walk against a malformed (cyclic) fixture */

/* Is the process part of client c, for counting? A Wine client is its renamed Windows
 * process (comm). A native client is what client_match says is c, and when the client names
 * comm values, only processes with one of them: helpers from the same directory
 * (crashpad_handler...) match the exe glob but are not the client. */
static bool in_scope(const struct check_client_proc *cp, const struct policy_client *c)
{
	if (c->wine_prefix)
		return strv_contains(&c->comm, cp->pi.comm);
	if (cp->m.kind != POLICY_MATCH_APPROVED || cp->m.client != c)
		return false;
	return !c->comm.n || strv_contains(&c->comm, cp->pi.comm);
}

/* Is cp the first process of its instance? It is not when an ancestor of the same user is a
 * client process too: for Wine any WXWork.exe above it (directly or through wine's helpers);
 * for a native client one running the same executable (zygotes and renderers under the main
 * process). */
static bool is_instance_root(const struct check_client_procs *ps,
			     const struct check_client_proc *cp, const struct policy_client *c)
{
	pid_t ppid = cp->pi.ppid;

	for (unsigned steps = 0; ppid > 1 && steps < ANCESTRY_MAX; steps++) {
		const struct check_client_proc *pp = check_client_procs_find(ps, ppid);

		if (!pp)
			break;
		if (pp->pi.uid == cp->pi.uid && in_scope(pp, c) &&
		    (c->wine_prefix ||
		     (pp->pi.exe && cp->pi.exe && strcmp(pp->pi.exe, cp->pi.exe) == 0)))
			return false;
		ppid = pp->pi.ppid;
	}
	return true;
}

struct user_count {
	uid_t uid;
	unsigned n;
	char pids[160];
};

static void count_client(const struct sysroot *sr, const struct check_client_procs *ps,
			 const struct policy_client *c, struct check_client_findings *f,
			 unsigned *total)
{
	struct user_count *users = NULL, *nv;
	size_t n_users = 0;

	for (size_t i = 0; i < ps->n; i++) {
		const struct check_client_proc *cp = &ps->v[i];
		struct user_count *u = NULL;
		size_t len;

		if (!in_scope(cp, c) || !is_instance_root(ps, cp, c))
			continue;
		for (size_t k = 0; k < n_users; k++)
			if (users[k].uid == cp->pi.uid)
				u = &users[k];
		if (!u) {
			nv = realloc(users, (n_users + 1) * sizeof(*nv));
			if (!nv)
				break;
			users = nv;
			u = &users[n_users++];
			memset(u, 0, sizeof(*u));
			u->uid = cp->pi.uid;
		}
		len = strlen(u->pids);
		if (len + 16 < sizeof(u->pids))
			snprintf(u->pids + len, sizeof(u->pids) - len, "%s%d", u->n ? ", " : "",
				 (int)cp->pi.pid);
		else if (!str_endswith(u->pids, "..."))
			snprintf(u->pids + len, sizeof(u->pids) - len, ", ...");
		u->n++;
		(*total)++;
	}
	for (size_t k = 0; k < n_users; k++) {
		const struct user_count *u = &users[k];
		char who[64];

		check_client_user_label(sr, u->uid, who, sizeof(who));
		if (c->max_instances && u->n > c->max_instances)
			check_client_finding(f, CHECK_FAIL, "instances.over",
					     "user %s runs %u instances of client %s (pid %s), at "
					     "most %u allowed",
					     who, u->n, c->id, u->pids, c->max_instances);
		else
			check_client_finding(
				f, CHECK_PASS, "instances",
				"user %s: %u instance%s of client %s (pid %s), limit %s%u", who,
				u->n, u->n == 1 ? "" : "s", c->id, u->pids,
				c->max_instances ? "" : "none, ", c->max_instances);
	}
	free(users);
}

int check_client_instances(struct check_ctx *ctx, struct check_result *r)
{
	const struct policy *pol = ctx->policy;
	struct check_client_procs ps = { 0 };
	struct check_client_findings f;
	unsigned total = 0;
	char pass_en[96], pass_zh[96];
	int ret;

	if (!pol->n_clients) {
		check_result_set(r, CHECK_NOT_APPLICABLE, "the policy names no approved client",
				 "策略中没有批准的客户端");
		return 0;
	}
	ret = check_client_procs_read(ctx->root, pol, &ps);
	if (ret < 0) {
		check_result_set(r, CHECK_UNKNOWN, "cannot list processes: %s", "无法列出进程：%s",
				 strerror(-ret));
		return 0;
	}
	check_client_findings_init(&f, r);
	for (size_t i = 0; i < pol->n_clients; i++)
		count_client(ctx->root, &ps, &pol->clients[i], &f, &total);
	if (total == 0) {
		check_result_set(r, CHECK_PASS, "no approved client is running",
				 "没有正在运行的已批准客户端");
	} else {
		snprintf(pass_en, sizeof(pass_en),
			 "client instances within the limits (%u instance%s)", total,
			 total == 1 ? "" : "s");
		snprintf(pass_zh, sizeof(pass_zh), "客户端实例数在限制之内（%u 个实例）", total);
		check_client_findings_finish(&f, pass_en, pass_zh, "too many client instances",
					     "客户端实例过多");
		if (f.status == CHECK_FAIL)
			check_result_fix(r,
					 "Quit the extra instances and remove any multi-open "
					 "(多开) tool; the policy limits "
					 "how many each user may run (rule client.instances).",
					 "请退出多余的客户端实例并删除多开工具；策略限制了每个用户"
					 "可运行的实例数（规则 client.instances）。");
	}
	check_client_findings_clear(&f);
	check_client_procs_clear(&ps);
	return 0;
}
