/* agent.conf: how the agent reaches its server and where it keeps its state (docs/agent-conf.md).
 * INI read with inih from /etc/wxguard/agent.conf, then every agent.conf.d/NAME.conf in name order
 * (later files override keys). Unknown sections and keys are errors. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "common/strv.h"

#define AGENT_CONFIG_PATH_DEFAULT "/etc/wxguard/agent.conf"
#define AGENT_STATE_DIR_DEFAULT "/var/lib/wxguard"
#define AGENT_POLICY_DIR_DEFAULT "/etc/wxguard/policy.d"
#define AGENT_REPORT_JITTER_DEFAULT 10u /* percent of the interval */
#define AGENT_SPOOL_MAX_EVENTS_DEFAULT 10000u
#define AGENT_SPOOL_MAX_BYTES_DEFAULT (16u * 1024 * 1024)

struct agent_config {
	/* [server] */
	char *server_url; /* url = https://wxguard.example.com (no trailing path) */
	char *ca;         /* ca = PEM bundle the server's certificate must chain to */
	char *pin_sha256; /* pin_sha256 = "sha256//<b64>[;sha256//<b64>]" (CURLOPT_PINNEDPUBLICKEY)
			   */
	char *proxy;      /* proxy = http://proxy:3128 (else libcurl's https_proxy/no_proxy) */
	/* [enroll]: a drop-in from fleet tooling; enrolls on first start without a person. */
	char *enroll_server; /* server = URL; used when [server] url is not set */
	char *enroll_token;  /* token = enrollment token */
	char *enroll_ca;     /* ca = used when [server] ca is not set */
	/* [agent] */
	char *state_dir;        /* state_dir = /var/lib/wxguard */
	char *policy_dir;       /* policy_dir = /etc/wxguard/policy.d (server policy goes there) */
	unsigned report_jitter; /* report_jitter = percent 0..50 (also "10%") */
	/* [spool] */
	unsigned spool_max_events; /* max_events = 10000 */
	uint64_t spool_max_bytes;  /* max_bytes = 16M (K, M, G suffixes) */

	struct strv sources; /* files read, in order */
};

struct agent_config_error {
	char file[256];
	unsigned line; /* 0: the whole file */
	char message[256];
};

/* Load path (NULL: the default) and path.d/NAME.conf. A missing file or directory is not an error
 * (defaults apply). On a bad key or value returns -EBADMSG and fills err (may be NULL). */
int agent_config_load(const char *path, struct agent_config **ret, struct agent_config_error *err);
/* Parse one buffer on top of the defaults (tests, `wxguard enroll` validation). */
int agent_config_load_buffer(const char *name, const char *text, struct agent_config **ret,
			     struct agent_config_error *err);
void agent_config_free(struct agent_config *c);

/* The effective server URL and CA: [server] first, then [enroll]. NULL when unset. */
const char *agent_config_server_url(const struct agent_config *c);
const char *agent_config_ca(const struct agent_config *c);
