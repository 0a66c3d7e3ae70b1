#include "agent/watch/notify.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "common/i18n.h"
#include "common/fileio.h"

struct notify {
	char *cmd;
	bool dbus;
};

int notify_new(const char *cmd, bool dbus, struct notify **ret)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	if (cmd) {
		n->cmd = strdup(cmd);
		if (!n->cmd) {
			free(n);
			return -ENOMEM;
		}
	}
	n->dbus = dbus;
	*ret = n;
	return 0;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	free(n->cmd);
	free(n);
}

const char *notify_lang_of(pid_t pid)
{
	static const char *const vars[] = { "LC_ALL=", "LC_MESSAGES=", "LANG=" };
	const char *found[3] = { NULL, NULL, NULL };
	char path[64], *env = NULL;
	const char *lang = i18n_zh() ? "zh" : "en";
	size_t len = 0;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	if (pid <= 0 || read_full_file(path, 1 << 20, &env, &len) < 0)
		return lang;
	for (char *p = env; p < env + len; p += strlen(p) + 1)
		for (size_t i = 0; i < 3; i++)
			if (strncmp(p, vars[i], strlen(vars[i])) == 0 && p[strlen(vars[i])])
				found[i] = p + strlen(vars[i]);
	for (size_t i = 0; i < 3; i++)
		if (found[i]) {
			lang = strncmp(found[i], "zh", 2) == 0 ? "zh" : "en";
			break;
		}
	free(env);
	return lang;
}

/* In the grandchild, as the user: one Notify call with a 2 s timeout. */
static int send_dbus(const char *address, const char *title, const char *body)
{
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	int r;

	r = sd_bus_new(&bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(bus, address);
	if (r >= 0)
		r = sd_bus_set_bus_client(bus, 1);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r >= 0)
		r = sd_bus_set_method_call_timeout(bus, 2 * 1000 * 1000);
	if (r >= 0)
		r = sd_bus_call_method(
			bus, "org.freedesktop.Notifications", "/org/freedesktop/Notifications",
			"org.freedesktop.Notifications", "Notify", NULL, &reply, "susssasa{sv}i",
			"wxguard", 0u, "security-high", title, body, 0, 0, -1);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
}

static int drop_to(uid_t uid)
{
	struct passwd *pw = getpwuid(uid);
	gid_t gid = pw ? pw->pw_gid : (gid_t)uid;

	if (pw && initgroups(pw->pw_name, gid) < 0)
		return -errno;
	if (!pw && setgroups(0, NULL) < 0)
		return -errno;
	if (setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return -errno;
	return 0;
}

int notify_send(struct notify *n, uid_t uid, const char *lang, const char *title, const char *body)
{
	char bus_path[64], address[96], uidbuf[16];
	struct stat st;
	pid_t pid;
	int status;

	if (!n)
		return -EINVAL;
	snprintf(bus_path, sizeof(bus_path), "/run/user/%u/bus", (unsigned)uid);
	if (!n->cmd) {
		if (!n->dbus || stat(bus_path, &st) < 0 || !S_ISSOCK(st.st_mode))
			return -ENOENT;
	}
	snprintf(address, sizeof(address), "unix:path=%s", bus_path);
	snprintf(uidbuf, sizeof(uidbuf), "%u", (unsigned)uid);
	/* Double fork: the notifier is reparented to init, no zombie is left behind and the
	 * caller waits only for the intermediate child, which exits at once. */
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		pid_t gc = fork();

		if (gc != 0)
			_exit(gc < 0 ? 1 : 0);
		int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			/* never into the caller's stdout: that is the event stream */
			if (n->cmd)
				dup2(STDERR_FILENO, STDOUT_FILENO);
			else
				dup2(devnull, STDOUT_FILENO);
		}
		signal(SIGPIPE, SIG_DFL);
		if (n->cmd) {
			execl("/bin/sh", "sh", "-c", "exec $0 \"$@\"", n->cmd, uidbuf, lang, title,
			      body, (char *)NULL);
			_exit(127);
		}
		alarm(5);
		if (uid != 0 && drop_to(uid) < 0)
			_exit(1);
		_exit(send_dbus(address, title, body) < 0 ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}
