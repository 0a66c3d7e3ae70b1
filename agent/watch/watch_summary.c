/* The watcher's one-line summary (agent/watch/watch_summary.h): what is enforced, why not
 * more, what to do. A pure function of struct watch_state, in English or Chinese. */
#include "agent/watch/watch_summary.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Why the best rung is not used, from the watcher's reason (and its BTF source). */
enum cause {
	CAUSE_NONE = 0,
	CAUSE_FORCED,       /* --backend / --no-bpf */
	CAUSE_KERNEL,       /* root, and still EPERM: lockdown or a security module */
	CAUSE_PRIVILEGE,    /* not root, no CAP_BPF */
	CAUSE_LSM_INACTIVE, /* bpf is not in the lsm= list */
	CAUSE_NO_BTF,       /* the kernel has no BTF */
	CAUSE_VERIFIER,     /* the kernel refused the programs */
	CAUSE_NO_BPF,       /* BPF unusable, fanotify took over; the log says why */
	CAUSE_OTHER,        /* the reason, as the watcher wrote it */
};

struct lang {
	const char *decision[WATCH_DEC_MAX];
	const char *backend[WATCH_BACKEND_AUTO];
	const char *comma, *and_, *colon, *semi;
	const char *cause[CAUSE_OTHER]; /* one %s: the option (forced) or the short kernel */
	const char *advice[CAUSE_OTHER + 1];
	const char *posture_advice[CAUSE_OTHER + 1];
	const char *enforcing_with;        /* %s: the backends */
	const char *effect[2][4];          /* [singular][enum watch_effect]: verb and phrase */
	const char *posture, *posture_why; /* posture_why: %s the cause */
	const char *posture_forced;        /* %s: the option */
};

static const struct lang en = {
	.decision = { "execs", "libraries", "injection", "renames" },
	.backend = { "", "fanotify", "raw tracepoints", "tracing programs", "the BPF LSM" },
	.comma = ", ",
	.and_ = " and ",
	.colon = ": ",
	.semi = "; ",
	.cause = {
		[CAUSE_FORCED] = "limited by %s",
		[CAUSE_KERNEL] = "the kernel refuses BPF: lockdown or a security module",
		[CAUSE_PRIVILEGE] = "not allowed to load BPF: needs root or CAP_BPF+CAP_PERFMON",
		[CAUSE_LSM_INACTIVE] = "BPF LSM is not active (lsm= lacks bpf)",
		[CAUSE_NO_BTF] = "kernel %s has no BTF",
		[CAUSE_VERIFIER] = "kernel %s refused the watcher's BPF programs",
		[CAUSE_NO_BPF] = "BPF cannot be used here",
	},
	.advice = {
		[CAUSE_FORCED] = "start without %s to use the best the kernel offers",
		[CAUSE_KERNEL] = "check /sys/kernel/security/lockdown and the active LSMs",
		[CAUSE_PRIVILEGE] = "run wxguard as root (systemctl start wxguard)",
		[CAUSE_LSM_INACTIVE] = "add bpf to the lsm= boot parameter to refuse them",
		[CAUSE_NO_BTF] = "a kernel with BTF (CONFIG_DEBUG_INFO_BTF) would stop them",
		[CAUSE_VERIFIER] = "send the output of journalctl -u wxguard to IT",
		[CAUSE_NO_BPF] = "journalctl -u wxguard says why",
	},
	.posture_advice = {
		[CAUSE_FORCED] = "start without %s to enforce",
		[CAUSE_KERNEL] = "check /sys/kernel/security/lockdown and the active LSMs",
		[CAUSE_PRIVILEGE] = "run wxguard as root (systemctl start wxguard)",
		[CAUSE_LSM_INACTIVE] = "add bpf to the lsm= boot parameter",
		[CAUSE_NO_BTF] = "a kernel with BTF (CONFIG_DEBUG_INFO_BTF) would enforce",
		[CAUSE_VERIFIER] = "send the output of journalctl -u wxguard to IT",
		[CAUSE_NO_BPF] = "journalctl -u wxguard says why",
		[CAUSE_OTHER] = "journalctl -u wxguard says more",
	},
	.enforcing_with = "enforcing with %s",
	.effect = {
		{ " are not watched", " are reported, not refused", " are stopped after they start",
		  " are refused before they happen" },
		{ " is not watched", " is reported, not refused", " is stopped after it starts",
		  " is refused before it happens" },
	},
	.posture = "posture only: no watcher could start",
	.posture_why = "posture only: no watcher could start (%s)",
	.posture_forced = "posture only (%s)",
};

