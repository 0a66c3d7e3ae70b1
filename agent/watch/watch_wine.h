/* Judging a process an approved Wine loader starts, by what it runs rather than by its name
 * (issue 10, docs/wine.md "What the watcher allows in the client's prefix"): the .exe it is asked
 * to run (agent/host/wine_exe.c), found through the prefix as Wine finds it, identified by its
 * sha256 and its PE version resource.
 *   - In the client's prefix (wine_prefix) with a manifest (wine_manifest): only the manifest's
 *     files run there, each with its digest. Anything else, or a file that cannot be told, is
 *     refused (fail closed: the client's own launchers always name a file that can be).
 *   - Anywhere: a program whose version resource names a denied client (OriginalFilename or
 *     ProductName matched against the policy's deny sections: a WeChat.exe renamed notepad.exe
 *     is still WeChat) is refused.
 *   - The client's program (its argv pattern) outside its prefix is refused when the policy
 *     names the prefix (a second copy in another prefix).
 *   - Everything else (another program in another prefix, Wine's own processes) is left alone.
 * Part of agent/watch; the caller (watch_judge.c) acts on the verdict and reports it. */
#pragma once
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agent/host/sysroot.h"
#include "common/policy/policy.h"

struct watch_wine_verdict {
	bool deny;
	bool own_prefix;          /* the process uses the client's prefix (wine_prefix) */
	char program[PATH_MAX];   /* the argument that named the program, as given ("" unknown) */
	char exe[PATH_MAX];       /* its Unix path ("" when it could not be resolved) */
	char prefix[PATH_MAX];    /* the prefix the process uses ("" unknown) */
	char sha256[65];          /* of exe ("" when not read) */
	char family[16];          /* by the version resource: other, tencent, wechat, wecom */
	char why[PATH_MAX + 128]; /* what decided, for the event's detail ("" when allowed) */
};

/* Judge process pid (an approved Wine loader's exec) for client c of policy p. home is the
 * process's user's home (may be NULL). *ret is always filled; -errno only when the process
 * could not be read at all (gone: nothing to judge, *ret says allow). */
int watch_wine_judge(const struct sysroot *sr, const struct policy *p,
		     const struct policy_client *c, pid_t pid, const char *home,
		     struct watch_wine_verdict *ret);

/* Why path (a file the kernel refused to map for client c: bpf/watch_mmap.bpf.h) is not one of
 * the manifest's files of c's prefix under home: 1 with why filled, 0 when path is not in that
 * prefix, -errno when the manifest cannot be read. */
int watch_wine_image_why(const struct sysroot *sr, const struct policy_client *c, const char *home,
			 const char *path, char *why, size_t size);
