/* The channel: packets on a SOCK_SEQPACKET socket (agent/uplink/uplink_chan.h). */
#include "agent/uplink/uplink_chan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

struct out {
	uint16_t type;
	uint64_t id;
	char *payload;
	size_t len, off;
	bool started;
	struct out *next;
};

struct uplink_chan {
	int fd;
	struct out *head, *tail;
	/* reassembly */
	bool in_msg;
	uint16_t in_type;
	uint64_t in_id;
	char *in_buf;
	size_t in_total, in_off;
	char pkt[sizeof(struct uplink_pkt_hdr) + UPLINK_PKT_CHUNK];
};

int uplink_chan_new(int fd, struct uplink_chan **ret)
{
	struct uplink_chan *c;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = fd;
	*ret = c;
	return 0;
}

void uplink_chan_free(struct uplink_chan *c)
{
	if (!c)
		return;
	while (c->head) {
		struct out *o = c->head;

		c->head = o->next;
		free(o->payload);
		free(o);
	}
	free(c->in_buf);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

int uplink_chan_fd(const struct uplink_chan *c)
{
	return c->fd;
}

bool uplink_chan_pending(const struct uplink_chan *c)
{
	return c->head != NULL;
}

int uplink_chan_flush(struct uplink_chan *c)
{
	while (c->head) {
		struct out *o = c->head;
		size_t n = o->len - o->off < UPLINK_PKT_CHUNK ? o->len - o->off : UPLINK_PKT_CHUNK;
		struct uplink_pkt_hdr h = { .magic = UPLINK_PKT_MAGIC,
					    .type = o->type,
					    .id = o->id,
					    .total = (uint32_t)o->len,
					    .offset = (uint32_t)o->off };
		struct iovec iov[2] = { { &h, sizeof(h) }, { o->payload + o->off, n } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t k;

		if (o->off == 0)
			h.flags |= UPLINK_PKT_FIRST;
		if (o->off + n == o->len)
			h.flags |= UPLINK_PKT_LAST;
		k = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (k < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 1;
			return -errno;
		}
		o->off += n;
		if (o->off == o->len) {
			c->head = o->next;
			if (!c->head)
				c->tail = NULL;
			free(o->payload);
			free(o);
		}
	}
	return 0;
}

int uplink_chan_send(struct uplink_chan *c, uint16_t type, uint64_t id, char *payload, size_t len)
{
	struct out *o;
	int r;

	if (len > UPLINK_MSG_MAX) {
		free(payload);
		return -EMSGSIZE;
	}
	o = calloc(1, sizeof(*o));
	if (!o) {
		free(payload);
		return -ENOMEM;
	}
	*o = (struct out){ .type = type, .id = id, .payload = payload, .len = len };
	if (c->tail)
		c->tail->next = o;
	else
		c->head = o;
	c->tail = o;
	r = uplink_chan_flush(c);
	return r < 0 ? r : 0;
}

static int bad(struct uplink_chan *c, const char **why, const char *text)
{
	free(c->in_buf);
	c->in_buf = NULL;
	c->in_msg = false;
	if (why)
		*why = text;
	return -EBADMSG;
}

int uplink_chan_recv(struct uplink_chan *c, struct uplink_msg *ret, const char **why)
{
	struct uplink_pkt_hdr h;
	size_t n;
	ssize_t k;

again:
	k = recv(c->fd, c->pkt, sizeof(c->pkt), MSG_DONTWAIT | MSG_TRUNC);
	if (k < 0)
		return errno == EAGAIN || errno == EINTR ? 0 : -errno;
	if (k == 0)
		return -ECONNRESET; /* SOCK_SEQPACKET: EOF; our packets are never empty */
	if ((size_t)k > sizeof(c->pkt))
		return bad(c, why, "packet larger than allowed (truncated)");
	if ((size_t)k < sizeof(h))
		return bad(c, why, "packet shorter than its header");
	memcpy(&h, c->pkt, sizeof(h));
	n = (size_t)k - sizeof(h);
	if (h.magic != UPLINK_PKT_MAGIC)
		return bad(c, why, "bad packet magic");
	if (h.type < UPLINK_MSG_INIT || h.type > UPLINK_MSG_ERROR)
		return bad(c, why, "unknown message type");
	if (h.flags & ~(UPLINK_PKT_FIRST | UPLINK_PKT_LAST))
		return bad(c, why, "unknown packet flags");
	if (h.total > UPLINK_MSG_MAX)
		return bad(c, why, "message larger than allowed");
	if (h.flags & UPLINK_PKT_FIRST) {
		if (c->in_msg)
			return bad(c, why, "new message before the last one ended");
		if (h.offset != 0)
			return bad(c, why, "first packet with an offset");
		c->in_buf = malloc((size_t)h.total + 1);
		if (!c->in_buf)
			return -ENOMEM;
		c->in_msg = true;
		c->in_type = h.type;
		c->in_id = h.id;
		c->in_total = h.total;
		c->in_off = 0;
	} else if (!c->in_msg)
		return bad(c, why, "continuation without a first packet");
	else if (h.type != c->in_type || h.id != c->in_id || h.total != c->in_total ||
		 h.offset != c->in_off)
		return bad(c, why, "continuation does not follow on");
	if (n > c->in_total - c->in_off)
		return bad(c, why, "packet runs past the message's length");
	if (n == 0 && c->in_total != 0)
		return bad(c, why, "empty packet");
	memcpy(c->in_buf + c->in_off, c->pkt + sizeof(h), n);
	c->in_off += n;
	if (!!(h.flags & UPLINK_PKT_LAST) != (c->in_off == c->in_total))
		return bad(c, why, "last-packet flag does not match the length");
	if (c->in_off < c->in_total)
		goto again; /* the rest of the message; 0 only when nothing more can be read */
	c->in_buf[c->in_total] = 0;
	*ret = (struct uplink_msg){
		.type = c->in_type, .id = c->in_id, .payload = c->in_buf, .len = c->in_total
	};
	c->in_buf = NULL;
	c->in_msg = false;
	return 1;
}
