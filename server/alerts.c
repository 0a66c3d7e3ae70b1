/* Alert rules, rate limit, de-duplication and delivery (libcurl, blocking, in the alerts
 * worker thread: libcurl is already a dependency of the agent, and HTTPS to the WeCom robot
 * with proxies and timeouts is simpler with it than with evhttp's client). */
#include "server/alerts.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "common/log.h"
#include "server/store/store.h"

static const char *const *sinks_for(struct srv *s, const char *buf[_SINK_MAX + 1])
{
	size_t n = 0;

	if (s->cfg.wecom_url)
		buf[n++] = "wecom";
	if (s->cfg.webhook_url)
		buf[n++] = "webhook";
	if (s->cfg.syslog)
		buf[n++] = "syslog";
	buf[n] = NULL;
	return buf;
}

int alert_raise(struct srv *s, struct store *st, long long now, const char *device_id,
		const char *rule, const char *severity, const char *message, const char *dedup_key)
{
	const char *sinks[_SINK_MAX + 1];
	char id[37];
	bool suppressed = false;
	int r;

	if (s->cfg.rate_limit > 0) {
		r = store_alert_count_since(st, device_id, rule, now - s->cfg.rate_window);
		if (r < 0)
			goto fail;
		suppressed = r >= s->cfg.rate_limit;
	}
	srv_uuid(id);
	r = store_alert_insert(st, id, now, device_id, rule, severity, message, dedup_key,
			       suppressed, sinks_for(s, sinks));
	if (r < 0)
		goto fail;
	if (r == 1) {
		atomic_fetch_add(suppressed ? &s->m.alerts_suppressed : &s->m.alerts_raised, 1);
		log_debug("alert %s%s: %s", rule,
			  suppressed ? " (rate limited, not delivered)" : "", message);
	}
	return r == 1 && !suppressed;
fail:
	srv_db_error(s, st, r, "alert");
	return r;
}

/* ---- watcher events (docs/events.md) ---- */

static const char *ev_str(const json_t *o, const char *key)
{
	const char *v = json_string_value(json_object_get(o, key));

	return v && *v ? v : NULL;
}

static bool is_one_of(const char *v, const char *const *set)
{
	for (; v && *set; set++)
		if (strcmp(v, *set) == 0)
			return true;
	return false;
}

bool alert_event_classify(const json_t *ev, struct alert_event *ret)
{
	static const char *const stopping[] = { "kill", "lsm_deny", "kill_user", NULL };
	static const char *const injection[] = { "client.plugins", "client.injection",
						 "client.fileless", NULL };
	static const char *const unapproved[] = { "client.denied", "client.approved", NULL };
	/* Event types of agents before docs/events.md (no rule field). */
	static const char *const old_blocked[] = { "client.blocked", "client.killed",
						   "exec.blocked", NULL };
	const char *rule = ev_str(ev, "rule"), *type = ev_str(ev, "type"),
		   *verdict = ev_str(ev, "verdict");
	struct alert_event a = { .blocked = is_one_of(ev_str(ev, "action"), stopping) };
	bool deny = verdict && strcmp(verdict, "deny") == 0,
	     allow = verdict && strcmp(verdict, "allow") == 0;

	if (rule) {
		if (is_one_of(rule, unapproved) && deny)
			a.rule = ALERT_CLIENT_UNAPPROVED, a.severity = "high";
		else if (is_one_of(rule, injection) && !allow)
			a.rule = ALERT_INJECTION, a.severity = "critical";
		else if (strcmp(rule, "watch.attachment_exec") == 0 && !allow)
			a.rule = ALERT_ATTACHMENT_EXEC,
			a.severity = a.blocked ? "high" : "critical";
		else if (strcmp(rule, "watch") == 0 && type && strcmp(type, "drops") == 0)
			a.rule = ALERT_WATCHER_DROPS, a.severity = "low";
	} else if (type) {
		if (strstr(type, "inject") || strstr(type, "ptrace"))
			a.rule = ALERT_INJECTION, a.severity = "critical";
		else if (is_one_of(type, old_blocked))
			a.rule = ALERT_CLIENT_UNAPPROVED, a.severity = "high", a.blocked = true;
		else if (strncmp(type, "client.unapproved", 17) == 0 ||
			 strcmp(type, "client.seen") == 0)
			a.rule = ALERT_CLIENT_UNAPPROVED, a.severity = "high";
	}
	if (!a.rule)
		return false;
	*ret = a;
	return true;
}

