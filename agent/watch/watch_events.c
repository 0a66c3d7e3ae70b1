#include "agent/watch/watch_events.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <linux/types.h>

#include "bpf/wxg_abi.h"

const char *watch_events_type_to_string(unsigned type)
{
	switch (type) {
	case WXG_EV_EXEC: return "exec";
	case WXG_EV_RENAME: return "rename";
	case WXG_EV_OPEN: return "open";
	case WXG_EV_INJECT: return "inject";
	default: return "unknown";
	}
}

const char *watch_events_verdict_to_string(unsigned verdict)
{
	switch (verdict) {
	case WXG_V_ALLOW: return "allow";
	case WXG_V_DENY: return "deny";
	case WXG_V_PENDING: return "pending";
	default: return "unknown";
	}
}

static const char *const reason_names[] = {
	[WXG_R_NONE] = "none",
	[WXG_R_APPROVED] = "approved",
	[WXG_R_DENIED_INODE] = "denied_executable",
	[WXG_R_DENIED_NAME] = "denied_name",
	[WXG_R_UNAPPROVED] = "unapproved_build",
	[WXG_R_MODIFIED] = "modified_build",
	[WXG_R_ATTACHMENT] = "attachment_exec",
	[WXG_R_MEMFD] = "fileless_exec",
	[WXG_R_PRELOAD] = "ld_preload",
	[WXG_R_INSTANCES] = "too_many_instances",
	[WXG_R_CHILD] = "child_exec",
	[WXG_R_WINE] = "wine",
	[WXG_R_LIBRARY] = "library",
	[WXG_R_PTRACE] = "ptrace",
	[WXG_R_VM_WRITE] = "process_vm_writev",
	[WXG_R_RENAME] = "rename",
};

const char *watch_events_reason_to_string(unsigned reason)
{
	if (reason < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[reason])
		return reason_names[reason];
	return "unknown";
}

const char *watch_events_rule_for_reason(unsigned reason, bool denied_family)
{
	switch (reason) {
	case WXG_R_DENIED_INODE:
	case WXG_R_DENIED_NAME: return "client.denied";
	case WXG_R_UNAPPROVED:
	case WXG_R_MODIFIED:
	case WXG_R_WINE:
	case WXG_R_APPROVED: return "client.approved";
	case WXG_R_RENAME: return denied_family ? "client.denied" : "client.approved";
	case WXG_R_ATTACHMENT: return "watch.attachment_exec";
	case WXG_R_MEMFD: return "client.fileless";
	case WXG_R_PRELOAD:
	case WXG_R_LIBRARY: return "client.plugins";
	case WXG_R_PTRACE:
	case WXG_R_VM_WRITE: return "client.injection";
	case WXG_R_INSTANCES: return "client.instances";
	case WXG_R_CHILD: return "client.tree";
	default: return "watch";
	}
}

json_t *watch_events_new(const char *type, uint64_t boot_ns, const char *mode)
{
	struct timespec real, boot;
	char ts[80];
	struct tm tm;
	json_t *ev;
	int64_t ns;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_BOOTTIME, &boot);
	ns = (int64_t)real.tv_sec * 1000000000 + real.tv_nsec;
	if (boot_ns)
		ns -= ((int64_t)boot.tv_sec * 1000000000 + boot.tv_nsec) - (int64_t)boot_ns;
	time_t sec = ns / 1000000000;
	gmtime_r(&sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(((ns % 1000000000) + 1000000000) % 1000000000 / 1000));
	ev = json_object();
	if (!ev)
		return NULL;
	if (json_object_set_new(ev, "v", json_integer(EVENTS_SCHEMA_VERSION)) < 0 ||
	    json_object_set_new(ev, "ts", json_string(ts)) < 0 ||
	    json_object_set_new(ev, "type", json_string(type)) < 0 ||
	    (mode && json_object_set_new(ev, "mode", json_string(mode)) < 0)) {
		json_decref(ev);
		return NULL;
	}
	return ev;
}

struct rule_text {
	const char *rule;
	const char *what_en, *what_zh; /* printf: subject, detail */
	const char *fix_en, *fix_zh;
};

