#include "common/canon.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int check(const json_t *j, unsigned depth)
{
	if (depth > CANON_MAX_DEPTH)
		return -ELOOP;
	switch (json_typeof(j)) {
	case JSON_REAL: return -EINVAL;
	case JSON_OBJECT: {
		const char *k;
		json_t *v;

		json_object_foreach ((json_t *)j, k, v) {
			int r = check(v, depth + 1);

			if (r < 0)
				return r;
		}
		return 0;
	}
	case JSON_ARRAY: {
		size_t i;
		json_t *v;

		json_array_foreach (j, i, v) {
			int r = check(v, depth + 1);

			if (r < 0)
				return r;
		}
		return 0;
	}
	default: return 0;
	}
}

int canon_dump(const json_t *j, char **out, size_t *len)
{
	char *s;
	int r;

	if (!j)
		return -EINVAL;
	r = check(j, 0);
	if (r < 0)
		return r;
	s = json_dumps(j, CANON_FLAGS | JSON_ENCODE_ANY);
	if (!s)
		return -ENOMEM;
	*out = s;
	if (len)
		*len = strlen(s);
	return 0;
}

int canon_sha256(const json_t *j, char hex[HASH_SHA256_HEX])
{
	char *s;
	size_t n;
	int r;

	r = canon_dump(j, &s, &n);
	if (r < 0)
		return r;
	r = hash_sha256_buf(s, n, hex);
	free(s);
	return r;
}