/* What a character of markdown syntax becomes in text from a device: its full-width form, so
 * that no link, tag, inline code, emphasis or entity can be made of it in the WeCom robot's
 * markdown; "://" loses its ASCII colon (no clickable URL). NULL: the byte stays. */
static const char *md_neutral(const char *p)
{
	switch (*p) {
	case '[': return "［";
	case ']': return "］";
	case '<': return "＜";
	case '>': return "＞";
	case '`': return "｀";
	case '*': return "＊";
	case '&': return "＆";
	case ':': return strncmp(p, "://", 3) == 0 ? "：" : NULL;
	default: return NULL;
	}
}

/* The length of the UTF-8 sequence lead byte c starts (1 for ASCII and stray bytes). */
static size_t utf8_len(unsigned char c)
{
	return c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
}

/* Cut s before a UTF-8 sequence its end splits (after snprintf truncated it). */
static void utf8_trim(char *s)
{
	size_t n = strlen(s), i = n;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i > 0 && (unsigned char)s[i - 1] >= 0xc0 &&
	    i - 1 + utf8_len((unsigned char)s[i - 1]) > n)
		s[i - 1] = 0;
}

/* Copy at most max bytes of untrusted text into out (always terminated, never past outlen):
 * control characters become spaces, markdown syntax is neutralized (md_neutral), a cut never
 * splits a UTF-8 sequence. Every field from a device goes through here. */
static void clean(const char *in, size_t max, char *out, size_t outlen)
{
	size_t n = in ? strnlen(in, max) : 0, o = 0;

	/* cut before a sequence that does not fit: in[n] continues it, back up to its lead byte */
	if (in && in[n])
		while (n > 0 && ((unsigned char)in[n] & 0xc0) == 0x80)
			n--;
	for (size_t i = 0; i < n;) {
		const char *rep = md_neutral(in + i);
		size_t l = rep ? 1 : utf8_len((unsigned char)in[i]);

		if (i + l > n)
			break;
		if (o + (rep ? strlen(rep) : l) >= outlen)
			break;
		if (rep) {
			memcpy(out + o, rep, strlen(rep));
			o += strlen(rep);
		} else if ((unsigned char)in[i] < 0x20 || in[i] == 0x7f) {
			out[o++] = ' ';
		} else {
			memcpy(out + o, in + i, l);
			o += l;
		}
		i += l;
	}
	if (outlen)
		out[o] = 0;
}

/* The injector and the target of an inject event by the names the agent read from /proc
 * (docs/events.md "inject"): "injector.exe", "pid 123, uid 1000, C:\users\...\injector.exe". */
struct inject_names {
	char by[100], by_desc[400], into[100], into_desc[400];
};

static const char *win_basename(const char *path)
{
	const char *b = path;

	for (const char *p = path; p && *p; p++)
		if (*p == '\\' || *p == '/')
			b = p + 1;
	return b && *b ? b : NULL;
}

/* name: exe, else the basename of windows_path, else comm; desc: pid, uid, windows_path. */
static void inject_proc(const json_t *p, bool uid, char *name, size_t nlen, char *desc, size_t dlen)
{
	const char *wp = ev_str(p, "windows_path");
	const json_t *pid = json_object_get(p, "pid"), *u = json_object_get(p, "uid");
	char path[300];
	int n = 0;

	clean(ev_str(p, "exe") ?: win_basename(wp) ?: ev_str(p, "comm") ?: "?", 60, name, nlen);
	clean(wp ?: "", 180, path, sizeof(path));
	desc[0] = 0;
	if (json_is_integer(pid))
		n += snprintf(desc, dlen, "pid %lld", (long long)json_integer_value(pid));
	if (uid && json_is_integer(u) && (size_t)n < dlen)
		n += snprintf(desc + n, dlen - (size_t)n, "%suid %lld", n ? ", " : "",
			      (long long)json_integer_value(u));
	if (path[0] && (size_t)n < dlen)
		snprintf(desc + n, dlen - (size_t)n, "%s%s", n ? ", " : "", path);
	utf8_trim(desc);
}

