#include "agent/attest/enroll.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/sign.h"

struct enroll {
	struct uplink *u;
	struct identity *id;
	const struct sysroot *root;
	char *token, *server_url, *server_ca;
	enroll_done_fn cb;
	void *userdata;
};

static void finish(struct enroll *en, struct enroll_result *res)
{
	if (!res->error)
		res->error = "";
	if (!res->message)
		res->message = "";
	if (en->cb)
		en->cb(en->userdata, res);
}

static void fail_http(struct enroll *en, const struct uplink_response *resp)
{
	char code[64];
	struct enroll_result res = { 0 };

	if (resp->err) {
		res.r = resp->err;
		res.error = resp->error;
	} else {
		/* Typed fields from the uplink (checked where the JSON was parsed). */
		res.r = resp->status >= 400 && resp->status < 500 ? -EACCES : -EIO;
		snprintf(code, sizeof(code), "%s",
			 resp->reply && resp->reply->error[0] ? resp->reply->error : "");
		if (!code[0])
			snprintf(code, sizeof(code), "http_%ld", resp->status);
		res.error = code;
		res.message = resp->reply ? resp->reply->message : "";
	}
	finish(en, &res);
}

static void on_enrolled(void *userdata, const struct uplink_response *resp)
{
	struct enroll *en = userdata;
	const struct uplink_reply *y = resp->reply;
	struct enroll_result res = { 0 };

	if (resp->err || resp->status != 200) {
		fail_http(en, resp);
		return;
	}
	/* device_id and server_public_key are present and well-formed when the reply is valid. */
	if (!y || !y->valid) {
		res.r = -EBADMSG;
		res.error = "malformed_reply";
		res.message = y ? y->invalid : "";
		goto out;
	}
	res.r = identity_set_enrollment(en->id, y->device_id, en->server_url, en->server_ca,
					y->server_public_key, y->approved);
	if (res.r < 0) {
		res.error = res.r == -EBADMSG ? "bad_server_public_key" : "cannot_save_enrollment";
		goto out;
	}
	res.device_id = en->id->device_id;
	res.nonce = y->nonce[0] ? y->nonce : NULL;
	res.report_interval = y->report_interval;
	res.approved = en->id->approved;
out:
	finish(en, &res);
}

static void on_challenge(void *userdata, const struct uplink_response *resp)
{
	struct enroll *en = userdata;
	struct enroll_result res = { 0 };
	json_t *facts = NULL, *body = NULL, *env = NULL;
	const char *challenge;
	char *text = NULL;
	int r;

	if (resp->err || resp->status != 200) {
		fail_http(en, resp);
		return;
	}
	if (!resp->reply || !resp->reply->valid) {
		res.r = -EBADMSG;
		res.error = "malformed_reply";
		res.message = resp->reply ? resp->reply->invalid : "";
		goto fail;
	}
	challenge = resp->reply->challenge;
	r = identity_facts(en->root, &facts);
	if (r < 0) {
		res.r = r;
		res.error = "facts";
		goto fail;
	}
	body = json_pack("{s:s, s:s, s:s, s:O}", "token", en->token, "challenge", challenge,
			 "public_key", en->id->public_key_b64, "facts", facts);
	r = body ? sign_envelope(en->id->key, "enroll", body, &env) : -ENOMEM;
	if (r < 0) {
		res.r = r;
		res.error = "sign";
		goto fail;
	}
	text = json_dumps(env, JSON_COMPACT);
	r = text ? uplink_request_typed(en->u, UPLINK_REPLY_ENROLL, "POST", "/api/v1/enroll", NULL,
					text, strlen(text), on_enrolled, en)
		 : -ENOMEM;
	if (r < 0) {
		res.r = r;
		res.error = "request";
		goto fail;
	}
	goto out;
fail:
	finish(en, &res);
out:
	free(text);
	json_decref(env);
	json_decref(body);
	json_decref(facts);
}

int enroll_start(struct uplink *u, struct identity *id, const struct sysroot *root,
		 const char *token, const char *server_url, const char *server_ca,
		 enroll_done_fn cb, void *userdata, struct enroll **ret)
{
	struct enroll *en;
	int r;

	if (!token || !*token)
		return -EINVAL;
	en = calloc(1, sizeof(*en));
	if (!en)
		return -ENOMEM;
	en->u = u;
	en->id = id;
	en->root = root;
	en->cb = cb;
	en->userdata = userdata;
	en->token = strdup(token);
	en->server_url = server_url ? strdup(server_url) : NULL;
	en->server_ca = server_ca ? strdup(server_ca) : NULL;
	if (!en->token || (server_url && !en->server_url) || (server_ca && !en->server_ca)) {
		r = -ENOMEM;
		goto fail;
	}
	r = uplink_request_typed(u, UPLINK_REPLY_CHALLENGE, "POST", "/api/v1/enroll/challenge",
				 NULL, "{}", 2, on_challenge, en);
	if (r < 0)
		goto fail;
	*ret = en;
	return 0;
fail:
	free(en->token);
	free(en->server_url);
	free(en->server_ca);
	free(en);
	return r;
}

void enroll_free(struct enroll *en)
{
	if (!en)
		return;
	uplink_cancel(en->u, en);
	free(en->token);
	free(en->server_url);
	free(en->server_ca);
	free(en);
}
