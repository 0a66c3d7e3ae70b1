/* The policy parser proper: the line reader inih reads through, [section] headers, keys and
 * their values. common/policy/policy.c drives it, one source at a time.
 *
 * inih is fed through our own line reader (ini_parse_stream), which sees every physical line
 * first. The reader keeps the line number, recognizes [section] headers, comments, inline
 * "; comments", continuation lines and malformed lines itself, and hands inih only normalized
 * "key=value" lines (or blank ones). So the result does not depend on how the system's inih
 * was compiled (INI_ALLOW_MULTILINE, inline comments, INI_MAX_LINE, BOM handling), every
 * malformed line is reported rather than only the first, and empty sections are seen. */
#include "common/policy/policy_internal.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *policy_parse_file(const struct policy_parse *ps)
{
	return ps->file >= 0 && (size_t)ps->file < ps->p->sources.n ? ps->p->sources.v[ps->file]
								    : ps->top;
}

static void diag_vadd(struct policy_parse *ps, const char *file, unsigned line, const char *section,
		      const char *key, const char *fmt, va_list ap)
{
	struct policy_diag *nv, *d;
	char msg[512];

	ps->n_diags++;
	if (!ps->diags || ps->n_diags > POLICY_DIAGS_MAX + 1)
		return;
	if (ps->n_diags == POLICY_DIAGS_MAX + 1) {
		/* one last diagnostic says we stopped listing */
		snprintf(msg, sizeof(msg),
			 "too many problems; fix the ones above and run lint again");
		section = key = NULL;
	} else
		vsnprintf(msg, sizeof(msg), fmt, ap);
	nv = realloc(ps->diags->v, (ps->diags->n + 1) * sizeof(*nv));
	if (!nv) {
		ps->oom = true;
		return;
	}
	ps->diags->v = nv;
	d = &nv[ps->diags->n];
	*d = (struct policy_diag){ .line = line };
	d->file = strdup(file ? file : "");
	d->section = section && *section ? strdup(section) : NULL;
	d->key = key ? strdup(key) : NULL;
	d->message = strdup(msg);
	if (!d->file || !d->message || (section && *section && !d->section) || (key && !d->key)) {
		free(d->file);
		free(d->section);
		free(d->key);
		free(d->message);
		ps->oom = true;
		return;
	}
	ps->diags->n++;
}

void policy_parse_diag(struct policy_parse *ps, const char *file, unsigned line,
		       const char *section, const char *key, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(ps, file, line, section, key, fmt, ap);
	va_end(ap);
}

/* At the current line of the current file, in the current section. */
__attribute__((format(printf, 3, 4))) static void diag(struct policy_parse *ps, const char *key,
						       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(ps, policy_parse_file(ps), ps->line, ps->skip ? NULL : ps->sec_name, key, fmt,
		  ap);
	va_end(ap);
}

/* At the current line, about the [name] header on it. */
__attribute__((format(printf, 3, 4))) static void diag_header(struct policy_parse *ps,
							      const char *name, const char *fmt,
							      ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(ps, policy_parse_file(ps), ps->line, name, NULL, fmt, ap);
	va_end(ap);
}

void policy_origin_init(struct policy_origin *o)
{
	o->file = -1;
	o->line = 0;
	for (size_t i = 0; i < POLICY_KEYS_MAX; i++)
		o->key_file[i] = -1, o->key_line[i] = 0, o->key_bad[i] = false;
}

static struct policy_origin *origin_of(struct policy_parse *ps, enum policy_sec sec, size_t idx)
{
	if (sec == POLICY_SEC_CLIENT)
		return &ps->client_o[idx];
	if (sec == POLICY_SEC_DENY)
		return &ps->deny_o[idx];
	return &ps->single[sec];
}

/* ---- sections ---- */