/* false for events without a named target (older agents, plugins, fileless execs). */
static bool inject_names(const json_t *ev, struct inject_names *ret)
{
	const json_t *proc = json_object_get(ev, "process"), *t = json_object_get(ev, "target");

	if (!json_is_object(t) ||
	    !(ev_str(t, "exe") || ev_str(t, "windows_path") || ev_str(t, "comm")))
		return false;
	inject_proc(json_is_object(proc) ? proc : ev, true, ret->by, sizeof(ret->by), ret->by_desc,
		    sizeof(ret->by_desc));
	inject_proc(t, false, ret->into, sizeof(ret->into), ret->into_desc, sizeof(ret->into_desc));
	return true;
}

void alert_event_message(const json_t *ev, const struct alert_event *a, const char *hostname,
			 const char *device_id, char *out, size_t len)
{
	const json_t *proc = json_object_get(ev, "process"), *msg = json_object_get(ev, "message");
	char who[128], rule[64], reason[64], action[32], comm[64], path[256], extra[256], men[700],
		mzh[700];
	char procdesc[200], host[100];
	struct inject_names inj;

	clean(hostname && *hostname ? hostname : "-", 64, host, sizeof(host));
	clean(ev_str(ev, "deny") ?: ev_str(ev, "client") ?: ev_str(ev, "name") ?: ev_str(proc, "comm") ?:
	      ev_str(ev, "comm") ?: "?", 100, who, sizeof(who));
	clean(ev_str(ev, "rule") ?: ev_str(ev, "type") ?: "-", 60, rule, sizeof(rule));
	clean(ev_str(ev, "reason") ?: "-", 60, reason, sizeof(reason));
	clean(ev_str(ev, "action") ?: "-", 30, action, sizeof(action));
	clean(ev_str(proc, "comm") ?: ev_str(ev, "comm") ?: "?", 60, comm, sizeof(comm));
	/* A Wine start: the Windows program it was to run says more than the loader's path. */
	if (ev_str(ev, "wine_exe")) {
		char wp[200];

		clean(ev_str(ev, "wine_exe"), 180, wp, sizeof(wp));
		snprintf(path, sizeof(path), "Windows program %s", wp);
	} else {
		clean(ev_str(json_object_get(ev, "exe"), "path") ?: "", 250, path, sizeof(path));
	}
	clean(ev_str(ev, "library") ?: ev_str(ev, "request") ?: "", 250, extra, sizeof(extra));
	clean(ev_str(msg, "en") ?: "", 600, men, sizeof(men));
	clean(ev_str(msg, "zh") ?: "", 600, mzh, sizeof(mzh));
	{
		const json_t *pid = json_object_get(proc, "pid") ?: json_object_get(ev, "pid");
		const json_t *uid = json_object_get(proc, "uid") ?: json_object_get(ev, "uid");
		int n = snprintf(procdesc, sizeof(procdesc), "process %s", comm);

		if (json_is_integer(pid))
			n += snprintf(procdesc + n, sizeof(procdesc) - (size_t)n, " pid %lld",
				      (long long)json_integer_value(pid));
		if (json_is_integer(uid))
			snprintf(procdesc + n, sizeof(procdesc) - (size_t)n, " uid %lld",
				 (long long)json_integer_value(uid));
	}

	if (strcmp(a->rule, ALERT_CLIENT_UNAPPROVED) == 0)
		snprintf(out, len,
			 "Device %s (%s): %s unapproved client %s (rule %s, reason %s, action %s; "
			 "%s%s%s). %s%s"
			 "Find out who installed it and remove it; the official WeCom client comes "
			 "from the software "
			 "center. / 设备 %s：%s未经批准的客户端 %s（规则 %s，原因 "
			 "%s）。%s%s请查明来源并删除，从软件中心安装企业微信官方版本。",
			 host, device_id, a->blocked ? "blocked" : "seen (not stopped)", who, rule,
			 reason, action, procdesc, path[0] ? ", " : "", path, men,
			 men[0] ? " " : "", host, a->blocked ? "已阻止" : "发现（未阻止）", who,
			 rule, reason, mzh, mzh[0] ? " " : "");
	else if (strcmp(a->rule, ALERT_INJECTION) == 0 && inject_names(ev, &inj))
		snprintf(
			out, len,
			"Device %s (%s): %s (%s) tried to inject into %s (%s): %s (rule %s, reason "
			"%s%s%s, action %s). %s%sTreat the device as compromised: isolate it and "
			"investigate %s. / 设备 %s（%s）：%s（%s）试图注入 %s（%s）：%s（规则 %s，"
			"原因 %s%s%s）。%s%s请将设备视为已失陷：隔离设备并调查 %s。",
			host, device_id, inj.by, inj.by_desc, inj.into, inj.into_desc,
			a->blocked ? "blocked" : "not stopped", rule, reason,
			extra[0] ? ", request " : "", extra, action, men, men[0] ? " " : "", inj.by,
			host, device_id, inj.by, inj.by_desc, inj.into, inj.into_desc,
			a->blocked ? "已阻止" : "未阻止", rule, reason, extra[0] ? "，请求 " : "",
			extra, mzh, mzh[0] ? " " : "", inj.by);
	else if (strcmp(a->rule, ALERT_INJECTION) == 0)
		snprintf(out, len,
			 "Device %s (%s): injection into the WeCom client (rule %s, reason %s%s%s, "
			 "action %s; %s). %s%s"
			 "Treat the device as compromised: isolate it and investigate the process. "
			 "/ 设备 %s：企业微信客户端遭注入（规则 %s，原因 "
			 "%s）。%s%s请将设备视为已失陷：隔离设备并调查该进程。",
			 host, device_id, rule, reason, extra[0] ? ": " : "", extra, action,
			 procdesc, men, men[0] ? " " : "", host, rule, reason, mzh,
			 mzh[0] ? " " : "");
	else if (strcmp(a->rule, ALERT_ATTACHMENT_EXEC) == 0)
		snprintf(
			out, len,
			"Device %s (%s): chat-delivered payload executed%s: %s, a file the WeCom "
			"client wrote (rule %s, "
			"action %s; %s). %s%sIsolate the device, keep the file for analysis and "
			"find out who sent it. / 设备 %s：通过企业微信收到的文件被执行%s：%s（规则 "
			"%s）。%s%s请隔离设备、保留文件以供分析并查明发送者。",
			host, device_id, a->blocked ? " (blocked)" : "", path[0] ? path : comm,
			rule, action, procdesc, men, men[0] ? " " : "", host,
			a->blocked ? "（已阻止）" : "", path[0] ? path : comm, rule, mzh,
			mzh[0] ? " " : "");
	else if (strcmp(a->rule, ALERT_WATCHER_DROPS) == 0)
		snprintf(out, len,
			 "Device %s (%s): the watcher lost %lld events (%lld since it started): "
			 "some activity was not "
			 "seen. Check the agent's load and log (journalctl -u wxguard). / 设备 "
			 "%s：监控丢失 %lld 条事件，部分活动未被记录。请检查代理的负载和日志。",
			 host, device_id,
			 (long long)json_integer_value(json_object_get(ev, "lost")),
			 (long long)json_integer_value(json_object_get(ev, "lost_total")), host,
			 (long long)json_integer_value(json_object_get(ev, "lost")));
	else
		snprintf(out, len,
			 "Device %s (%s) reported %s (reason %s). / 设备 %s 报告安全事件 %s。",
			 host, device_id, rule, reason, host, rule);
	utf8_trim(out);
}

