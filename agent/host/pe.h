/* The version resource of a Windows PE file (.exe, .dll), read without Windows or Wine: how the
 * agent recognises a Windows client by content (CompanyName Tencent, ProductName Weixin,
 * OriginalFilename WeChat.exe) whatever the file is called. docs/wine.md.
 *
 * The walk: DOS header -> PE header -> optional header's resource directory -> section table
 * (RVA to file offset) -> resource tree RT_VERSION (16) / first name / first language ->
 * VS_VERSIONINFO -> StringFileInfo -> the first string table holding each key. Every offset and
 * size read from the file is checked against the file, the section it lies in and the block that
 * holds it; nothing is read out of bounds, whatever the input.
 *
 * Errors: -ENOEXEC not a PE file (no MZ or PE signature); -EBADMSG a PE file whose headers,
 * resource tree or version block are malformed (treat as hostile); -ENOENT a well-formed PE
 * without a version resource; -ENOMEM; -errno of open/fstat/pread. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct pe_version {
	/* UTF-8 (converted from UTF-16LE), NULL when the resource has no such string. */
	char *company_name;
	char *product_name;
	char *original_filename;
	char *file_description;
	char *file_version;
	/* VS_FIXEDFILEINFO's file version (4, 1, 33, 6009); all 0 when it is missing. */
	uint16_t fixed_version[4];
};

int pe_version_from_mem(const void *data, size_t size, struct pe_version *ret);
/* Reads with pread: a file that changes underneath gives -EBADMSG, never a fault. */
int pe_version_from_fd(int fd, struct pe_version *ret);
int pe_version_read(const char *path, struct pe_version *ret);
/* Frees the strings and zeroes *v; accepts a zeroed struct. */
void pe_version_clear(struct pe_version *v);