static int entry_find_or_add(struct policy_parse *ps, enum policy_sec sec, const char *id,
			     size_t *ret)
{
	struct policy *p = ps->p;
	bool client = sec == POLICY_SEC_CLIENT;
	size_t n = client ? p->n_clients : p->n_denies;
	struct policy_origin *no;
	char *dup;

	for (size_t i = 0; i < n; i++)
		if (strcmp(client ? p->clients[i].id : p->denies[i].id, id) == 0) {
			*ret = i;
			return 0;
		}
	if (n >= POLICY_ENTRIES_MAX)
		return -E2BIG;
	dup = strdup(id);
	if (!dup)
		return -ENOMEM;
	/* grow both arrays first, then commit */
	no = realloc(client ? ps->client_o : ps->deny_o, (n + 1) * sizeof(*no));
	if (!no)
		goto oom;
	if (client)
		ps->client_o = no;
	else
		ps->deny_o = no;
	policy_origin_init(&no[n]);
	if (client) {
		struct policy_client *nv = realloc(p->clients, (n + 1) * sizeof(*nv));

		if (!nv)
			goto oom;
		p->clients = nv;
		nv[n] = (struct policy_client){ .id = dup, .max_instances = 1 };
		p->n_clients++;
	} else {
		struct policy_deny *nv = realloc(p->denies, (n + 1) * sizeof(*nv));

		if (!nv)
			goto oom;
		p->denies = nv;
		nv[n] = (struct policy_deny){ .id = dup };
		p->n_denies++;
	}
	*ret = n;
	return 0;
oom:
	free(dup);
	return -ENOMEM;
}

/* The diagnostic for a header that names no section; [Policy] gets a hint. */
static void unknown_section(struct policy_parse *ps, const char *name)
{
	if (strcmp(name, "client") == 0 || strcmp(name, "deny") == 0) {
		diag_header(ps, name, "missing id: write [%s.<id>], e.g. [%s.wecom]", name, name);
		return;
	}
	for (int s = POLICY_SEC_POLICY; s < POLICY_SEC_MAX; s++) {
		size_t n = strlen(policy_sec_names[s]);
		bool entry = s >= POLICY_SEC_CLIENT;

		if (strncasecmp(name, policy_sec_names[s], n) == 0 &&
		    name[n] == (entry ? '.' : 0)) {
			diag_header(ps, name,
				    "unknown section; section names are lower case: [%s%s]",
				    policy_sec_names[s], entry ? ".<id>" : "");
			return;
		}
	}
	diag_header(ps, name,
		    "unknown section; sections are policy, client.<id>, deny.<id>, "
		    "screen_lock, patches, antivirus, device, scan and watch");
}

/* A [name] header: make its section current, or skip its keys when it is refused. */
static void section_begin(struct policy_parse *ps, const char *name)
{
	enum policy_sec sec = POLICY_SEC_NONE;
	const char *id = NULL;
	struct policy_origin *o;
	int r;

	ps->prev_key[0] = 0;
	ps->skip = true;
	free(ps->sec_name);
	ps->sec_name = strdup(name);
	if (!ps->sec_name) {
		ps->oom = true;
		return;
	}
	for (int s = POLICY_SEC_POLICY; s < POLICY_SEC_CLIENT; s++)
		if (strcmp(name, policy_sec_names[s]) == 0)
			sec = s;
	if (str_startswith(name, "client."))
		sec = POLICY_SEC_CLIENT, id = name + strlen("client.");
	else if (str_startswith(name, "deny."))
		sec = POLICY_SEC_DENY, id = name + strlen("deny.");
	if (sec == POLICY_SEC_NONE) {
		unknown_section(ps, name);
		return;
	}
	ps->idx = 0;
	if (id) {
		if (!policy_value_id_ok(id)) {
			diag_header(ps, name,
				    "invalid id '%s': use 1 to %d letters, digits, '-' or '_'", id,
				    POLICY_ID_MAX);
			return;
		}
		r = entry_find_or_add(ps, sec, id, &ps->idx);
		if (r == -ENOMEM) {
			ps->oom = true;
			return;
		}
		if (r < 0) {
			diag_header(ps, name, "too many [%s.*] sections (at most %d)",
				    policy_sec_names[sec], POLICY_ENTRIES_MAX);
			return;
		}
	}
	o = origin_of(ps, sec, ps->idx);
	if (o->file == ps->file) {
		diag_header(ps, name,
			    "section repeated in this file (first at line %u): merge the two",
			    o->line);
		return;
	}
	o->file = ps->file;
	o->line = ps->line;
	ps->sec = sec;
	ps->skip = false;
}

