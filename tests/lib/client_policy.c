/* The client checks' [policy] keys for data-driven cases: see client_policy.h. */
#include "testlib.h"
#include "client_policy.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/strv.h"

static struct policy_client *cp_client(struct policy *p, const char *id, size_t len)
{
	struct policy_client *nv;

	for (size_t i = 0; i < p->n_clients; i++)
		if (strlen(p->clients[i].id) == len && strncmp(p->clients[i].id, id, len) == 0)
			return &p->clients[i];
	nv = realloc(p->clients, (p->n_clients + 1) * sizeof(*nv));
	assert_non_null(nv);
	p->clients = nv;
	memset(&nv[p->n_clients], 0, sizeof(*nv));
	nv[p->n_clients].id = strndup(id, len);
	return &nv[p->n_clients++];
}

static struct policy_deny *cp_deny(struct policy *p, const char *id, size_t len)
{
	struct policy_deny *nv;

	for (size_t i = 0; i < p->n_denies; i++)
		if (strlen(p->denies[i].id) == len && strncmp(p->denies[i].id, id, len) == 0)
			return &p->denies[i];
	nv = realloc(p->denies, (p->n_denies + 1) * sizeof(*nv));
	assert_non_null(nv);
	p->denies = nv;
	memset(&nv[p->n_denies], 0, sizeof(*nv));
	nv[p->n_denies].id = strndup(id, len);
	return &nv[p->n_denies++];
}

static bool cp_str(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return true;
}

static bool cp_list(struct strv *dst, const char *v)
{
	strv_clear(dst);
	return strv_split(dst, v, ",") == 0;
}

/* "<id>.<field>" (what follows "client." or "deny."): the id's length and the field. */
static bool cp_split(const char *id, size_t *ret_len, const char **ret_field)
{
	const char *dot = strrchr(id, '.');

	if (!dot || dot == id)
		return false;
	*ret_len = (size_t)(dot - id);
	*ret_field = dot + 1;
	return true;
}

/* The fields clients and denies share. *ret_ok is the result when one of them matched. */
static bool cp_match_field(char **display_name, struct strv *comm, struct strv *exe,
			   struct strv *argv, const char *field, const char *value, bool *ret_ok)
{
	if (strcmp(field, "display_name") == 0)
		*ret_ok = cp_str(display_name, value);
	else if (strcmp(field, "comm") == 0)
		*ret_ok = cp_list(comm, value);
	else if (strcmp(field, "exe") == 0)
		*ret_ok = cp_list(exe, value);
	else if (strcmp(field, "argv") == 0)
		*ret_ok = cp_list(argv, value);
	else
		return false;
	return true;
}

static bool cp_client_set(struct policy *p, const char *rest, const char *value)
{
	struct policy_client *c;
	const char *key;
	size_t len;
	bool ok;

	if (!cp_split(rest, &len, &key))
		return false;
	c = cp_client(p, rest, len);
	if (cp_match_field(&c->display_name, &c->comm, &c->exe, &c->argv, key, value, &ok))
		return ok;
	if (strcmp(key, "package") == 0)
		return cp_str(&c->package, value);
	if (strcmp(key, "sha256") == 0)
		return cp_str(&c->sha256, value);
	if (strcmp(key, "lib_dirs") == 0)
		return cp_list(&c->lib_dirs, value);
	if (strcmp(key, "wine_prefix") == 0)
		return cp_str(&c->wine_prefix, value);
	if (strcmp(key, "wine_manifest") == 0)
		return cp_str(&c->wine_manifest, value);
	if (strcmp(key, "max_instances") == 0) {
		c->max_instances = (unsigned)strtoul(value, NULL, 10);
		return true;
	}
	return false;
}

static bool cp_deny_set(struct policy *p, const char *rest, const char *value)
{
	struct policy_deny *d;
	const char *key;
	size_t len;
	bool ok;

	if (!cp_split(rest, &len, &key))
		return false;
	d = cp_deny(p, rest, len);
	if (cp_match_field(&d->display_name, &d->comm, &d->exe, &d->argv, key, value, &ok))
		return ok;
	if (strcmp(key, "packages") == 0)
		return cp_list(&d->packages, value);
	if (strcmp(key, "files") == 0)
		return cp_list(&d->files, value);
	return false;
}

bool client_policy_set(struct policy *p, const char *key, const char *value)
{
	if (str_startswith(key, "client."))
		return cp_client_set(p, key + strlen("client."), value);
	if (str_startswith(key, "deny."))
		return cp_deny_set(p, key + strlen("deny."), value);
	if (strcmp(key, "scan.home_dirs") == 0)
		return cp_list(&p->scan.home_dirs, value);
	if (strcmp(key, "scan.max_depth") == 0) {
		p->scan.max_depth = (unsigned)strtoul(value, NULL, 10);
		return true;
	}
	if (strcmp(key, "scan.max_entries") == 0) {
		p->scan.max_entries = (unsigned)strtoul(value, NULL, 10);
		return true;
	}
	return false;
}

void client_policy_add_self(struct policy *p, char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);

	assert_true(n > 0);
	buf[n] = 0;
	assert_true(client_policy_set(p, "client.self.exe", buf));
}

void client_policy_clear(struct policy *p)
{
	policy_clear(p);
}
