#include "common/dir.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/strv.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int dir_list_names(DIR *d, dir_filter_fn filter, void *userdata, struct strv *ret)
{
	struct strv names = { 0 };
	struct dirent *de;
	int r = 0;

	if (!d)
		return errno ? -errno : -EINVAL;
	while ((errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (filter && !filter(de, userdata))
			continue;
		r = strv_push(&names, de->d_name);
		if (r < 0)
			goto out;
	}
	if (errno) {
		r = -errno;
		goto out;
	}
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), cmp_str);
	*ret = names;
	names = (struct strv){ 0 };
out:
	strv_clear(&names);
	closedir(d);
	return r;
}

int dir_list(const char *path, dir_filter_fn filter, void *userdata, struct strv *ret)
{
	errno = 0;
	return dir_list_names(opendir(path), filter, userdata, ret);
}

bool dir_filter_visible(const struct dirent *de, void *userdata)
{
	(void)userdata;
	return de->d_name[0] != '.';
}

bool dir_filter_numeric(const struct dirent *de, void *userdata)
{
	const char *p = de->d_name;

	(void)userdata;
	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}
