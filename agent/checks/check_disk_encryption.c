/* device.disk_encryption: is the root filesystem (and /home when it is a separate mount) on an
 * encrypted block device? Follows the device stack in sysfs from the mounted device down to
 * the disks: device-mapper (dm-crypt, LVM...), md RAID, partitions. btrfs: every member
 * device; ZFS: native encryption, else the pool's vdevs. See docs/checks/disk_encryption.md. */
#include "agent/checks/check.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define STACK_MAX_DEPTH 16
#define STACK_TEXT 1024
#define MAX_MEMBERS 32
#define NAME_MAX_DEV 64
#define CMD_TIMEOUT_MS 5000u

/* Worse is larger: combining members keeps the worst. */
enum enc {
	ENC_YES = 0,
	ENC_UNKNOWN = 1,
	ENC_NO = 2
};

static enum enc enc_worst(enum enc a, enum enc b)
{
	return a > b ? a : b;
}

static const char *enc_str(enum enc e)
{
	return e == ENC_YES ? "yes" : e == ENC_NO ? "no" : "unknown";
}

/* snprintf that truncates on purpose (device names and stacks are bounded for display). */
static void __attribute__((format(printf, 3, 4))) fmt(char *buf, size_t size, const char *f, ...)
{
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, size, f, ap);
	va_end(ap);
}

static void put(char *buf, size_t size, const char *s)
{
	size_t n = strlen(buf);

	if (n < size)
		snprintf(buf + n, size - n, "%s", s);
}

/* A device name that fits: not hidden, shorter than NAME_MAX_DEV, starting with the prefix
 * (userdata) when there is one. */
static bool filter_dev_name(const struct dirent *de, void *userdata)
{
	const char *prefix = userdata;

	return de->d_name[0] != '.' && strlen(de->d_name) < NAME_MAX_DEV &&
	       (!prefix || str_startswith(de->d_name, prefix));
}

/* Entry names of a directory (those starting with prefix, unless NULL), sorted (deterministic
 * evidence), at most max. Returns the count. */
static size_t list_dir(const struct sysroot *sr, const char *dir, const char *prefix,
		       char names[][NAME_MAX_DEV], size_t max)
{
	struct strv v = { 0 };
	size_t n;

	if (sysroot_list_dir(sr, dir, filter_dev_name, (void *)prefix, &v) < 0)
		return 0;
	for (n = 0; n < v.n && n < max; n++)
		snprintf(names[n], NAME_MAX_DEV, "%s", v.v[n]);
	strv_clear(&v);
	return n;
}

static int read_attr(const struct sysroot *sr, const char *name, const char *attr, char *buf,
		     size_t size)
{
	char p[PATH_MAX], *line = NULL;
	int r;

	snprintf(p, sizeof(p), "/sys/class/block/%s/%s", name, attr);
	r = sysroot_read_line(sr, p, &line);
	if (r < 0)
		return r;
	snprintf(buf, size, "%s", str_strip(line));
	free(line);
	return 0;
}

static bool has_attr(const struct sysroot *sr, const char *name, const char *attr)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "/sys/class/block/%s/%s", name, attr);
	return sysroot_exists(sr, p);
}

/* The whole disk a partition belongs to: /sys/class/block/sda3 -> ../../devices/.../sda/sda3. */
static int partition_parent(const struct sysroot *sr, const char *name, char *buf, size_t size)
{
	char p[PATH_MAX], link[PATH_MAX], *slash;
	int r;

	snprintf(p, sizeof(p), "/sys/class/block/%s", name);
	r = sysroot_readlink(sr, p, link, sizeof(link));
	if (r < 0)
		return r;
	slash = strrchr(link, '/');
	if (!slash)
		return -EINVAL;
	*slash = 0;
	slash = strrchr(link, '/');
	fmt(buf, size, "%s", slash ? slash + 1 : link);
	return buf[0] ? 0 : -EINVAL;
}

/* dm-crypt targets that encrypt (cryptsetup's dm uuid "CRYPT-<TYPE>-..."); VERITY,
 * INTEGRITY and SUBDEV are crypt-managed but do not encrypt. */
