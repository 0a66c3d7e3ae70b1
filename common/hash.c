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

/* n digests of one read of fd, hex[i] by md[i]. */
static int digest_fd_n(int fd, const EVP_MD *const *md, char *const *hex, size_t n)
{
	unsigned char buf[65536], out[EVP_MAX_MD_SIZE];
	EVP_MD_CTX *ctx[2] = { NULL, NULL };
	unsigned int olen = 0;
	ssize_t len;
	int r = 0;

	for (size_t i = 0; i < n; i++) {
		ctx[i] = EVP_MD_CTX_new();
		if (!ctx[i]) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (!EVP_DigestInit_ex(ctx[i], md[i], NULL)) {
			r = -EIO;
			goto out;
		}
	for (;;) {
		len = read(fd, buf, sizeof(buf));
		if (len < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (len == 0)
			break;
		for (size_t i = 0; i < n; i++)
			EVP_DigestUpdate(ctx[i], buf, (size_t)len);
	}
	for (size_t i = 0; i < n; i++) {
		if (!EVP_DigestFinal_ex(ctx[i], out, &olen)) {
			r = -EIO;
			goto out;
		}
		hash_to_hex(out, olen, hex[i]);
	}
out:
	for (size_t i = 0; i < n; i++)
		EVP_MD_CTX_free(ctx[i]);
	return r;
}

static int digest_fd(const EVP_MD *md, int fd, char *hex)
{
	return digest_fd_n(fd, &md, &hex, 1);
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

int hash_md5_sha256_fd(int fd, char md5[HASH_MD5_HEX], char sha256[HASH_SHA256_HEX])
{
	const EVP_MD *md[2] = { EVP_md5(), EVP_sha256() };
	char *hex[2] = { md5, sha256 };

	return digest_fd_n(fd, md, hex, 2);
}

int hash_sha256_file(const char *path, char hex[HASH_SHA256_HEX])
{
	return digest_file(EVP_sha256(), path, hex);
}

int hash_md5_file(const char *path, char hex[HASH_MD5_HEX])
{
	return digest_file(EVP_md5(), path, hex);
}
