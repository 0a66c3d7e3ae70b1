#include "agent/attest/identity.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/b64.h"
#include "common/fileio.h"
#include "common/strv.h"

void identity_free(struct identity *id)
{
	if (!id)
		return;
	free(id->state_dir);
	sign_key_free(id->key);
	free(id->public_key_b64);
	free(id->device_id);
	free(id->server_url);
	free(id->server_ca);
	free(id->server_public_key);
	free(id);
}

bool identity_enrolled(const struct identity *id)
{
	return id && id->device_id && id->server_public_key;
}

static int dup_json_str(json_t *o, const char *key, bool required, char **ret)
{
	json_t *v = json_object_get(o, key);

	if (!v || json_is_null(v)) {
		if (required)
			return -EBADMSG;
		*ret = NULL;
		return 0;
	}
	if (!json_is_string(v))
		return -EBADMSG;
	*ret = strdup(json_string_value(v));
	return *ret ? 0 : -ENOMEM;
}

static int load_enrollment(struct identity *id)
{
	char path[PATH_MAX];
	json_t *o;
	int r;

	snprintf(path, sizeof(path), "%s/%s", id->state_dir, IDENTITY_ENROLLMENT_FILE);
	o = json_load_file(path, 0, NULL);
	if (!o)
		return access(path, F_OK) < 0 ? 0 : -EBADMSG; /* absent: not enrolled */
	if (!json_is_object(o)) {
		r = -EBADMSG;
		goto out;
	}
	r = dup_json_str(o, "device_id", true, &id->device_id);
	if (r < 0)
		goto out;
	r = dup_json_str(o, "server_url", false, &id->server_url);
	if (r < 0)
		goto out;
	r = dup_json_str(o, "server_ca", false, &id->server_ca);
	if (r < 0)
		goto out;
	r = dup_json_str(o, "server_public_key", true, &id->server_public_key);
	if (r < 0)
		goto out;
	id->approved = json_is_true(json_object_get(o, "approved"));
out:
	json_decref(o);
	return r;
}

int identity_load(const char *state_dir, struct identity **ret)
{
	struct identity *id;
	char path[PATH_MAX];
	int r;

	if (snprintf(path, sizeof(path), "%s/%s", state_dir, IDENTITY_KEY_FILE) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	id = calloc(1, sizeof(*id));
	if (!id)
		return -ENOMEM;
	id->state_dir = strdup(state_dir);
	if (!id->state_dir) {
		r = -ENOMEM;
		goto fail;
	}
	r = mkdir_p(state_dir, 0755);
	if (r < 0)
		goto fail;
	r = sign_key_load_or_create(path, &id->key);
	if (r < 0)
		goto fail;
	r = sign_key_public_b64(id->key, &id->public_key_b64);
	if (r < 0)
		goto fail;
	r = load_enrollment(id);
	if (r < 0)
		goto fail;
	*ret = id;
	return 0;
fail:
	identity_free(id);
	return r;
}

int identity_set_enrollment(struct identity *id, const char *device_id, const char *server_url,
			    const char *server_ca, const char *server_public_key, bool approved)
{
	char path[PATH_MAX], *text = NULL, *d = NULL, *u = NULL, *k = NULL, *ca = NULL;
	unsigned char raw[SIGN_PUBLIC_KEY_LEN];
	json_t *o;
	int r;

	if (!device_id || !*device_id || !server_public_key)
		return -EINVAL;
	/* Refuse a key we could not verify with later. */
	if (b64_decode_exact(server_public_key, raw, sizeof(raw)) < 0)
		return -EBADMSG;
	o = json_pack("{s:s, s:s?, s:s?, s:s, s:b, s:I}", "device_id", device_id, "server_url",
		      server_url, "server_ca", server_ca, "server_public_key", server_public_key,
		      "approved", approved, "time", (json_int_t)time(NULL));
	if (!o)
		return -ENOMEM;
	text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	json_decref(o);
	d = strdup(device_id);
	u = server_url ? strdup(server_url) : NULL;
	k = strdup(server_public_key);
	ca = server_ca ? strdup(server_ca) : NULL;
	if (!text || !d || !k || (server_url && !u) || (server_ca && !ca)) {
		r = -ENOMEM;
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/%s", id->state_dir, IDENTITY_ENROLLMENT_FILE);
	r = write_file_atomic(path, text, strlen(text), 0644);
	if (r < 0)
		goto fail;
	free(text);
	free(id->device_id);
	free(id->server_url);
	free(id->server_public_key);
	free(id->server_ca);
	id->device_id = d;
	id->server_url = u;
	id->server_ca = ca;
	id->server_public_key = k;
	id->approved = approved;
	return 0;
fail:
	free(text);
	free(d);
	free(u);
	free(k);
	free(ca);
	return r;
}

/* os-release: PRETTY_NAME, else NAME VERSION_ID; quotes removed. */
static char *os_name(const struct sysroot *root)
{
	char *text = NULL, *pretty = NULL, *name = NULL, *ver = NULL, *res = NULL;

	if (sysroot_read_file(root, "/etc/os-release", 65536, &text, NULL) < 0 &&
	    sysroot_read_file(root, "/usr/lib/os-release", 65536, &text, NULL) < 0)
		return strdup("");
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '='), *v;
		size_t n;

		if (!eq)
			continue;
		*eq = 0;
		v = eq + 1;
		n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		if (strcmp(line, "PRETTY_NAME") == 0)
			pretty = v;
		else if (strcmp(line, "NAME") == 0)
			name = v;
		else if (strcmp(line, "VERSION_ID") == 0)
			ver = v;
	}
	if (pretty)
		res = strdup(pretty);
	else if (name && asprintf(&res, "%s%s%s", name, ver ? " " : "", ver ? ver : "") < 0)
		res = NULL;
	else if (!name)
		res = strdup("");
	free(text);
	return res;
}

static json_t *fact(const struct sysroot *root, const char *path)
{
	char *line = NULL;
	json_t *j;

	if (sysroot_read_line(root, path, &line) < 0)
		return json_string("");
	j = json_string(str_strip(line));
	free(line);
	return j ? j : json_string("");
}

int identity_facts(const struct sysroot *root, json_t **ret)
{
	char *os;
	json_t *o;

	os = os_name(root);
	if (!os)
		return -ENOMEM;
	o = json_pack("{s:o, s:o, s:o, s:o, s:s, s:o, s:s}", "machine_id",
		      fact(root, "/etc/machine-id"), "product_uuid",
		      fact(root, "/sys/class/dmi/id/product_uuid"), "serial",
		      fact(root, "/sys/class/dmi/id/product_serial"), "hostname",
		      fact(root, "/proc/sys/kernel/hostname"), "os", os, "kernel",
		      fact(root, "/proc/sys/kernel/osrelease"), "agent_version", WXG_VERSION);
	free(os);
	if (!o)
		return -ENOMEM;
	*ret = o;
	return 0;
}

int identity_boot_id(const struct sysroot *root, char **ret)
{
	char *line;
	int r;

	r = sysroot_read_line(root, "/proc/sys/kernel/random/boot_id", &line);
	if (r < 0)
		return r;
	str_strip(line);
	*ret = line;
	return 0;
}
