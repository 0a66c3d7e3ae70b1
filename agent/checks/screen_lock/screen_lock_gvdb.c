/* screen_lock: just enough of GVDB (dconf's binary database, e.g. ~/.config/dconf/user) and of
 * GVariant text to read one number or boolean. Every offset is checked against the file size:
 * the user owns that file and may write anything into it.
 *
 * GVDB layout (glib's gvdb-format.h): a 24-byte header ("GVariant", version 0, options, root
 * pointer), the root hash table (bloom words, buckets, then 24-byte items). An item names one
 * path segment relative to its parent item ("/", "org/", ..., "idle-delay"); type 'v' items
 * point at a serialized GVariant variant: the data, a NUL, then the type string. Structure
 * fields are little-endian; values are in the writer's byte order, which the signature tells. */
#include "agent/checks/screen_lock/screen_lock.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define GVDB_HEADER_SIZE 24u
#define GVDB_ITEM_SIZE 24u
#define GVDB_NO_PARENT 0xffffffffu
#define GVDB_MAX_DEPTH 64

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* An unsigned integer of n bytes in the value's byte order. */
static uint64_t uint_n(const unsigned char *p, size_t n, bool big_endian)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)p[big_endian ? n - 1 - i : i] << (8 * i);
	return v;
}

static int variant_number(const unsigned char *v, size_t len, bool big_endian, long *ret)
{
	const unsigned char *nul = NULL;
	const char *type;
	size_t dlen, tlen;
	uint64_t u;

	for (size_t i = len; i > 0; i--)
		if (v[i - 1] == 0) {
			nul = v + i - 1;
			break;
		}
	if (!nul)
		return -EBADMSG;
	dlen = (size_t)(nul - v);
	type = (const char *)nul + 1;
	tlen = len - dlen - 1;
	if (tlen != 1)
		return -EINVAL; /* not a basic type: not one of ours */
	switch (type[0]) {
	case 'b':
	case 'y':
		if (dlen != 1)
			return -EBADMSG;
		*ret = v[0];
		if (type[0] == 'b' && v[0] > 1)
			return -EBADMSG;
		return 0;
	case 'n':
	case 'q':
		if (dlen != 2)
			return -EBADMSG;
		u = uint_n(v, 2, big_endian);
		*ret = type[0] == 'n' ? (long)(int16_t)u : (long)u;
		return 0;
	case 'i':
	case 'u':
		if (dlen != 4)
			return -EBADMSG;
		u = uint_n(v, 4, big_endian);
		*ret = type[0] == 'i' ? (long)(int32_t)u : (long)u;
		return 0;
	case 'x':
	case 't':
		if (dlen != 8)
			return -EBADMSG;
		u = uint_n(v, 8, big_endian);
		if (type[0] == 't' && u > (uint64_t)LONG_MAX)
			return -ERANGE;
		*ret = (long)(int64_t)u;
		return 0;
	default: return -EINVAL;
	}
}

int screen_lock_gvdb_lookup_number(const void *data, size_t size, const char *key, long *ret)
{
	const unsigned char *d = data, *items;
	uint32_t root_start, root_end, n_bloom, n_buckets;
	size_t n_items, klen = strlen(key), hdr;
	bool big_endian;

	if (size < GVDB_HEADER_SIZE)
		return -EBADMSG;
	if (memcmp(d, "GVariant", 8) == 0)
		big_endian = false;
	else if (memcmp(d, "raVGtnai", 8) == 0)
		big_endian = true;
	else
		return -EBADMSG;
	if (le32(d + 8) != 0)
		return -EBADMSG; /* version */
	root_start = le32(d + 16);
	root_end = le32(d + 20);
	if (root_start > root_end || root_end > size || root_end - root_start < 8 || root_start % 4)
		return -EBADMSG;
	n_bloom = le32(d + root_start) & ((1u << 27) - 1);
	n_buckets = le32(d + root_start + 4);
	hdr = 8 + 4 * ((size_t)n_bloom + n_buckets);
	if (hdr > root_end - root_start)
		return -EBADMSG;
	items = d + root_start + hdr;
	n_items = (root_end - root_start - hdr) / GVDB_ITEM_SIZE;

	for (size_t i = 0; i < n_items; i++) {
		const unsigned char *it = items + i * GVDB_ITEM_SIZE;
		size_t rest = klen; /* the part of key still to be matched, from its start */
		uint32_t cur = (uint32_t)i;
		int depth = 0;
		bool match = false;

		if (it[14] != 'v')
			continue;
		/* Match key from its end: this item's segment, then its parent's, up to the root.
		 */
		for (;;) {
			const unsigned char *ci = items + (size_t)cur * GVDB_ITEM_SIZE;
			uint32_t kstart = le32(ci + 8), parent = le32(ci + 4);
			uint16_t ksize = le16(ci + 12);

			if ((size_t)kstart + ksize > size || ksize > rest ||
			    memcmp(key + rest - ksize, d + kstart, ksize) != 0)
				break;
			rest -= ksize;
			if (parent == GVDB_NO_PARENT) {
				match = rest == 0;
				break;
			}
			if (parent >= n_items || ++depth > GVDB_MAX_DEPTH)
				break;
			cur = parent;
		}
		if (!match)
			continue;
		{
			uint32_t vs = le32(it + 16), ve = le32(it + 20);

			if (vs > ve || ve > size)
				return -EBADMSG;
			if (variant_number(d + vs, ve - vs, big_endian, ret) < 0)
				return -EBADMSG;
			return 1;
		}
	}
	return 0;
}

int screen_lock_parse_gvariant_number(const char *text, long *ret)
{
	static const char *const prefixes[] = { "uint32", "int32", "uint16", "int16", "uint64",
						"int64",  "byte",  "@u",     "@i",    "@q",
						"@n",     "@t",    "@x",     "@y",    "@b" };
	char buf[128], *s, *end;
	size_t len;
	long v;

	if (!text)
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", text);
	s = str_strip(buf);
	if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
		*ret = s[0] == 't';
		return 0;
	}
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		len = strlen(prefixes[i]);
		if (strncmp(s, prefixes[i], len) == 0 && isspace((unsigned char)s[len])) {
			s += len;
			while (isspace((unsigned char)*s))
				s++;
			if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
				*ret = s[0] == 't';
				return 0;
			}
			break;
		}
	}
	if (!*s || !(isdigit((unsigned char)*s) || *s == '-' || *s == '+'))
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}
