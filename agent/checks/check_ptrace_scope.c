/* device.ptrace_scope: Yama's kernel.yama.ptrace_scope against the policy minimum.
 * Any process of the same user may otherwise attach to the WeCom client and read its memory
 * (messages, session keys). See docs/checks/ptrace_scope.md. */
#include "agent/checks/check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PTRACE_SCOPE_PATH "/proc/sys/kernel/yama/ptrace_scope"

/* What each value of ptrace_scope means, in English and Chinese. */
static const char *const scope_names[][2] = {
	{ "classic: any process of the same user may attach",
	  "经典模式：同一用户的任何进程都可附加" },
	{ "restricted: only a parent may attach to its descendants",
	  "受限模式：仅父进程可附加其子孙进程" },
	{ "admin-only: attaching needs CAP_SYS_PTRACE", "仅管理员：附加需要 CAP_SYS_PTRACE 权限" },
	{ "no attach: ptrace attach is disabled", "禁止附加：ptrace 附加已被禁用" },
};

static const char *scope_name(int v, int lang)
{
	return v >= 0 && v <= 3 ? scope_names[v][lang] : "?";
}

static const char *scope_en(int v)
{
	return scope_name(v, 0);
}

static const char *scope_zh(int v)
{
	return scope_name(v, 1);
}

static void fix_for(struct check_result *r, int min)
{
	char en[320], zh[320];

	snprintf(en, sizeof(en),
		 "Set kernel.yama.ptrace_scope = %d in /etc/sysctl.d/10-ptrace.conf and run "
		 "sudo sysctl --system.",
		 min);
	snprintf(zh, sizeof(zh),
		 "请在 /etc/sysctl.d/10-ptrace.conf 中设置 kernel.yama.ptrace_scope = %d，"
		 "然后运行 sudo sysctl --system。",
		 min);
	check_result_fix(r, en, zh);
}

int check_ptrace_scope(struct check_ctx *ctx, struct check_result *r)
{
	int min = ctx->policy->device.min_ptrace_scope, v, n = 0;
	char *line = NULL;
	int q;

	if (min < 0)
		min = 0;
	if (min > 3)
		min = 3;
	check_result_add(r, "min_ptrace_scope", "%d", min);

	q = sysroot_read_line(ctx->root, PTRACE_SCOPE_PATH, &line);
	if (q == -ENOENT) {
		/* No Yama: either /proc is not there at all, or the kernel lacks the LSM. */
		if (!sysroot_exists(ctx->root, "/proc/sys/kernel/osrelease")) {
			check_result_set(r, CHECK_UNKNOWN, "cannot read /proc/sys/kernel",
					 "无法读取 /proc/sys/kernel");
			return 0;
		}
		check_result_add(r, "ptrace_scope", "absent");
		check_result_add(r, "yama", "absent");
		if (min == 0) {
			check_result_set(
				r, CHECK_PASS,
				"the Yama LSM is not active (ptrace is unrestricted), policy "
				"requires no restriction",
				"Yama 安全模块未启用（ptrace 不受限制），策略不要求限制");
			return 0;
		}
		check_result_set(r, CHECK_FAIL,
				 "the Yama LSM is not active, so any process of the same user can "
				 "attach to the WeCom client (policy requires ptrace_scope >= %d)",
				 "Yama 安全模块未启用，同一用户的任何进程都可附加到企业微信客户端"
				 "（策略要求 ptrace_scope >= %d）",
				 min);
		check_result_fix(
			r,
			"Enable Yama: boot a kernel built with CONFIG_SECURITY_YAMA and add "
			"yama to the lsm= kernel parameter, then set kernel.yama.ptrace_scope.",
			"请启用 Yama：使用启用了 CONFIG_SECURITY_YAMA 的内核，并在内核参数 "
			"lsm= 中加入 yama，然后设置 kernel.yama.ptrace_scope。");
		return 0;
	}
	if (q < 0) {
		check_result_set(r, CHECK_UNKNOWN, "cannot read %s: %s", "无法读取 %s：%s",
				 PTRACE_SCOPE_PATH, strerror(-q));
		return 0;
	}
	if (sscanf(line, "%d%n", &v, &n) != 1 || line[n] != 0 || v < 0 || v > 3) {
		check_result_add(r, "ptrace_scope", "%s", line);
		check_result_set(r, CHECK_UNKNOWN, "unexpected ptrace_scope value '%s'",
				 "ptrace_scope 的值 '%s' 无法识别", line);
		free(line);
		return 0;
	}
	free(line);
	check_result_add(r, "ptrace_scope", "%d", v);
	check_result_add(r, "yama", "active");
	if (v < min) {
		/* Both languages take the same arguments: each skips the other's strings. */
		check_result_set(
			r, CHECK_FAIL,
			"ptrace_scope is %d (%s%.0s), policy requires at least %d (%s%.0s)",
			"ptrace_scope 为 %d（%.0s%s），策略要求至少为 %d（%.0s%s）", v, scope_en(v),
			scope_zh(v), min, scope_en(min), scope_zh(min));
		fix_for(r, min);
		return 0;
	}
	check_result_set(r, CHECK_PASS, "ptrace_scope is %d (%s%.0s), policy requires at least %d",
			 "ptrace_scope 为 %d（%.0s%s），策略要求至少为 %d", v, scope_en(v),
			 scope_zh(v), min);
	return 0;
}
