/* End to end: the real build/wxguard-server binary over loopback HTTPS (its generated CA
 * pinned), a signing test client (tests/lib/simclient.c) driven through libcurl, and a loopback
 * webhook receiver that gets the WeCom group-robot markdown messages and the JSON webhook. */
#include "testlib.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/fileio.h"
#include "simclient.h"
#include "webhook_receiver.h"

/* ---- the server ---- */

struct env {
	char *dir;
	char conf[512], ca[512], bin[512];
	pid_t pid;
	int port;
	struct webhook_receiver rv;
	char admin[160];
};

static struct env envs[4];
static struct env *cur = &envs[0];
#define E (*cur)

/* db: NULL for SQLite in the state directory; shared_dir: use another server's state directory
 * (same server key, admin token and TLS files: two processes of one deployment). */
static int start_server_db(long long interval, const char *db, const char *shared_dir)
{
	char buf[4096], dburl[768];
	int pipefd[2];
	FILE *f;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	E.dir = shared_dir ? strdup(shared_dir) : wxg_test_mkdtemp();
	E.rv.fail_first_json = 1;
	webhook_receiver_start(&E.rv);
	snprintf(E.bin, sizeof(E.bin), "%s/wxguard-server", wxg_test_build_dir());
	snprintf(E.conf, sizeof(E.conf), "%s/server-%d.conf", E.dir, (int)(cur - envs));
	snprintf(E.ca, sizeof(E.ca), "%s/tls/ca.pem", E.dir);
	if (db)
		snprintf(dburl, sizeof(dburl), "%s", db);
	else
		snprintf(dburl, sizeof(dburl), "sqlite:%s/wxguard.db", E.dir);
	f = fopen(E.conf, "w");
	assert_non_null(f);
	fprintf(f,
		"[server]\nlisten = 127.0.0.1\nport = 0\nworkers = 2\nstate_dir = %s\nmax_body = "
		"65536\n"
		"[database]\nurl = %s\n"
		"[reports]\ninterval = %lld\nstale_grace = 1\n"
		"[alerts]\nwecom_webhook = http://127.0.0.1:%d/cgi-bin/webhook/send?key=test-key\n"
		"json_webhook = http://127.0.0.1:%d/hook\nsyslog = true\nretry_base = 1\nsweep_ms "
		"= 200\n",
		E.dir, dburl, interval, E.rv.port, E.rv.port);
	fclose(f);
	assert_int_equal(pipe(pipefd), 0);
	E.pid = fork();
	assert_true(E.pid >= 0);
	if (E.pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execl(E.bin, E.bin, "-c", E.conf, "serve", (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	f = fdopen(pipefd[0], "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (sscanf(buf, "listening port %d", &E.port) == 1)
			break;
	if (f)
		fclose(f);
	if (E.port <= 0) {
		fprintf(stderr, "server did not start: %s\n", E.bin);
		return -1;
	}
	{
		char path[600], *tok;
		size_t len;

		snprintf(path, sizeof(path), "%s/admin.token", E.dir);
		assert_int_equal(read_full_file(path, 4096, &tok, &len), 0);
		tok[strcspn(tok, "\n")] = 0;
		snprintf(E.admin, sizeof(E.admin), "Authorization: Bearer %s", tok);
		free(tok);
	}
	return 0;
}

static int start_server(long long interval)
{
	return start_server_db(interval, NULL, NULL);
}

static int teardown(void **state)
{
	int status;

	if (E.pid > 0) {
		kill(E.pid, SIGTERM);
		waitpid(E.pid, &status, 0);
	}
	shutdown(E.rv.fd, SHUT_RDWR);
	close(E.rv.fd);
	wxg_test_rmtree(E.dir);
	free(E.dir);
	curl_global_cleanup();
	return 0;
}

struct resp {
	char buf[1 << 20];
	size_t len;
};

static size_t collect(char *p, size_t sz, size_t n, void *u)
{
	struct resp *r = u;
	size_t k = sz * n;

	if (r->len + k >= sizeof(r->buf))
		k = sizeof(r->buf) - 1 - r->len;
	memcpy(r->buf + r->len, p, k);
	r->len += k;
	r->buf[r->len] = 0;
	return sz * n;
}

/* HTTPS request with the generated CA pinned; returns the status, body in *out. */
static long https_at(int port, const char *method, const char *path, const char *body, size_t len,
		     const char *header, struct resp *out);

static long https(const char *method, const char *path, const char *body, size_t len,
		  const char *header, struct resp *out)
{
	return https_at(E.port, method, path, body, len, header, out);
}

static long https_at(int port, const char *method, const char *path, const char *body, size_t len,
		     const char *header, struct resp *out)
{
	static struct resp scratch;
	struct curl_slist *h = NULL;
	char url[512];
	long code = 0;
	CURL *c = curl_easy_init();

	if (!out)
		out = &scratch;
	out->len = 0;
	out->buf[0] = 0;
	snprintf(url, sizeof(url), "https://127.0.0.1:%d%s", port, path);
	h = curl_slist_append(h, "Content-Type: application/json");
	if (header)
		h = curl_slist_append(h, header);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, E.ca);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)len);
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return code;
}

static long https_json(const char *path, json_t *body, json_t **reply)
{
	static struct resp r;
	char *txt = json_dumps(body, JSON_COMPACT);
	long code = https("POST", path, txt, strlen(txt), NULL, &r);

	free(txt);
	json_decref(body);
	if (reply)
		*reply = json_loads(r.buf, 0, NULL);
	return code;
}

static char *cli(const char *args)
{
	char cmd[2048], *out = calloc(1, 65536);
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "%s -c %s %s 2>&1", E.bin, E.conf, args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, 65535, p);
	out[n] = 0;
	assert_int_equal(pclose(p), 0);
	return out;
}

