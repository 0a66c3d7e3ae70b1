/* Directory listings: the readdir loop written once. */
#pragma once
#include <dirent.h>
#include <stdbool.h>

struct strv;

/* Keep an entry? "." and ".." never reach the filter. NULL keeps everything. */
typedef bool (*dir_filter_fn)(const struct dirent *de, void *userdata);

/* Names in d (closed on return, whatever happens), filtered, sorted with strcmp. d may be NULL:
 * then the errno of the failed opendir() is returned. */
int dir_list_names(DIR *d, dir_filter_fn filter, void *userdata, struct strv *ret);
/* The same for a path. */
int dir_list(const char *path, dir_filter_fn filter, void *userdata, struct strv *ret);
/* Filters for the common cases. */
bool dir_filter_visible(const struct dirent *de, void *userdata); /* no leading '.' */
bool dir_filter_numeric(const struct dirent *de, void *userdata); /* all digits (/proc/PID) */
