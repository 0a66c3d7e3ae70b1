/* Which Windows program a Wine process runs, and what it is: the user-space half of judging Wine
 * by content rather than by name (issue 10, docs/wine.md "Which .exe a Wine process runs").
 *
 * wine_exe_resolve() turns what the kernel shows of a Wine process into the Unix path of its
 * .exe, read through a sysroot (a fixture tree in tests). Two argv forms are understood:
 *
 *   at exec time   the loader and what it was asked to run, as the kernel passes them:
 *                  `wine64 C:\Program Files\WXWork\WXWork.exe`, `/usr/lib/wine/wine64 ./x.exe`,
 *                  `wine64-preloader /usr/lib/wine/wine64 x.exe`, `wine start /unix /p/x.exe`,
 *                  `wine start C:\x.exe`, `wine64 notepad`, and a Wine launcher script run by
 *                  its shell (`/bin/sh -e /usr/bin/wine x.exe`). argv[0]'s base name is a
 *                  loader (wine, wine64, wine-*, wine64-*, deepin-wine*) or a shell.
 *   running        a Wine process once started: Wine rewrites its argv to the Windows command
 *                  line, argv[0] the Windows path (C:\windows\system32\services.exe,
 *                  Z:\tmp\app\WXWorkWeb.exe, \\?\unix\home\u\x.exe). Any other argv[0].
 *
 * Names are looked up as Wine does (checked against Debian's Wine 8.0): a drive path through
 * <prefix>/dosdevices/<x>: (c: -> ../drive_c, z: -> /), each component of a Windows name matched
 * exactly, else without regard to ASCII case (the first match in strcmp order); '\' and '/' both
 * separate; "." and ".." are taken lexically; trailing dots and spaces of the last component are
 * dropped (`WeChat.exe. .` runs WeChat.exe). A ".." climbing above the drive's root (or above /
 * for a name relative to the cwd) is refused (-EXDEV) where Wine stops at the root: no launcher
 * writes one, and it names the file another way than it is. A name with a path is relative to
 * the cwd and taken as given (`wine64 ./WXWork` does not run WXWork.exe); a bare name
 * (`notepad`) is the file of that name in the cwd, else it is searched in the cwd, then
 * C:\windows\system32, C:\windows, system32\wbem, system32\WindowsPowershell\v1.0, as the name
 * itself when it has a '.' and then NAME.com and NAME.exe (start.exe's search, where Wine falls
 * back to). `start` searches the same way, also for a name with a path. Symbolic links are
 * followed inside the sysroot (absolute targets re-rooted), at most 40.
 *
 * A program in C:\windows\system32 that Wine also has as a builtin (notepad, cmd, winver...)
 * runs as Wine's builtin whatever the prefix's file holds, unless a DllOverrides entry asks for
 * native (seen with Wine 8.0: a WeChat copied over system32\notepad.exe does not run; over
 * C:\windows\regedit.exe it does). The path returned is still the prefix's file: judging it errs
 * towards refusing, and a system32 file that is not Wine's placeholder is a tampered prefix.
 *
 * Not modelled, each an error rather than a guess: 8.3 short names (PROGRA~1), UNC paths,
 * Wine's builtin programs that have no file in the prefix, registry App Paths. A bare name is
 * not searched in WINEPATH's directories (the PATH a process set for itself): a program found
 * only there gives -ENOENT, and a caller that finds WINEPATH set should not trust a bare-name
 * result.
 *
 * What argv says is a claim: a Wine process started by another Wine process gets the command
 * line its parent chose, and the image it maps comes from wineserver. For those, confirm the
 * result against the .exe the process actually maps (wine_exe_mapped()).
 *
 * wine_exe.c resolves; wine_exe_id.c identifies (wine_exe_identify(), wine_exe_family(),
 * wine_exe_mapped()). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/host/pe.h"
#include "agent/host/sysroot.h"
#include "common/hash.h"

/* Longest argument looked at: the longest Windows command line. Longer: -ENAMETOOLONG. */
#define WINE_EXE_ARG_MAX 32767
/* Largest file wine_exe_identify() digests (-EFBIG above). */
#define WINE_EXE_SIZE_MAX (1024ull * 1024 * 1024)

struct wine_exe_ctx {
	const char *const *argv; /* as /proc/PID/cmdline gives it */
	size_t argc;
	const char *cwd;        /* the process's cwd (readlink of /proc/PID/cwd), absolute */
	const char *wineprefix; /* its WINEPREFIX, NULL when unset */
	const char *home;       /* its HOME: the default prefix is $HOME/.wine */
};

/* The prefix the process uses: WINEPREFIX, else home/.wine, without trailing slashes.
 * -EINVAL when WINEPREFIX is set but not absolute (Wine refuses it too), or neither is usable;
 * -ENAMETOOLONG. */