static bool crypt_type_encrypts(const char *type)
{
	static const char *const types[] = { "LUKS1",  "LUKS2",   "LUKS",    "PLAIN", "BITLK",
					     "TCRYPT", "LOOPAES", "FVAULT2", NULL };

	for (size_t i = 0; types[i]; i++)
		if (strcmp(type, types[i]) == 0)
			return true;
	return false;
}

/* Render "name(label)" for a block device and walk what it sits on. */
static enum enc walk(const struct sysroot *sr, const char *name, char *out, size_t size,
		     unsigned depth, char *crypt, size_t crypt_size)
{
	char label[64] = "", uuid[256], members[MAX_MEMBERS][NAME_MAX_DEV], p[PATH_MAX];
	bool encrypts = false, is_dm = false;
	enum enc e = ENC_YES;
	size_t n;

	/* Bounded: sysfs has no cycles, but a broken tree must not make us spin. Every visit
	 * writes to out, so a full out also ends the walk. */
	if (depth > STACK_MAX_DEPTH || strlen(out) + 1 >= size) {
		put(out, size, "...");
		return ENC_UNKNOWN;
	}
	snprintf(p, sizeof(p), "/sys/class/block/%s", name);
	if (!sysroot_exists(sr, p)) {
		put(out, size, name);
		put(out, size, "(?)");
		return ENC_UNKNOWN;
	}
	if (read_attr(sr, name, "dm/uuid", uuid, sizeof(uuid)) == 0) {
		is_dm = true;
		if (str_startswith(uuid, "CRYPT-")) {
			size_t tl = strcspn(uuid + 6, "-");

			snprintf(label, sizeof(label), "CRYPT-%.*s", (int)tl, uuid + 6);
			encrypts = crypt_type_encrypts(label + 6);
		} else if (uuid[0]) {
			snprintf(label, sizeof(label), "%.*s", (int)strcspn(uuid, "-"), uuid);
		} else {
			snprintf(label, sizeof(label), "dm");
		}
	} else if (read_attr(sr, name, "md/level", label, sizeof(label)) < 0 &&
		   has_attr(sr, name, "loop")) {
		snprintf(label, sizeof(label), "loop");
	}
	put(out, size, name);
	if (label[0]) {
		put(out, size, "(");
		put(out, size, label);
		put(out, size, ")");
	}
	if (encrypts && crypt && !crypt[0])
		fmt(crypt, crypt_size, "%s", label + 6);

	snprintf(p, sizeof(p), "/sys/class/block/%s/slaves", name);
	n = list_dir(sr, p, NULL, members, MAX_MEMBERS);
	if (n == 0 && has_attr(sr, name, "partition")) {
		char parent[NAME_MAX_DEV];

		/* A partition of a RAID or dm device (md126p2): keep walking; of a disk: a leaf. */
		if (partition_parent(sr, name, parent, sizeof(parent)) == 0 &&
		    (has_attr(sr, parent, "dm") || has_attr(sr, parent, "md"))) {
			put(out, size, " → ");
			e = walk(sr, parent, out, size, depth + 1, crypt, crypt_size);
			return encrypts ? ENC_YES : e;
		}
		return encrypts ? ENC_YES : ENC_NO;
	}
	if (n == 0) {
		if (encrypts)
			return ENC_YES;
		/* A dm target on nothing, or a loop/network/ram device: its backing is elsewhere.
		 */
		if (is_dm || strcmp(label, "loop") == 0 || str_startswith(name, "nbd") ||
		    str_startswith(name, "zram") || str_startswith(name, "ram"))
			return ENC_UNKNOWN;
		return ENC_NO;
	}
	put(out, size, " → ");
	if (n > 1)
		put(out, size, "(");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(out, size, " + ");
		e = enc_worst(e, walk(sr, members[i], out, size, depth + 1, crypt, crypt_size));
	}
	if (n > 1)
		put(out, size, ")");
	return encrypts ? ENC_YES : e;
}

/* ---- what is mounted where ---- */

struct mnt {
	unsigned major, minor;
	char fstype[64];
	char source[PATH_MAX];
};

