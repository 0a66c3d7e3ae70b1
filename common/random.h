/* Randomness from the kernel (getrandom), for identifiers, nonces and jitter. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#define RANDOM_UUID_LEN 37 /* 36 characters + NUL */

/* Fill buf from getrandom(); -errno when the kernel cannot (never a weaker source). */
int random_bytes(void *buf, size_t n);
/* A random 64-bit value for jitter: getrandom, or a clock-derived value if that fails. */
uint64_t random_u64(void);
/* A random (version 4) UUID in its lowercase text form; -errno from random_bytes(). */
int random_uuid(char out[RANDOM_UUID_LEN]);