/* ---- keys ---- */

static void set_list(struct policy_parse *ps, const struct policy_key *k, struct strv *sv,
		     const char *value, bool append)
{
	struct strv items = { 0 };
	char err[400];

	if (!append)
		strv_clear(sv);
	if (strv_split(&items, value, ",") < 0) {
		ps->oom = true;
		return;
	}
	for (size_t i = 0; i < items.n; i++) {
		if (policy_value_check(k->kind, items.v[i], err, sizeof(err)) < 0) {
			diag(ps, k->name, "%s", err);
			continue;
		}
		if (strv_contains(sv, items.v[i]))
			continue;
		if (strv_push(sv, items.v[i]) < 0)
			ps->oom = true;
	}
	strv_clear(&items);
}

static void set_value(struct policy_parse *ps, const struct policy_key *k, void *base,
		      const char *value, bool append)
{
	char *field = (char *)base + k->off, err[400], *dup;
	long num;
	bool b;
	size_t n = strlen(value);
	int e;

	if (n >= 2 && (value[0] == '"' || value[0] == '\'') && value[n - 1] == value[0]) {
		diag(ps, k->name, "%s: values are written without quotes", value);
		return;
	}
	if (k->flags & PK_LIST) {
		set_list(ps, k, (struct strv *)(void *)field, value, append);
		return;
	}
	if (!*value && (k->flags & PK_OPTIONAL)) {
		free(*(char **)(void *)field);
		*(char **)(void *)field = NULL;
		return;
	}
	if (!*value) {
		diag(ps, k->name, "empty value");
		return;
	}
	switch (k->kind) {
	case PV_BOOL:
		if (policy_value_bool(value, &b) < 0)
			diag(ps, k->name,
			     "'%s' is not a yes/no value: use yes or no (true/false, "
			     "on/off, 1/0)",
			     value);
		else
			*(bool *)(void *)field = b;
		return;
	case PV_UINT:
	case PV_INT:
		if (policy_value_number(value, k->min, k->max, &num, err, sizeof(err)) < 0)
			diag(ps, k->name, "%s", err);
		else if (k->kind == PV_UINT)
			*(unsigned *)(void *)field = (unsigned)num;
		else
			*(int *)(void *)field = (int)num;
		return;
	case PV_ENUM:
		if (policy_value_enum(value, k->names, &e, err, sizeof(err)) < 0)
			diag(ps, k->name, "%s", err);
		else
			memcpy(field, &e, sizeof(e));
		return;
	default: break;
	}
	if (policy_value_check(k->kind, value, err, sizeof(err)) < 0) {
		diag(ps, k->name, "%s", err);
		return;
	}
	if (k->kind == PV_HOME_REL && str_startswith(value, "~/"))
		value += 2;
	dup = strdup(value);
	if (!dup) {
		ps->oom = true;
		return;
	}
	if (k->kind == PV_HOME_REL)
		for (n = strlen(dup); n > 1 && dup[n - 1] == '/'; n--)
			dup[n - 1] = 0;
	if (k->kind == PV_SHA256)
		for (char *c = dup; *c; c++)
			*c = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
	free(*(char **)(void *)field);
	*(char **)(void *)field = dup;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct policy_parse *ps = user;
	struct policy_origin *o;
	size_t before;
	bool again;
	int k;

	(void)section; /* ours (ps->sec) is the one that counts */
	if (ps->oom || ps->skip)
		return 1;
	if (ps->sec == POLICY_SEC_NONE) {
		diag(ps, name, "key outside any section: put it under a [section] header");
		ps->prev_key_bad = true;
		return 1;
	}
	k = policy_key_find(ps->sec, name);
	if (k < 0) {
		char known[512];
		size_t n = 0;

		known[0] = 0;
		for (size_t i = 0; i < policy_n_keys && n < sizeof(known); i++)
			if (policy_keys[i].sec == ps->sec)
				n += (size_t)snprintf(known + n, sizeof(known) - n, "%s%s",
						      n ? ", " : "", policy_keys[i].name);
		diag(ps, name, "unknown key; this section takes %s", known);
		ps->prev_key_bad = true;
		return 1;
	}
	o = origin_of(ps, ps->sec, ps->idx);
	again = o->key_file[k] == ps->file;
	if (again && !(policy_keys[k].flags & PK_LIST)) {
		if (ps->continuation)
			diag(ps, name, "continuation line, but %s takes a single value", name);
		else
			diag(ps, name, "set twice in this section (first at line %u)",
			     o->key_line[k]);
		ps->prev_key_bad = true;
		return 1;
	}
	if (!again) {
		o->key_file[k] = ps->file;
		o->key_line[k] = ps->line;
		o->key_bad[k] = false;
	}
	before = ps->n_diags;
	set_value(ps, &policy_keys[k], policy_sec_base(ps->p, ps->sec, ps->idx), value, again);
	if (ps->n_diags != before)
		o->key_bad[k] = true;
	return 1;
}

