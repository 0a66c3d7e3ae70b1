#include "common/url.h"

#include <errno.h>
#include <string.h>

#include "common/strv.h"

bool url_is_loopback(const char *url)
{
	const char *h = url ? strstr(url, "://") : NULL;

	if (!h)
		return false;
	h += 3;
	return str_startswith(h, "127.") || str_startswith(h, "localhost:") ||
	       strcmp(h, "localhost") == 0 || str_startswith(h, "localhost/") ||
	       str_startswith(h, "[::1]");
}

int url_check_server(const char *url)
{
	if (!url)
		return -EINVAL;
	if (str_startswith(url, "https://") && url[8])
		return 0;
	if (str_startswith(url, "http://") && url_is_loopback(url))
		return 0;
	return -EPROTONOSUPPORT;
}
