/* The policy's sections and keys (one table) and the checks on their values. */
#include "common/policy/policy_internal.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

_Static_assert(sizeof(enum policy_mode) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum policy_disk_encryption) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum policy_reboot) == sizeof(int), "enums are stored as int");

static const char *const mode_names[] = { "audit", "enforce", NULL };
static const char *const disk_names[] = { "off", "warn", "require", NULL };
static const char *const reboot_names[] = { "ignore", "warn", "fail", NULL };

const char *const policy_sec_names[POLICY_SEC_MAX] = {
	[POLICY_SEC_NONE] = "",
	[POLICY_SEC_POLICY] = "policy",
	[POLICY_SEC_SCREEN_LOCK] = "screen_lock",
	[POLICY_SEC_PATCHES] = "patches",
	[POLICY_SEC_ANTIVIRUS] = "antivirus",
	[POLICY_SEC_DEVICE] = "device",
	[POLICY_SEC_SCAN] = "scan",
	[POLICY_SEC_WATCH] = "watch",
	[POLICY_SEC_CLIENT] = "client",
	[POLICY_SEC_DENY] = "deny",
};

#define S(sec, name, kind, flags, type, field)                                         \
	{                                                                              \
		POLICY_SEC_##sec, name, kind, flags, offsetof(type, field), 0, 0, NULL \
	}
#define N(sec, name, kind, type, field, min, max)                                      \
	{                                                                              \
		POLICY_SEC_##sec, name, kind, 0, offsetof(type, field), min, max, NULL \
	}
#define E(sec, name, type, field, names)                                               \
	{                                                                              \
		POLICY_SEC_##sec, name, PV_ENUM, 0, offsetof(type, field), 0, 0, names \
	}

/* Order is the order of policy_format()'s output. Ranges are documented in docs/policy.md. */
const struct policy_key policy_keys[] = {
	S(POLICY, "name", PV_TEXT, 0, struct policy, name),
	S(POLICY, "version", PV_TEXT, PK_OPTIONAL, struct policy, version),
	E(POLICY, "mode", struct policy, mode, mode_names),
	N(POLICY, "report_interval", PV_UINT, struct policy, report_interval, 10, 604800),

	S(SCREEN_LOCK, "required", PV_BOOL, 0, struct policy_screen_lock, required),
	N(SCREEN_LOCK, "max_idle_seconds", PV_UINT, struct policy_screen_lock, max_idle_seconds, 1,
	  86400),
	N(SCREEN_LOCK, "max_lock_delay_seconds", PV_UINT, struct policy_screen_lock,
	  max_lock_delay_seconds, 0, 3600),
	S(SCREEN_LOCK, "remediate", PV_BOOL, 0, struct policy_screen_lock, remediate),

	S(PATCHES, "required", PV_BOOL, 0, struct policy_patches, required),
	N(PATCHES, "max_pending_security", PV_UINT, struct policy_patches, max_pending_security, 0,
	  100000),
	N(PATCHES, "max_list_age_days", PV_UINT, struct policy_patches, max_list_age_days, 1, 365),
	S(PATCHES, "min_kernel", PV_KERNEL, PK_OPTIONAL, struct policy_patches, min_kernel),
	E(PATCHES, "reboot_required", struct policy_patches, reboot_required, reboot_names),
	N(PATCHES, "cache_ttl_seconds", PV_UINT, struct policy_patches, cache_ttl_seconds, 0,
	  604800),

	S(ANTIVIRUS, "required", PV_BOOL, 0, struct policy_antivirus, required),
	S(ANTIVIRUS, "products", PV_COMM, PK_LIST, struct policy_antivirus, products),
	S(ANTIVIRUS, "process_names", PV_COMM, PK_LIST, struct policy_antivirus, process_names),
	N(ANTIVIRUS, "max_signature_age_days", PV_UINT, struct policy_antivirus,
	  max_signature_age_days, 1, 365),

	E(DEVICE, "disk_encryption", struct policy_device, disk_encryption, disk_names),
	N(DEVICE, "min_ptrace_scope", PV_INT, struct policy_device, min_ptrace_scope, 0, 3),

	S(SCAN, "home_dirs", PV_ABS_GLOB, PK_LIST, struct policy_scan, home_dirs),
	N(SCAN, "max_depth", PV_UINT, struct policy_scan, max_depth, 1, 32),
	N(SCAN, "max_entries", PV_UINT, struct policy_scan, max_entries, 1, 10000000),

	S(WATCH, "notify", PV_BOOL, 0, struct policy_watch, notify),
	S(WATCH, "attachment_exec", PV_BOOL, 0, struct policy_watch, attachment_exec),

	S(CLIENT, "display_name", PV_TEXT, PK_OPTIONAL, struct policy_client, display_name),
	S(CLIENT, "comm", PV_COMM, PK_LIST, struct policy_client, comm),
	S(CLIENT, "exe", PV_ABS_GLOB, PK_LIST, struct policy_client, exe),
	S(CLIENT, "argv", PV_GLOB, PK_LIST, struct policy_client, argv),
	S(CLIENT, "package", PV_PACKAGE, PK_OPTIONAL, struct policy_client, package),
	S(CLIENT, "sha256", PV_SHA256, PK_OPTIONAL, struct policy_client, sha256),
	S(CLIENT, "lib_dirs", PV_LIB_DIR, PK_LIST, struct policy_client, lib_dirs),
	S(CLIENT, "wine_prefix", PV_HOME_REL, PK_OPTIONAL, struct policy_client, wine_prefix),
	S(CLIENT, "wine_manifest", PV_ABS_PATH, PK_OPTIONAL, struct policy_client, wine_manifest),
	N(CLIENT, "max_instances", PV_UINT, struct policy_client, max_instances, 0, 1000),

	S(DENY, "display_name", PV_TEXT, PK_OPTIONAL, struct policy_deny, display_name),
	S(DENY, "comm", PV_COMM, PK_LIST, struct policy_deny, comm),
	S(DENY, "exe", PV_ABS_GLOB, PK_LIST, struct policy_deny, exe),
	S(DENY, "argv", PV_GLOB, PK_LIST, struct policy_deny, argv),
	S(DENY, "packages", PV_PACKAGE, PK_LIST, struct policy_deny, packages),
	S(DENY, "files", PV_BASENAME_GLOB, PK_LIST, struct policy_deny, files),
};
const size_t policy_n_keys = sizeof(policy_keys) / sizeof(policy_keys[0]);
_Static_assert(sizeof(policy_keys) / sizeof(policy_keys[0]) <= POLICY_KEYS_MAX,
	       "raise POLICY_KEYS_MAX");

