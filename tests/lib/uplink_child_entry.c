#include "tests/lib/uplink_child_entry.h"

#include <unistd.h>

#include "agent/uplink/uplink_child_main.h"

void uplink_child_entry(void)
{
	if (uplink_child_main_wanted())
		_exit(uplink_child_main());
}
