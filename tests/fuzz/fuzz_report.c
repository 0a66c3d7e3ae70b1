/* libFuzzer target for the server's network input path: request body -> JSON parse ->
 * envelope -> canonical bytes -> field validation -> device lookup -> signature check ->
 * store (SQLite in memory). The first byte picks the endpoint: 'r' report, 'e' events,
 * 'n' enroll, 'p' admin policy upload, 'a' one watcher event straight into the alert mapping
 * and message builder (docs/events.md: a signed batch cannot reach it from a static corpus,
 * the device key is made per run); anything else: report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"
#include "common/hash.h"
#include "server/alerts.h"
#include "server/api/api.h"
#include "server/srv.h"
#include "server/store/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_DEVICE "00000000-0000-4000-8000-00000000f022"

static struct srv S;
static struct store *ST;
static char admin[128];

static void init(void)
{
	char tmpl[] = "/tmp/wxgfuzz.XXXXXX", path[256], err[256], *tok;
	struct store_device d = { 0 };
	size_t len;

	if (!mkdtemp(tmpl) || srv_config_load(&S.cfg, NULL) < 0)
		abort();
	free(S.cfg.state_dir);
	S.cfg.state_dir = strdup(tmpl);
	snprintf(path, sizeof(path), "%s/key.pem", tmpl);
	free(S.cfg.server_key);
	S.cfg.server_key = strdup(path);
	snprintf(path, sizeof(path), "%s/admin.token", tmpl);
	free(S.cfg.admin_token_file);
	S.cfg.admin_token_file = strdup(path);
	if (store_open("sqlite::memory:", &ST, err, sizeof(err)) < 0 || srv_init(&S, ST) < 0)
		abort();
	if (read_full_file(path, 4096, &tok, &len) < 0)
		abort();
	tok[strcspn(tok, "\n")] = 0;
	snprintf(admin, sizeof(admin), "Bearer %s", tok);
	free(tok);
	snprintf(d.id, sizeof(d.id), FUZZ_DEVICE);
	snprintf(d.public_key, sizeof(d.public_key), "%s", S.public_key_b64);
	snprintf(d.status, sizeof(d.status), "approved");
	d.last_seq = -1;
	memset(d.last_hash, '0', 64);
	snprintf(d.nonce, sizeof(d.nonce), "AAAAAAAAAAAAAAAAAAAAAA==");
	d.report_interval = 300;
	snprintf(d.hostname, sizeof(d.hostname), "fuzz");
	store_device_create(ST, &d, NULL, "{}", 1795000000);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct api_request rq = { .method = "POST", .path = "/api/v1/report" };
	struct api_response rs;

	if (!ready) {
		init();
		ready = 1;
	}
	if (size > 0) {
		switch (data[0]) {
		case 'e': rq.path = "/api/v1/events"; break;
		case 'n': rq.path = "/api/v1/enroll"; break;
		case 'p':
			rq.path = "/api/v1/admin/policy";
			rq.authorization = admin;
			break;
		case 'a': {
			json_t *ev = json_loadb((const char *)data + 1, size - 1, 0, NULL);
			struct alert_event a;
			char text[4096], key[160];

			if (ev && alert_event_classify(ev, &a)) {
				alert_event_message(ev, &a, "fuzz", FUZZ_DEVICE, text,
						    sizeof(text));
				alert_event_key(ev, &a, FUZZ_DEVICE, 1795000000, key, sizeof(key));
				json_decref(json_string(text)); /* must stay valid UTF-8 */
			}
			json_decref(ev);
			return 0;
		}
		default: break;
		}
		data++;
		size--;
	}
	rq.body = (const char *)data;
	rq.body_len = size;
	if (api_handle(&S, ST, &rq, &rs, 1795000000) == 0)
		free(rs.body);
	return 0;
}
