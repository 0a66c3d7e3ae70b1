#include "agent/cli/check_output.h"

#include <errno.h>
#include <string.h>
#include <time.h>

static const char *const labels_en[] = {
	[CHECK_PASS] = "PASS",       [CHECK_WARN] = "WARN",          [CHECK_FAIL] = "FAIL",
	[CHECK_UNKNOWN] = "UNKNOWN", [CHECK_NOT_APPLICABLE] = "N/A", [CHECK_ERROR] = "ERROR",
};
static const char *const labels_zh[] = {
	[CHECK_PASS] = "通过",
	[CHECK_WARN] = "警告",
	[CHECK_FAIL] = "不合规",
	[CHECK_UNKNOWN] = "未知",
	[CHECK_NOT_APPLICABLE] = "不适用",
	[CHECK_ERROR] = "错误",
};
static const char *const colors[] = {
	[CHECK_PASS] = "\033[32m",          [CHECK_WARN] = "\033[33m",
	[CHECK_FAIL] = "\033[31;1m",        [CHECK_UNKNOWN] = "\033[36m",
	[CHECK_NOT_APPLICABLE] = "\033[2m", [CHECK_ERROR] = "\033[35m",
};

const char *check_status_label(enum check_status s, bool zh)
{
	if ((unsigned)s > CHECK_ERROR)
		s = CHECK_ERROR;
	return zh ? labels_zh[s] : labels_en[s];
}

/* Display width of a UTF-8 string, counting CJK (3-byte sequences and up) as two columns. */
static int display_width(const char *s)
{
	int w = 0;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p & 0xC0) == 0x80)
			continue;
		w += *p >= 0xE0 ? 2 : 1;
	}
	return w;
}

static void pad(FILE *f, const char *s, int width)
{
	fputs(s, f);
	for (int i = display_width(s); i < width; i++)
		fputc(' ', f);
}

int check_output_table(FILE *f, const struct check_report *rep, const struct policy *p, bool zh,
		       bool color)
{
	unsigned counts[CHECK_ERROR + 1] = { 0 };
	char when[64];
	struct tm tm;

	localtime_r(&rep->time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f,
		zh ? "wxguard %s — 策略 %s (版本 %s, %s 模式) — %s\n\n"
		   : "wxguard %s — policy %s (version %s, %s mode) — %s\n\n",
		WXG_VERSION, p->name ? p->name : "?", p->version ? p->version : "?",
		policy_mode_to_string(p->mode), when);
	pad(f, zh ? "规则" : "RULE", 24);
	pad(f, zh ? "状态" : "STATUS", 9);
	fputs(zh ? "检查结果\n" : "WHAT WAS SEEN\n", f);

	for (size_t i = 0; i < rep->n_results; i++) {
		const struct check_result *r = &rep->results[i];
		const char *summary = zh && r->summary_zh ? r->summary_zh : r->summary_en;
		const char *fix = zh && r->fix_zh ? r->fix_zh : r->fix_en;
		const char *label = check_status_label(r->status, zh);

		counts[r->status <= CHECK_ERROR ? r->status : CHECK_ERROR]++;
		pad(f, r->id, 24);
		if (color)
			fputs(colors[r->status <= CHECK_ERROR ? r->status : CHECK_ERROR], f);
		fputs(label, f);
		if (color)
			fputs("\033[0m", f);
		for (int w = display_width(label); w < 9; w++)
			fputc(' ', f);
		fprintf(f, "%s\n", summary ? summary : "");
		if (fix && (r->status == CHECK_FAIL || r->status == CHECK_WARN ||
			    r->status == CHECK_ERROR))
			fprintf(f, "%33s%s %s\n", "", zh ? "修复:" : "fix:", fix);
		for (size_t c = 0; c < r->changes.n; c++)
			fprintf(f, "%33s%s %s\n", "", zh ? "已修改:" : "changed:", r->changes.v[c]);
	}
	fputc('\n', f);
	if (zh)
		fprintf(f, "总体: %s (不合规 %u, 警告 %u, 未知 %u, 错误 %u), 用时 %.0f 毫秒\n",
			check_status_label(rep->overall, true), counts[CHECK_FAIL],
			counts[CHECK_WARN], counts[CHECK_UNKNOWN], counts[CHECK_ERROR],
			rep->duration_us / 1000.0);
	else
		fprintf(f, "Overall: %s (%u fail, %u warn, %u unknown, %u error) in %.0f ms\n",
			check_status_label(rep->overall, false), counts[CHECK_FAIL],
			counts[CHECK_WARN], counts[CHECK_UNKNOWN], counts[CHECK_ERROR],
			rep->duration_us / 1000.0);
	return ferror(f) ? -EIO : 0;
}

