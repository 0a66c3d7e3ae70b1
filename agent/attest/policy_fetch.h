/* Policy distribution, agent side (docs/protocol.md "Policy distribution").
 *
 * When the server's reply to a report names a policy hash different from the server policy in
 * force, the agent GETs /api/v1/policy, verifies the server's Ed25519 signature over the raw
 * text with the server_public_key from enrollment, checks the text's SHA-256 against the hash
 * announced, lints it (policy_load_buffer), writes it atomically to <policy_dir>/50-server.ini,
 * re-lints the whole policy directory (rolling back to the previous file if the combination is
 * bad), keeps a copy of the last good server policy in <state_dir>/policy/last-good.ini, and
 * calls the caller's callback so the watcher reloads. A bad policy never replaces a good one.
 * The reply's JSON is parsed in the uplink child (UPLINK_REPLY_POLICY); the signature, hash and
 * lint checks are done here, in the agent, with the key from enrollment. */
#pragma once
#include <stddef.h>

#include "agent/uplink/uplink.h"
#include "common/hash.h"

#define POLICY_FETCH_FILE "50-server.ini"

struct policy_fetch;

struct policy_fetch_opts {
	const char *policy_dir;
	const char *state_dir;
	const char *device_id;
	const char *server_public_key; /* base64 */
	const char *want_sha256;       /* the hash the server announced; NULL: any */
};

/* r: 0 applied (path is the file written), or -errno: -EBADMSG bad signature / hash / lint
 * (detail says which), transport errors as the uplink reports them. */
typedef void (*policy_fetch_fn)(void *userdata, int r, const char *detail, const char *path);

int policy_fetch_start(struct uplink *u, const struct policy_fetch_opts *o, policy_fetch_fn cb,
		       void *userdata, struct policy_fetch **ret);
void policy_fetch_free(struct policy_fetch *f);

/* The synchronous core: verify, lint and apply a reply's typed fields (UPLINK_REPLY_POLICY: the
 * uplink child extracted them; the signature over text is checked here). */
int policy_fetch_apply(const struct uplink_reply *reply, const struct policy_fetch_opts *o,
		       char *detail, size_t detail_size);
/* SHA-256 of the server policy in force (<policy_dir>/50-server.ini); -ENOENT when none. */
int policy_fetch_current_sha256(const char *policy_dir, char hex[HASH_SHA256_HEX]);
