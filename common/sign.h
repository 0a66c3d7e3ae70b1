/* Ed25519 signatures (OpenSSL 3 EVP) for the wire protocol (docs/protocol.md).
 * A private key lives in a PEM (PKCS#8) file of mode 0600; public keys travel as raw 32 bytes
 * in base64, signatures as raw 64 bytes in base64. All functions return 0 or -errno;
 * verification failure is -EBADMSG. Out-parameters are touched only on success. */
#pragma once
#include <stddef.h>
#include <jansson.h>

#define SIGN_PUBLIC_KEY_LEN 32
#define SIGN_SIGNATURE_LEN 64
#define SIGN_PUBLIC_KEY_B64_LEN 44 /* without NUL */
#define SIGN_SIGNATURE_B64_LEN 88  /* without NUL */

struct sign_key; /* a private key (and its public half) */

int sign_key_generate(struct sign_key **ret);
void sign_key_free(struct sign_key *k);
/* Write the private key as PKCS#8 PEM, atomically, mode 0600. */
int sign_key_save(const struct sign_key *k, const char *path);
/* Load a PEM private key. -EPERM when the file is group- or world-accessible,
 * -EBADMSG when it is not an Ed25519 private key. */
int sign_key_load(const char *path, struct sign_key **ret);
/* Load path, or generate and save a new key there when it does not exist. */
int sign_key_load_or_create(const char *path, struct sign_key **ret);

int sign_key_public_raw(const struct sign_key *k, unsigned char pub[SIGN_PUBLIC_KEY_LEN]);
/* Public key as base64 (new string, free()). */
int sign_key_public_b64(const struct sign_key *k, char **ret);

/* Sign arbitrary bytes. */
int sign_data(const struct sign_key *k, const void *data, size_t len,
	      unsigned char sig[SIGN_SIGNATURE_LEN]);
int sign_data_b64(const struct sign_key *k, const void *data, size_t len, char **ret);
/* 0 if sig is a valid signature of data by pub; -EBADMSG if not; -EINVAL bad key. */
int sign_verify(const unsigned char pub[SIGN_PUBLIC_KEY_LEN], const void *data, size_t len,
		const unsigned char sig[SIGN_SIGNATURE_LEN]);
/* The same with base64 key and signature (malformed base64: -EBADMSG for the signature,
 * -EINVAL for the key). */
int sign_verify_b64(const char *pub_b64, const void *data, size_t len, const char *sig_b64);

/* Sign canon_dump(obj) (see common/canon.h): base64 signature, new string. */
int sign_json_b64(const struct sign_key *k, const json_t *obj, char **ret);
int sign_verify_json_b64(const char *pub_b64, const json_t *obj, const char *sig_b64);
/* Build a signed envelope {"<member>": obj, "signature": "<b64>"} as in the protocol
 * (member "enroll", "report" or "batch"). Takes a reference to obj (json_incref). */
int sign_envelope(const struct sign_key *k, const char *member, json_t *obj, json_t **ret);
