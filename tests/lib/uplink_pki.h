/* TLS for the uplink tests: a throwaway CA, a server certificate for 127.0.0.1 signed by it, a
 * second unrelated CA, and the server key's pin, made with the openssl tool. The directory is
 * 0700 and ca.pem 0600: an unprivileged uplink child cannot read the CA file itself. */
#pragma once
#include <limits.h>

struct uplink_pki {
	char *dir;
	char cert[PATH_MAX], key[PATH_MAX]; /* the server's */
	char ca[PATH_MAX];                  /* the CA that signed it */
	char other_ca[PATH_MAX];            /* a CA that did not */
	char pin[256];                      /* "sha256//<base64>" of the server's public key */
};

/* 0, or -EIO when the openssl tool failed (skip the test). Free with uplink_pki_free() either
 * way. */
int uplink_pki_make(struct uplink_pki *p);
void uplink_pki_free(struct uplink_pki *p);