static struct simclient *C;

static void test_e2e_enroll_over_https_with_cli_token(void **state)
{
	char *tok = cli("--json token create --uses 2 --expires 1h");
	json_t *t = json_loads(tok, 0, NULL), *ch, *rep;

	assert_non_null(t);
	assert_int_equal(simclient_new(&C), 0);
	assert_int_equal(https_json("/api/v1/enroll/challenge", json_object(), &ch), 200);
	assert_int_equal(
		https_json("/api/v1/enroll",
			   simclient_enroll(C, json_string_value(json_object_get(t, "token")),
					    json_string_value(json_object_get(ch, "challenge")),
					    "e2e-laptop"),
			   &rep),
		200);
	assert_int_equal(simclient_enrolled(C, rep), 0);
	json_decref(rep);
	json_decref(ch);
	json_decref(t);
	free(tok);
}

static void test_e2e_reports_accepted_and_noncompliance_reaches_wecom(void **state)
{
	json_t *rep;
	char *msg;

	assert_int_equal(
		https_json("/api/v1/report", simclient_report(C, time(NULL), NULL, -1), &rep), 200);
	simclient_accepted(C, rep);
	json_decref(rep);
	assert_int_equal(https_json("/api/v1/report",
				    simclient_report(C, time(NULL), "disk_encryption", -1), &rep),
			 200);
	simclient_accepted(C, rep);
	json_decref(rep);
	msg = webhook_receiver_wait(&E.rv, "/cgi-bin/webhook/send?key=test-key", "noncompliant",
				    10);
	assert_non_null(msg);
	{
		json_t *j = json_loads(msg, 0, NULL);

		assert_string_equal(json_string_value(json_object_get(j, "msgtype")), "markdown");
		assert_non_null(strstr(json_string_value(json_object_get(
					       json_object_get(j, "markdown"), "content")),
				       "disk_encryption"));
		json_decref(j);
	}
	free(msg);
	/* the JSON webhook failed once (500) and got the alert on a retry */
	msg = webhook_receiver_wait(&E.rv, "/hook", "\"rule\":\"noncompliant\"", 10);
	assert_non_null(msg);
	free(msg);
}

