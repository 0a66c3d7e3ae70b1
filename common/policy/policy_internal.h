/* Shared by the policy parser's files only (common/policy/policy.c, policy_parse.c, policy_value.c,
 * policy_format.c): the table of sections and keys, the value checkers and the parse state.
 * Not for other modules. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "common/policy/policy.h"

#define POLICY_LINE_MAX 190 /* a "key=value" line after trimming and comment removal */
#define POLICY_FILE_MAX (1024u * 1024)
#define POLICY_ID_MAX 64       /* <id> of [client.<id>] / [deny.<id>] */
#define POLICY_TEXT_MAX 160    /* name, version, display_name */
#define POLICY_COMM_MAX 15     /* TASK_COMM_LEN - 1 */
#define POLICY_ENTRIES_MAX 256 /* [client.*] sections, and [deny.*] sections */
#define POLICY_DIAGS_MAX 200   /* then one "too many problems" diagnostic */
#define POLICY_KEYS_MAX 48

enum policy_sec {
	POLICY_SEC_NONE = 0,
	POLICY_SEC_POLICY,
	POLICY_SEC_SCREEN_LOCK,
	POLICY_SEC_PATCHES,
	POLICY_SEC_ANTIVIRUS,
	POLICY_SEC_DEVICE,
	POLICY_SEC_SCAN,
	POLICY_SEC_WATCH,
	POLICY_SEC_CLIENT,
	POLICY_SEC_DENY,
	POLICY_SEC_MAX,
};

/* What a value (or each element of a list) must look like. */
enum policy_vkind {
	PV_TEXT, /* free text, at most POLICY_TEXT_MAX bytes */
	PV_BOOL,
	PV_UINT,          /* unsigned, min..max */
	PV_INT,           /* int, min..max */
	PV_ENUM,          /* one of names[] (case-insensitive), stored as int */
	PV_SHA256,        /* 64 hex digits, stored lowercase */
	PV_ABS_PATH,      /* absolute path, no glob, no ".." */
	PV_HOME_REL,      /* "~/x" or "x" under the home directory, stored without "~/" */
	PV_PACKAGE,       /* dpkg/rpm package name */
	PV_KERNEL,        /* 5.10, 6.1.0 */
	PV_COMM,          /* exact process name, at most 15 bytes */
	PV_ABS_GLOB,      /* absolute path glob */
	PV_GLOB,          /* any glob */
	PV_LIB_DIR,       /* absolute or "~/" directory glob */
	PV_BASENAME_GLOB, /* file name glob, no '/' */
};

#define PK_LIST 1u     /* comma-separated, may repeat inside a section, may be empty */
#define PK_OPTIONAL 2u /* an empty value unsets it (NULL) */

struct policy_key {
	enum policy_sec sec;
	const char *name;
	enum policy_vkind kind;
	unsigned flags;
	size_t off;               /* into the section's struct (struct policy for [policy]) */
	long min, max;            /* PV_UINT, PV_INT */
	const char *const *names; /* PV_ENUM: NULL-terminated, index = stored value */
};

extern const struct policy_key policy_keys[];
extern const size_t policy_n_keys;
/* "policy", "screen_lock", ..., "client", "deny" by enum policy_sec. */
extern const char *const policy_sec_names[POLICY_SEC_MAX];

/* Index into policy_keys of sec's key name, or -1. */
int policy_key_find(enum policy_sec sec, const char *name);
/* The struct a section's keys live in: p itself, &p->screen_lock, a client or a deny. */
void *policy_sec_base(struct policy *p, enum policy_sec sec, size_t idx);

/* Each returns 0, or -EINVAL with an English message in err. */
int policy_value_check(enum policy_vkind k, const char *s, char *err, size_t size);
int policy_value_bool(const char *s, bool *ret);
int policy_value_number(const char *s, long min, long max, long *ret, char *err, size_t size);
int policy_value_enum(const char *s, const char *const *names, int *ret, char *err, size_t size);
bool policy_value_id_ok(const char *s);
bool policy_value_utf8_ok(const char *s, size_t len);
bool policy_value_has_glob(const char *s);

/* ---- the parse of one policy (all its sources) ---- */

/* Where a section and each of its keys were last set: source index (-1: never) and line. */
struct policy_origin {
	int file;
	unsigned line;
	int key_file[POLICY_KEYS_MAX];
	unsigned key_line[POLICY_KEYS_MAX];
	bool key_bad[POLICY_KEYS_MAX]; /* its value was refused: no follow-up diagnostics */
};

struct policy_parse {
	struct policy *p;
	struct policy_diags *diags; /* NULL: only counted */
	size_t n_diags;
	bool oom;
	const char *top; /* the path or buffer name given by the caller */
	EVP_MD_CTX *md;

	/* the source being read */
	int file; /* index into p->sources */
	const char *buf;
	size_t len, pos;
	unsigned line;
	char prev_key[POLICY_LINE_MAX + 1]; /* for continuation lines */
	bool prev_key_bad;                  /* its line was refused: drop its continuation lines */
	bool continuation;                  /* the line handed to inih continues prev_key */

	/* the current section */
	enum policy_sec sec; /* POLICY_SEC_NONE before the first header */
	bool skip;           /* refused header: ignore its keys quietly */
	size_t idx;          /* client or deny index */
	char *sec_name;      /* as written, for diagnostics */

	struct policy_origin single[POLICY_SEC_MAX];
	struct policy_origin *client_o, *deny_o; /* parallel to p->clients, p->denies */
};

/* A diagnostic at file:line ([section] key may be NULL). */
__attribute__((format(printf, 6, 7))) void policy_parse_diag(struct policy_parse *ps,
							     const char *file, unsigned line,
							     const char *section, const char *key,
							     const char *fmt, ...);
/* The source being read (or the caller's path before any). */
const char *policy_parse_file(const struct policy_parse *ps);
void policy_origin_init(struct policy_origin *o);
/* Append a source to ps->p->sources, feed it to the digest and parse it into ps->p. Problems
 * become diagnostics; returns -errno only for what stops loading (ENOMEM, EFBIG). */
int policy_parse_source(struct policy_parse *ps, const char *name, const char *data, size_t len);
