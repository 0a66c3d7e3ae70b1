/* For test binaries that start the uplink child (isolation child, or auto as root): the child
 * is the test binary itself, re-executed (agent/uplink/uplink_child_main.h). Call
 * uplink_child_entry() first in main(), as agent/main.c does. */
#pragma once

/* In the re-executed child: be the uplink child and exit. Otherwise return. */
void uplink_child_entry(void);
