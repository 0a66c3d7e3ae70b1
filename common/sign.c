#include "common/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/canon.h"
#include "common/fileio.h"

struct sign_key {
	EVP_PKEY *pkey;
};

int sign_key_generate(struct sign_key **ret)
{
	struct sign_key *k;
	EVP_PKEY_CTX *ctx;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
	if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k->pkey) <= 0) {
		EVP_PKEY_CTX_free(ctx);
		free(k);
		return -EIO;
	}
	EVP_PKEY_CTX_free(ctx);
	*ret = k;
	return 0;
}

void sign_key_free(struct sign_key *k)
{
	if (!k)
		return;
	EVP_PKEY_free(k->pkey);
	free(k);
}

int sign_key_save(const struct sign_key *k, const char *path)
{
	BIO *bio;
	char *data;
	long n;
	int r;

	bio = BIO_new(BIO_s_mem());
	if (!bio)
		return -ENOMEM;
	if (!PEM_write_bio_PrivateKey(bio, k->pkey, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(bio);
		return -EIO;
	}
	n = BIO_get_mem_data(bio, &data);
	r = write_file_atomic(path, data, (size_t)n, 0600);
	BIO_free(bio);
	return r;
}

int sign_key_load(const char *path, struct sign_key **ret)
{
	struct sign_key *k = NULL;
	EVP_PKEY *pkey = NULL;
	struct stat st;
	char *text = NULL;
	size_t len;
	BIO *bio = NULL;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (st.st_mode & 077) {
		close(fd);
		return -EPERM;
	}
	r = read_full_fd(fd, 64 * 1024, &text, &len);
	close(fd);
	if (r < 0)
		return r;
	bio = BIO_new_mem_buf(text, (int)len);
	if (!bio) {
		r = -ENOMEM;
		goto out;
	}
	pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	if (!pkey || EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		r = -EBADMSG;
		goto out;
	}
	k = calloc(1, sizeof(*k));
	if (!k) {
		r = -ENOMEM;
		goto out;
	}
	k->pkey = pkey;
	pkey = NULL;
	*ret = k;
	r = 0;
out:
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	if (text) {
		explicit_bzero(text, len);
		free(text);
	}
	return r;
}

int sign_key_load_or_create(const char *path, struct sign_key **ret)
{
	struct sign_key *k;
	int r;

	r = sign_key_load(path, ret);
	if (r != -ENOENT)
		return r;
	r = sign_key_generate(&k);
	if (r < 0)
		return r;
	r = sign_key_save(k, path);
	if (r < 0) {
		sign_key_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

int sign_key_public_raw(const struct sign_key *k, unsigned char pub[SIGN_PUBLIC_KEY_LEN])
{
	size_t n = SIGN_PUBLIC_KEY_LEN;

	if (EVP_PKEY_get_raw_public_key(k->pkey, pub, &n) <= 0 || n != SIGN_PUBLIC_KEY_LEN)
		return -EIO;
	return 0;
}

int sign_key_public_b64(const struct sign_key *k, char **ret)
{
	unsigned char pub[SIGN_PUBLIC_KEY_LEN];
	int r;

	r = sign_key_public_raw(k, pub);
	if (r < 0)
		return r;
	return b64_encode(pub, sizeof(pub), ret);
}

int sign_data(const struct sign_key *k, const void *data, size_t len,
	      unsigned char sig[SIGN_SIGNATURE_LEN])
{
	EVP_MD_CTX *ctx;
	size_t n = SIGN_SIGNATURE_LEN;
	int r = 0;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	if (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k->pkey) <= 0 ||
	    EVP_DigestSign(ctx, sig, &n, data, len) <= 0 || n != SIGN_SIGNATURE_LEN)
		r = -EIO;
	EVP_MD_CTX_free(ctx);
	return r;
}

int sign_data_b64(const struct sign_key *k, const void *data, size_t len, char **ret)
{
	unsigned char sig[SIGN_SIGNATURE_LEN];
	int r;

	r = sign_data(k, data, len, sig);
	if (r < 0)
		return r;
	return b64_encode(sig, sizeof(sig), ret);
}

int sign_verify(const unsigned char pub[SIGN_PUBLIC_KEY_LEN], const void *data, size_t len,
		const unsigned char sig[SIGN_SIGNATURE_LEN])
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *ctx;
	int r;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SIGN_PUBLIC_KEY_LEN);
	if (!pkey)
		return -EINVAL;
	ctx = EVP_MD_CTX_new();
	if (!ctx) {
		EVP_PKEY_free(pkey);
		return -ENOMEM;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) <= 0)
		r = -EIO;
	else
		r = EVP_DigestVerify(ctx, sig, SIGN_SIGNATURE_LEN, data, len) == 1 ? 0 : -EBADMSG;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return r;
}

int sign_verify_b64(const char *pub_b64, const void *data, size_t len, const char *sig_b64)
{
	unsigned char pub[SIGN_PUBLIC_KEY_LEN], sig[SIGN_SIGNATURE_LEN];

	if (!pub_b64 || b64_decode_exact(pub_b64, pub, sizeof(pub)) < 0)
		return -EINVAL;
	if (!sig_b64 || b64_decode_exact(sig_b64, sig, sizeof(sig)) < 0)
		return -EBADMSG;
	return sign_verify(pub, data, len, sig);
}

int sign_json_b64(const struct sign_key *k, const json_t *obj, char **ret)
{
	char *c;
	size_t n;
	int r;

	r = canon_dump(obj, &c, &n);
	if (r < 0)
		return r;
	r = sign_data_b64(k, c, n, ret);
	free(c);
	return r;
}

int sign_verify_json_b64(const char *pub_b64, const json_t *obj, const char *sig_b64)
{
	char *c;
	size_t n;
	int r;

	r = canon_dump(obj, &c, &n);
	if (r < 0)
		return r == -ENOMEM ? r : -EBADMSG;
	r = sign_verify_b64(pub_b64, c, n, sig_b64);
	free(c);
	return r;
}

int sign_envelope(const struct sign_key *k, const char *member, json_t *obj, json_t **ret)
{
	json_t *env;
	char *sig;
	int r;

	r = sign_json_b64(k, obj, &sig);
	if (r < 0)
		return r;
	env = json_object();
	if (!env || json_object_set(env, member, obj) < 0 ||
	    json_object_set_new(env, "signature", json_string(sig)) < 0) {
		json_decref(env);
		free(sig);
		return -ENOMEM;
	}
	free(sig);
	*ret = env;
	return 0;
}