/* In place: mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape(char *s)
{
	char *w = s;

	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

/* The last (topmost) mount on mountpoint. Returns 0, -ENOENT, or -errno. */
static int find_mount(const char *mountinfo, const char *mountpoint, struct mnt *ret)
{
	bool found = false;

	for (const char *l = mountinfo; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		char line[3 * PATH_MAX], mp[PATH_MAX], fstype[64], source[PATH_MAX], *sep;
		const char *e = strchr(l, '\n');
		size_t n = e ? (size_t)(e - l) : strlen(l);
		unsigned ma, mi;

		if (n >= sizeof(line))
			continue;
		memcpy(line, l, n);
		line[n] = 0;
		if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &ma, &mi, mp) != 3)
			continue;
		unescape(mp);
		if (strcmp(mp, mountpoint) != 0)
			continue;
		sep = strstr(line, " - ");
		if (!sep || sscanf(sep + 3, "%63s %4095s", fstype, source) != 2)
			continue;
		unescape(source);
		ret->major = ma;
		ret->minor = mi;
		snprintf(ret->fstype, sizeof(ret->fstype), "%s", fstype);
		snprintf(ret->source, sizeof(ret->source), "%s", source);
		found = true;
	}
	return found ? 0 : -ENOENT;
}

/* MAJ:MIN -> kernel name via /sys/dev/block/MAJ:MIN -> ../../devices/.../<name>. */
static int devnum_name(const struct sysroot *sr, unsigned ma, unsigned mi, char *buf, size_t size)
{
	char p[64], link[PATH_MAX], *slash;
	int r;

	snprintf(p, sizeof(p), "/sys/dev/block/%u:%u", ma, mi);
	r = sysroot_readlink(sr, p, link, sizeof(link));
	if (r < 0)
		return r;
	slash = strrchr(link, '/');
	fmt(buf, size, "%s", slash ? slash + 1 : link);
	return 0;
}

/* A /dev path (mount source of btrfs, or a zpool vdev) -> kernel name. Follows udev symlinks
 * (/dev/mapper/x -> ../dm-0, /dev/disk/by-uuid/...) inside the root. */
static int devpath_name(const struct sysroot *sr, const char *devpath, char *buf, size_t size)
{
	char cur[PATH_MAX], link[PATH_MAX], p[PATH_MAX];
	struct stat st;
	const char *base;

	if (!str_startswith(devpath, "/dev/"))
		return -EINVAL;
	if (sysroot_stat(sr, devpath, &st) == 0 && S_ISBLK(st.st_mode))
		return devnum_name(sr, major(st.st_rdev), minor(st.st_rdev), buf, size);
	snprintf(cur, sizeof(cur), "%s", devpath);
	for (int i = 0; i < 8; i++) {
		char *slash;

		if (sysroot_lstat(sr, cur, &st) < 0 || !S_ISLNK(st.st_mode))
			break;
		if (sysroot_readlink(sr, cur, link, sizeof(link)) < 0)
			break;
		if (link[0] == '/') {
			snprintf(cur, sizeof(cur), "%s", link);
			continue;
		}
		slash = strrchr(cur, '/');
		*slash = 0;
		if (snprintf(p, sizeof(p), "%s/%s", cur, link) >= (int)sizeof(p))
			return -ENAMETOOLONG;
		snprintf(cur, sizeof(cur), "%s", p);
	}
	base = strrchr(cur, '/') + 1;
	snprintf(p, sizeof(p), "/sys/class/block/%s", base);
	if (base[0] && strlen(base) < size && sysroot_exists(sr, p)) {
		snprintf(buf, size, "%s", base);
		return 0;
	}
	/* /dev/mapper/<name> as a plain node: find the dm device with that name. */
	if (str_startswith(devpath, "/dev/mapper/")) {
		char names[MAX_MEMBERS][NAME_MAX_DEV], dmname[256];
		size_t n = list_dir(sr, "/sys/class/block", "dm-", names, MAX_MEMBERS);

		for (size_t i = 0; i < n; i++)
			if (read_attr(sr, names[i], "dm/name", dmname, sizeof(dmname)) == 0 &&
			    strcmp(dmname, devpath + strlen("/dev/mapper/")) == 0) {
				snprintf(buf, size, "%s", names[i]);
				return 0;
			}
	}
	return -ENODEV;
}

