/* The channel between the agent and its uplink child: one end of a SOCK_SEQPACKET socketpair,
 * non-blocking (agent/uplink/uplink.h "Privilege separation", docs/attestation.md).
 *
 * A logical message (agent/uplink/uplink_msg.h) is one or more packets (datagrams), each a
 * struct uplink_pkt_hdr followed by at most UPLINK_PKT_CHUNK bytes of the message's payload; a
 * sender never interleaves the packets of two messages. The receiver checks the magic, the type,
 * the total size (<= UPLINK_MSG_MAX), that offsets follow on, and that a datagram was not
 * truncated; anything else is -EBADMSG with a reason, and the connection is not trusted
 * afterwards.
 *
 * Both sides are the same binary on the same machine: host byte order in the packet header. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent/uplink/uplink_msg.h"

#define UPLINK_PKT_MAGIC 0x31555857u /* "WXU1" */
#define UPLINK_PKT_CHUNK (60u * 1024)

enum uplink_pkt_flags {
	UPLINK_PKT_FIRST = 1,
	UPLINK_PKT_LAST = 2
};

struct uplink_pkt_hdr {
	uint32_t magic;
	uint16_t type;   /* enum uplink_msg_type */
	uint16_t flags;  /* enum uplink_pkt_flags */
	uint64_t id;     /* request id (REQ, CANCEL, RESP, ERROR), else 0 */
	uint32_t total;  /* payload bytes of the whole message */
	uint32_t offset; /* of this packet's chunk */
};
_Static_assert(sizeof(struct uplink_pkt_hdr) == 24, "uplink packet header drift");

struct uplink_chan;

struct uplink_msg {
	uint16_t type;
	uint64_t id;
	char *payload; /* malloc'd, owned by the caller; NUL after len */
	size_t len;
};

/* Takes fd (made non-blocking; closed by uplink_chan_free). */
int uplink_chan_new(int fd, struct uplink_chan **ret);
void uplink_chan_free(struct uplink_chan *c);
int uplink_chan_fd(const struct uplink_chan *c);
/* Queue a message (the channel takes payload over and frees it) and try to send.
 * -EPIPE when the peer is gone. */
int uplink_chan_send(struct uplink_chan *c, uint16_t type, uint64_t id, char *payload, size_t len);
/* Send what is queued: 0 all sent, 1 more to send (wait for EPOLLOUT), -errno. */
int uplink_chan_flush(struct uplink_chan *c);
bool uplink_chan_pending(const struct uplink_chan *c);
/* Read one packet. 1: *ret is a complete message; 0: nothing (more) to read now; -ECONNRESET:
 * the peer closed; -EBADMSG: malformed (*why says how). */
int uplink_chan_recv(struct uplink_chan *c, struct uplink_msg *ret, const char **why);
