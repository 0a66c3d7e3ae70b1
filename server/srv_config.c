/* The configuration file (docs/server.md): INI, unknown keys are errors. */
#include "server/srv.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int set_str(char **dst, const char *v)
{
	char *n = strdup(v);

	if (!n)
		return -ENOMEM;
	free(*dst);
	*dst = n;
	return 0;
}

static bool parse_bool(const char *v)
{
	return strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0 ||
	       strcasecmp(v, "on") == 0;
}

int srv_parse_duration(const char *s, long long *ret)
{
	char *end;
	long long v, mul = 1;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v < 0)
		return -EINVAL;
	if (*end) {
		if (end[1])
			return -EINVAL;
		switch (*end) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		case 'w': mul = 7 * 86400; break;
		default: return -EINVAL;
		}
	}
	if (v > (long long)1e12 / mul)
		return -EINVAL;
	*ret = v * mul;
	return 0;
}

static int config_handler(void *user, const char *section, const char *name, const char *value)
{
	struct srv_config *c = user;
	long long d;

#define IS(sec, key) (strcmp(section, sec) == 0 && strcmp(name, key) == 0)
#define DUR(field) (srv_parse_duration(value, &d) == 0 ? (c->field = d, 1) : 0)
	if (IS("server", "listen"))
		return set_str(&c->listen, value) == 0;
	if (IS("server", "port"))
		return (c->port = atoi(value)) >= 0 && c->port < 65536;
	if (IS("server", "workers"))
		return (c->workers = atoi(value)) > 0 && c->workers <= 64;
	if (IS("server", "max_body"))
		return (c->max_body = atoll(value)) >= 1024;
	if (IS("server", "state_dir"))
		return set_str(&c->state_dir, value) == 0;
	if (IS("server", "server_key"))
		return set_str(&c->server_key, value) == 0;
	if (IS("server", "admin_token_file"))
		return set_str(&c->admin_token_file, value) == 0;
	if (IS("server", "metrics_public"))
		return c->metrics_public = parse_bool(value), 1;
	if (IS("database", "url"))
		return set_str(&c->database, value) == 0;
	if (IS("tls", "cert"))
		return set_str(&c->tls_cert, value) == 0;
	if (IS("tls", "key"))
		return set_str(&c->tls_key, value) == 0;
	if (IS("tls", "ca"))
		return set_str(&c->tls_ca, value) == 0;
	if (IS("reports", "interval"))
		return DUR(report_interval);
	if (IS("reports", "max_skew"))
		return DUR(max_skew);
	if (IS("reports", "stale_grace"))
		return DUR(stale_grace);
	if (IS("reports", "challenge_ttl"))
		return DUR(challenge_ttl);
	if (IS("alerts", "wecom_webhook"))
		return set_str(&c->wecom_url, value) == 0;
	if (IS("alerts", "json_webhook"))
		return set_str(&c->webhook_url, value) == 0;
	if (IS("alerts", "syslog"))
		return c->syslog = parse_bool(value), 1;
	if (IS("alerts", "rate_limit"))
		return (c->rate_limit = atoll(value)) >= 0;
	if (IS("alerts", "rate_window"))
		return DUR(rate_window);
	if (IS("alerts", "retry_max"))
		return (c->retry_max = atoll(value)) >= 1;
	if (IS("alerts", "retry_base"))
		return DUR(retry_base);
	if (IS("alerts", "sweep_ms"))
		return (c->sweep_ms = atoll(value)) >= 10;
	if (IS("alerts", "insecure_tls"))
		return c->tls_insecure_webhooks = parse_bool(value), 1;
#undef IS
#undef DUR
	return 0; /* unknown key: an error, so typos do not pass silently */
}

static int default_path(char **dst, const char *dir, const char *name)
{
	if (*dst)
		return 0;
	if (asprintf(dst, "%s/%s", dir, name) < 0) {
		*dst = NULL;
		return -ENOMEM;
	}
	return 0;
}

int srv_config_load(struct srv_config *c, const char *path)
{
	int r;

	memset(c, 0, sizeof(*c));
	c->port = 8443;
	c->workers = 4;
	c->max_body = 1024 * 1024;
	c->metrics_public = true;
	c->report_interval = 300;
	c->max_skew = 300;
	c->stale_grace = 300;
	c->challenge_ttl = 300;
	c->rate_limit = 5;
	c->rate_window = 3600;
	c->retry_max = 8;
	c->retry_base = 2;
	c->sweep_ms = 1000;
	if (path) {
		r = ini_parse(path, config_handler, c);
		if (r != 0) {
			r = r < 0 ? (errno ? -errno : -ENOENT) : r;
			goto fail;
		}
	}
	r = -ENOMEM;
	if (!c->listen && set_str(&c->listen, "127.0.0.1") < 0)
		goto fail;
	if (!c->state_dir && set_str(&c->state_dir, "/var/lib/wxguard-server") < 0)
		goto fail;
	if (default_path(&c->server_key, c->state_dir, "server-key.pem") < 0 ||
	    default_path(&c->admin_token_file, c->state_dir, "admin.token") < 0)
		goto fail;
	if (!c->database) {
		if (asprintf(&c->database, "sqlite:%s/wxguard.db", c->state_dir) < 0) {
			c->database = NULL;
			goto fail;
		}
	}
	return 0;
fail:
	srv_config_free(c);
	return r;
}

void srv_config_free(struct srv_config *c)
{
	free(c->listen);
	free(c->state_dir);
	free(c->server_key);
	free(c->admin_token_file);
	free(c->database);
	free(c->tls_cert);
	free(c->tls_key);
	free(c->tls_ca);
	free(c->wecom_url);
	free(c->webhook_url);
	memset(c, 0, sizeof(*c));
}
