/* Lowercase hexadecimal strings (digests on the wire and in package databases). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Is s exactly n lowercase-or-uppercase hex digits and nothing more? NULL is not. */
bool hex_is_n(const char *s, size_t n);
/* The 64-hex-digit form of a SHA-256 digest. */
static inline bool hex_is_sha256(const char *s)
{
	return hex_is_n(s, 64);
}
/* How many hex digits s starts with, looking at most at max characters. */
size_t hex_span(const char *s, size_t max);