void alert_event_key(const json_t *ev, const struct alert_event *a, const char *device_id,
		     long long now, char *out, size_t len)
{
	/* Drops come in bursts: one alert per device and hour, the rest are in the event log. */
	if (strcmp(a->rule, ALERT_WATCHER_DROPS) == 0)
		snprintf(out, len, "drops:%s:%lld", device_id, now / 3600);
	else
		snprintf(out, len, "event:%s:%s", device_id, ev_str(ev, "uuid") ?: "");
}

/* ---- the watcher of reports: enforce mode without enforcing ---- */

bool alert_not_enforcing(const char *policy_mode, const json_t *watcher)
{
	static const char *const not_enforcing[] = { "degraded", "posture_only", NULL };

	return policy_mode && strcmp(policy_mode, "enforce") == 0 &&
	       is_one_of(json_string_value(json_object_get(watcher, "state")), not_enforcing);
}

/* "injection (fanotify), renames (fanotify)": the decisions with that effect; "" when none. */
static void decisions_with(const json_t *watcher, const char *effect, char *out, size_t len)
{
	const json_t *dec = json_object_get(watcher, "decisions"), *d;
	const char *name;
	size_t n = 0;

	out[0] = 0;
	json_object_foreach ((json_t *)dec, name, d) {
		char nm[32], be[32];

		if (!json_is_object(d) || !ev_str(d, "effect") ||
		    strcmp(ev_str(d, "effect"), effect))
			continue;
		clean(name, 24, nm, sizeof(nm));
		clean(ev_str(d, "backend") ?: "?", 24, be, sizeof(be));
		if (n + 64 >= len)
			break;
		n += (size_t)snprintf(out + n, len - n, "%s%s (%s)", n ? ", " : "", nm, be);
	}
}

