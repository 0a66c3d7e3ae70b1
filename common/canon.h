/* Canonical JSON for signatures (docs/protocol.md, "Canonical bytes and signatures").
 * Canonical bytes = jansson JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII, no trailing
 * newline. Only objects, arrays, strings, integers, booleans and null are allowed: a real
 * number anywhere is refused, because its text form is not stable across implementations. */
#pragma once
#include <stddef.h>
#include <jansson.h>

#include "common/hash.h"

#define CANON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
/* Deeper nesting is refused (-ELOOP); protocol messages nest 4 levels. */
#define CANON_MAX_DEPTH 32

/* Serialize j canonically into a new NUL-terminated buffer (*out, free()); *len (may be NULL)
 * excludes the NUL. 0; -EINVAL for NULL or a real number inside; -ELOOP too deep; -ENOMEM.
 * out and len are touched only on success. */
int canon_dump(const json_t *j, char **out, size_t *len);
/* SHA-256 (lowercase hex) of canon_dump(j): the chain hash `prev_hash` of a report. */
int canon_sha256(const json_t *j, char hex[HASH_SHA256_HEX]);
