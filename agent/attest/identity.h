/* The device's identity: its Ed25519 key (generated on first start), the facts that describe the
 * machine to the server at enrollment, and the enrollment record the server's answer makes.
 *
 * Files in the state directory (default /var/lib/wxguard, created 0755):
 *   device.key        PKCS#8 PEM private key, 0600 (common/sign.h)
 *   enrollment.json   {"device_id", "server_url", "server_ca", "server_public_key", "approved",
 * "time"}, 0644 See docs/privacy.md for what the facts contain. */
#pragma once
#include <stdbool.h>
#include <jansson.h>

#include "agent/host/sysroot.h"
#include "common/sign.h"

#define IDENTITY_KEY_FILE "device.key"
#define IDENTITY_ENROLLMENT_FILE "enrollment.json"

struct identity {
	char *state_dir;
	struct sign_key *key;
	char *public_key_b64;
	/* The enrollment; device_id is NULL when the device is not enrolled. */
	char *device_id;
	char *server_url;
	char *server_ca;         /* the CA file given at enrollment (NULL: agent.conf's) */
	char *server_public_key; /* base64, verifies server-signed policies */
	bool approved;
};

/* Create state_dir if needed, load or generate the key, read the enrollment if present. */
int identity_load(const char *state_dir, struct identity **ret);
void identity_free(struct identity *id);
bool identity_enrolled(const struct identity *id);
/* Record the server's answer to enrollment (atomically) and update id. */
int identity_set_enrollment(struct identity *id, const char *device_id, const char *server_url,
			    const char *server_ca, const char *server_public_key, bool approved);

/* The machine facts of the enrollment request (docs/protocol.md):
 * {"machine_id", "product_uuid", "serial", "hostname", "os", "kernel", "agent_version"}.
 * Read through root; a fact that cannot be read is "" (DMI serial needs root). */
int identity_facts(const struct sysroot *root, json_t **ret);
/* /proc/sys/kernel/random/boot_id through root (new string). */
int identity_boot_id(const struct sysroot *root, char **ret);