/* btrfs can span devices: /sys/fs/btrfs/<uuid>/devices/ lists every member. */
static size_t btrfs_members(const struct sysroot *sr, const char *name,
			    char members[][NAME_MAX_DEV])
{
	char fss[MAX_MEMBERS][NAME_MAX_DEV], p[PATH_MAX];
	size_t nfs = list_dir(sr, "/sys/fs/btrfs", NULL, fss, MAX_MEMBERS);

	for (size_t i = 0; i < nfs; i++) {
		size_t n;

		snprintf(p, sizeof(p), "/sys/fs/btrfs/%s/devices", fss[i]);
		n = list_dir(sr, p, NULL, members, MAX_MEMBERS);
		for (size_t j = 0; j < n; j++)
			if (strcmp(members[j], name) == 0)
				return n;
	}
	return 0;
}

/* One mounted filesystem: device, stack, verdict. */
struct fs_result {
	enum enc enc;
	char device[PATH_MAX + 64];
	char stack[STACK_TEXT];
	char crypt[32];                /* first encrypting layer seen, e.g. "LUKS2" */
	char why_en[256], why_zh[256]; /* when unknown */
};

static enum enc walk_members(const struct sysroot *sr, char members[][NAME_MAX_DEV], size_t n,
			     struct fs_result *fr)
{
	enum enc e = ENC_YES;

	if (n > 1)
		put(fr->stack, sizeof(fr->stack), "(");
	for (size_t i = 0; i < n; i++) {
		if (i)
			put(fr->stack, sizeof(fr->stack), " + ");
		e = enc_worst(e, walk(sr, members[i], fr->stack, sizeof(fr->stack), 0, fr->crypt,
				      sizeof(fr->crypt)));
	}
	if (n > 1)
		put(fr->stack, sizeof(fr->stack), ")");
	return e;
}

static void unknown_why(struct fs_result *fr, const char *en, const char *zh)
{
	fr->enc = ENC_UNKNOWN;
	snprintf(fr->why_en, sizeof(fr->why_en), "%s", en);
	snprintf(fr->why_zh, sizeof(fr->why_zh), "%s", zh);
}

static int zfs_check(struct check_ctx *ctx, const struct mnt *m, struct fs_result *fr)
{
	const char *zget[] = { "zfs", "get", "-H", "-o", "value", "encryption", m->source, NULL };
	char pool[256], *out = NULL, members[MAX_MEMBERS][NAME_MAX_DEV];
	size_t n = 0;
	int r, status;

	r = sysroot_run(ctx->root, "zfs", zget, NULL, (uid_t)-1, CMD_TIMEOUT_MS, &out, &status);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || status != 0) {
		free(out);
		unknown_why(fr, "zfs get encryption failed", "zfs get encryption 执行失败");
		return 0;
	}
	str_strip(out);
	if (out[0] && strcmp(out, "off") != 0 && strcmp(out, "-") != 0) {
		fmt(fr->stack, sizeof(fr->stack), "zfs %s (native %s)", m->source, out);
		snprintf(fr->crypt, sizeof(fr->crypt), "zfs-%s", out);
		fr->enc = ENC_YES;
		free(out);
		return 0;
	}
	free(out);
	out = NULL;

	/* No native encryption: the pool may sit on dm-crypt. */
	snprintf(pool, sizeof(pool), "%.*s", (int)strcspn(m->source, "/"), m->source);
	{
		const char *zst[] = { "zpool", "status", "-P", pool, NULL };

		r = sysroot_run(ctx->root, "zpool", zst, NULL, (uid_t)-1, CMD_TIMEOUT_MS, &out,
				&status);
	}
	if (r == -ENOMEM)
		return r;
	if (r < 0 || status != 0) {
		free(out);
		unknown_why(fr, "zpool status failed", "zpool status 执行失败");
		return 0;
	}
	for (char *l = out, *nl; l && *l && n < MAX_MEMBERS; l = nl) {
		char tok[PATH_MAX];

		nl = strchr(l, '\n');
		if (nl)
			*nl++ = 0;
		if (sscanf(l, " %4095s", tok) == 1 && str_startswith(tok, "/dev/") &&
		    devpath_name(ctx->root, tok, members[n], NAME_MAX_DEV) == 0)
			n++;
	}
	free(out);
	if (n == 0) {
		unknown_why(fr, "no vdev devices found in zpool status",
			    "zpool status 中未找到设备");
		return 0;
	}
	fmt(fr->stack, sizeof(fr->stack), "zfs %s → ", m->source);
	fr->enc = walk_members(ctx->root, members, n, fr);
	return 0;
}

