/* The privilege-separated uplink (agent/uplink/uplink_child.c, uplink_child_main.c, uplink_msg.c,
 * uplink_chan.c, privsep.c): the child really runs unprivileged, HTTPS works through it,
 * malformed messages are refused on both sides, a dead child fails its requests and is
 * replaced. Loopback only. */
#include "testlib.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/uplink/privsep.h"
#include "agent/uplink/uplink.h"
#include "tests/lib/uplink_child_entry.h"
#include "tests/lib/uplink_loopback.h"
#include "tests/lib/uplink_pki.h"
#include "agent/uplink/uplink_internal.h"
#include "agent/uplink/uplink_chan.h"
#include "agent/uplink/uplink_child_main.h"
#include "agent/uplink/uplink_msg.h"
#include "agent/uplink/uplink_reply.h"
#include "common/fileio.h"

extern char **environ;

struct srv {
	unsigned hits;
	unsigned slow_ms;
};

static bool handler(void *ud, const struct uplink_loopback_req *req, int *status, char **body)
{
	struct srv *s = ud;

	__atomic_fetch_add(&s->hits, 1, __ATOMIC_SEQ_CST);
	if (strcmp(req->path, "/slow") == 0)
		usleep(s->slow_ms * 1000);
	*status = 200;
	if (strcmp(req->path, "/big") == 0) {
		size_t n = 3 * 1024 * 1024 + 17;

		*body = malloc(n + 1);
		for (size_t i = 0; i < n; i++)
			(*body)[i] = 'a' + i % 26;
		(*body)[n] = 0;
		return true;
	}
	if (asprintf(body, "{\"path\":\"%s\",\"len\":%zu}", req->path, req->len) < 0)
		*body = NULL;
	return true;
}

struct result {
	int done;
	int err;
	long status;
	size_t len;
	char body[256];
	char error[1024];
	bool big_ok;
};

static void on_done(void *ud, const struct uplink_response *r)
{
	struct result *res = ud;

	res->done++;
	res->err = r->err;
	res->status = r->status;
	res->len = r->len;
	snprintf(res->body, sizeof(res->body), "%s", r->body);
	snprintf(res->error, sizeof(res->error), "%s", r->error);
	res->big_ok = r->len == 3 * 1024 * 1024 + 17 && strlen(r->body) == r->len;
	for (size_t i = 0; res->big_ok && i < r->len; i++)
		res->big_ok = r->body[i] == 'a' + (char)(i % 26);
}

static void run_until(sd_event *e, int *flag, int want)
{
	for (int i = 0; i < 1500 && *flag < want; i++)
		assert_true(sd_event_run(e, 20 * 1000) >= 0);
	assert_int_equal(*flag, want);
}

static bool need_root(void)
{
	if (geteuid() != 0) {
		skip();
		return false;
	}
	return true;
}

/* /proc/<pid>/status field, e.g. "CapEff". */
static bool status_field(int pid, const char *name, char *out, size_t size)
{
	char path[64], *text, *l;
	size_t n = strlen(name);

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_full_file(path, 65536, &text, NULL) < 0)
		return false;
	for (l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (strncmp(l, name, n) == 0 && l[n] == ':') {
			l += n + 1;
			l += strspn(l, " \t");
			snprintf(out, size, "%.*s", (int)strcspn(l, "\n"), l);
			free(text);
			return true;
		}
	free(text);
	return false;
}

static void assert_unprivileged(int pid, uid_t uid)
{
	char v[256], want[128];

	assert_true(status_field(pid, "Uid", v, sizeof(v)));
	snprintf(want, sizeof(want), "%u\t%u\t%u\t%u", uid, uid, uid, uid);
	assert_string_equal(v, want);
	assert_true(status_field(pid, "Groups", v, sizeof(v)));
	assert_string_equal(v, "");
	for (const char *f = "CapInh\0CapPrm\0CapEff\0CapAmb\0CapBnd\0"; *f; f += strlen(f) + 1) {
		assert_true(status_field(pid, f, v, sizeof(v)));
		assert_string_equal(v, "0000000000000000");
	}
	assert_true(status_field(pid, "NoNewPrivs", v, sizeof(v)));
	assert_string_equal(v, "1");
}

