#include "common/hash.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

void hash_to_hex(const unsigned char *raw, size_t len, char *hex)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		hex[2 * i] = digits[raw[i] >> 4];
		hex[2 * i + 1] = digits[raw[i] & 15];
	}
	hex[2 * len] = 0;
}

static int digest_fd(const EVP_MD *md, int fd, char *hex)
{
	unsigned char buf[65536], out[EVP_MAX_MD_SIZE];
	unsigned int olen = 0;
	EVP_MD_CTX *ctx;
	ssize_t n;
	int r = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (!EVP_DigestInit_ex(ctx, md, NULL)) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(ctx, buf, (size_t)n);
	}
	if (!EVP_DigestFinal_ex(ctx, out, &olen)) {
		r = -EIO;
		goto out;
	}
	hash_to_hex(out, olen, hex);
out:
	EVP_MD_CTX_free(ctx);
	return r;
}

static int digest_file(const EVP_MD *md, const char *path, char *hex)
{
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = digest_fd(md, fd, hex);
	close(fd);
	return r;
}

int hash_sha256_raw(const void *data, size_t len, unsigned char out[32])
{
	unsigned int olen = 32;

	return EVP_Digest(data, len, out, &olen, EVP_sha256(), NULL) ? 0 : -EIO;
}

int hash_sha256_buf(const void *data, size_t len, char hex[HASH_SHA256_HEX])
{
	unsigned char out[32];
	int r = hash_sha256_raw(data, len, out);

	if (r == 0)
		hash_to_hex(out, 32, hex);
	return r;
}

int hash_sha256_fd(int fd, char hex[HASH_SHA256_HEX])
{
	return digest_fd(EVP_sha256(), fd, hex);
}

int hash_sha256_file(const char *path, char hex[HASH_SHA256_HEX])
{
	return digest_file(EVP_sha256(), path, hex);
}

int hash_md5_file(const char *path, char hex[HASH_MD5_HEX])
{
	return digest_file(EVP_md5(), path, hex);
}
