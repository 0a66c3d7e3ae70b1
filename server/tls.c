#include "server/tls.h"

#include <errno.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/fileio.h"

static EVP_PKEY *gen_key(void)
{
	return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ex)
		return -EINVAL;
	X509_add_ext(cert, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
		       const char *san, long days)
{
	X509 *c = X509_new();
	X509_NAME *name;
	unsigned char serial[16];
	BIGNUM *bn;

	if (!c)
		return NULL;
	X509_set_version(c, 2);
	RAND_bytes(serial, sizeof(serial));
	serial[0] &= 0x7f;
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(c));
	BN_free(bn);
	X509_gmtime_adj(X509_getm_notBefore(c), -3600);
	X509_gmtime_adj(X509_getm_notAfter(c), days * 86400L);
	X509_set_pubkey(c, key);
	name = X509_get_subject_name(c);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"wxguard", -1,
				   -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : name);
	if (ca) {
		add_ext(c, issuer ? issuer : c, NID_basic_constraints,
			"critical,CA:TRUE,pathlen:0");
		add_ext(c, issuer ? issuer : c, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(c, issuer, NID_key_usage, "critical,digitalSignature");
		add_ext(c, issuer, NID_ext_key_usage, "serverAuth");
		add_ext(c, issuer, NID_subject_alt_name, san);
	}
	add_ext(c, issuer ? issuer : c, NID_subject_key_identifier, "hash");
	if (!X509_sign(c, issuer_key ? issuer_key : key, EVP_sha256())) {
		X509_free(c);
		return NULL;
	}
	return c;
}

static int write_pem(const char *path, X509 *cert, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int r;

	if (!b)
		return -ENOMEM;
	if (cert ? !PEM_write_bio_X509(b, cert)
		 : !PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL)) {
		BIO_free(b);
		return -EIO;
	}
	n = BIO_get_mem_data(b, &data);
	r = write_file_atomic(path, data, (size_t)n, cert ? 0644 : 0600);
	BIO_free(b);
	return r;
}

int tls_generate(const char *dir, const char *extra_dns)
{
	EVP_PKEY *cak = NULL, *k = NULL;
	X509 *ca = NULL, *c = NULL;
	char path[4096], san[512], host[256] = "";
	int r = -EIO;

	r = mkdir_p(dir, 0700);
	if (r < 0)
		return r;
	r = -EIO;
	if (!extra_dns && gethostname(host, sizeof(host) - 1) == 0 && host[0] && !strchr(host, ','))
		extra_dns = host;
	snprintf(san, sizeof(san), "DNS:localhost,IP:127.0.0.1,IP:::1%s%s",
		 extra_dns ? ",DNS:" : "", extra_dns ? extra_dns : "");
	cak = gen_key();
	k = gen_key();
	if (!cak || !k)
		goto out;
	ca = make_cert(cak, "wxguard-server CA", NULL, NULL, true, NULL, 3650);
	if (!ca)
		goto out;
	c = make_cert(k, extra_dns ? extra_dns : "localhost", ca, cak, false, san, 825);
	if (!c)
		goto out;
	snprintf(path, sizeof(path), "%s/ca-key.pem", dir);
	if ((r = write_pem(path, NULL, cak)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	if ((r = write_pem(path, ca, NULL)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/server-key.pem", dir);
	if ((r = write_pem(path, NULL, k)) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s/server.pem", dir);
	r = write_pem(path, c, NULL);
out:
	EVP_PKEY_free(cak);
	EVP_PKEY_free(k);
	X509_free(ca);
	X509_free(c);
	return r;
}

int tls_ensure_files(struct srv_config *cfg)
{
	char dir[4096];
	int r;

	if (cfg->tls_cert && cfg->tls_key)
		return 0;
	if (cfg->tls_cert || cfg->tls_key)
		return -EINVAL; /* one without the other */
	snprintf(dir, sizeof(dir), "%s/tls", cfg->state_dir);
	if (asprintf(&cfg->tls_cert, "%s/server.pem", dir) < 0 ||
	    asprintf(&cfg->tls_key, "%s/server-key.pem", dir) < 0)
		return -ENOMEM;
	if (!cfg->tls_ca && asprintf(&cfg->tls_ca, "%s/ca.pem", dir) < 0)
		return -ENOMEM;
	if (access(cfg->tls_cert, R_OK) == 0 && access(cfg->tls_key, R_OK) == 0)
		return 0;
	r = tls_generate(dir, NULL);
	return r;
}

int tls_server_ctx(const struct srv_config *cfg, SSL_CTX **ret)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* Agents come back every few minutes on a new connection: one TLS 1.3 ticket per
	 * handshake is all a client uses (OpenSSL sends 2 by default, each one encrypted and
	 * written for nothing). Tickets are stateless (a per-process key): resumption works
	 * against the process that issued it; another one does a full handshake. */
	SSL_CTX_set_num_tickets(ctx, 1);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return -EBADMSG;
	}
	*ret = ctx;
	return 0;
}