static void test_e2e_bad_requests_get_clear_4xx(void **state)
{
	struct resp r;
	json_t *env, *rep;
	char *big;

	assert_int_equal(https("POST", "/api/v1/report", "{nope", 5, NULL, &r), 400);
	assert_non_null(strstr(r.buf, "\"malformed\""));
	big = malloc(200000);
	memset(big, ' ', 200000);
	big[0] = '{';
	big[199999] = '}';
	assert_int_equal(https("POST", "/api/v1/report", big, 200000, NULL, &r), 413);
	assert_non_null(strstr(r.buf, "\"too_large\""));
	free(big);
	/* over 4 x max_body (65536 here): libevent refuses it before the server sees the path */
	big = malloc(300000);
	memset(big, ' ', 300000);
	big[0] = '{';
	big[299999] = '}';
	https("POST", "/api/v1/events", big, 300000, NULL,
	      &r); /* 413, or a reset while uploading */
	free(big);
	env = simclient_report(C, time(NULL), NULL, -1);
	json_object_set_new(json_object_get(env, "report"), "boot_id", json_string("tampered"));
	assert_int_equal(https_json("/api/v1/report", env, &rep), 401);
	json_decref(rep);
	assert_int_equal(https("GET", "/api/v1/admin/devices", NULL, 0, NULL, &r), 401);
	assert_int_equal(https("GET", "/api/v1/admin/devices", NULL, 0, E.admin, &r), 200);
	assert_non_null(strstr(r.buf, "e2e-laptop"));
	assert_int_equal(https("GET", "/", NULL, 0, NULL, &r), 200);
	assert_non_null(strstr(r.buf, "<html"));
	assert_int_equal(https("GET", "/metrics", NULL, 0, NULL, &r), 200);
	assert_non_null(strstr(r.buf, "wxguard_reports_accepted_total 2"));
	assert_non_null(strstr(r.buf, "wxguard_reports_refused_total{reason=\"malformed\"} 1"));
	assert_non_null(strstr(r.buf, "wxguard_reports_refused_total{reason=\"too_large\"} 1"));
	assert_non_null(
		strstr(r.buf, "wxguard_event_batches_refused_total{reason=\"too_large\"} 0"));
	assert_non_null(strstr(r.buf, "\nwxguard_http_too_large_total 2\n"));
	assert_non_null(strstr(r.buf, "wxguard_reports_refused_total{reason=\"bad_signature\"} 1"));
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Watcher events as docs/events.md has them reach the alert sinks under the mapped rule; the
 * CLI takes its options after the subcommand. */
static void test_e2e_watcher_events_alert_and_cli_options_after_command(void **state)
{
	json_t *evs = json_array(), *rep, *j;
	char *msg, *out;

	json_array_append_new(evs, simclient_watch_event(time(NULL), "exec", "client.denied",
							 "denied_name", "deny", "kill"));
	json_array_append_new(evs,
			      simclient_watch_event(time(NULL), "exec", "watch.attachment_exec",
						    "attachment_exec", "deny", "none"));
	json_array_append_new(evs, simclient_watch_event(time(NULL), "exec", "client.approved",
							 "approved", "allow", "none"));
	assert_int_equal(https_json("/api/v1/events", simclient_batch(C, time(NULL), evs), &rep),
			 200);
	assert_int_equal(json_integer_value(json_object_get(rep, "accepted")), 3);
	json_decref(rep);
	msg = webhook_receiver_wait(&E.rv, "/cgi-bin/webhook/send", "attachment_exec", 10);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "chat-delivered payload executed"));
	free(msg);
	msg = webhook_receiver_wait(&E.rv, "/cgi-bin/webhook/send", "client_unapproved", 10);
	assert_non_null(msg);
	assert_non_null(strstr(msg, "blocked unapproved client electronic-wechat"));
	free(msg);

	out = cli("events --limit 2");
	assert_int_equal(count_lines(out), 2);
	free(out);
	out = cli("events");
	assert_int_equal(count_lines(out), 3);
	assert_non_null(strstr(out, "client.denied/denied_name"));
	assert_non_null(strstr(out, "Blocked unapproved client electronic-wechat"));
	free(out);
	out = cli("events --json --limit 1");
	j = json_loads(out, 0, NULL);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	free(out);
	out = cli("alerts --limit 1 --json");
	j = json_loads(out, 0, NULL);
	assert_int_equal(json_array_size(j), 1);
	json_decref(j);
	free(out);
	{
		char args[256];

		snprintf(args, sizeof(args), "events --device %s --limit 1 --json", C->device_id);
		out = cli(args);
		j = json_loads(out, 0, NULL);
		assert_int_equal(json_array_size(j), 1);
		json_decref(j);
		free(out);
	}
}

