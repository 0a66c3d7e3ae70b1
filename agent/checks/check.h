/* Posture checks: each returns a status, the evidence it saw and how to fix a failure, in
 * English and Chinese. Checks read the system only through ctx->root (agent/host/sysroot.h). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "common/policy/policy.h"
#include "agent/host/sysroot.h"
#include "common/strv.h"

/* Explicit values: they are part of the JSON and wire formats. */
enum check_status {
	CHECK_PASS = 0,
	CHECK_WARN = 1,
	CHECK_FAIL = 2,
	CHECK_UNKNOWN = 3, /* could not tell: never shown as fail */
	CHECK_NOT_APPLICABLE = 4,
	CHECK_ERROR = 5, /* the check itself broke (errno in evidence) */
};

struct check_kv {
	char *key;
	char *value;
};

struct check_result {
	const char *id; /* e.g. "screen_lock" (static, from the check's definition) */
	enum check_status status;
	char *summary_en, *summary_zh; /* one line: what was seen */
	char *fix_en, *fix_zh;         /* what to do; NULL when nothing is needed */
	struct check_kv *evidence;
	size_t n_evidence;
	struct strv changes; /* remediation performed, one line each */
	uint64_t duration_us;
};

struct check_ctx {
	const struct policy *policy;
	const struct sysroot *root;
	const char *cache_dir; /* for slow package-manager queries; NULL disables the cache */
	bool remediate;        /* policy in enforce mode and remediation allowed by the caller */
	time_t now;            /* wall clock for age computations (tests pin it) */
};

struct check_def {
	const char *id;
	const char *title_en;
	const char *title_zh;
	/* Fill r (status, summary, evidence, fix). Return 0, or -errno: the status becomes
	 * CHECK_ERROR with the errno in the evidence. */
	int (*run)(struct check_ctx *ctx, struct check_result *r);
};

extern const struct check_def check_defs[];
extern const size_t check_defs_count;
const struct check_def *check_def_find(const char *id);

/* The checks, one file each: agent/check_<name>.c */
int check_client_approved(struct check_ctx *ctx, struct check_result *r);
int check_client_plugins(struct check_ctx *ctx, struct check_result *r);
int check_client_instances(struct check_ctx *ctx, struct check_result *r);
int check_screen_lock(struct check_ctx *ctx, struct check_result *r);
int check_patch_updates(struct check_ctx *ctx, struct check_result *r);
int check_antivirus(struct check_ctx *ctx, struct check_result *r);
int check_disk_encryption(struct check_ctx *ctx, struct check_result *r);
int check_ptrace_scope(struct check_ctx *ctx, struct check_result *r);

/* Set the status and the one-line summary. en and zh are printf formats that take the same
 * arguments in the same order. Replaces any earlier summary. */
void check_result_set(struct check_result *r, enum check_status st, const char *en, const char *zh,
		      ...) __attribute__((format(printf, 3, 5)));
/* The remediation hint, plain strings. */
void check_result_fix(struct check_result *r, const char *en, const char *zh);
/* Append evidence key = printf(fmt...). Keys may repeat (one per user, per file...). */
void check_result_add(struct check_result *r, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void check_result_changed(struct check_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *check_result_get(const struct check_result *r, const char *key);
void check_result_clear(struct check_result *r);

/* Run one check, timing it and turning a negative return into CHECK_ERROR. */
void check_run_one(const struct check_def *def, struct check_ctx *ctx, struct check_result *r);

const char *check_status_to_string(enum check_status s);
int check_status_from_string(const char *s);
/* Worse of two statuses for the overall verdict: fail > error > unknown > warn > pass > n/a. */
enum check_status check_status_worst(enum check_status a, enum check_status b);

/* A full run: every check in check_defs order. */
struct check_report {
	struct check_result *results;
	size_t n_results;
	enum check_status overall;
	time_t time;
	uint64_t duration_us;
};

/* only: NULL for all checks, or a list of ids. */
int check_report_run(struct check_ctx *ctx, const struct strv *only, struct check_report **ret);
void check_report_free(struct check_report *rep);
