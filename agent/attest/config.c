#include "agent/attest/config.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/fileio.h"

struct parse_ctx {
	struct agent_config *c;
	const char *file;
	struct agent_config_error *err;
	unsigned line; /* counted by the handler: inih reports only the first bad line */
	bool failed;
};

static void set_error(struct parse_ctx *p, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct parse_ctx *p, unsigned line, const char *fmt, ...)
{
	va_list ap;

	if (p->failed)
		return; /* keep the first */
	p->failed = true;
	if (!p->err)
		return;
	snprintf(p->err->file, sizeof(p->err->file), "%s", p->file);
	p->err->line = line;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
}

static int set_str(char **field, const char *value)
{
	char *s = strdup(value);

	if (!s)
		return -ENOMEM;
	free(*field);
	*field = s;
	return 0;
}

static int parse_uint(const char *v, unsigned long long max, unsigned long long *ret)
{
	unsigned long long x;
	char *end;

	if (!*v || *v == '-')
		return -EINVAL;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno || end == v)
		return -EINVAL;
	switch (*end) {
	case 0: break;
	case 'K':
	case 'k':
		if (x > ULLONG_MAX >> 10)
			return -ERANGE;
		x <<= 10, end++;
		break;
	case 'M':
	case 'm':
		if (x > ULLONG_MAX >> 20)
			return -ERANGE;
		x <<= 20, end++;
		break;
	case 'G':
	case 'g':
		if (x > ULLONG_MAX >> 30)
			return -ERANGE;
		x <<= 30, end++;
		break;
	case '%': end++; break;
	default: return -EINVAL;
	}
	if (*end)
		return -EINVAL;
	if (x > max)
		return -ERANGE;
	*ret = x;
	return 0;
}

static bool is_url(const char *v)
{
	return str_startswith(v, "https://") || str_startswith(v, "http://");
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_ctx *p = user;
	struct agent_config *c = p->c;
	unsigned long long u;
	int r = 0;

	/* inih calls with name == NULL at a new section when INI_CALL_HANDLER_ON_NEW_SECTION;
	 * our distribution build does not, so every call is a key. */
	if (!name)
		return 1;
	if (strcmp(section, "server") == 0) {
		if (strcmp(name, "url") == 0) {
			if (!is_url(value)) {
				set_error(p, 0, "[server] url: '%s' is not an http(s) URL", value);
				return 0;
			}
			r = set_str(&c->server_url, value);
		} else if (strcmp(name, "ca") == 0)
			r = set_str(&c->ca, value);
		else if (strcmp(name, "pin_sha256") == 0) {
			if (!str_startswith(value, "sha256//")) {
				set_error(p, 0,
					  "[server] pin_sha256: expected "
					  "sha256//<base64>[;sha256//...]");
				return 0;
			}
			r = set_str(&c->pin_sha256, value);
		} else if (strcmp(name, "proxy") == 0)
			r = set_str(&c->proxy, value);
		else
			goto unknown;
	} else if (strcmp(section, "enroll") == 0) {
		if (strcmp(name, "server") == 0) {
			if (!is_url(value)) {
				set_error(p, 0, "[enroll] server: '%s' is not an http(s) URL",
					  value);
				return 0;
			}
			r = set_str(&c->enroll_server, value);
		} else if (strcmp(name, "token") == 0)
			r = set_str(&c->enroll_token, value);
		else if (strcmp(name, "ca") == 0)
			r = set_str(&c->enroll_ca, value);
		else
			goto unknown;
	} else if (strcmp(section, "agent") == 0) {
		if (strcmp(name, "state_dir") == 0 || strcmp(name, "policy_dir") == 0) {
			if (value[0] != '/') {
				set_error(p, 0, "[agent] %s: '%s' is not an absolute path", name,
					  value);
				return 0;
			}
			r = set_str(name[0] == 's' ? &c->state_dir : &c->policy_dir, value);
		} else if (strcmp(name, "report_jitter") == 0) {
			if (parse_uint(value, 50, &u) < 0) {
				set_error(p, 0,
					  "[agent] report_jitter: '%s' is not a percentage 0..50",
					  value);
				return 0;
			}
			c->report_jitter = (unsigned)u;
		} else
			goto unknown;
	} else if (strcmp(section, "spool") == 0) {
		if (strcmp(name, "max_events") == 0) {
			if (parse_uint(value, 10000000, &u) < 0 || u == 0) {
				set_error(p, 0,
					  "[spool] max_events: '%s' is not a number 1..10000000",
					  value);
				return 0;
			}
			c->spool_max_events = (unsigned)u;
		} else if (strcmp(name, "max_bytes") == 0) {
			if (parse_uint(value, 1ull << 40, &u) < 0 || u < 4096) {
				set_error(p, 0,
					  "[spool] max_bytes: '%s' is not a size >= 4K (K, M, G "
					  "suffixes)",
					  value);
				return 0;
			}
			c->spool_max_bytes = u;
		} else
			goto unknown;
	} else {
		set_error(p, 0, "unknown section [%s]", section);
		return 0;
	}
	if (r < 0) {
		set_error(p, 0, "out of memory");
		return 0;
	}
	return 1;
unknown:
	set_error(p, 0, "[%s] %s: unknown key", section, name);
	return 0;
}