/* A Wine injection (docs/events.md "inject" with the Windows names) reaches the WeCom robot
 * once, naming the injector and the target in both languages; a hostile path from the device
 * comes out as text, not markdown. */
static void test_e2e_wine_injection_alert_names_injector_and_target(void **state)
{
	json_t *evs = json_array(), *ev, *proc, *rep, *j;
	const char *content;
	char *msg;

	ev = simclient_watch_event(time(NULL), "inject", "client.injection", "ptrace", "deny",
				   "kill");
	proc = json_object_get(ev, "process");
	json_object_set_new(proc, "comm", json_string("injector.exe"));
	json_object_set_new(proc, "exe", json_string("injector.exe"));
	json_object_set_new(proc, "windows_path",
			    json_string("C:\\users\\bob\\x\n](http://evil)\\injector.exe"));
	json_object_set_new(ev, "request", json_string("pokedata"));
	json_object_set_new(ev, "target",
			    json_pack("{s:i, s:i, s:s, s:s, s:s}", "pid", 456, "tid", 456, "comm",
				      "WXWork.exe", "exe", "WXWork.exe", "windows_path",
				      "C:\\Program Files (x86)\\WXWork\\WXWork.exe"));
	json_array_append_new(evs, ev);
	assert_int_equal(https_json("/api/v1/events", simclient_batch(C, time(NULL), evs), &rep),
			 200);
	assert_int_equal(json_integer_value(json_object_get(rep, "accepted")), 1);
	json_decref(rep);
	msg = webhook_receiver_wait(&E.rv, "/cgi-bin/webhook/send",
				    "tried to inject into WXWork.exe", 10);
	assert_non_null(msg);
	j = json_loads(msg, 0, NULL);
	content = json_string_value(json_object_get(json_object_get(j, "markdown"), "content"));
	assert_non_null(content);
	assert_non_null(strstr(content, "injector.exe (pid 22381, uid 1000, C:\\users\\bob\\x "
					"］(http：//evil)\\injector.exe) tried to inject into "
					"WXWork.exe (pid 456, C:\\Program Files (x86)\\WXWork\\"
					"WXWork.exe): blocked (rule client.injection"));
	assert_non_null(strstr(content, "试图注入 WXWork.exe（pid 456"));
	assert_null(strstr(content, "]("));
	assert_null(strstr(content, "http://evil"));
	json_decref(j);
	free(msg);
	assert_int_equal(webhook_receiver_count(&E.rv, "/cgi-bin/webhook/send",
						"tried to inject into WXWork.exe"),
			 1);
}

static void test_e2e_stale_device_alert_is_delivered(void **state)
{
	char *msg, *out;

	/* interval 1 s, grace 1 s: stale after 3 s without a report */
	msg = webhook_receiver_wait(&E.rv, "/cgi-bin/webhook/send", "stale", 15);
	assert_non_null(msg);
	assert_non_null(strstr(msg, C->device_id));
	free(msg);
	out = cli("alerts");
	assert_non_null(strstr(out, "stale"));
	assert_non_null(strstr(out, "-> wecom: delivered"));
	free(out);
	out = cli("device list");
	assert_non_null(strstr(out, "e2e-laptop"));
	free(out);
	simclient_free(C);
}

static int setup(void **state)
{
	cur = &envs[0];
	return start_server(1);
}

static int setup_dash(void **state)
{
	cur = &envs[1];
	return start_server(300);
}

static struct simclient *dash_device(const char *host, const char *token)
{
	struct simclient *c;
	json_t *ch, *rep;

	assert_int_equal(simclient_new(&c), 0);
	assert_int_equal(https_json("/api/v1/enroll/challenge", json_object(), &ch), 200);
	assert_int_equal(
		https_json("/api/v1/enroll",
			   simclient_enroll(c, token,
					    json_string_value(json_object_get(ch, "challenge")),
					    host),
			   &rep),
		200);
	assert_int_equal(simclient_enrolled(c, rep), 0);
	json_decref(ch);
	json_decref(rep);
	return c;
}

