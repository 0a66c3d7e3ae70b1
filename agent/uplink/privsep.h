/* Dropping privileges for good, for the agent's unprivileged helpers (the uplink child,
 * agent/uplink/uplink.h). OpenSSH/OpenBSD privsep style: switch user and group, no supplementary
 * groups, no capabilities in any set (effective, permitted, inheritable, ambient, and the
 * bounding set when CAP_SETPCAP allows), no_new_privs, not dumpable; then verify that none of it
 * can be undone. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

/* The user to run helpers as: name if given, else the first of "wxguard", "_wxguard", "nobody"
 * that exists, else 65534:65534. -ESRCH when a given name does not exist, -EPERM when it is root.
 */
int privsep_lookup_user(const char *name, uid_t *uid, gid_t *gid);

/* As root: become uid/gid with no capabilities. Not root (switch_user false): only
 * no_new_privs, non-dumpable and the capability sets this process may clear.
 * 0, or -errno naming the step's failure through *step (static text). */
int privsep_drop(bool switch_user, uid_t uid, gid_t gid, const char **step);
