/* A growable vector of owned strings. A zeroed struct strv is an empty vector. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

struct strv {
	char **v; /* NULL-terminated when n > 0 */
	size_t n;
};

int strv_push(struct strv *s, const char *str);
/* Takes ownership of str (freed on failure too). */
int strv_push_take(struct strv *s, char *str);
/* Append each element of a separated list (e.g. ",", ", \t"), trimmed; empty elements dropped. */
int strv_split(struct strv *s, const char *list, const char *seps);
void strv_clear(struct strv *s);
bool strv_contains(const struct strv *s, const char *str);
/* Index of the first glob in s that matches str with fnmatch(flags), or -1. */
int strv_fnmatch_any(const struct strv *s, const char *str, int flags);
/* Join with sep into a new string; NULL on ENOMEM. */
char *strv_join(const struct strv *s, const char *sep);

/* Trim ASCII whitespace in place; returns str. */
char *str_strip(char *str);
bool str_startswith(const char *s, const char *prefix);
bool str_endswith(const char *s, const char *suffix);
