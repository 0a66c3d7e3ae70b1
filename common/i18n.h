/* Chinese or English, by LC_ALL / LC_MESSAGES / LANG (zh* means Chinese). */
#pragma once
#include <stdbool.h>

bool i18n_zh_from_env(void);
/* Override (for --lang); -1 returns to the environment's choice. */
void i18n_set(int zh);
bool i18n_zh(void);
static inline const char *i18n_pick(const char *en, const char *zh)
{
	return i18n_zh() && zh ? zh : en;
}
