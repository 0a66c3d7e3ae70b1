/* A growable byte buffer, always NUL-terminated. A zeroed struct buf is empty and valid. */
#pragma once
#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NULL until the first append; data[len] == '\0' after one */
	size_t len;
	size_t cap;
};

/* Make room for n more bytes (plus the NUL): -ENOMEM, or -EOVERFLOW when the size would wrap. */
int buf_reserve(struct buf *b, size_t n);
int buf_append(struct buf *b, const void *data, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
/* Hand the data to the caller (never NULL on success: "" for an empty buffer); b is empty after. */
char *buf_steal(struct buf *b);
void buf_clear(struct buf *b);
