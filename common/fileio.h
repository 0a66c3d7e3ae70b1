/* Small, safe file helpers. All return 0/positive or -errno. */
#pragma once
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#define FILEIO_MAX_DEFAULT (16u * 1024 * 1024)

/* Read a whole file (at most max bytes; -EFBIG beyond) into a NUL-terminated buffer. */
int read_full_file(const char *path, size_t max, char **ret, size_t *ret_len);
int read_full_fd(int fd, size_t max, char **ret, size_t *ret_len);
/* Open a regular file read-only (O_NONBLOCK: a FIFO in its place cannot block us) and fstat
 * it into *ret_st: the fd, -EINVAL when it is not a regular file, else -errno. */
int fileio_open_regular(const char *path, struct stat *ret_st);
/* First line of a file, newline stripped (for /proc and /sys attributes). */
int read_one_line(const char *path, char **ret);
/* Write all of data to fd (retrying short writes and EINTR). */
int write_full_fd(int fd, const void *data, size_t len);
/* Write via a temporary file in the same directory, fsync, rename, fsync the directory. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);
/* mkdir -p with mode for each created component. */
int mkdir_p(const char *path, mode_t mode);
