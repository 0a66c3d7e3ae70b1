#include "agent/attest/policy_fetch.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/policy/policy.h"
#include "common/fileio.h"
#include "common/sign.h"

struct policy_fetch {
	struct uplink *u;
	char *policy_dir, *state_dir, *device_id, *server_public_key, *want;
	policy_fetch_fn cb;
	void *userdata;
};

static void detailf(char *d, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void detailf(char *d, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (!d || !n)
		return;
	va_start(ap, fmt);
	vsnprintf(d, n, fmt, ap);
	va_end(ap);
}

int policy_fetch_current_sha256(const char *policy_dir, char hex[HASH_SHA256_HEX])
{
	char path[PATH_MAX];

	if (snprintf(path, sizeof(path), "%s/%s", policy_dir, POLICY_FETCH_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	return hash_sha256_file(path, hex);
}

int policy_fetch_apply(const struct uplink_reply *y, const struct policy_fetch_opts *o,
		       char *detail, size_t detail_size)
{
	struct policy_diags diags = { 0 };
	struct policy *p = NULL;
	char path[PATH_MAX], keep[PATH_MAX], hex[HASH_SHA256_HEX], *old = NULL;
	const char *text, *sig, *sha;
	size_t old_len = 0, len;
	int r;

	detailf(detail, detail_size, "ok");
	/* Typed fields (UPLINK_REPLY_POLICY): the uplink child parsed the JSON and checked the
	 * syntax (sha256 64 hex, signature base64 of 64 bytes, text without NUL). Whether the text
	 * is the server's is decided here, by the signature. */
	if (!y || y->kind != UPLINK_REPLY_POLICY || !y->valid || !y->sha256[0] ||
	    !y->signature[0]) {
		detailf(detail, detail_size,
			"malformed reply: text, signature and sha256 are required%s%s",
			y && !y->valid ? ": " : "", y && !y->valid ? y->invalid : "");
		r = -EBADMSG;
		goto out;
	}
	text = y->text;
	sig = y->signature;
	sha = y->sha256;
	len = y->text_len;
	if (!o->server_public_key) {
		detailf(detail, detail_size, "no server public key: enroll first");
		r = -ENOKEY;
		goto out;
	}
	r = sign_verify_b64(o->server_public_key, text, len, sig);
	if (r < 0) {
		detailf(detail, detail_size,
			"signature does not verify with the server key from enrollment");
		r = -EBADMSG;
		goto out;
	}
	r = hash_sha256_buf(text, len, hex);
	if (r < 0)
		goto out;
	if (strcmp(hex, sha) != 0 || (o->want_sha256 && strcmp(hex, o->want_sha256) != 0)) {
		detailf(detail, detail_size, "hash mismatch: text %s, reply %s, announced %s", hex,
			sha, o->want_sha256 ? o->want_sha256 : "-");
		r = -EBADMSG;
		goto out;
	}
	r = policy_load_buffer("server policy", text, len, &p, &diags);
	if (r < 0) {
		char line[512] = "cannot parse";

		if (diags.n > 0)
			policy_diag_format(&diags.v[0], line, sizeof(line));
		detailf(detail, detail_size, "lint: %s", line);
		r = -EBADMSG;
		goto out;
	}
	policy_free(p);
	p = NULL;
	policy_diags_clear(&diags);

	/* Apply, keeping the previous text to roll back to. */
	r = mkdir_p(o->policy_dir, 0755);
	if (r < 0) {
		detailf(detail, detail_size, "cannot create %s: %s", o->policy_dir, strerror(-r));
		goto out;
	}
	snprintf(path, sizeof(path), "%s/%s", o->policy_dir, POLICY_FETCH_FILE);
	r = read_full_file(path, FILEIO_MAX_DEFAULT, &old, &old_len);
	if (r < 0 && r != -ENOENT)
		goto out;
	r = write_file_atomic(path, text, len, 0644);
	if (r < 0) {
		detailf(detail, detail_size, "cannot write %s: %s", path, strerror(-r));
		goto out;
	}
	r = policy_load(o->policy_dir, &p, &diags);
	if (r < 0) {
		char line[512] = "cannot load";

		if (diags.n > 0)
			policy_diag_format(&diags.v[0], line, sizeof(line));
		detailf(detail, detail_size, "combined with %s: %s (previous policy kept)",
			o->policy_dir, line);
		if (old)
			write_file_atomic(path, old, old_len, 0644);
		else
			unlink(path);
		r = -EBADMSG;
		goto out;
	}
	if (o->state_dir) {
		snprintf(keep, sizeof(keep), "%s/policy", o->state_dir);
		if (mkdir_p(keep, 0755) == 0) {
			snprintf(keep, sizeof(keep), "%s/policy/last-good.ini", o->state_dir);
			write_file_atomic(keep, text, len, 0644);
		}
	}
	r = 0;
out:
	policy_free(p);
	policy_diags_clear(&diags);
	free(old);
	return r;
}

static void on_reply(void *userdata, const struct uplink_response *resp)
{
	struct policy_fetch *f = userdata;
	struct policy_fetch_opts o = { .policy_dir = f->policy_dir,
				       .state_dir = f->state_dir,
				       .device_id = f->device_id,
				       .server_public_key = f->server_public_key,
				       .want_sha256 = f->want };
	char detail[768], path[PATH_MAX];
	int r;

	if (resp->err) {
		f->cb(f->userdata, resp->err, resp->error, NULL);
		return;
	}
	if (resp->status != 200) {
		const struct uplink_reply *y = resp->reply;

		snprintf(detail, sizeof(detail), "HTTP %ld: %s%s%.200s", resp->status,
			 y ? y->error : "", y && y->error[0] && y->message[0] ? ": " : "",
			 y ? y->message : "");
		f->cb(f->userdata, -EIO, detail, NULL);
		return;
	}
	r = policy_fetch_apply(resp->reply, &o, detail, sizeof(detail));
	snprintf(path, sizeof(path), "%s/%s", f->policy_dir, POLICY_FETCH_FILE);
	f->cb(f->userdata, r, detail, r == 0 ? path : NULL);
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

void policy_fetch_free(struct policy_fetch *f)
{
	if (!f)
		return;
	uplink_cancel(f->u, f);
	free(f->policy_dir);
	free(f->state_dir);
	free(f->device_id);
	free(f->server_public_key);
	free(f->want);
	free(f);
}

int policy_fetch_start(struct uplink *u, const struct policy_fetch_opts *o, policy_fetch_fn cb,
		       void *userdata, struct policy_fetch **ret)
{
	struct policy_fetch *f;
	char hdr[256];
	int r;

	if (!o->device_id || !o->policy_dir)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->u = u;
	f->cb = cb;
	f->userdata = userdata;
	f->policy_dir = xstrdup(o->policy_dir);
	f->state_dir = xstrdup(o->state_dir);
	f->device_id = xstrdup(o->device_id);
	f->server_public_key = xstrdup(o->server_public_key);
	f->want = xstrdup(o->want_sha256);
	if (!f->policy_dir || !f->device_id || (o->state_dir && !f->state_dir) ||
	    (o->server_public_key && !f->server_public_key) || (o->want_sha256 && !f->want)) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(hdr, sizeof(hdr), "X-Wxguard-Device: %s", o->device_id);
	r = uplink_request_typed(u, UPLINK_REPLY_POLICY, "GET", "/api/v1/policy",
				 (const char *const[]){ hdr, NULL }, NULL, 0, on_reply, f);
	if (r < 0)
		goto fail;
	*ret = f;
	return 0;
fail:
	policy_fetch_free(f);
	return r;
}
