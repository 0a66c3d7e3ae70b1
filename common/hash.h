/* Digests with OpenSSL EVP, as lowercase hex. */
#pragma once
#include <stddef.h>

#define HASH_SHA256_HEX 65 /* 64 hex digits + NUL */
#define HASH_MD5_HEX 33

int hash_sha256_buf(const void *data, size_t len, char hex[HASH_SHA256_HEX]);
int hash_sha256_fd(int fd, char hex[HASH_SHA256_HEX]);
/* md5 and sha256 in one read of fd (package databases list either). */
int hash_md5_sha256_fd(int fd, char md5[HASH_MD5_HEX], char sha256[HASH_SHA256_HEX]);
int hash_sha256_file(const char *path, char hex[HASH_SHA256_HEX]);
int hash_md5_file(const char *path, char hex[HASH_MD5_HEX]);
/* Raw 32-byte SHA-256. */
int hash_sha256_raw(const void *data, size_t len, unsigned char out[32]);
void hash_to_hex(const unsigned char *raw, size_t len, char *hex);
