/* What the commands share: TLS files, printing JSON, times and strings. */
#include "server/cli/server_cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "server/store/store.h"
#include "server/tls.h"

int server_cli_done(struct server_cli *c, int r)
{
	if (r < 0 && r != -ENOENT && r != -EINVAL && c->st)
		log_error_errno(r, "database: %s", store_errmsg(c->st));
	return r;
}

int server_cli_list(struct server_cli *c,
		    int (*list)(struct store *st, const char *device_id, long long limit,
				json_t **ret),
		    void (*print)(json_t *row, char *tb, size_t tblen))
{
	json_t *j = NULL, *v;
	char tb[64];
	size_t i;
	int r;

	r = list(c->st, c->device, c->limit, &j);
	if (r == 0 && c->json)
		server_cli_print_json(j);
	else if (r == 0)
		json_array_foreach (j, i, v)
			print(v, tb, sizeof(tb));
	json_decref(j);
	return server_cli_done(c, r);
}

int server_cli_tls(struct server_cli *c)
{
	int r;

	r = tls_ensure_files(&c->s.cfg);
	if (r < 0)
		return log_error_errno(
			r,
			"TLS files: set both [tls] cert and key, or neither (generated in %s/tls)",
			c->s.cfg.state_dir);
	return 0;
}

void server_cli_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	if (s)
		puts(s);
	free(s);
}

const char *server_cli_time(json_t *v, char *buf, size_t len)
{
	time_t t = (time_t)json_integer_value(v);
	struct tm tm;

	if (!json_is_integer(v) || t <= 0)
		return "-";
	localtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M", &tm);
	return buf;
}

const char *server_cli_str(const json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}