static const struct rule_text texts[] = {
	{ "client.denied", "unapproved client %s%s", "未经批准的客户端 %s%s",
	  "Install the official WeCom client from the software center.",
	  "请从软件中心安装企业微信官方版本。" },
	{ "client.approved", "modified or unknown build of the chat client %s%s",
	  "被修改或未知版本的聊天客户端 %s%s",
	  "Reinstall the official WeCom client from the software center.",
	  "请从软件中心重新安装企业微信官方版本。" },
	{ "client.plugins", "plugin loaded into the chat client %s%s", "注入聊天客户端 %s 的插件%s",
	  "Remove the plugin (or the LD_PRELOAD / LD_AUDIT setting) and start the client again.",
	  "请删除该插件（或 LD_PRELOAD / LD_AUDIT 设置）后重新启动客户端。" },
	{ "client.injection", "%s tampering with the chat client%s", "%s 篡改聊天客户端%s",
	  "Uninstall tools that modify the chat client; ask IT support if you need help.",
	  "请卸载修改聊天客户端的工具；如需帮助请联系 IT 支持。" },
	{ "client.fileless", "program started from memory by the chat client %s%s",
	  "聊天客户端 %s 从内存启动的程序%s", "Contact IT support: this is how malware hides.",
	  "请联系 IT 支持：恶意软件常用这种方式隐藏。" },
	{ "client.instances", "another instance of the chat client %s%s",
	  "聊天客户端 %s 的多开实例%s",
	  "Use the instance already running; multi-login tools are not allowed.",
	  "请使用已在运行的实例；不允许使用多开工具。" },
	{ "watch.attachment_exec", "%s, a file received through the chat client%s",
	  "通过聊天客户端收到的文件 %s%s",
	  "Do not run files received in chats; send them to IT security if you need them.",
	  "请勿运行聊天中收到的文件；如确需使用，请转交 IT 安全部门检查。" },
};

void watch_events_set_str(json_t *ev, const char *key, const char *val)
{
	if (val)
		json_object_set_new(ev, key, json_string(val));
}

int watch_events_set_message(json_t *ev, const char *rule, bool blocked, const char *subject,
			     const char *detail)
{
	const struct rule_text *t = NULL;
	char what_en[512], what_zh[512], en[1024], zh[1024], det[300] = "";
	json_t *m;

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (strcmp(texts[i].rule, rule) == 0)
			t = &texts[i];
	if (!t)
		return -ENOENT;
	if (detail && *detail)
		snprintf(det, sizeof(det), " (%s)", detail);
	snprintf(what_en, sizeof(what_en), t->what_en, subject ? subject : "?", det);
	snprintf(what_zh, sizeof(what_zh), t->what_zh, subject ? subject : "?", det);
	snprintf(en, sizeof(en), "%s %s (rule %s). %s", blocked ? "Blocked" : "Detected", what_en,
		 rule, t->fix_en);
	snprintf(zh, sizeof(zh), "%s%s (规则 %s)。%s", blocked ? "已阻止" : "已发现", what_zh, rule,
		 t->fix_zh);
	m = json_pack("{s:s, s:s}", "en", en, "zh", zh);
	if (!m)
		return -ENOMEM;
	return json_object_set_new(ev, "message", m) < 0 ? -ENOMEM : 0;
}

const char *watch_events_message(const json_t *ev, bool zh)
{
	json_t *m = json_object_get(ev, "message");

	return m ? json_string_value(json_object_get(m, zh ? "zh" : "en")) : NULL;
}

const char *watch_events_title(bool blocked, bool zh)
{
	if (zh)
		return blocked ? "wxguard 已阻止" : "wxguard 提醒";
	return blocked ? "wxguard blocked a program" : "wxguard notice";
}

int watch_events_write_line(FILE *f, const json_t *ev)
{
	if (json_dumpf(ev, f, JSON_COMPACT) < 0)
		return -EIO;
	if (fputc('\n', f) == EOF || fflush(f) == EOF)
		return -errno;
	return 0;
}