int policy_key_find(enum policy_sec sec, const char *name)
{
	for (size_t i = 0; i < policy_n_keys; i++)
		if (policy_keys[i].sec == sec && strcmp(policy_keys[i].name, name) == 0)
			return (int)i;
	return -1;
}

void *policy_sec_base(struct policy *p, enum policy_sec sec, size_t idx)
{
	switch (sec) {
	case POLICY_SEC_POLICY: return p;
	case POLICY_SEC_SCREEN_LOCK: return &p->screen_lock;
	case POLICY_SEC_PATCHES: return &p->patches;
	case POLICY_SEC_ANTIVIRUS: return &p->antivirus;
	case POLICY_SEC_DEVICE: return &p->device;
	case POLICY_SEC_SCAN: return &p->scan;
	case POLICY_SEC_WATCH: return &p->watch;
	case POLICY_SEC_CLIENT: return &p->clients[idx];
	case POLICY_SEC_DENY: return &p->denies[idx];
	default: return NULL;
	}
}

static int fail(char *err, size_t size, const char *fmt, const char *s)
{
	snprintf(err, size, fmt, s);
	return -EINVAL;
}

int policy_value_bool(const char *s, bool *ret)
{
	static const char *const yes[] = { "yes", "true", "1", "on" };
	static const char *const no[] = { "no", "false", "0", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int policy_value_number(const char *s, long min, long max, long *ret, char *err, size_t size)
{
	unsigned long long v = 0;
	const char *c = s;

	if (!*c)
		goto bad;
	for (; *c; c++) {
		if (*c < '0' || *c > '9')
			goto bad;
		v = v * 10 + (unsigned)(*c - '0');
		if (v > (unsigned long long)LONG_MAX)
			goto range;
	}
	if ((long)v < min || (long)v > max)
		goto range;
	*ret = (long)v;
	return 0;
bad:
	snprintf(err, size, "'%s' is not a number: write a whole number from %ld to %ld", s, min,
		 max);
	return -EINVAL;
range:
	snprintf(err, size, "%s is out of range: write a whole number from %ld to %ld", s, min,
		 max);
	return -EINVAL;
}

int policy_value_enum(const char *s, const char *const *names, int *ret, char *err, size_t size)
{
	size_t len = 0;
	int n;

	for (n = 0; names[n]; n++)
		if (strcasecmp(s, names[n]) == 0) {
			*ret = n;
			return 0;
		}
	len = (size_t)snprintf(err, size, "'%s' is not allowed: use ", s);
	for (int i = 0; i < n && len < size; i++)
		len += (size_t)snprintf(err + len, size - len, "%s%s", names[i],
					i + 2 < n    ? ", "
					: i + 2 == n ? " or "
						     : "");
	return -EINVAL;
}

bool policy_value_id_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > POLICY_ID_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

bool policy_value_utf8_ok(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s, *end = u + len;

	while (u < end) {
		unsigned c = *u, need;
		unsigned long cp;

		if (c < 0x80) {
			u++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			need = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3, cp = c & 0x07;
		else
			return false;
		if ((size_t)(end - u) <= need)
			return false;
		for (unsigned i = 1; i <= need; i++) {
			if ((u[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (u[i] & 0x3f);
		}
		/* overlong, surrogates, beyond U+10FFFF */
		if ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
		    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return false;
		u += need + 1;
	}
	return true;
}

bool policy_value_has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static bool has_dotdot(const char *s)
{
	for (const char *c = s; (c = strstr(c, "..")); c += 2)
		if ((c == s || c[-1] == '/') && (c[2] == 0 || c[2] == '/'))
			return true;
	return false;
}

/* fnmatch(3) itself accepts anything; reject what is almost surely a typo. */
static int check_glob(const char *s, char *err, size_t size)
{
	for (const char *c = s; *c; c++) {
		const char *j;

		if (*c != '[')
			continue;
		j = c + 1;
		if (*j == '!' || *j == '^')
			j++;
		if (*j == ']')
			j++;
		while (*j && *j != ']')
			j++;
		if (!*j)
			return fail(err, size, "'%s': '[' without a closing ']' in the glob", s);
		c = j;
	}
	return 0;
}

static int check_package(const char *s, char *err, size_t size)
{
	if (strlen(s) > 128 || !isalnum((unsigned char)s[0]))
		goto bad;
	for (const char *c = s; *c; c++)
		if (!isalnum((unsigned char)*c) && !strchr("+-._", *c))
			goto bad;
	return 0;
bad:
	return fail(err, size, "'%s' is not a package name (letters, digits, '+', '-', '.', '_')",
		    s);
}

static int check_kernel(const char *s, char *err, size_t size)
{
	unsigned parts = 0, digits = 0;

	for (const char *c = s;; c++) {
		if (*c >= '0' && *c <= '9') {
			if (++digits > 5)
				goto bad;
			continue;
		}
		if (digits == 0 || ++parts > 4)
			goto bad;
		if (*c == 0)
			return 0;
		if (*c != '.')
			goto bad;
		digits = 0;
	}
bad:
	return fail(err, size, "'%s' is not a kernel version: write it like 5.10 or 6.1.0", s);
}

static int check_path(const char *s, bool glob, char *err, size_t size)
{
	if (has_dotdot(s))
		return fail(err, size, "'%s': paths must not contain '..'", s);
	if (!glob && policy_value_has_glob(s))
		return fail(err, size, "'%s': a path, not a glob, is needed here", s);
	return glob ? check_glob(s, err, size) : 0;
}

int policy_value_check(enum policy_vkind k, const char *s, char *err, size_t size)
{
	size_t n = strlen(s);

	if (n == 0)
		return fail(err, size, "empty value%s", "");
	if (s[0] == ';')
		return fail(err, size, "'%s': a value must not start with ';'", s);
	if (n >= 2 && (s[0] == '"' || s[0] == '\'') && s[n - 1] == s[0])
		return fail(err, size, "%s: values are written without quotes", s);
	switch (k) {
	case PV_TEXT:
		if (n > POLICY_TEXT_MAX)
			return fail(err, size, "longer than %s bytes", "160");
		return 0;
	case PV_SHA256:
		if (n != 64 || strspn(s, "0123456789abcdefABCDEF") != 64)
			return fail(
				err, size,
				"'%s' is not a SHA-256 digest (64 hex digits, as sha256sum prints)",
				s);
		return 0;
	case PV_ABS_PATH:
		if (s[0] != '/')
			return fail(err, size,
				    "'%s' is not an absolute path (it must start with /)", s);
		return check_path(s, false, err, size);
	case PV_HOME_REL:
		if (str_startswith(s, "~/"))
			s += 2;
		if (!*s || s[0] == '/' || s[0] == '~')
			return fail(err, size,
				    "'%s': write a path under the home directory, like "
				    "~/.deepinwine/Deepin-WXWork",
				    s);
		return check_path(s, false, err, size);
	case PV_PACKAGE: return check_package(s, err, size);
	case PV_KERNEL: return check_kernel(s, err, size);
	case PV_COMM:
		if (n > POLICY_COMM_MAX)
			return fail(err, size,
				    "'%s' is longer than 15 bytes; the kernel truncates process "
				    "names (TASK_COMM_LEN), so write the first 15",
				    s);
		if (policy_value_has_glob(s) || strchr(s, '/'))
			return fail(
				err, size,
				"'%s': a process name is matched exactly: no '/', '*', '?' or '['",
				s);
		return 0;
	case PV_ABS_GLOB:
		if (s[0] != '/')
			return fail(err, size,
				    "'%s' is not an absolute path (it must start with /)", s);
		return check_path(s, true, err, size);
	case PV_GLOB: return check_glob(s, err, size);
	case PV_LIB_DIR:
		if (s[0] != '/' && !str_startswith(s, "~/"))
			return fail(err, size,
				    "'%s' is not an absolute directory (start with / or ~/)", s);
		if (strcmp(s, "/") == 0 || strcmp(s, "~/") == 0 || strcmp(s, "/*") == 0)
			return fail(err, size, "'%s' would approve every file: name a directory",
				    s);
		return check_path(s, true, err, size);
	case PV_BASENAME_GLOB:
		if (strchr(s, '/'))
			return fail(err, size, "'%s': a file name glob is needed here, without '/'",
				    s);
		return check_glob(s, err, size);
	default: return fail(err, size, "internal error: not a string kind%s", "");
	}
}
