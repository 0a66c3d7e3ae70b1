/* Logging: stderr or the journal, priorities from <syslog.h>.
 * Libraries log at debug only; the caller logs once, with context. */
#pragma once
#include <stdbool.h>
#include <syslog.h>

enum log_target {
	LOG_TARGET_STDERR = 0,
	LOG_TARGET_JOURNAL = 1
};

void log_set_max_level(int prio);
int log_get_max_level(void);
void log_set_target(enum log_target t);
/* Pick the journal when stderr is connected to it (JOURNAL_STREAM), else stderr. */
void log_open_auto(void);

/* Returns -abs(err) (or 0 when err is 0), so `return log_error_errno(r, ...)` works. */
int log_internal(int prio, int err, const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#define log_full_errno(prio, err, ...) log_internal((prio), (err), __FILE__, __LINE__, __VA_ARGS__)
#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_debug_errno(e, ...) log_full_errno(LOG_DEBUG, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, (e), __VA_ARGS__)
#define log_error_errno(e, ...) log_full_errno(LOG_ERR, (e), __VA_ARGS__)
