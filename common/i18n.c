#include "common/i18n.h"

#include <stdlib.h>
#include <string.h>

static int forced = -1;

bool i18n_zh_from_env(void)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v)
			return strncmp(v, "zh", 2) == 0;
	}
	return false;
}

void i18n_set(int zh)
{
	forced = zh;
}

bool i18n_zh(void)
{
	return forced >= 0 ? forced : i18n_zh_from_env();
}
