/* Fuzz which .exe a Wine process runs (agent/host/wine_exe.c): the input is an argv, arguments
 * separated by NUL bytes (a last argument "WINEPREFIX=..." sets the prefix instead), resolved
 * against a fixed tree with a Wine prefix, case variants, symlink loops and links out of the
 * prefix, built once in a temporary directory. Any input gives a canonical path of an existing
 * non-directory inside the tree, or one of the documented errors with the buffer untouched;
 * wine_exe_program_arg() agrees with wine_exe_resolve() on its errors. Corpus:
 * tests/fuzz/corpus/wine_exe/. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/host/sysroot.h"
#include "agent/host/wine_exe.h"
#include "common/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ARGS_MAX 16

static char root[64];
static struct sysroot *sr;

static int rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(p);
	return 0;
}

static void cleanup(void)
{
	sysroot_free(sr);
	if (root[0])
		nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void put(const char *rel, const char *link_target)
{
	char p[PATH_MAX], dir[PATH_MAX], *slash;

	snprintf(p, sizeof(p), "%s%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", p);
	slash = strrchr(dir, '/');
	*slash = 0;
	if (mkdir_p(dir, 0755) < 0)
		abort();
	if (link_target ? symlink(link_target, p) < 0 : write_file_atomic(p, "MZ", 2, 0644) < 0)
		abort();
}

static void setup(void)
{
	snprintf(root, sizeof(root), "/tmp/fuzz_wine_exe.XXXXXX");
	if (!mkdtemp(root) || sysroot_new(root, &sr) < 0)
		abort();
	atexit(cleanup);
	put("/home/u/.wine/dosdevices/c:", "../drive_c");
	put("/home/u/.wine/dosdevices/z:", "/");
	put("/home/u/.wine/dosdevices/e:", "f:");
	put("/home/u/.wine/dosdevices/f:", "e:");
	put("/home/u/.wine/dosdevices/d:", "/media/cd");
	put("/home/u/.wine/drive_c/windows/system32/notepad.exe", NULL);
	put("/home/u/.wine/drive_c/windows/system32/cmd.exe", NULL);
	put("/home/u/.wine/drive_c/windows/regedit.exe", NULL);
	put("/home/u/.wine/drive_c/Program Files/WXWork/WXWork.exe", NULL);
	put("/home/u/.wine/drive_c/Program Files/WXWork/wxwork.exe", NULL);
	put("/home/u/.wine/drive_c/users/u/Desktop", "/home/u/Desktop");
	put("/home/u/.wine/drive_c/loop", "loop");
	put("/home/u/.wine/drive_c/up", "../../../../../..");
	put("/home/u/Desktop/WeChat.exe", NULL);
	put("/home/u/app/x.exe", NULL);
	put("/home/u/app/sub/tool.com", NULL);
	put("/media/cd/setup.exe", NULL);
}

static bool known(int r)
{
	static const int errs[] = { EINVAL, ENOEXEC, ENODATA, ENAMETOOLONG, ENOENT, ENODEV, EXDEV,
				    ELOOP,  ENOTDIR, EISDIR,  EOPNOTSUPP,   ENOMEM, EACCES };

	for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++)
		if (r == -errs[i])
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *argv[ARGS_MAX];
	struct wine_exe_ctx ctx = { .argv = argv, .cwd = "/home/u/app", .home = "/home/u" };
	char *copy, path[PATH_MAX], full[PATH_MAX * 2];
	struct stat st;
	size_t index;
	bool unix_path;
	int r, rp;

	if (!sr)
		setup();
	copy = malloc(size + 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	copy[size] = 0;
	for (char *p = copy; ctx.argc < ARGS_MAX && p <= copy + size; p += strlen(p) + 1)
		argv[ctx.argc++] = p;
	if (ctx.argc > 1 && strncmp(argv[ctx.argc - 1], "WINEPREFIX=", 11) == 0)
		ctx.wineprefix = argv[--ctx.argc] + 11;

	memset(path, 0x5a, sizeof(path));
	r = wine_exe_resolve(sr, &ctx, path, sizeof(path));
	rp = wine_exe_program_arg(&ctx, &index, &unix_path);
	if (rp < 0 && r != rp)
		abort();
	if (rp == 0 && index > ctx.argc)
		abort();
	if (r < 0) {
		if (!known(r) || (unsigned char)path[0] != 0x5a)
			abort();
	} else {
		/* Canonical: absolute, no "." or ".." or empty component, an existing non-directory
		 * that is not a symlink. */
		if (path[0] != '/' || strstr(path, "//") || strstr(path, "/./") ||
		    strstr(path, "/../") || (strlen(path) > 1 && path[strlen(path) - 1] == '/'))
			abort();
		snprintf(full, sizeof(full), "%s%s", root, path);
		if (lstat(full, &st) < 0 || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
			abort();
	}
	free(copy);
	return 0;
}