static json_t *lang_pair(const char *en, const char *zh)
{
	if (!en)
		return json_null();
	return json_pack("{s:s, s:s}", "en", en, "zh", zh ? zh : en);
}

json_t *check_output_result_json(const struct check_result *r)
{
	const struct check_def *def = check_def_find(r->id);
	json_t *o, *ev, *changes;

	ev = json_object();
	changes = json_array();
	if (!ev || !changes)
		goto fail;
	for (size_t i = 0; i < r->n_evidence; i++) {
		json_t *old = json_object_get(ev, r->evidence[i].key);

		/* A repeated key becomes an array of its values, in order. */
		if (!old) {
			json_object_set_new(ev, r->evidence[i].key,
					    json_string(r->evidence[i].value));
		} else if (json_is_array(old)) {
			json_array_append_new(old, json_string(r->evidence[i].value));
		} else {
			json_t *arr = json_pack("[O, s]", old, r->evidence[i].value);

			json_object_set_new(ev, r->evidence[i].key, arr);
		}
	}
	for (size_t i = 0; i < r->changes.n; i++)
		json_array_append_new(changes, json_string(r->changes.v[i]));
	o = json_pack("{s:s, s:o, s:s, s:o, s:o, s:o, s:o, s:I}", "id", r->id, "title",
		      def ? lang_pair(def->title_en, def->title_zh) : json_null(), "status",
		      check_status_to_string(r->status), "summary",
		      lang_pair(r->summary_en ? r->summary_en : "", r->summary_zh), "evidence", ev,
		      "remediation", lang_pair(r->fix_en, r->fix_zh), "changes", changes,
		      "duration_us", (json_int_t)r->duration_us);
	return o;
fail:
	json_decref(ev);
	json_decref(changes);
	return NULL;
}

int check_output_json(const struct check_report *rep, const struct policy *p, const char *hostname,
		      json_t **ret)
{
	char when[64];
	json_t *doc, *checks, *counts;
	struct tm tm;
	int r = -ENOMEM;

	gmtime_r(&rep->time, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	checks = json_array();
	counts = json_object();
	if (!checks || !counts)
		goto fail;
	for (const char *const *s = (const char *const[]){ "pass", "warn", "fail", "unknown",
							   "not_applicable", "error", NULL };
	     *s; s++)
		json_object_set_new(counts, *s, json_integer(0));
	for (size_t i = 0; i < rep->n_results; i++) {
		const char *st = check_status_to_string(rep->results[i].status);
		json_t *o = check_output_result_json(&rep->results[i]);

		if (!o)
			goto fail;
		json_array_append_new(checks, o);
		json_object_set_new(
			counts, st,
			json_integer(json_integer_value(json_object_get(counts, st)) + 1));
	}
	doc = json_pack("{s:s, s:s, s:s?, s:s, s:{s:s?, s:s?, s:s, s:s, s:o}, s:s, s:o, s:I, s:o}",
			"schema", "wxguard.check/1", "agent_version", WXG_VERSION, "hostname",
			hostname, "time", when, "policy", "name", p->name, "version", p->version,
			"mode", policy_mode_to_string(p->mode), "sha256", p->sha256, "sources",
			json_pack("[]"), "overall", check_status_to_string(rep->overall), "counts",
			counts, "duration_us", (json_int_t)rep->duration_us, "checks", checks);
	if (!doc)
		return -ENOMEM;
	for (size_t i = 0; i < p->sources.n; i++)
		json_array_append_new(json_object_get(json_object_get(doc, "policy"), "sources"),
				      json_string(p->sources.v[i]));
	*ret = doc;
	return 0;
fail:
	json_decref(checks);
	json_decref(counts);
	return r;
}
