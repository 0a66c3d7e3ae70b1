#include "agent/checks/check.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct check_def check_defs[] = {
	{ "client.approved", "Approved client only", "仅允许批准的客户端", check_client_approved },
	{ "client.plugins", "No plugins or injection", "无插件或注入", check_client_plugins },
	{ "client.instances", "Client instances per user", "每用户客户端实例数",
	  check_client_instances },
	{ "screen_lock", "Screen lock", "屏幕锁定", check_screen_lock },
	{ "patch.updates", "System patches", "系统补丁", check_patch_updates },
	{ "antivirus", "Antivirus", "防病毒软件", check_antivirus },
	{ "device.disk_encryption", "Disk encryption", "磁盘加密", check_disk_encryption },
	{ "device.ptrace_scope", "Ptrace restriction", "ptrace 限制", check_ptrace_scope },
};
const size_t check_defs_count = sizeof(check_defs) / sizeof(check_defs[0]);

const struct check_def *check_def_find(const char *id)
{
	for (size_t i = 0; i < check_defs_count; i++)
		if (strcmp(check_defs[i].id, id) == 0)
			return &check_defs[i];
	return NULL;
}

static const char *const status_names[] = {
	[CHECK_PASS] = "pass",
	[CHECK_WARN] = "warn",
	[CHECK_FAIL] = "fail",
	[CHECK_UNKNOWN] = "unknown",
	[CHECK_NOT_APPLICABLE] = "not_applicable",
	[CHECK_ERROR] = "error",
};

const char *check_status_to_string(enum check_status s)
{
	return (unsigned)s < sizeof(status_names) / sizeof(status_names[0]) ? status_names[s]
									    : "error";
}

int check_status_from_string(const char *s)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(status_names[i], s) == 0)
			return (int)i;
	return -EINVAL;
}

enum check_status check_status_worst(enum check_status a, enum check_status b)
{
	static const int rank[] = {
		[CHECK_NOT_APPLICABLE] = 0, [CHECK_PASS] = 1,  [CHECK_WARN] = 2,
		[CHECK_UNKNOWN] = 3,        [CHECK_ERROR] = 4, [CHECK_FAIL] = 5,
	};

	return rank[a] >= rank[b] ? a : b;
}

static char *vformat(const char *fmt, va_list ap)
{
	char *s = NULL;

	if (vasprintf(&s, fmt, ap) < 0)
		return NULL;
	return s;
}

void check_result_set(struct check_result *r, enum check_status st, const char *en, const char *zh,
		      ...)
{
	va_list ap, ap2;

	va_start(ap, zh);
	va_copy(ap2, ap);
	free(r->summary_en);
	free(r->summary_zh);
	r->summary_en = vformat(en, ap);
	r->summary_zh = zh ? vformat(zh, ap2) : NULL;
	va_end(ap2);
	va_end(ap);
	r->status = st;
}

void check_result_fix(struct check_result *r, const char *en, const char *zh)
{
	free(r->fix_en);
	free(r->fix_zh);
	r->fix_en = en ? strdup(en) : NULL;
	r->fix_zh = zh ? strdup(zh) : NULL;
}

void check_result_add(struct check_result *r, const char *key, const char *fmt, ...)
{
	struct check_kv *nv;
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = vformat(fmt, ap);
	va_end(ap);
	if (!v)
		return;
	nv = realloc(r->evidence, (r->n_evidence + 1) * sizeof(*nv));
	if (!nv) {
		free(v);
		return;
	}
	r->evidence = nv;
	nv[r->n_evidence].key = strdup(key);
	nv[r->n_evidence].value = v;
	if (!nv[r->n_evidence].key) {
		free(v);
		return;
	}
	r->n_evidence++;
}

void check_result_changed(struct check_result *r, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = vformat(fmt, ap);
	va_end(ap);
	if (v)
		strv_push_take(&r->changes, v);
}

const char *check_result_get(const struct check_result *r, const char *key)
{
	for (size_t i = 0; i < r->n_evidence; i++)
		if (strcmp(r->evidence[i].key, key) == 0)
			return r->evidence[i].value;
	return NULL;
}

void check_result_clear(struct check_result *r)
{
	if (!r)
		return;
	free(r->summary_en);
	free(r->summary_zh);
	free(r->fix_en);
	free(r->fix_zh);
	for (size_t i = 0; i < r->n_evidence; i++) {
		free(r->evidence[i].key);
		free(r->evidence[i].value);
	}
	free(r->evidence);
	strv_clear(&r->changes);
	memset(r, 0, sizeof(*r));
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void check_run_one(const struct check_def *def, struct check_ctx *ctx, struct check_result *r)
{
	uint64_t t0 = now_us();
	int ret;

	memset(r, 0, sizeof(*r));
	r->id = def->id;
	r->status = CHECK_UNKNOWN;
	ret = def->run(ctx, r);
	if (ret < 0) {
		check_result_set(r, CHECK_ERROR, "check could not run: %s", "检查无法运行: %s",
				 strerror(-ret));
		check_result_add(r, "errno", "%d", -ret);
	} else if (!r->summary_en) {
		check_result_set(r, r->status, "no details", "无详细信息");
	}
	r->duration_us = now_us() - t0;
}

int check_report_run(struct check_ctx *ctx, const struct strv *only, struct check_report **ret)
{
	struct check_report *rep;
	uint64_t t0 = now_us();

	rep = calloc(1, sizeof(*rep));
	if (!rep)
		return -ENOMEM;
	rep->results = calloc(check_defs_count, sizeof(*rep->results));
	if (!rep->results) {
		free(rep);
		return -ENOMEM;
	}
	rep->time = ctx->now ? ctx->now : time(NULL);
	rep->overall = CHECK_NOT_APPLICABLE;
	for (size_t i = 0; i < check_defs_count; i++) {
		struct check_result *r;

		if (only && only->n && !strv_contains(only, check_defs[i].id))
			continue;
		r = &rep->results[rep->n_results++];
		check_run_one(&check_defs[i], ctx, r);
		rep->overall = check_status_worst(rep->overall, r->status);
	}
	rep->duration_us = now_us() - t0;
	*ret = rep;
	return 0;
}

void check_report_free(struct check_report *rep)
{
	if (!rep)
		return;
	for (size_t i = 0; i < rep->n_results; i++)
		check_result_clear(&rep->results[i]);
	free(rep->results);
	free(rep);
}