void alert_not_enforcing_message(const json_t *watcher, const char *policy_name,
				 const char *hostname, const char *device_id, char *out, size_t len)
{
	char state[32], kernel[80], pol[80], summary[400], reported[256], unwatched[256], enf[32];
	char host[100];
	bool ladder = json_is_object(json_object_get(watcher, "decisions"));

	clean(hostname && *hostname ? hostname : "-", 64, host, sizeof(host));
	clean(ev_str(watcher, "state") ?: "?", 24, state, sizeof(state));
	clean(ev_str(watcher, "kernel") ?: "?", 64, kernel, sizeof(kernel));
	clean(ev_str(watcher, "enforcement") ?: "none", 24, enf, sizeof(enf));
	clean(policy_name ?: "-", 64, pol, sizeof(pol));
	clean(ev_str(watcher, "summary") ?: "", 380, summary, sizeof(summary));
	decisions_with(watcher, "reported", reported, sizeof(reported));
	decisions_with(watcher, "none", unwatched, sizeof(unwatched));
	if (!ladder)
		snprintf(out, len,
			 "Device %s (%s): policy %s is in enforce mode but the agent is not "
			 "enforcing (watcher %s, enforcement %s; this agent does not report its "
			 "decisions). Update the agent, then check `wxguard status` on the device. "
			 "/ 设备 %s：策略 %s 为强制模式，但代理未执行管控（监控状态 "
			 "%s）。请升级代理，"
			 "并在设备上运行 wxguard status 查看原因。",
			 host, device_id, pol, state, enf, host, pol, state);
	else
		snprintf(out, len,
			 "Device %s (%s): policy %s is in enforce mode but the agent is not "
			 "enforcing (watcher %s, kernel %s). Only reported: %s. Not watched: %s. "
			 "Why and what to do: %s. / 设备 %s：策略 %s "
			 "为强制模式，但代理未能完全执行管控"
			 "（监控状态 %s，内核 %s）。仅报告不阻止：%s；未监控：%s。原因及处理：%s。",
			 host, device_id, pol, state, kernel, reported[0] ? reported : "-",
			 unwatched[0] ? unwatched : "-", summary[0] ? summary : "-", host, pol,
			 state, kernel, reported[0] ? reported : "-",
			 unwatched[0] ? unwatched : "-", summary[0] ? summary : "-");
}

void alert_enforcing_restored_message(const json_t *watcher, const char *policy_mode,
				      const char *hostname, const char *device_id, char *out,
				      size_t len)
{
	char state[32], mode[32], summary[400];
	char host[100];

	clean(hostname && *hostname ? hostname : "-", 64, host, sizeof(host));
	clean(ev_str(watcher, "state") ?: "off", 24, state, sizeof(state));
	clean(policy_mode ?: "none", 24, mode, sizeof(mode));
	clean(ev_str(watcher, "summary") ?: "", 380, summary, sizeof(summary));
	if (strcmp(mode, "enforce") == 0)
		snprintf(out, len,
			 "Device %s (%s) is enforcing again (watcher %s%s%s): the not_enforcing "
			 "alert is cleared. / 设备 %s 已恢复执行管控（监控状态 %s），"
			 "not_enforcing 告警已解除。",
			 host, device_id, state, summary[0] ? ": " : "", summary, host, state);
	else
		snprintf(out, len,
			 "Device %s (%s): the policy is no longer in enforce mode (%s): the "
			 "not_enforcing alert is cleared. / 设备 %s 的策略已不是强制模式（%s），"
			 "not_enforcing 告警已解除。",
			 host, device_id, mode, host, mode);
}

/* ---- payloads ---- */

