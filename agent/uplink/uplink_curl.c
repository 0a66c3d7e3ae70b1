/* The uplink's engine: libcurl's multi interface driven by sd-event
 * (agent/uplink/uplink_internal.h). Runs in the agent's process (isolation none) or in the uplink
 * child. */
#include "agent/uplink/uplink_internal.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>

#include "agent/uplink/uplink_msg.h"
#include "agent/uplink/uplink_reply.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/url.h"

struct req {
	struct uplink_curl *u;
	CURL *easy;
	struct curl_slist *hdrs;
	char *body;
	struct buf resp;
	bool too_big;
	uint32_t kind; /* enum uplink_reply_kind */
	uplink_done_fn cb;
	void *userdata;
	char errbuf[CURL_ERROR_SIZE];
	struct req *next, *prev;
};

struct uplink_curl {
	sd_event *event;
	sd_event_source *timer;
	CURLM *multi;
	char *base_url, *ca, *pin, *proxy;
	char *ca_pem;
	size_t ca_pem_len;
	unsigned timeout_s;
	struct req *reqs;
	unsigned n_reqs;
	bool dispatching;
};

static void req_free(struct req *q)
{
	if (!q)
		return;
	if (q->easy) {
		if (q->u && q->u->multi)
			curl_multi_remove_handle(q->u->multi, q->easy);
		curl_easy_cleanup(q->easy);
	}
	curl_slist_free_all(q->hdrs);
	free(q->body);
	buf_clear(&q->resp);
	free(q);
}

static void req_unlink(struct uplink_curl *u, struct req *q)
{
	if (q->prev)
		q->prev->next = q->next;
	else
		u->reqs = q->next;
	if (q->next)
		q->next->prev = q->prev;
	q->next = q->prev = NULL;
	u->n_reqs--;
}

static int map_curl_error(CURLcode c)
{
	switch (c) {
	case CURLE_OK: return 0;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY: return -EHOSTUNREACH;
	case CURLE_COULDNT_CONNECT: return -ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT: return -ETIMEDOUT;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM: return UPLINK_ETLS;
	case CURLE_OUT_OF_MEMORY: return -ENOMEM;
	case CURLE_WRITE_ERROR: return -EFBIG;
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING: return -ECONNRESET;
	default: return -EIO;
	}
}

/* A typed reply in process: the RESP the child would send, encoded and decoded as the parent
 * would receive it (the same checks in both modes), then the callback. */
static void deliver_typed(uint32_t kind, const struct uplink_response *resp, uplink_done_fn cb,
			  void *userdata)
{
	struct uplink_reply_buf b;
	struct uplink_msg_resp m, out;
	const char *why = NULL;
	char *buf = NULL;

	if (!cb)
		return;
	uplink_reply_make_resp(kind, resp, &m, &b);
	if (uplink_msg_resp_roundtrip(&m, &buf, &out, &why) < 0) {
		char text[512];

		snprintf(text, sizeof(text), "uplink reply refused: %s", why ? why : "?");
		uplink_reply_buf_clear(&b);
		cb(userdata,
		   &(struct uplink_response){ .err = -EBADMSG, .body = "", .error = text });
		return;
	}
	uplink_reply_buf_clear(&b);
	cb(userdata, &(struct uplink_response){ .err = out.err,
						.status = out.err ? 0 : out.status,
						.body = out.body,
						.len = out.len,
						.error = out.err ? out.error : "",
						.reply = out.has_reply ? &out.reply : NULL });
	free(buf);
}

static void check_multi_info(struct uplink_curl *u)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(u->multi, &left))) {
		struct uplink_response resp = { 0 };
		struct req *q = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&q);
		if (!q)
			continue;
		resp.err = map_curl_error(m->data.result);
		if (q->too_big)
			resp.err = -EFBIG;
		if (resp.err == 0)
			curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		resp.body = q->resp.data ? q->resp.data : "";
		resp.len = q->resp.len;
		resp.error = resp.err ? (q->errbuf[0] ? q->errbuf
						      : curl_easy_strerror(m->data.result))
				      : "";
		req_unlink(u, q);
		curl_multi_remove_handle(u->multi, q->easy);
		if (q->kind != UPLINK_REPLY_RAW)
			deliver_typed(q->kind, &resp, q->cb, q->userdata);
		else if (q->cb)
			q->cb(q->userdata, &resp);
		req_free(q);
	}
}

