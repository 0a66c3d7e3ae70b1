#include "common/hex.h"

#include <ctype.h>
#include <string.h>

size_t hex_span(const char *s, size_t max)
{
	size_t i;

	for (i = 0; i < max && s[i] && isxdigit((unsigned char)s[i]); i++)
		;
	return i;
}

bool hex_is_n(const char *s, size_t n)
{
	return s && hex_span(s, n) == n && s[n] == '\0';
}