static void fmt_time(long long t, char *out, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

char *alert_wecom_payload(const json_t *a)
{
	const char *sev = json_string_value(json_object_get(a, "severity")) ?: "";
	const char *msg = json_string_value(json_object_get(a, "message")) ?: "";
	char when[64], *content = NULL, *out, *body;
	size_t blen = strlen(msg) * 3 + 1;
	json_t *j;

	/* Messages already clean what came from a device; this holds for every alert, whoever
	 * wrote its text: the robot renders markdown, the message is plain text. */
	body = malloc(blen);
	if (!body)
		return NULL;
	clean(msg, blen, body, blen);
	fmt_time(json_integer_value(json_object_get(a, "created")), when, sizeof(when));
	if (asprintf(&content,
		     "### wxguard 告警 alert: %s\n"
		     "> 级别 severity: <font color=\"%s\">%s</font>\n"
		     "> 设备 device: `%s`\n"
		     "> 时间 time: %s\n\n%s",
		     json_string_value(json_object_get(a, "rule")) ?: "",
		     strcmp(sev, "critical") == 0 || strcmp(sev, "high") == 0 ? "warning"
									      : "comment",
		     sev, json_string_value(json_object_get(a, "device_id")) ?: "-", when,
		     body) < 0) {
		free(body);
		return NULL;
	}
	free(body);
	/* The robot accepts at most 4096 bytes of markdown content. */
	if (strlen(content) > 4000) {
		content[3990] = 0;
		utf8_trim(content);
		strcat(content, "…");
	}
	j = json_pack("{s:s, s:{s:s}}", "msgtype", "markdown", "markdown", "content", content);
	out = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	free(content);
	return out;
}

char *alert_json_payload(const json_t *a)
{
	json_t *j = json_pack("{s:s, s:O}", "source", "wxguard-server", "alert", a);
	char *out = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

	json_decref(j);
	return out;
}

/* ---- delivery ---- */

static size_t collect(char *ptr, size_t size, size_t nmemb, void *user)
{
	char *buf = user;
	size_t have = strlen(buf), n = size * nmemb, room = 1023 - have;

	memcpy(buf + have, ptr, n < room ? n : room);
	buf[have + (n < room ? n : room)] = 0;
	return n;
}

static int post_json(struct srv *s, const char *url, const char *payload, bool wecom, char *err,
		     size_t errlen)
{
	struct curl_slist *hdr = NULL;
	char resp[1024] = "";
	long code = 0;
	CURLcode cc;
	CURL *c;
	int r = 0;

	c = curl_easy_init();
	if (!c) {
		snprintf(err, errlen, "curl init failed");
		return -ENOMEM;
	}
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, payload);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 3L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	if (s->cfg.tls_insecure_webhooks) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl_easy_perform(c);
	if (cc != CURLE_OK) {
		snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		r = -EIO;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300) {
		snprintf(err, errlen, "HTTP %ld", code);
		r = -EIO;
		goto out;
	}
	if (wecom) {
		/* The robot answers 200 {"errcode": 0, "errmsg": "ok"}; anything else failed. */
		json_t *j = json_loads(resp, 0, NULL);
		json_t *ec = json_object_get(j, "errcode");

		if (json_is_integer(ec) && json_integer_value(ec) != 0) {
			snprintf(err, errlen, "WeCom errcode %lld: %s",
				 (long long)json_integer_value(ec),
				 json_string_value(json_object_get(j, "errmsg")) ?: "");
			r = -EIO;
		}
		json_decref(j);
	}
out:
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	return r;
}

static int deliver(struct srv *s, const json_t *a, char *err, size_t errlen)
{
	const char *sink = json_string_value(json_object_get(a, "sink"));
	char *payload;
	int r;

	if (strcmp(sink, "syslog") == 0) {
		syslog(LOG_AUTHPRIV | LOG_WARNING,
		       "wxguard alert rule=%s severity=%s device=%s: %s",
		       json_string_value(json_object_get(a, "rule")),
		       json_string_value(json_object_get(a, "severity")),
		       json_string_value(json_object_get(a, "device_id")) ?: "-",
		       json_string_value(json_object_get(a, "message")));
		return 0;
	}
	if (strcmp(sink, "wecom") == 0 && s->cfg.wecom_url) {
		payload = alert_wecom_payload(a);
		r = payload ? post_json(s, s->cfg.wecom_url, payload, true, err, errlen) : -ENOMEM;
	} else if (strcmp(sink, "webhook") == 0 && s->cfg.webhook_url) {
		payload = alert_json_payload(a);
		r = payload ? post_json(s, s->cfg.webhook_url, payload, false, err, errlen)
			    : -ENOMEM;
	} else {
		snprintf(err, errlen, "sink %s is not configured on this server", sink);
		return -ENOENT;
	}
	free(payload);
	return r;
}

