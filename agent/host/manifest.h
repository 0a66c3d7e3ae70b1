/* Wine prefix manifests: the sha256 of every Windows executable file of a clean install, in
 * sha256sum format ("<64 hex>  <path>", a leading '\' marking a name with '\\' or '\n' escaped),
 * paths relative to the prefix (drive_c/Program Files/WXWork/WXWork.exe). The policy's
 * wine_manifest names one; `wxguard manifest create` writes one; the client.plugins check
 * compares a prefix against it. docs/wine.md. */
#pragma once
#include <stddef.h>

#include "common/hash.h"

struct manifest_ent {
	char *rel; /* path relative to the prefix */
	char sha256[HASH_SHA256_HEX];
};

struct manifest {
	struct manifest_ent *v; /* sorted by rel (strcmp) */
	size_t n;
};

/* Parse sha256sum text into *m (appends, then sorts). Lines that are not "<64 hex>  <path>" or
 * "<64 hex> *<path>" are skipped; leading "/" and "./" of a path are dropped; the hex is
 * lowercased. -ENOMEM only. */
int manifest_parse(const char *text, struct manifest *m);
/* The entry for `rel`, or NULL. */
const struct manifest_ent *manifest_find(const struct manifest *m, const char *rel);
/* The manifest of PREFIX: every regular file under PREFIX/drive_c named *.exe, *.dll, *.drv or
 * *.sys (any case), a symlink to one included with its target's content, directories reached
 * through symlinks not entered (Wine links the user's folders to $HOME). -ENOENT when
 * PREFIX/drive_c is missing; on another error *ret_path (if not NULL) gets the path that
 * failed (free it). */
int manifest_create(const char *prefix, struct manifest *ret, char **ret_path);
/* sha256sum text of m, one line per entry in m's order (sorted: stable output). */
int manifest_format(const struct manifest *m, char **ret);
void manifest_clear(struct manifest *m);
