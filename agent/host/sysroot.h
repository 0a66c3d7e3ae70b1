/* Every check reads the system through a root prefix: "/" in production, a fixture tree in
 * tests. Commands (gsettings, apt-get, rpm...) run for real only when the root is "/"; under
 * a fixture root their output comes from <root>/.fixture/cmd/<key>.out (exit status from
 * <key>.status, default 0), so every branch can be tested without touching the machine. */
#pragma once
#include <dirent.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "common/dir.h"

struct strv;

struct sysroot {
	char *path;   /* "" for "/", else the prefix without a trailing slash */
	bool fixture; /* not the real root: commands come from fixture files */
};

int sysroot_new(const char *root, struct sysroot **ret);
void sysroot_free(struct sysroot *sr);

/* Prefix an absolute path: returns -ENAMETOOLONG if it does not fit. */
int sysroot_path(const struct sysroot *sr, const char *abs, char *buf, size_t size);
FILE *sysroot_fopen(const struct sysroot *sr, const char *abs, const char *mode);
DIR *sysroot_opendir(const struct sysroot *sr, const char *abs);
/* Names in <root>/abs that filter keeps (common/dir.h; NULL keeps all but "." and ".."),
 * sorted with strcmp: the readdir loop written once. -errno of opendir() or readdir(). */
int sysroot_list_dir(const struct sysroot *sr, const char *abs, dir_filter_fn filter,
		     void *userdata, struct strv *ret);
int sysroot_stat(const struct sysroot *sr, const char *abs, struct stat *st);
int sysroot_lstat(const struct sysroot *sr, const char *abs, struct stat *st);
bool sysroot_exists(const struct sysroot *sr, const char *abs);
/* readlink, result relative to the real system (as the link says). */
int sysroot_readlink(const struct sysroot *sr, const char *abs, char *buf, size_t size);
int sysroot_read_file(const struct sysroot *sr, const char *abs, size_t max, char **ret,
		      size_t *len);
int sysroot_read_line(const struct sysroot *sr, const char *abs, char **ret);
/* Write <root>/abs atomically (write_file_atomic), creating its parent directories (0755). */
int sysroot_write_file_atomic(const struct sysroot *sr, const char *abs, const void *data,
			      size_t len, mode_t mode);

/* Run argv (argv[0] looked up in PATH) as uid (or (uid_t)-1 for ourselves) with a timeout,
 * capture stdout (at most 4 MiB). key names the fixture file. Returns 0 and sets *ret_out and
 * *ret_status (the exit status, or 128+signal) when the command ran; -ENOENT when it is not
 * installed / has no fixture; -ETIMEDOUT when it was killed for taking too long. env may be
 * NULL (a minimal PATH/LANG=C environment is used) or extra "K=V" strings to add to it. */
int sysroot_run(const struct sysroot *sr, const char *key, const char *const argv[],
		const char *const env[], uid_t uid, unsigned timeout_ms, char **ret_out,
		int *ret_status);