static void test_privsep_child_runs_unprivileged_and_speaks_pinned_https(void **state)
{
	struct srv s = { 0 };
	struct uplink_loopback *lb;
	struct uplink_info info;
	struct uplink *u;
	struct result res = { 0 };
	struct uplink_pki pki;
	uid_t uid;
	gid_t gid;
	sd_event *e;

	if (!need_root())
		return;
	if (uplink_pki_make(&pki) < 0) {
		uplink_pki_free(&pki);
		skip();
	}
	assert_int_equal(privsep_lookup_user(NULL, &uid, &gid), 0);
	assert_true(uid != 0);
	assert_int_equal(uplink_loopback_start(0, pki.cert, pki.key, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	/* The CA sits in a 0700 root directory: only the parent can read it. */
	assert_int_equal(uplink_new(e,
				    &(struct uplink_opts){ .base_url = uplink_loopback_url(lb),
							   .ca = pki.ca,
							   .pin_sha256 = pki.pin,
							   .isolation = UPLINK_ISOLATION_CHILD },
				    &u),
			 0);
	assert_int_equal(uplink_request(u, "POST", "/api/v1/report",
					(const char *const[]){ "X-A: b", NULL }, "{\"a\":1}", 7,
					on_done, &res),
			 0);
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, 0);
	assert_int_equal(res.status, 200);
	assert_string_equal(res.body, "{\"path\":\"/api/v1/report\",\"len\":7}");
	uplink_get_info(u, &info);
	assert_int_equal(info.isolation, UPLINK_ISOLATION_CHILD);
	assert_true(info.child_ready);
	assert_true(info.child_pid > 0 && info.child_pid != getpid());
	assert_unprivileged(info.child_pid, uid);
	/* 3 MiB back through the socketpair (many packets). */
	assert_int_equal(uplink_request(u, "GET", "/big", NULL, NULL, 0, on_done, &res), 0);
	run_until(e, &res.done, 2);
	assert_int_equal(res.err, 0);
	assert_true(res.big_ok);
	/* A wrong pin is still refused inside the child. */
	uplink_free(u);
	memset(&res, 0, sizeof(res));
	assert_int_equal(
		uplink_new(e,
			   &(struct uplink_opts){
				   .base_url = uplink_loopback_url(lb),
				   .ca = pki.ca,
				   .pin_sha256 =
					   "sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
				   .isolation = UPLINK_ISOLATION_CHILD },
			   &u),
		0);
	assert_int_equal(uplink_request(u, "POST", "/x", NULL, "{}", 2, on_done, &res), 0);
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, UPLINK_ETLS);
	uplink_free(u);
	sd_event_unref(e);
	uplink_loopback_stop(lb);
	uplink_pki_free(&pki);
}

static int tick_count;

static int on_tick(sd_event_source *src, uint64_t usec, void *ud)
{
	tick_count++;
	sd_event_source_set_time_relative(src, 20 * 1000);
	return 0;
}

static void test_privsep_child_killed_mid_request_fails_it_and_is_replaced(void **state)
{
	struct srv s = { .slow_ms = 1500 };
	struct uplink_loopback *lb;
	struct uplink_info info;
	struct uplink *u;
	struct result res = { 0 }, next = { 0 };
	sd_event_source *tick;
	sd_event *e;
	int pid;

	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(
		sd_event_add_time_relative(e, &tick, CLOCK_MONOTONIC, 20 * 1000, 0, on_tick, NULL),
		0);
	sd_event_source_set_enabled(tick, SD_EVENT_ON);
	assert_int_equal(uplink_new(e,
				    &(struct uplink_opts){ .base_url = uplink_loopback_url(lb),
							   .isolation = UPLINK_ISOLATION_CHILD },
				    &u),
			 0);
	assert_int_equal(uplink_request(u, "POST", "/slow", NULL, "{}", 2, on_done, &res), 0);
	/* Wait until the server has the request, then kill the child. */
	for (int i = 0; i < 500; i++) {
		unsigned hits;

		assert_true(sd_event_run(e, 10 * 1000) >= 0);
		/* Not under the server's lock: the handler holds it while it sleeps, and the
		 * child must be killed while the request is still in the server's hands. */
		hits = __atomic_load_n(&s.hits, __ATOMIC_SEQ_CST);
		if (hits)
			break;
	}
	uplink_get_info(u, &info);
	pid = info.child_pid;
	assert_true(pid > 0);
	assert_int_equal(info.child_starts, 1);
	assert_int_equal(kill(pid, SIGKILL), 0);
	tick_count = 0;
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, UPLINK_ECHILD);
	assert_non_null(strstr(res.error, "uplink child died"));
	assert_non_null(strstr(res.error, "killed by signal 9"));
	assert_int_equal(uplink_in_flight(u), 0);
	/* The next request is served by a new child. */
	uplink_loopback_lock(lb);
	s.slow_ms = 0;
	uplink_loopback_unlock(lb);
	assert_int_equal(uplink_request(u, "POST", "/after", NULL, "{}", 2, on_done, &next), 0);
	run_until(e, &next.done, 1);
	assert_int_equal(next.err, 0);
	assert_int_equal(next.status, 200);
	uplink_get_info(u, &info);
	assert_true(info.child_pid > 0 && info.child_pid != pid);
	assert_int_equal(info.child_starts, 2);
	assert_non_null(strstr(info.last_error, "killed by signal 9"));
	/* The loop never stalled. */
	assert_true(tick_count >= 1);
	sd_event_source_unref(tick);
	uplink_free(u);
	sd_event_unref(e);
	uplink_loopback_stop(lb);
}

