/* Base64, RFC 4648 standard alphabet, padded, no line breaks (the wire format of keys,
 * signatures and nonces in docs/protocol.md). Decoding is strict: wrong length, bad
 * characters, whitespace, misplaced padding or non-zero trailing bits are -EINVAL. */
#pragma once
#include <stddef.h>

/* Length of the encoding of n bytes, without the NUL. */
#define B64_ENCODED_LEN(n) ((((n) + 2) / 3) * 4)

/* Encode len bytes into a new NUL-terminated string (*ret, free()). 0 or -ENOMEM. */
int b64_encode(const void *data, size_t len, char **ret);
/* Encode into a caller buffer of at least B64_ENCODED_LEN(len) + 1 bytes. */
void b64_encode_buf(const void *data, size_t len, char *out);
/* Decode a NUL-terminated string into a new buffer (*ret, free(); NUL-terminated for
 * convenience, *ret_len excludes it). 0, -EINVAL or -ENOMEM. */
int b64_decode(const char *s, unsigned char **ret, size_t *ret_len);
/* Decode a string that must encode exactly len bytes (keys: 32, signatures: 64) into out.
 * 0, or -EINVAL (bad encoding or other length). out is touched only on success. */
int b64_decode_exact(const char *s, void *out, size_t len);