static const struct lang zh = {
	.decision = { "程序启动", "库加载", "进程注入", "进程改名" },
	.backend = { "", "fanotify", "原始跟踪点", "跟踪程序", "BPF LSM" },
	.comma = "、",
	.and_ = "和",
	.colon = "：",
	.semi = "；",
	.cause = {
		[CAUSE_FORCED] = "受 %s 限制",
		[CAUSE_KERNEL] = "内核拒绝加载 BPF：内核锁定或安全模块",
		[CAUSE_PRIVILEGE] = "无权加载 BPF：需要 root 或 CAP_BPF+CAP_PERFMON",
		[CAUSE_LSM_INACTIVE] = "BPF LSM 未启用（启动参数 lsm= 中没有 bpf）",
		[CAUSE_NO_BTF] = "内核 %s 没有 BTF",
		[CAUSE_VERIFIER] = "内核 %s 拒绝了监控的 BPF 程序",
		[CAUSE_NO_BPF] = "此处无法使用 BPF",
	},
	.advice = {
		[CAUSE_FORCED] = "去掉 %s 即可使用内核能提供的最佳方式",
		[CAUSE_KERNEL] = "请检查 /sys/kernel/security/lockdown 和已启用的安全模块",
		[CAUSE_PRIVILEGE] = "请以 root 运行 wxguard（systemctl start wxguard）",
		[CAUSE_LSM_INACTIVE] = "在启动参数 lsm= 中加入 bpf 即可在发生前拒绝",
		[CAUSE_NO_BTF] = "换用带 BTF 的内核（CONFIG_DEBUG_INFO_BTF）即可阻止",
		[CAUSE_VERIFIER] = "请把 journalctl -u wxguard 的输出发给 IT",
		[CAUSE_NO_BPF] = "原因详见 journalctl -u wxguard",
	},
	.posture_advice = {
		[CAUSE_FORCED] = "去掉 %s 即可执行管控",
		[CAUSE_KERNEL] = "请检查 /sys/kernel/security/lockdown 和已启用的安全模块",
		[CAUSE_PRIVILEGE] = "请以 root 运行 wxguard（systemctl start wxguard）",
		[CAUSE_LSM_INACTIVE] = "在启动参数 lsm= 中加入 bpf",
		[CAUSE_NO_BTF] = "换用带 BTF 的内核（CONFIG_DEBUG_INFO_BTF）即可执行管控",
		[CAUSE_VERIFIER] = "请把 journalctl -u wxguard 的输出发给 IT",
		[CAUSE_NO_BPF] = "原因详见 journalctl -u wxguard",
		[CAUSE_OTHER] = "详见 journalctl -u wxguard",
	},
	.enforcing_with = "由%s执行管控",
	.effect = {
		{ "未被监控", "仅报告、不阻止", "在启动后被终止", "在发生前即被拒绝" },
		{ "未被监控", "仅报告、不阻止", "在启动后被终止", "在发生前即被拒绝" },
	},
	.posture = "仅做安全基线检查：监控无法启动",
	.posture_why = "仅做安全基线检查：监控无法启动（%s）",
	.posture_forced = "仅做安全基线检查（%s）",
};

