#include "common/retry.h"

uint64_t retry_backoff_usec(unsigned attempt, uint64_t base_usec, uint64_t max_usec, uint64_t rnd)
{
	uint64_t d = base_usec;

	for (unsigned i = 0; i < attempt && d < max_usec; i++)
		d = d > UINT64_MAX / 2 ? UINT64_MAX : d * 2;
	if (d > max_usec)
		d = max_usec;
	return d / 2 + (d - d / 2 ? rnd % (d - d / 2 + 1) : 0);
}

uint64_t retry_jitter_usec(uint64_t interval_usec, unsigned percent, uint64_t rnd)
{
	uint64_t span;

	if (percent > 50)
		percent = 50;
	span = interval_usec / 100 * percent;
	if (span == 0)
		return interval_usec;
	return interval_usec - span + rnd % (2 * span + 1);
}
