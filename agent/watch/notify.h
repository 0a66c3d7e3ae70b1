/* Desktop notifications to the employee: org.freedesktop.Notifications.Notify on the user's
 * session bus (unix:path=/run/user/UID/bus), sent from a short-lived child that runs as the
 * user; or, for tests and other desktops, a command (--notify-cmd). Best effort: never
 * blocks the caller for more than a fork, never fails the event. */
#pragma once
#include <stdbool.h>
#include <sys/types.h>

struct notify;

/* cmd: run "cmd UID LANG TITLE BODY" instead of D-Bus (may be NULL). dbus: use the bus. */
int notify_new(const char *cmd, bool dbus, struct notify **ret);
void notify_free(struct notify *n);
/* 0 when a notification was handed off (a child started), -ENOENT when uid has no session
 * bus and no command is set, -errno otherwise. lang is "zh" or "en". */
int notify_send(struct notify *n, uid_t uid, const char *lang, const char *title, const char *body);
/* The language of a user's session: LANG / LC_* of pid's environment, else the agent's. */
const char *notify_lang_of(pid_t pid);