struct out {
	char *buf;
	size_t size, n;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (o->n + 1 >= o->size)
		return;
	va_start(ap, fmt);
	k = vsnprintf(o->buf + o->n, o->size - o->n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	o->n = o->n + (size_t)k < o->size ? o->n + (size_t)k : o->size - 1;
}

/* A cut in the middle of a UTF-8 sequence drops the sequence. */
static void utf8_trim(char *s)
{
	size_t len = strlen(s), i = len, need;
	unsigned char lead;

	while (i > 0 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0 || ((unsigned char)s[i - 1] & 0x80) == 0)
		return;
	lead = (unsigned char)s[i - 1];
	need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
	if (len - (i - 1) < need)
		s[i - 1] = 0;
}

/* "--backend fanotify" or "--no-bpf" out of the reason. */
static void forced_option(const char *reason, char *opt, size_t size)
{
	const char *p = strstr(reason, "--backend");

	if (!p)
		p = strstr(reason, "--no-bpf");
	snprintf(opt, size, "%.*s", p ? (int)strcspn(p, "),;:") : 0, p ? p : "");
}

/* "5.10.0-30-amd64" -> "5.10". */
static void short_kernel(const char *kernel, char *out, size_t size)
{
	size_t n = 0;
	int dots = 0;

	while (kernel[n] && kernel[n] != '-' && !(kernel[n] == '.' && ++dots == 2))
		n++;
	snprintf(out, size, "%.*s", (int)n, kernel);
	if (!out[0])
		snprintf(out, size, "?");
}

static enum cause find_cause(const struct watch_state *s)
{
	const char *r = s->reason;

	if (strstr(r, "--backend") || strstr(r, "--no-bpf"))
		return CAUSE_FORCED;
	if (strstr(r, "refused by the kernel"))
		return CAUSE_KERNEL;
	if (strstr(r, "need root") || strstr(r, "Operation not permitted"))
		return CAUSE_PRIVILEGE;
	if (strstr(r, "active LSM") || strstr(r, "lsm="))
		return CAUSE_LSM_INACTIVE;
	if (strstr(r, "BTF") ||
	    (!s->btf[0] && s->decisions[WATCH_DEC_EXEC].backend == WATCH_BACKEND_FANOTIFY))
		return CAUSE_NO_BTF;
	if (strstr(r, "load the BPF programs"))
		return CAUSE_VERIFIER;
	if (strstr(r, "no BPF"))
		return CAUSE_NO_BPF;
	/* "renames not watched; ...": the decisions say it already */
	if (strstr(r, " not watched") && !strchr(r, ':'))
		return CAUSE_NONE;
	return r[0] ? CAUSE_OTHER : CAUSE_NONE;
}

/* The reason as the watcher wrote it, at most about 80 bytes: cut at a space, with "...". */
static void put_reason(struct out *o, const char *r)
{
	size_t n = strlen(r);

	if (n <= 80) {
		put(o, "%s", r);
		return;
	}
	n = 80;
	while (n > 40 && r[n] != ' ')
		n--;
	while (n > 0 && ((unsigned char)r[n] & 0xc0) == 0x80)
		n--;
	put(o, "%.*s...", (int)n, r);
}

/* The cause clause ("kernel 5.10 has no BTF"); the reason itself for CAUSE_OTHER. */
static void put_cause(struct out *o, const struct lang *L, const struct watch_state *s,
		      enum cause c, const char *opt, const char *kern)
{
	if (c == CAUSE_OTHER)
		put_reason(o, s->reason);
	else if (c == CAUSE_FORCED)
		put(o, L->cause[c], opt);
	else if (c != CAUSE_NONE)
		put(o, L->cause[c], kern);
}

/* "execs, libraries and renames": the decisions whose effect is e. Returns how many. */
static int put_decisions(struct out *o, const struct lang *L, const struct watch_state *s,
			 enum watch_effect e, bool write)
{
	int n = 0, total = 0;

	for (int d = 0; d < WATCH_DEC_MAX; d++)
		total += s->decisions[d].effect == e;
	for (int d = 0; write && d < WATCH_DEC_MAX; d++) {
		if (s->decisions[d].effect != e)
			continue;
		if (n > 0)
			put(o, "%s", n == total - 1 ? L->and_ : L->comma);
		put(o, "%s", L->decision[d]);
		n++;
	}
	return total;
}

static void put_group(struct out *o, const struct lang *L, const struct watch_state *s,
		      enum watch_effect e, const char *sep)
{
	int n = put_decisions(o, L, s, e, false);
	bool one = n == 1 && s->decisions[WATCH_DEC_INJECTION].effect == e;

