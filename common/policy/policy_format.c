/* The policy as canonical INI text, names of enum values, and lib_dirs matching. */
#include "common/policy/policy.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/policy/policy_internal.h"

const char *policy_mode_to_string(enum policy_mode m)
{
	switch (m) {
	case POLICY_MODE_AUDIT: return "audit";
	case POLICY_MODE_ENFORCE: return "enforce";
	}
	return "unknown";
}

const char *policy_disk_encryption_to_string(enum policy_disk_encryption d)
{
	switch (d) {
	case POLICY_DISK_OFF: return "off";
	case POLICY_DISK_WARN: return "warn";
	case POLICY_DISK_REQUIRE: return "require";
	}
	return "unknown";
}

const char *policy_reboot_to_string(enum policy_reboot r)
{
	switch (r) {
	case POLICY_REBOOT_IGNORE: return "ignore";
	case POLICY_REBOOT_WARN: return "warn";
	case POLICY_REBOOT_FAIL: return "fail";
	}
	return "unknown";
}

/* A list as "key = a, b" lines, each within POLICY_LINE_MAX once normalized to "key=a, b";
 * a longer list repeats the key, which appends. */
static void format_list(FILE *f, const char *key, const struct strv *sv)
{
	size_t klen = strlen(key), used = 0;

	if (sv->n == 0) {
		fprintf(f, "%s =\n", key);
		return;
	}
	for (size_t i = 0; i < sv->n; i++) {
		size_t len = strlen(sv->v[i]);

		if (used && klen + 1 + used + 2 + len > POLICY_LINE_MAX) {
			fputc('\n', f);
			used = 0;
		}
		if (used == 0) {
			fprintf(f, "%s = %s", key, sv->v[i]);
			used = len;
		} else {
			fprintf(f, ", %s", sv->v[i]);
			used += 2 + len;
		}
	}
	fputc('\n', f);
}

static void format_keys(FILE *f, enum policy_sec sec, const void *base)
{
	for (size_t i = 0; i < policy_n_keys; i++) {
		const struct policy_key *k = &policy_keys[i];
		const char *field = (const char *)base + k->off;
		const char *str;
		int e;

		if (k->sec != sec)
			continue;
		if (k->flags & PK_LIST) {
			format_list(f, k->name, (const struct strv *)(const void *)field);
			continue;
		}
		switch (k->kind) {
		case PV_BOOL:
			fprintf(f, "%s = %s\n", k->name,
				*(const bool *)(const void *)field ? "yes" : "no");
			break;
		case PV_UINT:
			fprintf(f, "%s = %u\n", k->name, *(const unsigned *)(const void *)field);
			break;
		case PV_INT:
			fprintf(f, "%s = %d\n", k->name, *(const int *)(const void *)field);
			break;
		case PV_ENUM:
			memcpy(&e, field, sizeof(e));
			for (int n = 0; k->names[n]; n++)
				if (n == e)
					fprintf(f, "%s = %s\n", k->name, k->names[n]);
			break;
		default:
			str = *(char *const *)(const void *)field;
			if (str)
				fprintf(f, "%s = %s%s\n", k->name,
					k->kind == PV_HOME_REL ? "~/" : "", str);
			break;
		}
	}
}

int policy_format(const struct policy *p, char **ret)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f;
	int r = 0;

	f = open_memstream(&buf, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "; effective policy, sha256 %s\n", p->sha256);
	for (size_t i = 0; i < p->sources.n; i++)
		fprintf(f, "; source: %s\n", p->sources.v[i]);
	for (int s = POLICY_SEC_POLICY; s < POLICY_SEC_CLIENT; s++) {
		fprintf(f, "\n[%s]\n", policy_sec_names[s]);
		format_keys(f, s, policy_sec_base((struct policy *)p, s, 0));
	}
	for (size_t i = 0; i < p->n_clients; i++) {
		fprintf(f, "\n[client.%s]\n", p->clients[i].id);
		format_keys(f, POLICY_SEC_CLIENT, &p->clients[i]);
	}
	for (size_t i = 0; i < p->n_denies; i++) {
		fprintf(f, "\n[deny.%s]\n", p->denies[i].id);
		format_keys(f, POLICY_SEC_DENY, &p->denies[i]);
	}
	if (ferror(f))
		r = -ENOMEM;
	if (fclose(f) != 0 && r == 0)
		r = -ENOMEM;
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret = buf;
	return 0;
}

bool policy_lib_dir_match(const struct strv *lib_dirs, const char *home, const char *path)
{
	char pat[PATH_MAX];
	int n;

	if (!lib_dirs || !path)
		return false;
	for (size_t i = 0; i < lib_dirs->n; i++) {
		const char *e = lib_dirs->v[i], *sep = str_endswith(e, "/") ? "" : "/";

		if (str_startswith(e, "~/")) {
			if (!home || !*home)
				continue;
			n = snprintf(pat, sizeof(pat), "%s%s%s%s*", home,
				     str_endswith(home, "/") ? "" : "/", e + 2, sep);
		} else
			n = snprintf(pat, sizeof(pat), "%s%s*", e, sep);
		if (n < 0 || (size_t)n >= sizeof(pat))
			continue;
		/* no FNM_PATHNAME: the trailing '*' covers the whole tree below */
		if (fnmatch(pat, path, FNM_NOESCAPE) == 0)
			return true;
	}
	return false;
}