static void dash_report(struct simclient *c, const char *failing)
{
	json_t *rep;

	assert_int_equal(
		https_json("/api/v1/report", simclient_report(c, time(NULL), failing, -1), &rep),
		200);
	simclient_accepted(c, rep);
	json_decref(rep);
}

static void test_e2e_dashboard_in_headless_chromium(void **state)
{
	static const char *const hosts[] = { "dash-ok-1",  "dash-ok-2",  "dash-ok-3",
					     "dash-bad-1", "dash-bad-2", "dash-never" };
	char *tok = cli("--json token create --uses 10 --expires 1h"), cmd[4096], url[256];
	json_t *t = json_loads(tok, 0, NULL);
	struct simclient *c[6];
	const char *admin = E.admin + strlen("Authorization: Bearer ");

	for (int i = 0; i < 6; i++) {
		c[i] = dash_device(hosts[i], json_string_value(json_object_get(t, "token")));
		if (i < 3) {
			dash_report(c[i], NULL);
			dash_report(c[i], NULL);
		} else if (i < 5) {
			dash_report(c[i], NULL);
			dash_report(c[i], i == 3 ? "disk_encryption" : "screen_lock");
			dash_report(c[i], "disk_encryption");
		}
	}
	{
		/* dash-bad-1 runs an enforce policy on a kernel without BTF: not enforcing */
		json_t *rep,
			*w = json_pack(
				"{s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s, s:s, s:{s:{s:s, s:s},"
				" s:{s:s, s:s}, s:{s:s, s:s}, s:{s:s, s:s}}}",
				"state", "degraded", "enforcement", "fanotify", "events", 0,
				"drops", 0, "kills", 0, "kernel", "5.10.0-30-amd64", "btf", "",
				"reason", "no BTF", "summary",
				"kernel 5.10 has no BTF: enforcing with fanotify; injection and "
				"renames are reported, not refused",
				"decisions", "exec", "backend", "fanotify", "effect", "refused",
				"libraries", "backend", "fanotify", "effect", "refused",
				"injection", "backend", "fanotify", "effect", "reported", "renames",
				"backend", "fanotify", "effect", "reported");

		assert_int_equal(
			https_json("/api/v1/report",
				   simclient_report_watcher(c[3], time(NULL), "disk_encryption", -1,
							    "enforce", w),
				   &rep),
			200);
		simclient_accepted(c[3], rep);
		json_decref(rep);
	}
	{
		json_t *rep;

		json_t *evs = json_array();

		assert_int_equal(https_json("/api/v1/events",
					    simclient_events(c[3], time(NULL), 1, "client.blocked"),
					    &rep),
				 200);
		json_decref(rep);
		json_array_append_new(evs,
				      simclient_watch_event(time(NULL), "exec", "client.denied",
							    "denied_name", "deny", "kill"));
		json_array_append_new(evs,
				      simclient_watch_event(time(NULL), "open", "client.plugins",
							    "library", "deny", "none"));
		json_array_append_new(evs, simclient_watch_event(time(NULL), "drops", "watch", "",
								 "allow", "none"));
		assert_int_equal(
			https_json("/api/v1/events", simclient_batch(c[3], time(NULL), evs), &rep),
			200);
		json_decref(rep);
	}
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", E.port);
	{
		char cwd[1024], shot[1400];
		const char *b = wxg_test_build_dir();

		assert_non_null(getcwd(cwd, sizeof(cwd)));
		if (b[0] == '/')
			snprintf(shot, sizeof(shot), "%s/dashboard.png", b);
		else
			snprintf(shot, sizeof(shot), "%s/%s/dashboard.png", cwd, b);
		snprintf(cmd, sizeof(cmd), "%s/tests/e2e/dashboard/run.sh '%s' '%s' '%s'",
			 getenv("WXG_SRCDIR") ? getenv("WXG_SRCDIR") : cwd, url, admin, shot);
	}
	assert_int_equal(system(cmd), 0);
	for (int i = 0; i < 6; i++)
		simclient_free(c[i]);
	json_decref(t);
	free(tok);
}

