#include "tests/lib/uplink_pki.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "tests/lib/testlib.h"

int uplink_pki_make(struct uplink_pki *p)
{
	char cmd[4096], path[PATH_MAX], *pin;

	*p = (struct uplink_pki){ .dir = wxg_test_mkdtemp() };
	snprintf(cmd, sizeof(cmd),
		 "cd %s && exec >log 2>&1 && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		 "  -subj /CN=testca -keyout ca.key -out ca.pem && "
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 "
		 "  -subj /CN=otherca -keyout other.key -out other.pem && "
		 "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
		 "  -subj /CN=127.0.0.1 -keyout srv.key -out srv.csr && "
		 "printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > ext && "
		 "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
		 "  -extfile ext -out srv.pem && "
		 "openssl x509 -in srv.pem -pubkey -noout | openssl pkey -pubin -outform der | "
		 "  openssl dgst -sha256 -binary | base64 -w0 > pin && "
		 "chmod 0700 . && chmod 0600 ca.pem",
		 p->dir);
	if (system(cmd) != 0)
		return -EIO;
	snprintf(p->cert, sizeof(p->cert), "%s/srv.pem", p->dir);
	snprintf(p->key, sizeof(p->key), "%s/srv.key", p->dir);
	snprintf(p->ca, sizeof(p->ca), "%s/ca.pem", p->dir);
	snprintf(p->other_ca, sizeof(p->other_ca), "%s/other.pem", p->dir);
	snprintf(path, sizeof(path), "%s/pin", p->dir);
	if (read_full_file(path, 4096, &pin, NULL) < 0)
		return -EIO;
	snprintf(p->pin, sizeof(p->pin), "sha256//%s", pin);
	free(pin);
	return 0;
}

void uplink_pki_free(struct uplink_pki *p)
{
	if (!p->dir)
		return;
	wxg_test_rmtree(p->dir);
	free(p->dir);
	p->dir = NULL;
}