static struct agent_config *config_new(void)
{
	struct agent_config *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->state_dir = strdup(AGENT_STATE_DIR_DEFAULT);
	c->policy_dir = strdup(AGENT_POLICY_DIR_DEFAULT);
	c->report_jitter = AGENT_REPORT_JITTER_DEFAULT;
	c->spool_max_events = AGENT_SPOOL_MAX_EVENTS_DEFAULT;
	c->spool_max_bytes = AGENT_SPOOL_MAX_BYTES_DEFAULT;
	if (!c->state_dir || !c->policy_dir) {
		agent_config_free(c);
		return NULL;
	}
	return c;
}

void agent_config_free(struct agent_config *c)
{
	if (!c)
		return;
	free(c->server_url);
	free(c->ca);
	free(c->pin_sha256);
	free(c->proxy);
	free(c->enroll_server);
	free(c->enroll_token);
	free(c->enroll_ca);
	free(c->state_dir);
	free(c->policy_dir);
	strv_clear(&c->sources);
	free(c);
}

static int accept_all(void *user, const char *section, const char *name, const char *value)
{
	return 1;
}

/* Parse text into c. Returns 0 or -EBADMSG (err filled) or -ENOMEM. */
static int parse_text(struct agent_config *c, const char *name, const char *text,
		      struct agent_config_error *err)
{
	struct parse_ctx p = { .c = c, .file = name, .err = err };
	int r;

	/* inih reports only the first bad line and keeps going: find syntax errors first, so the
	 * message and the line agree. */
	r = ini_parse_string(text, accept_all, NULL);
	if (r > 0) {
		set_error(&p, (unsigned)r, "syntax error (expected [section] or key = value)");
		return -EBADMSG;
	}
	r = ini_parse_string(text, handler, &p);
	if (r != 0 || p.failed) {
		if (!p.failed)
			set_error(&p, r > 0 ? (unsigned)r : 0, "syntax error");
		else if (err && r > 0)
			err->line = (unsigned)r;
		return -EBADMSG;
	}
	return strv_push(&c->sources, name);
}

static int parse_file(struct agent_config *c, const char *path, struct agent_config_error *err)
{
	char *text = NULL;
	int r;

	r = read_full_file(path, 1024 * 1024, &text, NULL);
	if (r < 0) {
		if (err) {
			snprintf(err->file, sizeof(err->file), "%s", path);
			err->line = 0;
			snprintf(err->message, sizeof(err->message), "cannot read: %s",
				 strerror(-r));
		}
		return r;
	}
	r = parse_text(c, path, text, err);
	free(text);
	return r;
}

static int conf_filter(const struct dirent *d)
{
	return d->d_name[0] != '.' && str_endswith(d->d_name, ".conf");
}

int agent_config_load(const char *path, struct agent_config **ret, struct agent_config_error *err)
{
	struct agent_config *c;
	struct dirent **ents = NULL;
	char dir[PATH_MAX], file[PATH_MAX];
	int n = 0, r;

	if (!path)
		path = AGENT_CONFIG_PATH_DEFAULT;
	c = config_new();
	if (!c)
		return -ENOMEM;
	r = parse_file(c, path, err);
	if (r < 0 && r != -ENOENT)
		goto fail;
	if (snprintf(dir, sizeof(dir), "%s.d", path) >= (int)sizeof(dir)) {
		r = -ENAMETOOLONG;
		goto fail;
	}
	n = scandir(dir, &ents, conf_filter, alphasort);
	if (n < 0) {
		n = 0;
		if (errno != ENOENT && errno != ENOTDIR) {
			r = -errno;
			goto fail;
		}
	}
	for (int i = 0; i < n; i++) {
		if (snprintf(file, sizeof(file), "%s/%s", dir, ents[i]->d_name) >=
		    (int)sizeof(file)) {
			r = -ENAMETOOLONG;
			goto fail;
		}
		r = parse_file(c, file, err);
		if (r < 0)
			goto fail;
	}
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	if (err)
		memset(err, 0, sizeof(*err));
	*ret = c;
	return 0;
fail:
	for (int i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	agent_config_free(c);
	return r;
}

int agent_config_load_buffer(const char *name, const char *text, struct agent_config **ret,
			     struct agent_config_error *err)
{
	struct agent_config *c;
	int r;

	c = config_new();
	if (!c)
		return -ENOMEM;
	r = parse_text(c, name, text, err);
	if (r < 0) {
		agent_config_free(c);
		return r;
	}
	*ret = c;
	return 0;
}

const char *agent_config_server_url(const struct agent_config *c)
{
	return c->server_url ? c->server_url : c->enroll_server;
}

const char *agent_config_ca(const struct agent_config *c)
{
	return c->ca ? c->ca : c->enroll_ca;
}