/* ---- PostgreSQL: a restart under running servers, two servers on one database ---- */

static char pgdir[256], pgurl[600];

static int pg_cmd(const char *what)
{
	char cmd[1024];

	snprintf(cmd, sizeof(cmd), "%s/tests/e2e/server_pg.sh %s %s >/dev/null",
		 getenv("WXG_SRCDIR") ? getenv("WXG_SRCDIR") : ".", what, pgdir);
	return system(cmd) == 0 ? 0 : -1;
}

static int setup_pg(void **state)
{
	char cmd[1024], conninfo[512] = "";
	FILE *p;

	snprintf(pgdir, sizeof(pgdir), "/tmp/wxgpg-e2e.%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "%s/tests/e2e/server_pg.sh start %s",
		 getenv("WXG_SRCDIR") ? getenv("WXG_SRCDIR") : ".", pgdir);
	p = popen(cmd, "r");
	if (!p || !fgets(conninfo, sizeof(conninfo), p) || pclose(p) != 0) {
		fprintf(stderr, "cannot start PostgreSQL (%s)\n", cmd);
		return -1;
	}
	conninfo[strcspn(conninfo, "\n")] = 0;
	snprintf(pgurl, sizeof(pgurl), "pg:%s", conninfo);
	cur = &envs[2];
	if (start_server_db(300, pgurl, NULL) < 0)
		return -1;
	/* a second process of the same deployment: same key, token and TLS files, same database */
	cur = &envs[3];
	if (start_server_db(300, pgurl, envs[2].dir) < 0)
		return -1;
	cur = &envs[2];
	return 0;
}

static int teardown_pg(void **state)
{
	for (int i = 3; i >= 2; i--) {
		int status;

		cur = &envs[i];
		if (E.pid > 0) {
			kill(E.pid, SIGTERM);
			waitpid(E.pid, &status, 0);
		}
		shutdown(E.rv.fd, SHUT_RDWR);
		close(E.rv.fd);
	}
	pg_cmd("stop");
	wxg_test_rmtree(envs[2].dir);
	free(envs[2].dir);
	free(envs[3].dir);
	curl_global_cleanup();
	return 0;
}

static long post_at(int port, const char *path, json_t *body, json_t **reply)
{
	struct resp *r = malloc(sizeof(*r));
	char *txt = json_dumps(body, JSON_COMPACT);
	long code = https_at(port, "POST", path, txt, strlen(txt), NULL, r);

	free(txt);
	json_decref(body);
	if (reply)
		*reply = json_loads(r->buf, 0, NULL);
	free(r);
	return code;
}

static long long metric(int port, const char *name)
{
	struct resp *r = malloc(sizeof(*r));
	long long v = -1;
	const char *p;

	char needle[256];

	snprintf(needle, sizeof(needle), "\n%s ", name);
	if (https_at(port, "GET", "/metrics", NULL, 0, NULL, r) == 200 &&
	    (p = strstr(r->buf, needle)))
		v = atoll(p + strlen(needle));
	free(r);
	return v;
}

static struct simclient *pg_enroll(int challenge_port, int enroll_port)
{
	char *tok = cli("--json token create --uses 1 --expires 1h");
	json_t *t = json_loads(tok, 0, NULL), *ch, *rep;
	struct simclient *c;

	assert_int_equal(simclient_new(&c), 0);
	assert_int_equal(post_at(challenge_port, "/api/v1/enroll/challenge", json_object(), &ch),
			 200);
	assert_int_equal(
		post_at(enroll_port, "/api/v1/enroll",
			simclient_enroll(c, json_string_value(json_object_get(t, "token")),
					 json_string_value(json_object_get(ch, "challenge")),
					 "pg-laptop"),
			&rep),
		200);
	assert_int_equal(simclient_enrolled(c, rep), 0);
	json_decref(rep);
	json_decref(ch);
	json_decref(t);
	free(tok);
	return c;
}

