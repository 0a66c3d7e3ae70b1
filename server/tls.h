/* TLS for wxguard-server: a server SSL_CTX from configured files, or from a CA and server
 * certificate generated (OpenSSL API, ECDSA P-256) under <state_dir>/tls on first run. */
#pragma once
#include <openssl/ssl.h>

#include "server/srv.h"

/* Make sure cert/key exist: when [tls] cert and key are unset, use or generate
 * <state_dir>/tls/{ca.pem,ca-key.pem,server.pem,server-key.pem}; fills cfg->tls_* paths. */
int tls_ensure_files(struct srv_config *cfg);
/* Generate a CA and a server certificate for 127.0.0.1, ::1, localhost and extra_dns (may be
 * NULL) into dir. */
int tls_generate(const char *dir, const char *extra_dns);
int tls_server_ctx(const struct srv_config *cfg, SSL_CTX **ret);
