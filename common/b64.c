#include "common/b64.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void b64_encode_buf(const void *data, size_t len, char *out)
{
	const unsigned char *p = data;
	size_t i, o = 0;

	for (i = 0; i + 2 < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = alphabet[v >> 6 & 63];
		out[o++] = alphabet[v & 63];
	}
	if (i < len) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < len ? (uint32_t)p[i + 1] << 8 : 0);

		out[o++] = alphabet[v >> 18 & 63];
		out[o++] = alphabet[v >> 12 & 63];
		out[o++] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
}

int b64_encode(const void *data, size_t len, char **ret)
{
	char *out;

	if (len > (SIZE_MAX / 4) * 3 - 3)
		return -ENOMEM;
	out = malloc(B64_ENCODED_LEN(len) + 1);
	if (!out)
		return -ENOMEM;
	b64_encode_buf(data, len, out);
	*ret = out;
	return 0;
}

static int val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decode into out (room for 3 * slen / 4 bytes); returns the decoded length or -EINVAL. */
static long decode(const char *s, size_t slen, unsigned char *out)
{
	size_t o = 0;

	if (slen % 4)
		return -EINVAL;
	for (size_t i = 0; i < slen; i += 4) {
		int a = val(s[i]), b = val(s[i + 1]), c = val(s[i + 2]), d = val(s[i + 3]);
		int last = i + 4 == slen;

		if (a < 0 || b < 0)
			return -EINVAL;
		if (c < 0 || d < 0) {
			/* Padding: only in the last quantum, "xx==" or "xxx=". */
			if (!last || s[i + 3] != '=' || (c < 0 && s[i + 2] != '='))
				return -EINVAL;
			if (c < 0) {
				if (b & 15)
					return -EINVAL;
				out[o++] = (unsigned char)(a << 2 | b >> 4);
			} else {
				if (c & 3)
					return -EINVAL;
				out[o++] = (unsigned char)(a << 2 | b >> 4);
				out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
			}
			break;
		}
		out[o++] = (unsigned char)(a << 2 | b >> 4);
		out[o++] = (unsigned char)((b & 15) << 4 | c >> 2);
		out[o++] = (unsigned char)((c & 3) << 6 | d);
	}
	return (long)o;
}

int b64_decode(const char *s, unsigned char **ret, size_t *ret_len)
{
	size_t slen = strlen(s);
	unsigned char *out;
	long n;

	out = malloc(slen / 4 * 3 + 1);
	if (!out)
		return -ENOMEM;
	n = decode(s, slen, out);
	if (n < 0) {
		free(out);
		return (int)n;
	}
	out[n] = 0;
	*ret = out;
	*ret_len = (size_t)n;
	return 0;
}

int b64_decode_exact(const char *s, void *out, size_t len)
{
	size_t slen = strlen(s);
	unsigned char buf[512];
	long n;

	if (slen != B64_ENCODED_LEN(len) || slen / 4 * 3 > sizeof(buf))
		return -EINVAL;
	n = decode(s, slen, buf);
	if (n < 0 || (size_t)n != len)
		return -EINVAL;
	memcpy(out, buf, len);
	return 0;
}
