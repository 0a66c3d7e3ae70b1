/* Users from <root>/etc/passwd (the file only, not NSS: a fixture root has no NSS). */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

#include "agent/host/sysroot.h"

struct passwd_entry {
	const char *name;
	uid_t uid;
	const char *home; /* as written: may be empty or relative */
};

/* Call cb for every well-formed line (six fields or more, a numeric uid), in file order.
 * The entry is valid during the call only. cb returns 0 to go on, anything else stops the
 * walk and is returned. -errno when the file cannot be read. */
int passwd_foreach(const struct sysroot *sr,
		   int (*cb)(const struct passwd_entry *e, void *userdata), void *userdata);
/* Name and home of the first line for uid; either out may be NULL (free() them).
 * -ENOENT when passwd does not list the uid. */
int passwd_lookup_uid(const struct sysroot *sr, uid_t uid, char **ret_name, char **ret_home);
/* Uid and home of the first line for name; either out may be NULL (free() the home).
 * -ENOENT when passwd does not list the name. */
int passwd_lookup_name(const struct sysroot *sr, const char *name, uid_t *ret_uid, char **ret_home);
/* A uid field: digits, optionally followed by white space. */
bool passwd_parse_uid(const char *s, uid_t *ret);