/* ---- the line reader inih reads through ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '.';
}

/* "name =" at the start of an indented line: a key, not a continuation. */
static bool looks_like_key(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n && is_key_char(s[i]))
		i++;
	if (i == 0)
		return false;
	while (i < n && is_blank(s[i]))
		i++;
	return i < n && s[i] == '=';
}

/* "a=b\n" into str; callers checked that it fits. */
static char *emit(char *str, const char *a, size_t alen, const char *b, size_t blen)
{
	memcpy(str, a, alen);
	str[alen] = '=';
	memcpy(str + alen + 1, b, blen);
	str[alen + 1 + blen] = '\n';
	str[alen + 2 + blen] = 0;
	return str;
}

static char *blank(char *str)
{
	str[0] = '\n';
	str[1] = 0;
	return str;
}

static char *read_line(char *str, int num, void *stream)
{
	struct policy_parse *ps = stream;
	const char *s, *nl, *c;
	size_t n, limit, klen;
	bool indent;

	if (ps->pos >= ps->len || num < 4)
		return NULL;
	s = ps->buf + ps->pos;
	nl = memchr(s, '\n', ps->len - ps->pos);
	n = nl ? (size_t)(nl - s) : ps->len - ps->pos;
	ps->pos += n + (nl ? 1 : 0);
	ps->line++;
	ps->continuation = false;
	limit = (size_t)num - 2 < POLICY_LINE_MAX ? (size_t)num - 2 : POLICY_LINE_MAX;

	if (ps->line == 1 && n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
		s += 3, n -= 3;
	if (n && s[n - 1] == '\r')
		n--;
	for (size_t i = 0; i < n; i++) {
		unsigned char u = (unsigned char)s[i];

		if ((u < 0x20 && u != '\t') || u == 0x7f) {
			diag(ps, NULL,
			     u == 0 ? "NUL byte in the line"
				    : "control character 0x%02x in the line",
			     u);
			ps->prev_key[0] = 0;
			return blank(str);
		}
	}
	if (!policy_value_utf8_ok(s, n)) {
		diag(ps, NULL, "the line is not valid UTF-8: save the file as UTF-8");
		ps->prev_key[0] = 0;
		return blank(str);
	}
	indent = n && is_blank(s[0]);
	while (n && is_blank(*s))
		s++, n--;
	while (n && is_blank(s[n - 1]))
		n--;
	if (n == 0 || s[0] == ';' || s[0] == '#')
		return blank(str);
	/* inline comment: ';' after a space or tab */
	for (size_t i = 1; i < n; i++)
		if (s[i] == ';' && is_blank(s[i - 1])) {
			n = i;
			break;
		}
	while (n && is_blank(s[n - 1]))
		n--;

	if (indent && ps->prev_key[0] && !looks_like_key(s, n)) {
		klen = strlen(ps->prev_key);
		if (ps->prev_key_bad)
			return blank(str);
		if (klen + 1 + n > limit) {
			diag(ps, ps->prev_key,
			     "line too long (at most %zu characters): split it over more lines",
			     limit - klen - 1);
			ps->prev_key_bad = true;
			return blank(str);
		}
		ps->continuation = true;
		return emit(str, ps->prev_key, klen, s, n);
	}
	ps->prev_key[0] = 0;
	ps->prev_key_bad = false;

	if (s[0] == '[') {
		char name[POLICY_LINE_MAX + 1];
		const char *close = memchr(s, ']', n);
		size_t nlen;

		if (!close) {
			diag(ps, NULL, "section header without a closing ']'");
			ps->skip = true;
			return blank(str);
		}
		for (c = close + 1; c < s + n; c++)
			if (!is_blank(*c)) {
				diag(ps, NULL, "unexpected text after ']'");
				break;
			}
		s++;
		nlen = (size_t)(close - s);
		while (nlen && is_blank(*s))
			s++, nlen--;
		while (nlen && is_blank(s[nlen - 1]))
			nlen--;
		if (nlen > POLICY_LINE_MAX)
			nlen = POLICY_LINE_MAX;
		memcpy(name, s, nlen);
		name[nlen] = 0;
		section_begin(ps, name);
		return blank(str);
	}

	c = memchr(s, '=', n);
	klen = c ? (size_t)(c - s) : 0;
	while (klen && is_blank(s[klen - 1]))
		klen--;
	if (!c || klen == 0) {
		diag(ps, NULL,
		     c ? "missing key name before '='"
		       : "expected 'key = value', a [section] header or a comment");
		return blank(str);
	}
	for (size_t i = 0; i < klen; i++)
		if (!is_key_char(s[i])) {
			diag(ps, NULL, "invalid key name: keys are words like max_idle_seconds");
			return blank(str);
		}
	if (klen > POLICY_LINE_MAX) {
		diag(ps, NULL, "line too long (at most %zu characters)", limit);
		strcpy(ps->prev_key, "?"); /* drop its continuation lines quietly */
		ps->prev_key_bad = true;
		return blank(str);
	}
	memcpy(ps->prev_key, s, klen);
	ps->prev_key[klen] = 0;
	c++;
	n -= (size_t)(c - s);
	while (n && is_blank(*c))
		c++, n--;
	if (klen + 1 + n > limit) {
		diag(ps, ps->prev_key,
		     "line too long (%zu characters, at most %zu): split a list over "
		     "several lines (repeat the key, or indent the next lines)",
		     klen + 1 + n, limit);
		ps->prev_key_bad = true;
		return blank(str);
	}
	return emit(str, ps->prev_key, klen, c, n);
}

int policy_parse_source(struct policy_parse *ps, const char *name, const char *data, size_t len)
{
	int r;

	if (strv_push(&ps->p->sources, name) < 0)
		return -ENOMEM;
	ps->file = (int)ps->p->sources.n - 1;
	if (!EVP_DigestUpdate(ps->md, data, len))
		return -ENOMEM;
	if (len > POLICY_FILE_MAX) {
		policy_parse_diag(ps, name, 0, NULL, NULL, "larger than %u bytes", POLICY_FILE_MAX);
		return -EFBIG;
	}
	ps->buf = data;
	ps->len = len;
	ps->pos = 0;
	ps->line = 0;
	ps->prev_key[0] = 0;
	ps->prev_key_bad = ps->continuation = false;
	ps->sec = POLICY_SEC_NONE;
	ps->skip = false;
	free(ps->sec_name);
	ps->sec_name = NULL;

	r = ini_parse_stream(read_line, ps, on_key, ps);
	if (r < 0)
		return -ENOMEM;
	if (r > 0) /* our reader hands inih nothing it should refuse; be safe anyway */
		policy_parse_diag(ps, name, (unsigned)r, NULL, NULL, "syntax error");
	return ps->oom ? -ENOMEM : 0;
}