static int sink_index(const char *name)
{
	for (int i = 0; i < _SINK_MAX; i++)
		if (strcmp(srv_sink_name(i), name) == 0)
			return i;
	return 0;
}

static int sweep_stale(struct srv *s, struct store *st, long long now)
{
	struct store_res *res;
	int r;

	r = store_stale_devices(st, now, s->cfg.stale_grace, &res);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res->nrows; i++) {
		const char *id = store_res_get(res, i, 0);
		char text[512], key[128], when[64], host[100];

		clean(store_res_get(res, i, 1) ?: "", 64, host, sizeof(host));
		fmt_time(store_res_int(res, i, 2, 0), when, sizeof(when));
		snprintf(text, sizeof(text),
			 "Device %s (%s) is stale: no report since %s. Check that it is on and "
			 "that wxguard runs "
			 "(systemctl status wxguard). / 设备 %s 自 %s 起未上报，请确认设备开机且 "
			 "wxguard 正在运行。",
			 host, id, when, host, when);
		/* One alert per silence: keyed by the last report seen. */
		snprintf(key, sizeof(key), "stale:%s:%s", id, store_res_get(res, i, 3) ?: "");
		alert_raise(s, st, now, id, ALERT_STALE, "medium", text, key);
	}
	store_res_free(res);
	return 0;
}

int alerts_sweep(struct srv *s, struct store *st, long long now)
{
	json_t *due = NULL, *a;
	size_t i;
	int r, n = 0;

	r = sweep_stale(s, st, now);
	if (r < 0)
		goto fail;
	r = store_delivery_claim(st, now, 60, 50, &due);
	if (r < 0)
		goto fail;
	json_array_foreach (due, i, a) {
		const char *aid = json_string_value(json_object_get(a, "alert_id"));
		const char *sink = json_string_value(json_object_get(a, "sink"));
		long long attempts = json_integer_value(json_object_get(a, "attempts")) + 1, delay;
		char err[256] = "";
		bool give_up;

		r = deliver(s, a, err, sizeof(err));
		n++;
		delay = s->cfg.retry_base << (attempts - 1 < 20 ? attempts - 1 : 20);
		if (delay > 600)
			delay = 600;
		give_up = r < 0 && attempts >= s->cfg.retry_max;
		if (r == 0)
			atomic_fetch_add(&s->m.deliveries[sink_index(sink)], 1);
		else {
			atomic_fetch_add(&s->m.delivery_failures[sink_index(sink)], 1);
			log_warning("alert %s to %s: attempt %lld failed: %s%s", aid, sink,
				    attempts, err, give_up ? " (giving up)" : "");
		}
		r = store_delivery_done(st, aid, sink, r == 0, now + delay, give_up, err);
		if (r < 0)
			goto fail;
	}
	json_decref(due);
	srv_db_ok(s);
	return n;
fail:
	json_decref(due);
	srv_db_error(s, st, r, "alert sweep");
	return r;
}

static void *worker_main(void *arg)
{
	struct alerts_worker *w = arg;
	struct store *st = NULL;

	while (!atomic_load(&w->stop)) {
		struct timespec ts = { w->srv->cfg.sweep_ms / 1000,
				       (w->srv->cfg.sweep_ms % 1000) * 1000000L };

		if (!st && srv_store_open(w->srv, &st) < 0) {
			srv_db_error(w->srv, NULL, -EIO, "alert worker connect");
			st = NULL;
		}
		if (st && alerts_sweep(w->srv, st, (long long)time(NULL)) < 0 &&
		    strcmp(store_kind(st), "postgresql") == 0) {
			/* reconnect next round */
		}
		nanosleep(&ts, NULL);
	}
	store_close(st);
	return NULL;
}

int alerts_worker_start(struct alerts_worker *w, struct srv *s)
{
	int r;

	w->srv = s;
	atomic_store(&w->stop, false);
	r = -pthread_create(&w->thread, NULL, worker_main, w);
	w->started = r == 0;
	return r;
}

void alerts_worker_stop(struct alerts_worker *w)
{
	if (!w->started)
		return;
	atomic_store(&w->stop, true);
	pthread_join(w->thread, NULL);
	w->started = false;
}