static long pg_report(int port, struct simclient *c, json_t **reply)
{
	json_t *rep = NULL;
	long code = post_at(port, "/api/v1/report", simclient_report(c, time(NULL), NULL, -1),
			    &rep);

	if (code == 200)
		simclient_accepted(c, rep);
	if (reply)
		*reply = rep;
	else
		json_decref(rep);
	return code;
}

static void test_e2e_pg_restart_under_running_server(void **state)
{
	int a = envs[2].port;
	struct simclient *c = pg_enroll(a, a);
	json_t *rep;

	assert_int_equal(pg_report(a, c, NULL), 200);
	assert_int_equal(metric(a, "wxguard_up"), 1);
	/* outage: requests get 503 unavailable (retry later), counted; /metrics still answers */
	assert_int_equal(pg_cmd("down"), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pg_report(a, c, &rep), 503);
		assert_string_equal(json_string_value(json_object_get(rep, "error")),
				    "unavailable");
		json_decref(rep);
	}
	assert_int_equal(post_at(a, "/api/v1/events",
				 simclient_events(c, time(NULL), 1, "client.seen"), NULL),
			 503);
	assert_int_equal(metric(a, "wxguard_up"), 0);
	assert_int_equal(metric(a, "wxguard_reports_refused_total{reason=\"unavailable\"}"), 4);
	assert_int_equal(metric(a, "wxguard_event_batches_refused_total{reason=\"unavailable\"}"),
			 1);
	assert_true(metric(a, "wxguard_db_errors_total") >= 5);
	/* back: the very next report is accepted (connections are re-opened as needed) */
	assert_int_equal(pg_cmd("up"), 0);
	assert_int_equal(pg_report(a, c, NULL), 200);
	assert_int_equal(pg_report(a, c, NULL), 200);
	assert_int_equal(pg_report(a, c, NULL), 200); /* with 2 workers: both connections */
	assert_int_equal(metric(a, "wxguard_up"), 1);
	/* a restart between two requests costs no failed request at all */
	assert_int_equal(pg_cmd("down"), 0);
	assert_int_equal(pg_cmd("up"), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pg_report(a, c, NULL), 200);
	assert_int_equal(metric(a, "wxguard_reports_refused_total{reason=\"unavailable\"}"), 4);
	assert_int_equal(metric(a, "wxguard_reports_accepted_total"), 8);
	simclient_free(c);
}

struct race {
	int port;
	const char *body;
	long code;
	pthread_barrier_t *go;
};

static void *race_main(void *arg)
{
	struct race *r = arg;
	struct resp *out = malloc(sizeof(*out));

	pthread_barrier_wait(r->go);
	r->code = https_at(r->port, "POST", "/api/v1/report", r->body, strlen(r->body), NULL, out);
	free(out);
	return NULL;
}