static void test_privsep_malformed_message_from_child_is_refused(void **state)
{
	struct srv s = { .slow_ms = 1500 };
	struct uplink_loopback *lb;
	struct uplink_info info;
	struct uplink *u;
	struct result res = { 0 }, next = { 0 };
	sd_event *e;
	int pidfd, fd, pid;
	char junk[64];

	if (!need_root())
		return;
	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	assert_int_equal(uplink_new(e,
				    &(struct uplink_opts){ .base_url = uplink_loopback_url(lb),
							   .isolation = UPLINK_ISOLATION_CHILD },
				    &u),
			 0);
	assert_int_equal(uplink_request(u, "POST", "/slow", NULL, "{}", 2, on_done, &res), 0);
	for (int i = 0; i < 100; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	uplink_get_info(u, &info);
	pid = info.child_pid;
	assert_true(info.child_ready);
	/* Play a compromised child: take its end of the socket and write garbage. */
	pidfd = pidfd_open(pid, 0);
	assert_true(pidfd >= 0);
	fd = pidfd_getfd(pidfd, 3, 0);
	if (fd < 0) {
		close(pidfd);
		uplink_free(u);
		sd_event_unref(e);
		uplink_loopback_stop(lb);
		skip();
	}
	memset(junk, 0x41, sizeof(junk));
	assert_int_equal(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	close(fd);
	close(pidfd);
	run_until(e, &res.done, 1);
	assert_int_equal(res.err, -EBADMSG);
	assert_non_null(strstr(res.error, "malformed message: bad packet magic"));
	uplink_get_info(u, &info);
	assert_non_null(strstr(info.last_error, "malformed"));
	/* The parent is fine and a new child serves the next request. */
	uplink_loopback_lock(lb);
	s.slow_ms = 0;
	uplink_loopback_unlock(lb);
	assert_int_equal(uplink_request(u, "GET", "/after", NULL, NULL, 0, on_done, &next), 0);
	run_until(e, &next.done, 1);
	assert_int_equal(next.err, 0);
	assert_int_equal(next.status, 200);
	uplink_get_info(u, &info);
	assert_true(info.child_pid != pid);
	uplink_free(u);
	sd_event_unref(e);
	uplink_loopback_stop(lb);
}

/* Speak the protocol to a child by hand (the parent side played by the test). */
static pid_t start_raw_child(struct uplink_chan **ret)
{
	char *argv[] = { (char *)"wxguard-uplink", NULL }, *envp[64];
	int sv[2], n = 0;
	pid_t pid;

	for (char **e = environ; *e && n < 60; e++)
		envp[n++] = *e;
	envp[n++] = (char *)UPLINK_CHILD_ENV "=1";
	envp[n] = NULL;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(sv[1], UPLINK_CHILD_FD);
		execve("/proc/self/exe", argv, envp);
		_exit(127);
	}
	close(sv[1]);
	assert_int_equal(uplink_chan_new(sv[0], ret), 0);
	return pid;
}

static int raw_recv(struct uplink_chan *ch, struct uplink_msg *m)
{
	const char *why;

	for (int i = 0; i < 1000; i++) {
		int r = uplink_chan_recv(ch, m, &why);

		if (r != 0)
			return r;
		usleep(10 * 1000);
	}
	return -ETIMEDOUT;
}

static void raw_send_req(struct uplink_chan *ch, uint64_t id, const struct uplink_msg_req *req)
{
	char *p;
	size_t n;

	/* Encode without the decoder's checks: the point is to send what the child must refuse. */
	assert_int_equal(uplink_msg_encode_req(req, &p, &n), 0);
	assert_int_equal(uplink_chan_send(ch, UPLINK_MSG_REQ, id, p, n), 0);
}

static void test_privsep_malformed_message_from_parent_is_refused(void **state)
{
	struct srv s = { 0 };
	struct uplink_loopback *lb;
	struct uplink_chan *ch;
	struct uplink_msg m;
	struct uplink_msg_resp rs;
	struct uplink_msg_ready rd;
	const char *text, *why;
	uid_t uid;
	gid_t gid;
	char *p, junk[40];
	size_t n;
	int st;
	pid_t pid;

	if (!need_root())
		return;
	assert_int_equal(privsep_lookup_user(NULL, &uid, &gid), 0);
	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);

	/* Garbage instead of INIT: refused with a reason, the child exits. */
	pid = start_raw_child(&ch);
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(send(uplink_chan_fd(ch), junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	assert_int_equal(raw_recv(ch, &m), 1);
	assert_int_equal(m.type, UPLINK_MSG_ERROR);
	assert_int_equal(uplink_msg_decode_text(m.payload, m.len, &text, &why), 0);
	assert_non_null(strstr(text, "bad packet magic"));
	free(m.payload);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) != 0);
	uplink_chan_free(ch);

	/* A good INIT, then garbage, then bad requests: each refused, the child carries on. */
	pid = start_raw_child(&ch);
	assert_int_equal(uplink_msg_encode_init(
				 &(struct uplink_msg_init){ .flags = UPLINK_INIT_DROP,
							    .uid = uid,
							    .gid = gid,
							    .timeout_s = 5,
							    .base_url = uplink_loopback_url(lb) },
				 &p, &n),
			 0);
	assert_int_equal(uplink_chan_send(ch, UPLINK_MSG_INIT, 0, p, n), 0);
	assert_int_equal(raw_recv(ch, &m), 1);
	assert_int_equal(m.type, UPLINK_MSG_READY);
	assert_int_equal(uplink_msg_decode_ready(m.payload, m.len, &rd, &why), 0);
	assert_int_equal(rd.uid, uid);
	free(m.payload);

	assert_int_equal(send(uplink_chan_fd(ch), junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	assert_int_equal(raw_recv(ch, &m), 1);
	assert_int_equal(m.type, UPLINK_MSG_ERROR);
	assert_int_equal(uplink_msg_decode_text(m.payload, m.len, &text, &why), 0);
	assert_non_null(strstr(text, "refused a malformed message: bad packet magic"));
	free(m.payload);

	/* Header injection and a relative path. */
	raw_send_req(ch, 7,
		     &(struct uplink_msg_req){ .method = "POST",
					       .path = "/x",
					       .headers = { "X-A: b\r\nX-Evil: 1", NULL },
					       .body = "{}",
					       .len = 2 });
	raw_send_req(ch, 8,
		     &(struct uplink_msg_req){ .method = "GET", .path = "http://elsewhere/" });
	for (uint64_t id = 7; id <= 8; id++) {
		assert_int_equal(raw_recv(ch, &m), 1);
		assert_int_equal(m.type, UPLINK_MSG_RESP);
		assert_int_equal(m.id, id);
		assert_int_equal(uplink_msg_decode_resp(m.payload, m.len, &rs, &why), 0);
		assert_int_equal(rs.err, -EBADMSG);
		assert_true(strstr(rs.error, "header") || strstr(rs.error, "path"));
		free(m.payload);
	}
	/* And it still serves a good one. */
	raw_send_req(ch, 9, &(struct uplink_msg_req){ .method = "GET", .path = "/ok" });
	assert_int_equal(raw_recv(ch, &m), 1);
	assert_int_equal(m.type, UPLINK_MSG_RESP);
	assert_int_equal(m.id, 9);
	assert_int_equal(uplink_msg_decode_resp(m.payload, m.len, &rs, &why), 0);
	assert_int_equal(rs.err, 0);
	assert_int_equal(rs.status, 200);
	assert_string_equal(rs.body, "{\"path\":\"/ok\",\"len\":0}");
	free(m.payload);
	/* Closing the socket ends the child. */
	uplink_chan_free(ch);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	uplink_loopback_stop(lb);
}

static void test_privsep_decoders_refuse_truncated_and_bad_fields(void **state)
{
	struct uplink_msg_req req;
	struct uplink_msg_resp rs;
	struct uplink_msg_init in;
	const char *why;
	char *p;
	size_t n;

	assert_int_equal(
		uplink_msg_encode_req(&(struct uplink_msg_req){ .method = "POST",
								.path = "/a",
								.headers = { "X: y", NULL },
								.body = "{}",
								.len = 2 },
				      &p, &n),
		0);
	assert_int_equal(uplink_msg_decode_req(p, n, &req, &why), 0);
	assert_string_equal(req.path, "/a");
	assert_string_equal(req.headers[0], "X: y");
	assert_null(req.headers[1]);
	assert_int_equal(req.len, 2);
	/* Every truncation is refused, never read past. */
	for (size_t k = 0; k < n; k++) {
		char *t = malloc(k ? k : 1);

		memcpy(t, p, k);
		assert_int_equal(uplink_msg_decode_req(t, k, &req, &why), -EBADMSG);
		assert_non_null(why);
		free(t);
	}
	/* A length that runs past the end. */
	p[0] = (char)0xff;
	assert_int_equal(uplink_msg_decode_req(p, n, &req, &why), -EBADMSG);
	free(p);

	assert_int_equal(
		uplink_msg_encode_resp(
			&(struct uplink_msg_resp){
				.err = 0, .status = 200, .error = "", .body = "x", .len = 1 },
			&p, &n),
		0);
	assert_int_equal(uplink_msg_decode_resp(p, n, &rs, &why), 0);
	free(p);
	assert_int_equal(uplink_msg_encode_resp(
				 &(struct uplink_msg_resp){
					 .err = 0, .status = 1000, .error = "", .body = "" },
				 &p, &n),
			 0);
	assert_int_equal(uplink_msg_decode_resp(p, n, &rs, &why), -EBADMSG);
	assert_string_equal(why, "HTTP status out of range");
	free(p);
	assert_int_equal(
		uplink_msg_encode_resp(
			&(struct uplink_msg_resp){ .err = 5, .error = "", .body = "" }, &p, &n),
		0);
	assert_int_equal(uplink_msg_decode_resp(p, n, &rs, &why), -EBADMSG);
	free(p);
	/* INIT: never "drop" to root, only https or loopback http. */
	assert_int_equal(
		uplink_msg_encode_init(&(struct uplink_msg_init){ .flags = UPLINK_INIT_DROP,
								  .uid = 0,
								  .base_url = "https://x" },
				       &p, &n),
		0);
	assert_int_equal(uplink_msg_decode_init(p, n, &in, &why), -EBADMSG);
	free(p);
	assert_int_equal(
		uplink_msg_encode_init(
			&(struct uplink_msg_init){ .base_url = "http://example.com" }, &p, &n),
		0);
	assert_int_equal(uplink_msg_decode_init(p, n, &in, &why), -EBADMSG);
	free(p);
	/* Random bytes: refused or accepted, never a crash (ASan checks the reads). */
	srand(1);
	for (int k = 0; k < 2000; k++) {
		size_t len = (size_t)(rand() % 64);
		char *b = malloc(len + 1);

		for (size_t i = 0; i < len; i++)
			b[i] = (char)(rand() % 4 == 0 ? 0 : rand());
		uplink_msg_decode_req(b, len, &req, &why);
		uplink_msg_decode_resp(b, len, &rs, &why);
		uplink_msg_decode_init(b, len, &in, &why);
		free(b);
	}
}

static void test_privsep_channel_refuses_bad_packets(void **state)
{
	struct {
		struct uplink_pkt_hdr h;
		char data[8];
		size_t send_len;
		const char *why;
	} cases[] = {
		{ { 0x12345678, UPLINK_MSG_RESP, 3, 1, 8, 0 }, "12345678", 32, "bad packet magic" },
		{ { UPLINK_PKT_MAGIC, 99, 3, 1, 8, 0 }, "12345678", 32, "unknown message type" },
		{ { UPLINK_PKT_MAGIC, UPLINK_MSG_RESP, 3, 1, UPLINK_MSG_MAX + 1, 0 },
		  "12345678",
		  32,
		  "message larger than allowed" },
		{ { UPLINK_PKT_MAGIC, UPLINK_MSG_RESP, 2, 1, 8, 0 },
		  "12345678",
		  32,
		  "continuation without a first packet" },
		{ { UPLINK_PKT_MAGIC, UPLINK_MSG_RESP, 3, 1, 4, 0 },
		  "12345678",
		  32,
		  "packet runs past the message's length" },
		{ { UPLINK_PKT_MAGIC, UPLINK_MSG_RESP, 3, 1, 16, 0 },
		  "12345678",
		  32,
		  "last-packet flag does not match the length" },
		{ { UPLINK_PKT_MAGIC, UPLINK_MSG_RESP, 3, 1, 8, 0 },
		  "12345678",
		  10,
		  "packet shorter than its header" },
	};
	struct uplink_chan *ch;
	struct uplink_msg m;
	const char *why;
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	assert_int_equal(uplink_chan_new(sv[0], &ch), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why = NULL;
		assert_int_equal(send(sv[1], &cases[i], cases[i].send_len, 0),
				 (ssize_t)cases[i].send_len);
		assert_int_equal(uplink_chan_recv(ch, &m, &why), -EBADMSG);
		assert_string_equal(why, cases[i].why);
	}
	/* A datagram larger than any packet is seen as truncated. */
	{
		size_t big = sizeof(struct uplink_pkt_hdr) + UPLINK_PKT_CHUNK + 100;
		char *b = calloc(1, big);
		int sz = 1 << 20;

		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		memcpy(b, &(struct uplink_pkt_hdr){ UPLINK_PKT_MAGIC, UPLINK_MSG_RESP, 3, 1, 8, 0 },
		       24);
		assert_int_equal(send(sv[1], b, big, 0), (ssize_t)big);
		assert_int_equal(uplink_chan_recv(ch, &m, &why), -EBADMSG);
		assert_string_equal(why, "packet larger than allowed (truncated)");
		free(b);
	}
	/* After all that, a good message still gets through; then EOF. */
	{
		char *p;
		size_t n;
		struct uplink_chan *tx;

		assert_int_equal(uplink_chan_new(sv[1], &tx), 0);
		assert_int_equal(uplink_msg_encode_text("hello", &p, &n), 0);
		assert_int_equal(uplink_chan_send(tx, UPLINK_MSG_ERROR, 5, p, n), 0);
		assert_int_equal(uplink_chan_recv(ch, &m, &why), 1);
		assert_int_equal(m.type, UPLINK_MSG_ERROR);
		assert_int_equal(m.id, 5);
		free(m.payload);
		assert_int_equal(uplink_chan_recv(ch, &m, &why), 0);
		uplink_chan_free(tx);
		assert_int_equal(uplink_chan_recv(ch, &m, &why), -ECONNRESET);
	}
	uplink_chan_free(ch);
}

static void test_privsep_cancel_and_in_process_mode(void **state)
{
	struct srv s = { .slow_ms = 300 };
	struct uplink_loopback *lb;
	struct uplink_info info;
	struct uplink *u;
	struct result res = { 0 }, other = { 0 };
	sd_event *e;

	assert_int_equal(uplink_loopback_start(0, NULL, NULL, handler, &s, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	/* Child (as any user): a cancelled request never calls back; the next one works. */
	assert_int_equal(uplink_new(e,
				    &(struct uplink_opts){ .base_url = uplink_loopback_url(lb),
							   .isolation = UPLINK_ISOLATION_CHILD },
				    &u),
			 0);
	assert_int_equal(uplink_request(u, "POST", "/slow", NULL, "{}", 2, on_done, &res), 0);
	assert_int_equal(uplink_request(u, "POST", "/other", NULL, "{}", 2, on_done, &other), 0);
	for (int i = 0; i < 20; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	uplink_cancel(u, &res);
	assert_int_equal(uplink_in_flight(u), other.done ? 0 : 1);
	for (int i = 0; i < 300 && !other.done; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_int_equal(other.done, 1);
	for (int i = 0; i < 40; i++)
		assert_true(sd_event_run(e, 10 * 1000) >= 0);
	assert_int_equal(res.done, 0);
	assert_int_equal(other.status, 200);
	/* Bad input is refused at the API, before the child sees it. */
	assert_int_equal(uplink_request(u, "GET", "/x", (const char *const[]){ "A: b\nC: d", NULL },
					NULL, 0, on_done, &res),
			 -EINVAL);
	assert_int_equal(uplink_request(u, "GET", "/x", NULL, "{}", 2, on_done, &res), -EINVAL);
	uplink_free(u);

	/* In process: no child. */
	assert_int_equal(uplink_new(e,
				    &(struct uplink_opts){ .base_url = uplink_loopback_url(lb),
							   .isolation = UPLINK_ISOLATION_NONE },
				    &u),
			 0);
	uplink_get_info(u, &info);
	assert_int_equal(info.isolation, UPLINK_ISOLATION_NONE);
	assert_int_equal(info.child_pid, 0);
	memset(&other, 0, sizeof(other));
	assert_int_equal(uplink_request(u, "GET", "/inproc", NULL, NULL, 0, on_done, &other), 0);
	run_until(e, &other.done, 1);
	assert_int_equal(other.status, 200);
	uplink_free(u);
	sd_event_unref(e);
	uplink_loopback_stop(lb);
}

/* Typed replies: the server's JSON is parsed where HTTPS is spoken (child, or engine in process);
 * the callback gets checked fields and no body, in both modes alike. */
static bool typed_handler(void *ud, const struct uplink_loopback_req *req, int *status, char **body)
{
	*status = 200;
	if (strcmp(req->path, "/report-ok") == 0)
		*body = strdup("{\"status\":\"accepted\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\","
			       "\"policy_sha256\":"
			       "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
			       "\",\"report_interval\":120,"
			       "\"chain_gap\":true,\"extra\":[1,2]}");
	else if (strcmp(req->path, "/report-badnonce") == 0)
		*body = strdup("{\"status\":\"accepted\",\"nonce\":\"not base64!\"}");
	else if (strcmp(req->path, "/replay") == 0) {
		*status = 409;
		*body = strdup("{\"error\":\"replay\",\"message\":\"seq\\u0007 too "
			       "low\",\"last_seq\":41,\"duplicate\":true,"
			       "\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}");
	} else if (strcmp(req->path, "/proxy-error") == 0) {
		*status = 502;
		*body = strdup("<html>bad gateway</html>");
	} else if (strcmp(req->path, "/events") == 0)
		*body = strdup("{\"accepted\":10,\"duplicates\":2}");
	else
		*body = strdup("{\"ok\":true}");
	return true;
}

struct typed_result {
	int done, err;
	long status;
	size_t body_len;
	bool has_reply, valid;
	char nonce[128], error[64], message[600], sha[65], invalid[256];
	uint32_t interval, accepted, duplicates;
	int64_t last_seq;
	bool chain_gap, duplicate;
};

static void on_typed(void *ud, const struct uplink_response *r)
{
	struct typed_result *t = ud;

	memset(t, 0, sizeof(*t));
	t->done = 1;
	t->err = r->err;
	t->status = r->status;
	t->body_len = r->len;
	t->has_reply = r->reply != NULL;
	if (!r->reply)
		return;
	t->valid = r->reply->valid;
	snprintf(t->invalid, sizeof(t->invalid), "%s", r->reply->invalid);
	snprintf(t->nonce, sizeof(t->nonce), "%s", r->reply->nonce);
	snprintf(t->error, sizeof(t->error), "%s", r->reply->error);
	snprintf(t->message, sizeof(t->message), "%s", r->reply->message);
	snprintf(t->sha, sizeof(t->sha), "%s", r->reply->policy_sha256);
	t->interval = r->reply->report_interval;
	t->chain_gap = r->reply->chain_gap;
	t->last_seq = r->reply->last_seq;
	t->duplicate = r->reply->duplicate;
	t->accepted = r->reply->accepted;
	t->duplicates = r->reply->duplicates;
}

static void typed_req(sd_event *e, struct uplink *u, enum uplink_reply_kind kind, const char *path,
		      struct typed_result *t)
{
	t->done = 0;
	assert_int_equal(uplink_request_typed(u, kind, "POST", path, NULL, "{}", 2, on_typed, t),
			 0);
	run_until(e, &t->done, 1);
	assert_int_equal(t->err, 0);
	assert_true(t->has_reply);
	assert_int_equal(t->body_len, 0); /* the body never reaches the parent */
}

static void test_privsep_typed_replies_parsed_in_child_and_in_process(void **state)
{
	enum uplink_isolation modes[] = { UPLINK_ISOLATION_CHILD, UPLINK_ISOLATION_NONE };
	struct uplink_loopback *lb;
	struct typed_result t;
	struct uplink *u;
	sd_event *e;

	assert_int_equal(uplink_loopback_start(0, NULL, NULL, typed_handler, NULL, &lb), 0);
	assert_int_equal(sd_event_new(&e), 0);
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(
			uplink_new(e,
				   &(struct uplink_opts){ .base_url = uplink_loopback_url(lb),
							  .isolation = modes[i] },
				   &u),
			0);
		typed_req(e, u, UPLINK_REPLY_REPORT, "/report-ok", &t);
		assert_int_equal(t.status, 200);
		assert_true(t.valid);
		assert_string_equal(t.nonce, "AAAAAAAAAAAAAAAAAAAAAA==");
		assert_string_equal(
			t.sha, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
		assert_int_equal(t.interval, 120);
		assert_true(t.chain_gap);
		assert_int_equal(t.last_seq, -1);

		typed_req(e, u, UPLINK_REPLY_REPORT, "/report-badnonce", &t);
		assert_false(t.valid);
		assert_non_null(strstr(t.invalid, "nonce"));
		assert_string_equal(t.nonce, "");

		typed_req(e, u, UPLINK_REPLY_REPORT, "/replay", &t);
		assert_int_equal(t.status, 409);
		assert_true(t.valid);
		assert_string_equal(t.error, "replay");
		assert_string_equal(t.message,
				    "seq  too low"); /* the control character became a space */
		assert_int_equal(t.last_seq, 41);
		assert_true(t.duplicate);

		typed_req(e, u, UPLINK_REPLY_EVENTS, "/proxy-error", &t);
		assert_int_equal(t.status, 502);
		assert_false(t.valid);

		typed_req(e, u, UPLINK_REPLY_EVENTS, "/events", &t);
		assert_true(t.valid);
		assert_int_equal(t.accepted, 10);
		assert_int_equal(t.duplicates, 2);

		/* A challenge reply without "challenge": not valid. */
		typed_req(e, u, UPLINK_REPLY_CHALLENGE, "/other", &t);
		assert_false(t.valid);
		uplink_free(u);
	}
	sd_event_unref(e);
	uplink_loopback_stop(lb);
}

/* What a compromised child could send as a typed reply is refused by the parent's decoder. */
static void test_privsep_typed_reply_fields_are_checked_by_the_parent(void **state)
{
	static const char *bodies[] = {
		"{\"status\":\"accepted\",\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\"}",
		"{\"device_id\":\"dev-1\",\"server_public_key\":"
		"\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\"}",
	};
	struct uplink_response raw = { .status = 200, .error = "" };
	struct uplink_msg_resp m, out;
	struct uplink_reply_buf b;
	const char *why;
	char *buf;

	/* Good ones survive the round trip. */
	for (size_t i = 0; i < 2; i++) {
		raw.body = bodies[i];
		raw.len = strlen(bodies[i]);
		uplink_reply_make_resp(i == 0 ? UPLINK_REPLY_REPORT : UPLINK_REPLY_ENROLL, &raw, &m,
				       &b);
		assert_true(m.has_reply && m.reply.valid);
		assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), 0);
		assert_true(out.has_reply && out.reply.valid);
		free(buf);
		uplink_reply_buf_clear(&b);
	}
	/* Tampered fields, as a child taken over would write them. */
	raw.body = bodies[0];
	raw.len = strlen(bodies[0]);
	uplink_reply_make_resp(UPLINK_REPLY_REPORT, &raw, &m, &b);
	m.reply.nonce = "AAAA\nAAAA";
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	assert_string_equal(why, "reply: bad nonce");
	m.reply.nonce = "AAAAAAAAAAAAAAAAAAAAAA==";
	m.reply.policy_sha256 = "0123";
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	m.reply.policy_sha256 = "";
	m.reply.device_id = "dev-1"; /* an enroll field in a report reply */
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	m.reply.device_id = "";
	m.reply.message = "\x1b[31mred";
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	m.reply.message = "\xff\xfe"; /* not UTF-8 */
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	m.reply.message = "";
	m.body = "{}"; /* a body next to typed fields */
	m.len = 2;
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	assert_string_equal(why, "typed reply with a body");
	m.body = "";
	m.len = 0;
	m.reply.valid = false; /* invalid, yet carrying fields */
	m.reply.invalid = "x";
	assert_int_equal(uplink_msg_resp_roundtrip(&m, &buf, &out, &why), -EBADMSG);
	uplink_reply_buf_clear(&b);
	/* The child's parser: sizes and syntax. */
	{
		static const struct {
			uint32_t kind;
			long status;
			const char *body;
			bool valid;
		} cases[] = {
			{ UPLINK_REPLY_REPORT, 200, "{\"nonce\":\"AAAAAAA=\"}",
			  false }, /* 5 bytes: too short */
			{ UPLINK_REPLY_REPORT, 200, "{\"nonce\":\"AAAAAAAAAAA=\"}",
			  true }, /* 8 bytes */
			{ UPLINK_REPLY_REPORT, 200,
			  "{\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"report_interval\":0}", false },
			{ UPLINK_REPLY_REPORT, 200,
			  "{\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"report_interval\":\"300\"}",
			  false },
			{ UPLINK_REPLY_REPORT, 200,
			  "{\"nonce\":\"AAAAAAAAAAAAAAAAAAAAAA==\",\"nonce\":"
			  "\"AAAAAAAAAAAAAAAAAAAAAA==\"}",
			  false },
			{ UPLINK_REPLY_REPORT, 400, "{\"error\":\"Bad-Nonce\"}", false },
			{ UPLINK_REPLY_REPORT, 400, "{\"error\":\"bad_nonce\"}", true },
			{ UPLINK_REPLY_ENROLL, 200,
			  "{\"device_id\":\"a "
			  "b\",\"server_public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
			  "\"}",
			  false },
			{ UPLINK_REPLY_ENROLL, 200,
			  "{\"device_id\":\"a\",\"server_public_key\":\"AAAA\"}", false },
			{ UPLINK_REPLY_POLICY, 200,
			  "{\"sha256\":"
			  "\"0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef\"}",
			  false },
			{ UPLINK_REPLY_CHALLENGE, 200, "{\"challenge\":\"c\",\"expires\":-1}",
			  false },
			{ UPLINK_REPLY_EVENTS, 200, "[1,2]", false },
		};
		struct uplink_reply y;

		for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			assert_int_equal(uplink_reply_parse(cases[i].kind, cases[i].status,
							    cases[i].body, strlen(cases[i].body),
							    &y, &b),
					 0);
			if (y.valid != cases[i].valid)
				fail_msg("case %zu (%s): valid %d, %s", i, cases[i].body, y.valid,
					 y.invalid);
			uplink_reply_buf_clear(&b);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_privsep_decoders_refuse_truncated_and_bad_fields),
		cmocka_unit_test(test_privsep_channel_refuses_bad_packets),
		cmocka_unit_test(test_privsep_child_runs_unprivileged_and_speaks_pinned_https),
		cmocka_unit_test(test_privsep_child_killed_mid_request_fails_it_and_is_replaced),
		cmocka_unit_test(test_privsep_malformed_message_from_child_is_refused),
		cmocka_unit_test(test_privsep_malformed_message_from_parent_is_refused),
		cmocka_unit_test(test_privsep_cancel_and_in_process_mode),
		cmocka_unit_test(test_privsep_typed_replies_parsed_in_child_and_in_process),
		cmocka_unit_test(test_privsep_typed_reply_fields_are_checked_by_the_parent),
	};

	uplink_child_entry(); /* when re-executed as the uplink child */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
