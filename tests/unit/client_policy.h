/* The [policy] section of the client-check cases (tests/data/client/<check>/<case>/case),
 * for check_case.h. Keys name a policy field directly, lists are comma-separated:
 *   client.<id>.<key>   display_name comm exe argv package sha256 lib_dirs wine_prefix
 *                       wine_manifest max_instances
 *   deny.<id>.<key>     display_name comm exe argv packages files
 *   scan.<key>          home_dirs max_depth max_entries
 * Sections are created in the order their first key appears. */
#pragma once
#include <stdlib.h>
#include <string.h>

#include "common/policy/policy.h"
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

__attribute__((unused)) static bool client_policy_set(struct policy *p, const char *key, const char *value)
{
	const char *id, *dot;

	if (str_startswith(key, "client.")) {
		struct policy_client *c;

		id = key + 7;
		dot = strrchr(id, '.');
		if (!dot || dot == id)
			return false;
		c = cp_client(p, id, (size_t)(dot - id));
		key = dot + 1;
		if (strcmp(key, "display_name") == 0)
			return cp_str(&c->display_name, value);
		if (strcmp(key, "comm") == 0)
			return cp_list(&c->comm, value);
		if (strcmp(key, "exe") == 0)
			return cp_list(&c->exe, value);
		if (strcmp(key, "argv") == 0)
			return cp_list(&c->argv, value);
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
	if (str_startswith(key, "deny.")) {
		struct policy_deny *d;

		id = key + 5;
		dot = strrchr(id, '.');
		if (!dot || dot == id)
			return false;
		d = cp_deny(p, id, (size_t)(dot - id));
		key = dot + 1;
		if (strcmp(key, "display_name") == 0)
			return cp_str(&d->display_name, value);
		if (strcmp(key, "comm") == 0)
			return cp_list(&d->comm, value);
		if (strcmp(key, "exe") == 0)
			return cp_list(&d->exe, value);
		if (strcmp(key, "argv") == 0)
			return cp_list(&d->argv, value);
		if (strcmp(key, "packages") == 0)
			return cp_list(&d->packages, value);
		if (strcmp(key, "files") == 0)
			return cp_list(&d->files, value);
		return false;
	}
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

__attribute__((unused)) static void client_policy_clear(struct policy *p)
{
	policy_clear(p);
}
