/* wxguard manifest create PREFIX [--out FILE]: the sha256 manifest of a clean Wine prefix, for
 * the policy's wine_manifest (agent/host/manifest.h, docs/wine.md). The manifest goes to FILE
 * (written atomically) or to stdout; its own sha256 goes to stderr, or to stdout with --out, so
 * IT can pin it next to the policy. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/cli/cmd.h"
#include "agent/host/manifest.h"
#include "common/fileio.h"
#include "common/hash.h"
#include "common/i18n.h"

static void manifest_usage(FILE *f)
{
	fputs("usage: wxguard manifest create PREFIX [--out FILE]\n"
	      "  the sha256 of every .exe, .dll, .drv and .sys under PREFIX/drive_c, paths "
	      "relative\n"
	      "  to PREFIX, sorted (sha256sum format: the policy's wine_manifest). Run it on a "
	      "clean\n"
	      "  install of the approved client. Without --out the manifest goes to stdout.\n"
	      "exit status: 0 written, 1 could not read the prefix or write FILE, 2 bad "
	      "arguments\n",
	      f);
}

static int manifest_create_cmd(const char *prefix, const char *out)
{
	struct manifest m = { 0 };
	char *text = NULL, *bad = NULL, sha[HASH_SHA256_HEX];
	int r, ret = WXG_EXIT_FAIL;

	r = manifest_create(prefix, &m, &bad);
	if (r == -ENOENT && !bad) {
		fprintf(stderr,
			i18n_pick(
				"wxguard manifest: %s is not a Wine prefix (no drive_c): give the "
				"WINEPREFIX of a clean install.\n",
				"wxguard manifest：%s 不是 Wine 前缀（没有 "
				"drive_c）：请指定干净安装的 "
				"WINEPREFIX。\n"),
			prefix);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr,
			i18n_pick("wxguard manifest: cannot read %s: %s. Run it as a user who can "
				  "read the whole prefix.\n",
				  "wxguard manifest：无法读取 "
				  "%s：%s。请以能读取整个前缀的用户运行。\n"),
			bad ? bad : prefix, strerror(-r));
		goto out;
	}
	r = manifest_format(&m, &text);
	if (r >= 0)
		r = hash_sha256_buf(text, strlen(text), sha);
	if (r < 0) {
		fprintf(stderr, "wxguard manifest: %s: %s\n", prefix, strerror(-r));
		goto out;
	}
	if (m.n == 0)
		fprintf(stderr,
			i18n_pick("wxguard manifest: warning: no .exe/.dll/.drv/.sys under "
				  "%s/drive_c: is the client installed?\n",
				  "wxguard manifest：警告：%s/drive_c 下没有 .exe/.dll/.drv/.sys："
				  "客户端安装了吗？\n"),
			prefix);
	if (out) {
		r = write_file_atomic(out, text, strlen(text), 0644);
		if (r < 0) {
			fprintf(stderr,
				i18n_pick("wxguard manifest: cannot write %s: %s\n",
					  "wxguard manifest：无法写入 %s：%s\n"),
				out, strerror(-r));
			goto out;
		}
		printf("%s  %s (%zu files)\n", sha, out, m.n);
	} else {
		fputs(text, stdout);
		fprintf(stderr, "%s  manifest sha256 (%zu files)\n", sha, m.n);
	}
	ret = fflush(stdout) == 0 ? WXG_EXIT_OK : WXG_EXIT_FAIL;
out:
	manifest_clear(&m);
	free(text);
	free(bad);
	return ret;
}

int cmd_manifest(int argc, char **argv)
{
	const char *prefix = NULL, *out = NULL;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		manifest_usage(stdout);
		return WXG_EXIT_OK;
	}
	if (argc < 3 || strcmp(argv[1], "create") != 0) {
		manifest_usage(stderr);
		return WXG_EXIT_USAGE;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (strncmp(argv[i], "--out=", 6) == 0) {
			out = argv[i] + 6;
		} else if (argv[i][0] != '-' && !prefix) {
			prefix = argv[i];
		} else {
			fprintf(stderr, "wxguard manifest: unexpected argument '%s'\n", argv[i]);
			manifest_usage(stderr);
			return WXG_EXIT_USAGE;
		}
	}
	if (!prefix) {
		manifest_usage(stderr);
		return WXG_EXIT_USAGE;
	}
	return manifest_create_cmd(prefix, out);
}