static int check_fs(struct check_ctx *ctx, const struct mnt *m, struct fs_result *fr)
{
	static const char *const virtual_fs[] = { "overlay",  "tmpfs", "ramfs",    "rootfs",
						  "squashfs", "nfs",   "nfs4",     "cifs",
						  "smb3",     "9p",    "virtiofs", "fuse",
						  NULL };
	char name[NAME_MAX_DEV], members[MAX_MEMBERS][NAME_MAX_DEV];
	size_t n;

	memset(fr, 0, sizeof(*fr));
	fmt(fr->device, sizeof(fr->device), "%s (%u:%u, %s)", m->source, m->major, m->minor,
	    m->fstype);
	for (size_t i = 0; virtual_fs[i]; i++)
		if (strcmp(m->fstype, virtual_fs[i]) == 0 || str_startswith(m->fstype, "fuse.")) {
			char en[128], zh[128];

			snprintf(en, sizeof(en), "on %s, not a local block device", m->fstype);
			snprintf(zh, sizeof(zh), "位于 %s，不是本地块设备", m->fstype);
			unknown_why(fr, en, zh);
			return 0;
		}
	if (strcmp(m->fstype, "zfs") == 0)
		return zfs_check(ctx, m, fr);

	if (m->major != 0) {
		if (devnum_name(ctx->root, m->major, m->minor, name, sizeof(name)) < 0) {
			unknown_why(fr, "device not found in /sys/dev/block",
				    "在 /sys/dev/block 中未找到设备");
			return 0;
		}
	} else if (devpath_name(ctx->root, m->source, name, sizeof(name)) < 0) {
		/* btrfs and friends report an anonymous device: use the mount source. */
		unknown_why(fr, "cannot find the block device of the mount source",
			    "无法找到挂载源对应的块设备");
		return 0;
	}
	if (strcmp(m->fstype, "btrfs") == 0 && (n = btrfs_members(ctx->root, name, members)) > 1) {
		put(fr->stack, sizeof(fr->stack), "btrfs");
		fr->enc = walk_members(ctx->root, members, n, fr);
		return 0;
	}
	fr->enc = walk(ctx->root, name, fr->stack, sizeof(fr->stack), 0, fr->crypt,
		       sizeof(fr->crypt));
	if (fr->enc == ENC_UNKNOWN)
		unknown_why(fr, "the device stack ends in a device whose backing is unknown",
			    "设备栈的底层设备来源未知");
	return 0;
}

/* Check the filesystem mounted as m and record it as <label>_device, _stack, _encrypted. */
static int check_fs_record(struct check_ctx *ctx, struct check_result *r, const struct mnt *m,
			   const char *label, struct fs_result **ret)
{
	struct fs_result *fr;
	char key[32];
	int k;

	fr = calloc(1, sizeof(*fr));
	if (!fr)
		return -ENOMEM;
	k = check_fs(ctx, m, fr);
	if (k < 0) {
		free(fr);
		return k;
	}
	snprintf(key, sizeof(key), "%s_device", label);
	check_result_add(r, key, "%s", fr->device);
	snprintf(key, sizeof(key), "%s_stack", label);
	check_result_add(r, key, "%s", fr->stack[0] ? fr->stack : "-");
	snprintf(key, sizeof(key), "%s_encrypted", label);
	check_result_add(r, key, "%s", enc_str(fr->enc));
	*ret = fr;
	return 0;
}

