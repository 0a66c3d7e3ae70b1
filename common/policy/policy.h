/* The policy: what an equipment rule set says, parsed from INI (docs/policy.md).
 * Unknown sections and keys are errors. A zeroed field means "not set"; policy_load()
 * fills the documented defaults before returning. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "common/hash.h"
#include "common/strv.h"

enum policy_mode {
	POLICY_MODE_AUDIT = 0,
	POLICY_MODE_ENFORCE = 1
};
enum policy_disk_encryption {
	POLICY_DISK_OFF = 0,
	POLICY_DISK_WARN = 1,
	POLICY_DISK_REQUIRE = 2
};
/* What a pending reboot (reboot-required, or a newer installed kernel) counts as. */
enum policy_reboot {
	POLICY_REBOOT_IGNORE = 0,
	POLICY_REBOOT_WARN = 1,
	POLICY_REBOOT_FAIL = 2
};

/* [client.<id>]: an approved client family. */
struct policy_client {
	char *id;           /* the <id> of the section */
	char *display_name; /* display_name = */
	struct strv comm;   /* comm = names seen at exec or after a comm rename (TASK_COMM_LEN) */
	struct strv exe;    /* exe = globs on the executable's absolute path */
	struct strv argv;   /* argv = globs on any argv element, e.g. *\WXWork.exe */
	char *package;      /* package = dpkg/rpm package that must own the files */
	char *sha256;       /* sha256 = optional pinned digest of the main binary (lowercase hex) */
	struct strv lib_dirs; /* lib_dirs = directories its libraries and DLLs may come from:
			       * absolute globs, or "~/..." relative to the user's home; each
			       * names a whole tree (policy_lib_dir_match()) */
	char *wine_prefix;    /* wine_prefix = prefix path relative to the user's home, stored
			       * without "~/" (e.g. ".deepinwine/Deepin-WXWork"); NULL if native */
	char *wine_manifest;  /* wine_manifest = sha256sum-format list of the prefix's DLL/EXE files
			       */
	unsigned max_instances; /* max_instances = per user; 0 = unlimited */
};

/* [deny.<id>]: a known third-party client. */
struct policy_deny {
	char *id;
	char *display_name;
	struct strv comm;
	struct strv exe;
	struct strv argv;
	struct strv packages; /* packages = dpkg/rpm package names */
	struct strv files; /* files = basename globs searched in home directories (AppImages...) */
};

struct policy_screen_lock {
	bool required;
	unsigned max_idle_seconds;       /* idle time before the screen saver / lock starts */
	unsigned max_lock_delay_seconds; /* grace between the screen saver starting and locking */
	bool remediate;                  /* enforce mode: write and lock system-wide settings */
};

struct policy_patches {
	bool required;
	unsigned max_pending_security; /* pending security updates allowed */
	unsigned max_list_age_days;    /* package lists older than this: fail */
	char *min_kernel;              /* e.g. "5.10"; NULL = no minimum */
	enum policy_reboot reboot_required;
	unsigned cache_ttl_seconds; /* package-manager query cache */
};

struct policy_antivirus {
	bool required;
	struct strv products;      /* products = clamav and/or names listed in process_names */
	struct strv process_names; /* process_names = comm names of other accepted products */
	unsigned max_signature_age_days;
};

struct policy_device {
	enum policy_disk_encryption disk_encryption;
	int min_ptrace_scope; /* 0..3 */
};

/* [scan]: bounds of the home-directory scan for denied clients. */
struct policy_scan {
	struct strv home_dirs; /* globs, default /home/wildcard and /root */
	unsigned max_depth;
	unsigned max_entries;
};

/* [watch]: the eBPF watcher (wxguard run). */
struct policy_watch {
	bool notify;          /* desktop notifications to the employee */
	bool attachment_exec; /* report (and in enforce mode kill) exec of files the client wrote */
};

struct policy {
	char *name;
	char *version;
	enum policy_mode mode;
	unsigned report_interval; /* [policy] report_interval = seconds between attestation reports
				   */

	struct policy_client *clients;
	size_t n_clients;
	struct policy_deny *denies;
	size_t n_denies;

	struct policy_screen_lock screen_lock;
	struct policy_patches patches;
	struct policy_antivirus antivirus;
	struct policy_device device;
	struct policy_scan scan;
	struct policy_watch watch;

	struct strv sources;          /* files loaded, in order */
	char sha256[HASH_SHA256_HEX]; /* over the bytes of every source, in order */
};

/* One problem found while loading. line is 0 when it concerns the whole file. */
struct policy_diag {
	char *file;
	unsigned line;
	char *section;
	char *key;
	char *message;
};

struct policy_diags {
	struct policy_diag *v;
	size_t n;
};

#define POLICY_DIR_DEFAULT "/etc/wxguard/policy.d"

/* Load a file, or every *.ini of a directory in name order (later files override keys).
 * On any diagnostic returns -EBADMSG (diags says why); -errno if a file cannot be read (with a
 * diag naming the file; an empty directory is -ENOENT). Diagnostics are appended to diags,
 * which may be NULL. *ret is set only on success. */
int policy_load(const char *path, struct policy **ret, struct policy_diags *diags);
/* Parse from memory (fuzzing, tests); name is used in diagnostics. */
int policy_load_buffer(const char *name, const char *data, size_t len, struct policy **ret,
		       struct policy_diags *diags);
void policy_free(struct policy *p);
/* Free what a policy owns and zero it, for a struct policy that is not itself on the heap
 * (tests build them by hand). Every string and list in it must be heap-allocated. */
void policy_clear(struct policy *p);
void policy_diags_clear(struct policy_diags *d);
/* "file:line: [section] key: message" into buf. */
void policy_diag_format(const struct policy_diag *d, char *buf, size_t size);

const char *policy_mode_to_string(enum policy_mode m);
const char *policy_disk_encryption_to_string(enum policy_disk_encryption d);
const char *policy_reboot_to_string(enum policy_reboot r);

/* The effective policy as canonical INI text: every section and key, defaults included.
 * Loading that text gives an equal policy (same policy_format() output). *ret: free(). */
int policy_format(const struct policy *p, char **ret);

/* Is path (absolute) inside one of the trees named by lib_dirs? Entries are globs matched
 * with FNM_NOESCAPE against the leading part of path ("/usr/lib" covers
 * /usr/lib/x86_64-linux-gnu/libc.so.6); "~/" entries are relative to home (skipped when
 * home is NULL). */
bool policy_lib_dir_match(const struct strv *lib_dirs, const char *home, const char *path);
