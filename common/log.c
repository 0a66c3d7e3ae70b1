#include "common/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-journal.h>

static int max_level = LOG_INFO;
static enum log_target target = LOG_TARGET_STDERR;

void log_set_max_level(int prio)
{
	max_level = prio;
}

int log_get_max_level(void)
{
	return max_level;
}

void log_set_target(enum log_target t)
{
	target = t;
}

void log_open_auto(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	const char *lvl = getenv("WXGUARD_LOG_LEVEL");

	target = e && *e ? LOG_TARGET_JOURNAL : LOG_TARGET_STDERR;
	if (lvl && strcmp(lvl, "debug") == 0)
		max_level = LOG_DEBUG;
}

int log_internal(int prio, int err, const char *file, int line, const char *fmt, ...)
{
	static const char *const names[] = { "emerg",   "alert",  "crit", "error",
					     "warning", "notice", "info", "debug" };
	char buf[2048];
	va_list ap;
	int saved = errno;

	if (err < 0)
		err = -err;
	if ((prio & LOG_PRIMASK) > max_level)
		goto out;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	if (target == LOG_TARGET_JOURNAL) {
		char cf[64], cl[32];

		snprintf(cf, sizeof(cf), "CODE_FILE=%s", file);
		snprintf(cl, sizeof(cl), "CODE_LINE=%d", line);
		if (err)
			sd_journal_send("MESSAGE=%s: %s", buf, strerror(err), "PRIORITY=%d", prio,
					"ERRNO=%d", err, cf, cl, NULL);
		else
			sd_journal_send("MESSAGE=%s", buf, "PRIORITY=%d", prio, cf, cl, NULL);
	} else if (err) {
		fprintf(stderr, "wxguard: %s: %s: %s\n", names[prio & LOG_PRIMASK], buf,
			strerror(err));
	} else {
		fprintf(stderr, "wxguard: %s: %s\n", names[prio & LOG_PRIMASK], buf);
	}
out:
	errno = saved;
	return -err;
}
