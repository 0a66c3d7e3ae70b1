#include "common/strv.h"

#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

int strv_push_take(struct strv *s, char *str)
{
	char **nv;

	if (!str)
		return -ENOMEM;
	nv = realloc(s->v, (s->n + 2) * sizeof(char *));
	if (!nv) {
		free(str);
		return -ENOMEM;
	}
	nv[s->n++] = str;
	nv[s->n] = NULL;
	s->v = nv;
	return 0;
}

int strv_push(struct strv *s, const char *str)
{
	return strv_push_take(s, strdup(str));
}

int strv_split(struct strv *s, const char *list, const char *seps)
{
	char *copy, *save = NULL, *tok;
	int r = 0;

	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, seps, &save); tok; tok = strtok_r(NULL, seps, &save)) {
		str_strip(tok);
		if (!*tok)
			continue;
		r = strv_push(s, tok);
		if (r < 0)
			break;
	}
	free(copy);
	return r;
}

void strv_clear(struct strv *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

bool strv_contains(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

int strv_fnmatch_any(const struct strv *s, const char *str, int flags)
{
	for (size_t i = 0; i < s->n; i++)
		if (fnmatch(s->v[i], str, flags) == 0)
			return (int)i;
	return -1;
}

char *strv_join(const struct strv *s, const char *sep)
{
	size_t len = 1, sl = strlen(sep);
	char *out, *p;

	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + sl;
	out = malloc(len);
	if (!out)
		return NULL;
	p = out;
	*p = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			p = stpcpy(p, sep);
		p = stpcpy(p, s->v[i]);
	}
	return out;
}

char *str_strip(char *str)
{
	size_t len;
	char *start = str;

	while (*start && isspace((unsigned char)*start))
		start++;
	len = strlen(start);
	while (len && isspace((unsigned char)start[len - 1]))
		len--;
	memmove(str, start, len);
	str[len] = 0;
	return str;
}

bool str_startswith(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool str_endswith(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && memcmp(s + a - b, suffix, b) == 0;
}