int check_disk_encryption(struct check_ctx *ctx, struct check_result *r)
{
	enum policy_disk_encryption pol = ctx->policy->device.disk_encryption;
	struct fs_result *root = NULL, *home = NULL;
	struct mnt mroot, mhome;
	char *mountinfo = NULL;
	const char *bad_en, *bad_zh;
	int ret;

	if (pol == POLICY_DISK_OFF) {
		check_result_set(r, CHECK_NOT_APPLICABLE,
				 "disk encryption is not required by policy", "策略未要求磁盘加密");
		return 0;
	}
	ret = sysroot_read_file(ctx->root, "/proc/self/mountinfo", 4u * 1024 * 1024, &mountinfo,
				NULL);
	if (ret < 0) {
		check_result_set(r, CHECK_UNKNOWN, "cannot read /proc/self/mountinfo: %s",
				 "无法读取 /proc/self/mountinfo：%s", strerror(-ret));
		return 0;
	}
	if (find_mount(mountinfo, "/", &mroot) < 0) {
		check_result_set(r, CHECK_UNKNOWN, "no root filesystem in /proc/self/mountinfo",
				 "/proc/self/mountinfo 中没有根文件系统");
		ret = 0;
		goto out;
	}
	ret = check_fs_record(ctx, r, &mroot, "root", &root);
	if (ret < 0)
		goto out;

	/* /home on its own filesystem holds the WeCom data: it must be encrypted too. */
	if (find_mount(mountinfo, "/home", &mhome) == 0 &&
	    (mhome.major != mroot.major || mhome.minor != mroot.minor ||
	     strcmp(mhome.source, mroot.source) != 0)) {
		ret = check_fs_record(ctx, r, &mhome, "home", &home);
		if (ret < 0)
			goto out;
	}
	ret = 0;

	if (root->enc == ENC_NO || (home && home->enc == ENC_NO)) {
		bool both = root->enc == ENC_NO && home && home->enc == ENC_NO;
		const struct fs_result *bad = root->enc == ENC_NO ? root : home;

		bad_en = both                  ? "the root filesystem and /home are"
			 : root->enc == ENC_NO ? "the root filesystem is"
					       : "/home is";
		bad_zh = both                  ? "根文件系统和 /home "
			 : root->enc == ENC_NO ? "根文件系统"
					       : "/home ";
		check_result_set(r, pol == POLICY_DISK_REQUIRE ? CHECK_FAIL : CHECK_WARN,
				 "%s%.0s not encrypted (%s)", "%.0s%s未加密（%s）", bad_en, bad_zh,
				 bad->stack);
		check_result_fix(
			r,
			"Reinstall with full-disk encryption (LUKS) selected in the installer, "
			"or encrypt in place with cryptsetup reencrypt --encrypt after a backup.",
			"请在安装程序中选择全盘加密（LUKS）重新安装，或在备份后使用 "
			"cryptsetup reencrypt --encrypt 就地加密。");
		goto out;
	}
	if (root->enc == ENC_UNKNOWN || (home && home->enc == ENC_UNKNOWN)) {
		const struct fs_result *unk = root->enc == ENC_UNKNOWN ? root : home;

		check_result_set(r, CHECK_UNKNOWN,
				 "cannot tell whether %s%.0s is encrypted: %s%.0s",
				 "无法确定%.0s%s是否加密：%.0s%s",
				 unk == root ? "the root filesystem" : "/home",
				 unk == root ? "根文件系统" : "/home", unk->why_en, unk->why_zh);
		goto out;
	}
	check_result_add(r, "encryption", "%s", root->crypt[0] ? root->crypt : "yes");
	check_result_set(r, CHECK_PASS, "%s%.0s encrypted (%s)", "%.0s%s已加密（%s）",
			 home ? "the root filesystem and /home are" : "the root filesystem is",
			 home ? "根文件系统和 /home 均" : "根文件系统", root->stack);
out:
	free(mountinfo);
	free(root);
	free(home);
	return ret;
}