static int on_io(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct uplink_curl *u = userdata;
	int flags = 0, running;

	if (revents & EPOLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & EPOLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (EPOLLERR | EPOLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(u->multi, fd, flags, &running);
	check_multi_info(u);
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct uplink_curl *u = userdata;
	int running;

	curl_multi_socket_action(u->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_multi_info(u);
	return 0;
}

static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct uplink_curl *u = userp;
	sd_event_source *src = socketp;
	uint32_t events = 0;
	int r;

	if (what == CURL_POLL_REMOVE) {
		if (src) {
			sd_event_source_disable_unref(src);
			curl_multi_assign(u->multi, fd, NULL);
		}
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EPOLLIN;
	if (what & CURL_POLL_OUT)
		events |= EPOLLOUT;
	if (!src) {
		r = sd_event_add_io(u->event, &src, fd, events, on_io, u);
		if (r < 0) {
			log_debug_errno(r, "uplink: cannot watch socket %d", fd);
			return -1;
		}
		curl_multi_assign(u->multi, fd, src);
		return 0;
	}
	r = sd_event_source_set_io_events(src, events);
	if (r < 0) {
		log_debug_errno(r, "uplink: cannot change the events watched on socket %d", fd);
		return -1;
	}
	r = sd_event_source_set_enabled(src, SD_EVENT_ON);
	if (r < 0) {
		log_debug_errno(r, "uplink: cannot enable the watch on socket %d", fd);
		return -1;
	}
	return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct uplink_curl *u = userp;
	uint64_t now;
	int r;

	if (timeout_ms < 0)
		return sd_event_source_set_enabled(u->timer, SD_EVENT_OFF) < 0 ? -1 : 0;
	r = sd_event_now(u->event, CLOCK_MONOTONIC, &now);
	if (r < 0)
		return -1;
	r = sd_event_source_set_time(u->timer, now + (uint64_t)timeout_ms * 1000);
	if (r < 0)
		return -1;
	r = sd_event_source_set_enabled(u->timer, SD_EVENT_ONESHOT);
	if (r < 0)
		return -1;
	return 0;
}

static size_t write_cb(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct req *q = userdata;
	size_t n = size * nmemb;

	if (q->resp.len + n + 1 > UPLINK_MAX_RESPONSE) {
		q->too_big = true;
		return 0;
	}
	if (buf_append(&q->resp, ptr, n) < 0)
		return 0;
	return n;
}

static int dup_opt(char **dst, const char *src)
{
	*dst = NULL;
	if (!src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

int uplink_curl_new(sd_event *e, const struct uplink_curl_opts *o, struct uplink_curl **ret)
{
	static bool global_init;
	struct uplink_curl *u;
	size_t len;
	int r;

	r = url_check_server(o->base_url);
	if (r < 0)
		return r;
	if (!global_init) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			return -EIO;
		global_init = true;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->event = sd_event_ref(e);
	u->timeout_s = o->timeout_s ? o->timeout_s : 30;
	if (dup_opt(&u->base_url, o->base_url) < 0 || dup_opt(&u->ca, o->ca) < 0 ||
	    dup_opt(&u->pin, o->pin_sha256) < 0 || dup_opt(&u->proxy, o->proxy) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	if (o->ca_pem) {
		u->ca_pem = malloc(o->ca_pem_len + 1);
		if (!u->ca_pem) {
			r = -ENOMEM;
			goto fail;
		}
		memcpy(u->ca_pem, o->ca_pem, o->ca_pem_len);
		u->ca_pem[o->ca_pem_len] = 0;
		u->ca_pem_len = o->ca_pem_len;
	}
	len = strlen(u->base_url);
	while (len > 0 && u->base_url[len - 1] == '/')
		u->base_url[--len] = 0;
	r = sd_event_add_time(e, &u->timer, CLOCK_MONOTONIC, UINT64_MAX, 0, on_timer, u);
	if (r < 0)
		goto fail;
	sd_event_source_set_enabled(u->timer, SD_EVENT_OFF);
	u->multi = curl_multi_init();
	if (!u->multi) {
		r = -ENOMEM;
		goto fail;
	}
	curl_multi_setopt(u->multi, CURLMOPT_SOCKETFUNCTION, socket_cb);
	curl_multi_setopt(u->multi, CURLMOPT_SOCKETDATA, u);
	curl_multi_setopt(u->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(u->multi, CURLMOPT_TIMERDATA, u);
	*ret = u;
	return 0;
fail:
	uplink_curl_free(u);
	return r;
}

void uplink_curl_free(struct uplink_curl *u)
{
	if (!u)
		return;
	while (u->reqs) {
		struct req *q = u->reqs;

		req_unlink(u, q);
		req_free(q);
	}
	if (u->multi)
		curl_multi_cleanup(u->multi);
	sd_event_source_disable_unref(u->timer);
	sd_event_unref(u->event);
	free(u->base_url);
	free(u->ca);
	free(u->ca_pem);
	free(u->pin);
	free(u->proxy);
	free(u);
}

void uplink_curl_cancel(struct uplink_curl *u, void *userdata)
{
	for (struct req *q = u->reqs, *next; q; q = next) {
		next = q->next;
		if (q->userdata != userdata)
			continue;
		req_unlink(u, q);
		req_free(q);
	}
}

unsigned uplink_curl_in_flight(const struct uplink_curl *u)
{
	return u->n_reqs;
}

int uplink_curl_request(struct uplink_curl *u, uint32_t kind, const char *method, const char *path,
			const char *const *headers, const char *body, size_t len, uplink_done_fn cb,
			void *userdata)
{
	char url[2048], ua[64];
	struct curl_slist *h;
	struct req *q;
	int r = -ENOMEM;

	if (!path || path[0] != '/')
		return -EINVAL;
	if (snprintf(url, sizeof(url), "%s%s", u->base_url, path) >= (int)sizeof(url))
		return -ENAMETOOLONG;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->u = u;
	q->kind = kind;
	q->cb = cb;
	q->userdata = userdata;
	q->easy = curl_easy_init();
	if (!q->easy)
		goto fail;
	for (; headers && *headers; headers++) {
		h = curl_slist_append(q->hdrs, *headers);
		if (!h)
			goto fail;
		q->hdrs = h;
	}
	if (body) {
		q->body = malloc(len + 1);
		if (!q->body)
			goto fail;
		memcpy(q->body, body, len);
		q->body[len] = 0;
		h = curl_slist_append(q->hdrs, "Content-Type: application/json");
		if (!h)
			goto fail;
		q->hdrs = h;
	}
	h = curl_slist_append(q->hdrs, "Expect:"); /* no 100-continue round trip */
	if (!h)
		goto fail;
	q->hdrs = h;
	snprintf(ua, sizeof(ua), "wxguard/%s", WXG_VERSION);

	curl_easy_setopt(q->easy, CURLOPT_URL, url);
	curl_easy_setopt(q->easy, CURLOPT_PRIVATE, q);
	curl_easy_setopt(q->easy, CURLOPT_ERRORBUFFER, q->errbuf);
	curl_easy_setopt(q->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(q->easy, CURLOPT_PROTOCOLS_STR, "https,http");
	curl_easy_setopt(q->easy, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(q->easy, CURLOPT_TIMEOUT, (long)u->timeout_s);
	curl_easy_setopt(q->easy, CURLOPT_CONNECTTIMEOUT,
			 (long)(u->timeout_s < 10 ? u->timeout_s : 10));
	curl_easy_setopt(q->easy, CURLOPT_USERAGENT, ua);
	curl_easy_setopt(q->easy, CURLOPT_HTTPHEADER, q->hdrs);
	curl_easy_setopt(q->easy, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(q->easy, CURLOPT_WRITEDATA, q);
	curl_easy_setopt(q->easy, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(q->easy, CURLOPT_SSL_VERIFYHOST, 2L);
	if (u->ca_pem) {
		/* Read by the parent before the child dropped its privileges; the system store is
		 * not consulted, as with a file. */
		struct curl_blob blob = { .data = u->ca_pem,
					  .len = u->ca_pem_len,
					  .flags = CURL_BLOB_NOCOPY };

		curl_easy_setopt(q->easy, CURLOPT_CAINFO_BLOB, &blob);
		curl_easy_setopt(q->easy, CURLOPT_CAINFO, NULL);
		curl_easy_setopt(q->easy, CURLOPT_CAPATH, NULL);
	} else if (u->ca) {
		curl_easy_setopt(q->easy, CURLOPT_CAINFO, u->ca);
		curl_easy_setopt(q->easy, CURLOPT_CAPATH, NULL);
	}
	if (u->pin)
		curl_easy_setopt(q->easy, CURLOPT_PINNEDPUBLICKEY, u->pin);
	if (u->proxy)
		curl_easy_setopt(q->easy, CURLOPT_PROXY, u->proxy);
	if (body) {
		curl_easy_setopt(q->easy, CURLOPT_POSTFIELDS, q->body);
		curl_easy_setopt(q->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
		curl_easy_setopt(q->easy, CURLOPT_CUSTOMREQUEST, method);
	else if (strcmp(method, "GET") == 0 && body) {
		r = -EINVAL;
		goto fail;
	}

	q->next = u->reqs;
	if (u->reqs)
		u->reqs->prev = q;
	u->reqs = q;
	u->n_reqs++;
	if (curl_multi_add_handle(u->multi, q->easy) != CURLM_OK) {
		req_unlink(u, q);
		r = -EIO;
		goto fail;
	}
	return 0;
fail:
	req_free(q);
	return r;
}