int wine_exe_prefix(const struct wine_exe_ctx *ctx, char *buf, size_t size);

/* The argument that names the program and how: *ret_index is its index in ctx->argv,
 * *ret_unix true when it is a Unix path by Wine's rules (`start /unix`). A `start` without a
 * program runs cmd.exe: *ret_index is then ctx->argc. Errors: -EINVAL no argv, or an option of
 * `start` it does not accept (it exits then); -ENOEXEC argv[0] is a shell not running a Wine
 * launcher (`sh -c ...`, `bash run.sh`); -ENODATA the loader is asked for no program (alone,
 * --help, --version); -ENAMETOOLONG an argument over WINE_EXE_ARG_MAX. */
int wine_exe_program_arg(const struct wine_exe_ctx *ctx, size_t *ret_index, bool *ret_unix);

/* The Unix path (as the real system sees it, no sysroot prefix, symlinks resolved) of the
 * regular file the process runs. Errors, besides those of wine_exe_program_arg() and
 * wine_exe_prefix(): -ENOENT no such file (also a search that found nothing); -ENODEV a drive
 * letter the prefix does not map; -EXDEV a ".." above the root of its drive; -EOPNOTSUPP a UNC
 * or device path; -ELOOP more than 40 symbolic links; -ENOTDIR, -EISDIR; -ENAMETOOLONG a path
 * over PATH_MAX or size; -errno of lstat/readlink/opendir. path is touched only on success. */
int wine_exe_resolve(const struct sysroot *sr, const struct wine_exe_ctx *ctx, char *path,
		     size_t size);

struct wine_exe_id {
	char sha256[HASH_SHA256_HEX];
	uint64_t size;
	dev_t dev;
	ino_t ino;
	/* The version resource (agent/host/pe.h); all NULL for a PE without one. */
	struct pe_version version;
	bool has_version;
};

/* Identity of the file at path (a path as the real system sees it, read through sr): sha256,
 * size, device and inode, and the version resource, all from one open file descriptor. The
 * final component is not followed (pass a wine_exe_resolve() result). Errors: -ENOEXEC not a
 * regular file or not a PE file; -EBADMSG a malformed or truncated PE (treat as hostile);
 * -EFBIG over WINE_EXE_SIZE_MAX; -EAGAIN the file changed while it was read; -ELOOP a symlink;
 * -errno of open/read. *ret is touched only on success; clear it with wine_exe_id_clear(). */
int wine_exe_identify(const struct sysroot *sr, const char *path, struct wine_exe_id *ret);
/* Frees the version strings and zeroes *id; accepts NULL and a zeroed struct. */
void wine_exe_id_clear(struct wine_exe_id *id);

/* The .exe a running Wine process maps, from <root>/proc/PID/maps: the file named *.exe (any
 * case) mapped from offset 0. Wine maps the main image's headers from the file itself (WXWork.exe
 * at 0x140000000, seen with Wine 8.0), so this names the program the process runs whatever its
 * argv claims: confirm wine_exe_resolve()'s answer with it once the loader has mapped the image
 * (not yet at exec time). path gets the file as maps shows it (a " (deleted)" suffix kept),
 * *ret_dev and *ret_ino (either may be NULL) its device and inode, to compare with
 * wine_exe_identify()'s. Errors: -ENOENT no .exe mapped (yet), or no such process; -ENOTUNIQ
 * two different .exe files mapped (one loaded as data, for its version resource: look again);
 * -EBADMSG a line that is not a maps line; -EINVAL pid <= 0; -ENAMETOOLONG; -errno of reading
 * maps. */
int wine_exe_mapped(const struct sysroot *sr, pid_t pid, char *path, size_t size, dev_t *ret_dev,
		    ino_t *ret_ino);

/* What a file is by its version resource, whatever it is called. Tencent means CompanyName
 * contains "Tencent" or "腾讯" (any ASCII case); among those, WeCom when ProductName,
 * OriginalFilename or FileDescription names WXWork, WeCom, WeWork or 企业微信, else WeChat when
 * one names WeChat, Weixin or 微信; other Tencent programs (QQ, TxBugReport) are TENCENT.
 * WeCom's own package ships WeChat-named helpers (WeChatAppEx.exe, WeChatOCR.exe): judge by the
 * approved manifest's digests first and by family only for files it does not list. */
enum wine_exe_family {
	WINE_EXE_OTHER = 0,
	WINE_EXE_TENCENT = 1,
	WINE_EXE_WECHAT = 2,
	WINE_EXE_WECOM = 3,
};

enum wine_exe_family wine_exe_family(const struct wine_exe_id *id);
bool wine_exe_is_tencent(const struct wine_exe_id *id);
/* "other", "tencent", "wechat", "wecom". */
const char *wine_exe_family_to_string(enum wine_exe_family f);
