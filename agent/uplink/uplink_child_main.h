/* The uplink child's process (agent/uplink/uplink.h "Privilege separation",
 * docs/attestation.md). The parent's side (agent/uplink/uplink_child.c) forks and execs
 * /proc/self/exe with UPLINK_CHILD_ENV=1 and the socket on UPLINK_CHILD_FD: a fresh address
 * space without the device key. Every binary that can start the child (wxguard, and test
 * binaries through tests/lib/uplink_child_entry.h) calls, first thing in main():
 *
 *	if (uplink_child_main_wanted())
 *		_exit(uplink_child_main());
 */
#pragma once
#include <stdbool.h>

#define UPLINK_CHILD_ENV "WXGUARD_UPLINK_CHILD"
#define UPLINK_CHILD_FD 3

/* Is this process the uplink child: UPLINK_CHILD_ENV=1 in the environment and a SOCK_SEQPACKET
 * socket on UPLINK_CHILD_FD? Removes the variable from the environment when it is set. */
bool uplink_child_main_wanted(void);
/* The child: reads INIT, drops privileges (agent/uplink/privsep.h), sends READY and serves
 * requests with the libcurl engine on its own sd-event loop until the parent closes the socket.
 * Returns the process's exit status: 0 when the parent closed, else the step that failed
 * (1 setup, 2 no valid INIT, 3 libcurl, 4 privilege drop, 5-7 the event loop and the engine,
 * 8 the loop failed). */
int uplink_child_main(void);
