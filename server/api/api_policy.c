/* Policies: devices fetch the current one (signed with the server key); admins upload and read. */
#include "server/api/api_call.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "common/sign.h"

struct policy_meta {
	char name[128], version[64];
	long long interval;
};

static int policy_ini(void *user, const char *section, const char *name, const char *value)
{
	struct policy_meta *m = user;

	if (strcmp(section, "policy") != 0)
		return 1;
	if (strcmp(name, "name") == 0)
		snprintf(m->name, sizeof(m->name), "%s", value);
	else if (strcmp(name, "version") == 0)
		snprintf(m->version, sizeof(m->version), "%s", value);
	else if (strcmp(name, "report_interval") == 0)
		srv_parse_duration(value, &m->interval);
	return 1;
}

int api_policy_upload(struct srv *s, struct store *st, const char *text, size_t len, long long now,
		      json_t **ret)
{
	struct policy_meta m = { .interval = 0 };
	char sha[65], *sig = NULL, *copy;
	int r;

	if (len == 0 || memchr(text, 0, len))
		return -EINVAL;
	copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	r = ini_parse_string(copy, policy_ini, &m);
	if (r != 0) {
		free(copy);
		return r > 0 ? r : -EINVAL; /* positive: the bad line */
	}
	hash_sha256_buf(text, len, sha);
	r = sign_data_b64(s->key, text, len, &sig);
	if (r == 0)
		r = store_policy_put(st, sha, m.name, m.version, copy, sig, m.interval, now);
	if (r == 0)
		*ret = json_pack("{s:s, s:s, s:s, s:s}", "name", m.name, "version", m.version,
				 "sha256", sha, "signature", sig);
	free(sig);
	free(copy);
	return r;
}

/* GET /api/v1/policy (X-Wxguard-Device): the current policy, for any device not revoked. */
int api_policy_get(struct api_call *c)
{
	const struct api_endpoint ep = { .what = "policy", .unknown = "device is not enrolled" };
	struct store_device d;
	json_t *p;
	int r;

	if (!c->rq->device)
		return api_reply_error(c->rs, SRV_MALFORMED, "X-Wxguard-Device header is missing",
				       NULL);
	if (!api_device_find(c, &ep, c->rq->device, &d, NULL))
		return 0;
	if (strcmp(d.status, "revoked") == 0)
		return api_refuse(c, &ep, SRV_REVOKED, "device was revoked by an administrator",
				  NULL, NULL);
	r = store_policy_current(c->st, &p);
	if (r == -ENOENT)
		return api_reply_error(c->rs, SRV_NOT_FOUND,
				       "no policy uploaded yet (wxguard-server policy upload FILE)",
				       NULL);
	if (r < 0)
		return api_reply_db(c, r, "policy");
	json_object_del(p, "uploaded");
	return api_reply_json(c->rs, 200, p);
}

int api_admin_policy_put(struct api_call *c)
{
	json_t *j = NULL;
	int r;

	r = api_policy_upload(c->s, c->st, c->rq->body ? c->rq->body : "", c->rq->body_len, c->now,
			      &j);
	if (r > 0 || r == -EINVAL)
		return api_reply_error(c->rs, SRV_MALFORMED, "policy is not a valid INI text",
				       NULL);
	return api_admin_result(c, r, j, "policy upload");
}

int api_admin_policy_get(struct api_call *c)
{
	json_t *j = NULL;
	int r;

	r = store_policy_current(c->st, &j);
	return api_admin_result(c, r, j, "policy");
}