static void test_e2e_two_servers_one_database_keep_seq_nonce_and_replay_checks(void **state)
{
	int a = envs[2].port, b = envs[3].port, won = 0;
	struct simclient *c = pg_enroll(
		a, b); /* challenge from one process, enrollment at the other */
	json_t *rep, *env;
	char old_nonce[64], raced_hash[65], *txt;

	/* alternate: every report is accepted whichever process gets it, the chain stays whole */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(pg_report(i % 2 ? b : a, c, &rep), 200);
		assert_false(json_is_true(json_object_get(rep, "chain_gap")));
		json_decref(rep);
	}
	/* a report accepted by A, replayed byte for byte to B: replay (a harmless duplicate) */
	env = simclient_report(c, time(NULL), NULL, -1);
	txt = json_dumps(env, JSON_COMPACT);
	json_decref(env);
	snprintf(old_nonce, sizeof(old_nonce), "%s", c->nonce);
	{
		struct resp *r = malloc(sizeof(*r));

		assert_int_equal(https_at(a, "POST", "/api/v1/report", txt, strlen(txt), NULL, r),
				 200);
		rep = json_loads(r->buf, 0, NULL);
		simclient_accepted(c, rep);
		json_decref(rep);
		assert_int_equal(https_at(b, "POST", "/api/v1/report", txt, strlen(txt), NULL, r),
				 409);
		rep = json_loads(r->buf, 0, NULL);
		assert_string_equal(json_string_value(json_object_get(rep, "error")), "replay");
		assert_true(json_is_true(json_object_get(rep, "duplicate")));
		assert_int_equal(json_integer_value(json_object_get(rep, "last_seq")), 11);
		json_decref(rep);
		free(r);
	}
	free(txt);
	/* the nonce A handed out is the one B wants; the one before it is refused by B */
	{
		char good[64];

		snprintf(good, sizeof(good), "%s", c->nonce);
		snprintf(c->nonce, sizeof(c->nonce), "%s", old_nonce);
		assert_int_equal(pg_report(b, c, &rep), 409);
		assert_string_equal(json_string_value(json_object_get(rep, "error")), "bad_nonce");
		assert_string_equal(json_string_value(json_object_get(rep, "nonce")), good);
		json_decref(rep);
		snprintf(c->nonce, sizeof(c->nonce), "%s", good);
		assert_int_equal(pg_report(b, c, NULL), 200);
	}
	/* the same next report to both at once: exactly one process accepts it, every time */
	for (int i = 0; i < 20; i++) {
		pthread_barrier_t go;
		struct race r[2];
		pthread_t t[2];

		env = simclient_report(c, time(NULL), NULL, -1);
		txt = json_dumps(env, JSON_COMPACT);
		json_decref(env);
		memcpy(raced_hash, c->pending_hash, sizeof(raced_hash));
		pthread_barrier_init(&go, NULL, 2);
		for (int k = 0; k < 2; k++) {
			r[k] = (struct race){ .port = k ? b : a, .body = txt, .go = &go };
			pthread_create(&t[k], NULL, race_main, &r[k]);
		}
		for (int k = 0; k < 2; k++)
			pthread_join(t[k], NULL);
		pthread_barrier_destroy(&go);
		free(txt);
		if (!((r[0].code == 200 && r[1].code == 409) ||
		      (r[0].code == 409 && r[1].code == 200)))
			fail_msg("race %d: A answered %ld, B answered %ld (want one 200 and one "
				 "409)",
				 i, r[0].code, r[1].code);
		won += r[0].code == 200;
		/* advance the client as the winner's reply would: fetch the nonce by a refused
		 * resend */
		env = simclient_report(c, time(NULL), NULL, c->seq + 1);
		assert_int_equal(post_at(a, "/api/v1/report", env, &rep), 409);
		c->seq++;
		memcpy(c->prev_hash, raced_hash, sizeof(c->prev_hash));
		snprintf(c->nonce, sizeof(c->nonce), "%s",
			 json_string_value(json_object_get(rep, "nonce")));
		json_decref(rep);
	}
	fprintf(stderr, "# races: A won %d of 20, B %d\n", won, 20 - won);
	/* and the chain is still whole */
	assert_int_equal(pg_report(a, c, &rep), 200);
	assert_false(json_is_true(json_object_get(rep, "chain_gap")));
	json_decref(rep);
	simclient_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_e2e_enroll_over_https_with_cli_token),
		cmocka_unit_test(test_e2e_reports_accepted_and_noncompliance_reaches_wecom),
		cmocka_unit_test(test_e2e_bad_requests_get_clear_4xx),
		cmocka_unit_test(test_e2e_watcher_events_alert_and_cli_options_after_command),
		cmocka_unit_test(test_e2e_wine_injection_alert_names_injector_and_target),
		cmocka_unit_test(test_e2e_stale_device_alert_is_delivered),
	};
	const struct CMUnitTest pg[] = {
		cmocka_unit_test(test_e2e_pg_restart_under_running_server),
		cmocka_unit_test(
			test_e2e_two_servers_one_database_keep_seq_nonce_and_replay_checks),
	};
	const struct CMUnitTest dash[] = {
		cmocka_unit_test(test_e2e_dashboard_in_headless_chromium),
	};
	int r = cmocka_run_group_tests_name("server", tests, setup, teardown);

	r += cmocka_run_group_tests_name("dashboard", dash, setup_dash, teardown);
	r += cmocka_run_group_tests_name("postgresql", pg, setup_pg, teardown_pg);
	return r ? 1 : 0;
}
