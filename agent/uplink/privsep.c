#include "agent/uplink/privsep.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int privsep_lookup_user(const char *name, uid_t *uid, gid_t *gid)
{
	static const char *const dflt[] = { "wxguard", "_wxguard", "nobody" };
	struct passwd *pw = NULL;

	if (name) {
		pw = getpwnam(name);
		if (!pw)
			return -ESRCH;
	} else
		for (size_t i = 0; i < sizeof(dflt) / sizeof(dflt[0]) && !pw; i++)
			pw = getpwnam(dflt[i]);
	if (!pw) {
		*uid = 65534;
		*gid = 65534;
		return 0;
	}
	if (pw->pw_uid == 0 || pw->pw_gid == 0)
		return -EPERM;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v >= 0 && v < 64 ? v : 63;
}

static int caps_clear(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

static int caps_all_zero(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = { 0 };

	if (syscall(SYS_capget, &h, d) < 0)
		return -errno;
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return -EPERM;
	return 0;
}

#define STEP(s)              \
	do {                 \
		*step = (s); \
		goto fail;   \
	} while (0)

int privsep_drop(bool switch_user, uid_t uid, gid_t gid, const char **step)
{
	uid_t ru, eu, su;
	gid_t rg, eg, sg;
	const char *dummy;
	int r, lc = last_cap();

	if (!step)
		step = &dummy;
	*step = "";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		STEP("clear ambient capabilities");
	/* Needs CAP_SETPCAP (a service whose bounding set lacks it keeps that set; with no
	 * capabilities left and no_new_privs nothing in it can be regained). */
	for (int cap = 0; cap <= lc; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL && errno != EPERM)
			STEP("drop the capability bounding set");
	if (switch_user) {
		if (setgroups(0, NULL) < 0)
			STEP("setgroups");
		if (setresgid(gid, gid, gid) < 0)
			STEP("setresgid");
		if (setresuid(uid, uid, uid) < 0)
			STEP("setresuid");
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		STEP("PR_SET_NO_NEW_PRIVS");
	if (caps_clear() < 0 && switch_user)
		STEP("capset");
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		STEP("PR_SET_DUMPABLE");
	/* Verify. */
	if (switch_user) {
		if (getresuid(&ru, &eu, &su) < 0 || ru != uid || eu != uid || su != uid)
			STEP("verify uid");
		if (getresgid(&rg, &eg, &sg) < 0 || rg != gid || eg != gid || sg != gid)
			STEP("verify gid");
		if (getgroups(0, NULL) != 0)
			STEP("verify supplementary groups");
		if (setuid(0) == 0 || setgid(0) == 0) {
			errno = EPERM;
			STEP("verify that root cannot be regained");
		}
		r = caps_all_zero();
		if (r < 0) {
			errno = -r;
			STEP("verify capabilities");
		}
	}
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		errno = EPERM;
		STEP("verify no_new_privs");
	}
	return 0;
fail:
	return errno ? -errno : -EPERM;
}
