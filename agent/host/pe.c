/* The version resource of a PE file (pe.h). Everything here reads through src_read(), which
 * refuses any range outside the file, and every structure is bounded a second time by what
 * holds it: the resource directory's size, the section's raw data, the enclosing version block.
 */
#include "agent/host/pe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RT_VERSION 16
#define SECTIONS_MAX 4096u /* the loader's own limit is 96; be generous */

#define VERSION_MAX 65536u /* VS_VERSIONINFO's wLength is 16 bits */
#define VS_FIXED_SIGNATURE 0xFEEF04BDu

struct src {
	const uint8_t *mem; /* NULL: read fd */
	int fd;
	uint64_t size;
};

struct pe {
	struct src src;
	uint8_t *sections; /* n_sections * 40 bytes of the section table */
	unsigned n_sections;
	uint32_t res_rva, res_size; /* resource directory */
};

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static size_t align4(size_t v)
{
	return (v + 3) & ~(size_t)3;
}

static int src_read(const struct src *s, uint64_t off, void *buf, size_t len)
{
	size_t done = 0;

	if (off > s->size || len > s->size - off)
		return -EBADMSG;
	if (s->mem) {
		memcpy(buf, s->mem + off, len);
		return 0;
	}
	while (done < len) {
		ssize_t n = pread(s->fd, (uint8_t *)buf + done, len - done, (off_t)(off + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EBADMSG; /* the file shrank under us */
		done += (size_t)n;
	}
	return 0;
}

/* The file offset of [rva, rva + len): inside one section's raw data, or -EBADMSG. */
static int rva_read(const struct pe *pe, uint32_t rva, void *buf, size_t len)
{
	for (unsigned i = 0; i < pe->n_sections; i++) {
		const uint8_t *s = pe->sections + (size_t)i * 40;
		uint32_t va = le32(s + 12), raw_size = le32(s + 16), raw_ptr = le32(s + 20);

		if (rva < va || rva - va >= raw_size)
			continue;
		if (len > raw_size - (rva - va))
			return -EBADMSG;
		return src_read(&pe->src, (uint64_t)raw_ptr + (rva - va), buf, len);
	}
	return -EBADMSG;
}

/* [off, off + len) of the resource directory (offsets in the tree are relative to it). */
static int res_read(const struct pe *pe, uint32_t off, void *buf, size_t len)
{
	if (off > pe->res_size || len > pe->res_size - off)
		return -EBADMSG;
	return rva_read(pe, pe->res_rva + off, buf, len);
}

/* ---- headers ---- */

static int read_headers(struct pe *pe)
{
	uint8_t dos[64], nt[24], *opt = NULL;
	uint32_t lfanew, n_dirs, dirs;
	uint16_t opt_size, magic;
	uint64_t sec_off;
	int r;

	r = src_read(&pe->src, 0, dos, 2);
	if (r < 0 || dos[0] != 'M' || dos[1] != 'Z')
		return r < 0 && r != -EBADMSG ? r : -ENOEXEC;
	r = src_read(&pe->src, 0, dos, sizeof(dos)); /* an MZ file too short: -EBADMSG */
	if (r < 0)
		return r;
	lfanew = le32(dos + 0x3c);
	r = src_read(&pe->src, lfanew, nt, sizeof(nt));
	if (r < 0)
		return r;
	if (memcmp(nt, "PE\0\0", 4) != 0)
		return -ENOEXEC; /* a DOS (or NE, LE) program */
	pe->n_sections = le16(nt + 4 + 2);
	opt_size = le16(nt + 4 + 16);
	if (pe->n_sections > SECTIONS_MAX || opt_size < 2)
		return -EBADMSG;
	opt = malloc(opt_size);
	if (!opt)
		return -ENOMEM;
	r = src_read(&pe->src, (uint64_t)lfanew + sizeof(nt), opt, opt_size);
	if (r < 0)
		goto out;
	magic = le16(opt);
	if (magic == 0x10b) { /* PE32 */
		n_dirs = 92;
		dirs = 96;
	} else if (magic == 0x20b) { /* PE32+ */
		n_dirs = 108;
		dirs = 112;
	} else {
		r = -EBADMSG;
		goto out;
	}
	/* The resource directory is data directory 2 (8 bytes each: RVA, size). */
	if (opt_size < n_dirs + 4 || le32(opt + n_dirs) < 3 || opt_size < dirs + 3 * 8) {
		r = -ENOENT;
		goto out;
	}
	pe->res_rva = le32(opt + dirs + 16);
	pe->res_size = le32(opt + dirs + 20);
	if (pe->res_rva == 0 || pe->res_size == 0 || pe->n_sections == 0) {
		r = -ENOENT;
		goto out;
	}
	pe->sections = malloc((size_t)pe->n_sections * 40);
	if (!pe->sections) {
		r = -ENOMEM;
		goto out;
	}
	sec_off = (uint64_t)lfanew + sizeof(nt) + opt_size;
	r = src_read(&pe->src, sec_off, pe->sections, (size_t)pe->n_sections * 40);
out:
	free(opt);
	return r;
}

/* ---- resource tree ---- */

/* In the directory at dir_off, the OffsetToData of the entry with id `id`, or of the first
 * entry when id < 0. -ENOENT when there is none. */
static int dir_find(const struct pe *pe, uint32_t dir_off, int id, uint32_t *ret)
{
	uint8_t hdr[16], *ents = NULL;
	size_t n_named, n;
	int r;

	r = res_read(pe, dir_off, hdr, sizeof(hdr));
	if (r < 0)
		return r;
	n_named = le16(hdr + 12);
	n = n_named + le16(hdr + 14);
	if (n == 0)
		return -ENOENT; /* at most 131070 entries (1 MiB): res_read() bounds them */
	ents = malloc(n * 8);
	if (!ents)
		return -ENOMEM;
	r = res_read(pe, dir_off + 16, ents, n * 8);
	if (r < 0)
		goto out;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		uint32_t name = le32(ents + i * 8);

		/* Named entries (high bit) come first; an id is only looked for among ids. */
		if (id >= 0 && (i < n_named || (name & 0x80000000u) || name != (uint32_t)id))
			continue;
		*ret = le32(ents + i * 8 + 4);
		r = 0;
		break;
	}
out:
	free(ents);
	return r;
}

/* RT_VERSION / first name / first language: the version block's bytes. */
static int find_version(const struct pe *pe, uint8_t **ret, size_t *ret_len)
{
	uint32_t off, rva, size;
	uint8_t data[16], *buf;
	int r;

	r = dir_find(pe, 0, RT_VERSION, &off);
	if (r < 0)
		return r;
	if (!(off & 0x80000000u)) /* a type must lead to a directory of names */
		return -EBADMSG;
	r = dir_find(pe, off & 0x7fffffffu, -1, &off);
	if (r < 0)
		return r == -ENOENT ? -EBADMSG : r;
	if (!(off & 0x80000000u))
		return -EBADMSG;
	r = dir_find(pe, off & 0x7fffffffu, -1, &off);
	if (r < 0)
		return r == -ENOENT ? -EBADMSG : r;
	if (off & 0x80000000u) /* languages lead to data, not to a fourth level */
		return -EBADMSG;
	r = res_read(pe, off, data, sizeof(data));
	if (r < 0)
		return r;
	rva = le32(data); /* an RVA, not an offset into the tree */
	size = le32(data + 4);
	if (size < 6)
		return -EBADMSG;
	if (size > VERSION_MAX)
		size = VERSION_MAX; /* wLength cannot say more; the block checks its own length */
	buf = malloc(size);
	if (!buf)
		return -ENOMEM;
	r = rva_read(pe, rva, buf, size);
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	*ret_len = size;
	return 0;
}

/* ---- VS_VERSIONINFO ---- */

/* One block: wLength, wValueLength, wType, szKey (UTF-16, NUL-terminated), padding to 4, value,
 * padding to 4, children. All positions are offsets into the version buffer. */
struct blk {
	size_t end;        /* one past the block */
	size_t key, key_n; /* key's offset and length in UTF-16 units, without the NUL */
	size_t val, val_n; /* value's offset and length in bytes */
	size_t child;      /* first child */
	uint16_t type;     /* 1 text, 0 binary */
};

static int blk_parse(const uint8_t *b, size_t lim, size_t off, struct blk *k)
{
	size_t wlen, vlen, i;

	if (off > lim || lim - off < 6)
		return -EBADMSG;
	wlen = le16(b + off);
	vlen = le16(b + off + 2);
	k->type = le16(b + off + 4);
	if (wlen < 6 || wlen > lim - off)
		return -EBADMSG;
	k->end = off + wlen;
	k->key = off + 6;
	for (i = k->key; i + 2 <= k->end && le16(b + i) != 0; i += 2)
		;
	if (i + 2 > k->end)
		return -EBADMSG; /* the key is not terminated inside its block */
	k->key_n = (i - k->key) / 2;
	k->val = align4(i + 2);
	if (k->val > k->end)
		k->val = k->end;
	/* A text value's length is in characters, though some writers count bytes: clamp. */
	k->val_n = k->type == 1 ? vlen * 2 : vlen;
	if (k->val_n > k->end - k->val)
		k->val_n = k->end - k->val;
	k->child = align4(k->val + k->val_n);
	if (k->child > k->end)
		k->child = k->end;
	return 0;
}

/* The next child after `c` (which ends at c_end) inside parent end `end`, or `end`. */
static size_t blk_next(size_t c_end, size_t end)
{
	size_t n = align4(c_end);

	return n > end ? end : n;
}

static bool key_is(const uint8_t *b, const struct blk *k, const char *ascii)
{
	size_t n = strlen(ascii);

	if (k->key_n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (le16(b + k->key + 2 * i) != (uint8_t)ascii[i])
			return false;
	return true;
}

/* UTF-16LE (n units, stops at a NUL) to a new UTF-8 string; a lone surrogate becomes U+FFFD. */
static char *utf16_to_utf8(const uint8_t *p, size_t n)
{
	char *out = malloc(n * 3 + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		uint32_t c = le16(p + 2 * i);

		if (c == 0)
			break;
		if (c >= 0xd800 && c <= 0xdbff && i + 1 < n && le16(p + 2 * i + 2) >= 0xdc00 &&
		    le16(p + 2 * i + 2) <= 0xdfff) {
			c = 0x10000 + ((c - 0xd800) << 10) + (le16(p + 2 * i + 2) - 0xdc00);
			i++;
		} else if (c >= 0xd800 && c <= 0xdfff) {
			c = 0xfffd;
		}
		if (c < 0x80) {
			*o++ = (char)c;
		} else if (c < 0x800) {
			*o++ = (char)(0xc0 | c >> 6);
			*o++ = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			*o++ = (char)(0xe0 | c >> 12);
			*o++ = (char)(0x80 | (c >> 6 & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		} else { /* 4 bytes for 2 units: still within 3 per unit */
			*o++ = (char)(0xf0 | c >> 18);
			*o++ = (char)(0x80 | (c >> 12 & 0x3f));
			*o++ = (char)(0x80 | (c >> 6 & 0x3f));
			*o++ = (char)(0x80 | (c & 0x3f));
		}
	}
	*o = 0;
	return out;
}

static int string_table(const uint8_t *b, const struct blk *t, struct pe_version *v)
{
	static const struct {
		const char *key;
		size_t off;
	} fields[] = {
		{ "CompanyName", offsetof(struct pe_version, company_name) },
		{ "ProductName", offsetof(struct pe_version, product_name) },
		{ "OriginalFilename", offsetof(struct pe_version, original_filename) },
		{ "FileDescription", offsetof(struct pe_version, file_description) },
		{ "FileVersion", offsetof(struct pe_version, file_version) },
	};
	struct blk s;
	int r;

	for (size_t c = t->child; c < t->end; c = blk_next(s.end, t->end)) {
		r = blk_parse(b, t->end, c, &s);
		if (r < 0)
			return r;
		for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
			char **slot = (char **)((char *)v + fields[i].off);

			if (*slot || !key_is(b, &s, fields[i].key))
				continue;
			*slot = utf16_to_utf8(b + s.val, s.val_n / 2);
			if (!*slot)
				return -ENOMEM;
		}
	}
	return 0;
}

static int parse_version(const uint8_t *b, size_t len, struct pe_version *v)
{
	struct blk root, sfi, t;
	int r;

	r = blk_parse(b, len, 0, &root);
	if (r < 0)
		return r;
	if (!key_is(b, &root, "VS_VERSION_INFO"))
		return -EBADMSG;
	if (root.val_n >= 52 && le32(b + root.val) == VS_FIXED_SIGNATURE) {
		uint32_t ms = le32(b + root.val + 8), ls = le32(b + root.val + 12);

		v->fixed_version[0] = (uint16_t)(ms >> 16);
		v->fixed_version[1] = (uint16_t)ms;
		v->fixed_version[2] = (uint16_t)(ls >> 16);
		v->fixed_version[3] = (uint16_t)ls;
	}
	for (size_t c = root.child; c < root.end; c = blk_next(sfi.end, root.end)) {
		r = blk_parse(b, root.end, c, &sfi);
		if (r < 0)
			return r;
		if (!key_is(b, &sfi, "StringFileInfo"))
			continue; /* VarFileInfo */
		for (size_t d = sfi.child; d < sfi.end; d = blk_next(t.end, sfi.end)) {
			r = blk_parse(b, sfi.end, d, &t);
			if (r < 0)
				return r;
			r = string_table(b, &t, v);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* ---- entry points ---- */

static int pe_version_from_src(const struct src *s, struct pe_version *ret)
{
	struct pe pe = { .src = *s };
	struct pe_version v = { 0 };
	uint8_t *buf = NULL;
	size_t len = 0;
	int r;

	r = read_headers(&pe);
	if (r < 0)
		goto fail;
	r = find_version(&pe, &buf, &len);
	if (r < 0)
		goto fail;
	r = parse_version(buf, len, &v);
	if (r < 0)
		goto fail;
	free(buf);
	free(pe.sections);
	*ret = v;
	return 0;
fail:
	pe_version_clear(&v);
	free(buf);
	free(pe.sections);
	return r;
}

int pe_version_from_mem(const void *data, size_t size, struct pe_version *ret)
{
	struct src s = { .mem = data, .fd = -1, .size = size };

	if (!data && size)
		return -EINVAL;
	if (!data)
		return -ENOEXEC;
	return pe_version_from_src(&s, ret);
}

int pe_version_from_fd(int fd, struct pe_version *ret)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -ENOEXEC;
	return pe_version_from_src(&(struct src){ .fd = fd, .size = (uint64_t)st.st_size }, ret);
}

int pe_version_read(const char *path, struct pe_version *ret)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK), r;

	if (fd < 0)
		return -errno;
	r = pe_version_from_fd(fd, ret);
	close(fd);
	return r;
}

void pe_version_clear(struct pe_version *v)
{
	if (!v)
		return;
	free(v->company_name);
	free(v->product_name);
	free(v->original_filename);
	free(v->file_description);
	free(v->file_version);
	memset(v, 0, sizeof(*v));
}
