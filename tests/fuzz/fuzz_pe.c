/* Fuzz the PE version-resource reader (agent/host/pe.c): any bytes give a version or
 * -ENOEXEC/-EBADMSG/-ENOENT, never a read out of bounds, a leak or undefined behaviour. The same
 * bytes read through a file descriptor (pread, memfd) must give the same answer as from memory.
 * Every string must be valid, NUL-terminated UTF-8 (read to the end, so ASan sees it). Corpus:
 * tests/fuzz/corpus/pe/ (the fixtures of tests/data/pe). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "agent/host/pe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s)
		return;
	while (*p) {
		int n = *p < 0x80 ? 0 : (*p & 0xe0) == 0xc0 ? 1 : (*p & 0xf0) == 0xe0 ? 2 : 3;

		if (*p >= 0x80 && ((*p & 0xc0) == 0x80 || *p >= 0xf8))
			abort();
		p++;
		for (int i = 0; i < n; i++, p++)
			if ((*p & 0xc0) != 0x80)
				abort();
	}
}

static int eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pe_version v = { 0 }, w = { 0 };
	int r, rf = -EIO, fd;

	r = pe_version_from_mem(data, size, &v);
	if (r != 0 && r != -ENOEXEC && r != -EBADMSG && r != -ENOENT && r != -ENOMEM)
		abort();
	if (r != 0 && (v.company_name || v.product_name || v.original_filename ||
		       v.file_description || v.file_version))
		abort(); /* *ret is touched only on success */
	check_utf8(v.company_name);
	check_utf8(v.product_name);
	check_utf8(v.original_filename);
	check_utf8(v.file_description);
	check_utf8(v.file_version);

	fd = memfd_create("fuzz_pe", MFD_CLOEXEC);
	if (fd >= 0) {
		if (size == 0 || write(fd, data, size) == (ssize_t)size) {
			rf = pe_version_from_fd(fd, &w);
			if (rf != r || !eq(v.company_name, w.company_name) ||
			    !eq(v.product_name, w.product_name) ||
			    !eq(v.original_filename, w.original_filename) ||
			    !eq(v.file_description, w.file_description) ||
			    !eq(v.file_version, w.file_version) ||
			    memcmp(v.fixed_version, w.fixed_version, sizeof(v.fixed_version)) != 0)
				abort();
		}
		close(fd);
	}
	pe_version_clear(&v);
	pe_version_clear(&w);
	return 0;
}