	if (n == 0)
		return;
	put(o, "%s", sep);
	put_decisions(o, L, s, e, true);
	put(o, "%s", L->effect[one][e]);
}

/* "the BPF LSM and raw tracepoints": the backends in use, best first. */
static void put_backends(struct out *o, const struct lang *L, const struct watch_state *s)
{
	int total = 0, n = 0;
	bool used[WATCH_BACKEND_AUTO] = { false };

	for (int d = 0; d < WATCH_DEC_MAX; d++)
		if (s->decisions[d].backend > WATCH_BACKEND_NONE &&
		    s->decisions[d].backend < WATCH_BACKEND_AUTO &&
		    !used[s->decisions[d].backend]) {
			used[s->decisions[d].backend] = true;
			total++;
		}
	for (int b = WATCH_BACKEND_LSM; b > WATCH_BACKEND_NONE; b--) {
		if (!used[b])
			continue;
		if (n > 0)
			put(o, "%s", n == total - 1 ? L->and_ : L->comma);
		put(o, "%s", L->backend[b]);
		n++;
	}
}

static void format_posture(struct out *o, const struct lang *L, const struct watch_state *s,
			   enum cause c, const char *opt, const char *kern)
{
	char why[160];
	struct out w = { why, sizeof(why), 0 };

	why[0] = 0;
	if (c == CAUSE_FORCED) {
		put(o, L->posture_forced, opt);
	} else {
		put_cause(&w, L, s, c, opt, kern);
		utf8_trim(why);
		if (why[0])
			put(o, L->posture_why, why);
		else
			put(o, "%s", L->posture);
	}
	put(o, "%s%s", L->colon, L == &zh ? "不会阻止任何程序" : "nothing is blocked");
	if (L->posture_advice[c]) {
		put(o, "%s", L->semi);
		put(o, L->posture_advice[c], opt);
	}
}

void watch_summary_format(const struct watch_state *s, bool in_zh, char *buf, size_t size)
{
	const struct lang *L = in_zh ? &zh : &en;
	struct out o = { buf, size, 0 };
	enum cause c = find_cause(s);
	char opt[48], kern[32];
	bool watching = false, gaps = false;

	if (!buf || size == 0)
		return;
	buf[0] = 0;
	forced_option(s->reason, opt, sizeof(opt));
	short_kernel(s->kernel, kern, sizeof(kern));
	for (int d = 0; d < WATCH_DEC_MAX; d++) {
		watching = watching || s->decisions[d].backend != WATCH_BACKEND_NONE;
		gaps = gaps || s->decisions[d].effect != WATCH_EFFECT_REFUSED;
	}
	if (s->state == WATCH_STATE_POSTURE_ONLY || !watching) {
		format_posture(&o, L, s, c, opt, kern);
		utf8_trim(buf);
		return;
	}
	if (gaps && c != CAUSE_NONE) {
		put_cause(&o, L, s, c, opt, kern);
		put(&o, "%s", L->colon);
	}
	{
		char with[128];
		struct out w = { with, sizeof(with), 0 };

		with[0] = 0;
		put_backends(&w, L, s);
		put(&o, L->enforcing_with, with);
	}
	if (!gaps) {
		put_group(&o, L, s, WATCH_EFFECT_REFUSED, L->colon);
	} else {
		put_group(&o, L, s, WATCH_EFFECT_STOPPED, L->semi);
		put_group(&o, L, s, WATCH_EFFECT_REPORTED, L->semi);
		put_group(&o, L, s, WATCH_EFFECT_NONE, L->semi);
		if (L->advice[c]) {
			put(&o, "%s", L->semi);
			put(&o, L->advice[c], opt);
		}
	}
	utf8_trim(buf);
}

void watch_state_summarize(struct watch_state *s)
{
	watch_summary_format(s, false, s->summary, sizeof(s->summary));
}
