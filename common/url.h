/* Server URLs: what the agent accepts as the address of wxguard-server. */
#pragma once
#include <stdbool.h>

/* Does url's host part (after "://") name the loopback: 127.*, localhost, [::1]? */
bool url_is_loopback(const char *url);
/* Is url acceptable as a server URL: https://HOST..., or http:// to a loopback address (tests).
 * 0, -EINVAL for NULL, -EPROTONOSUPPORT otherwise. */
int url_check_server(const char *url);
