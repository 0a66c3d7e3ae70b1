/* Retry timing shared by everything that talks to something that may be down. */
#pragma once
#include <stdint.h>

/* Exponential backoff with "equal jitter": base * 2^attempt capped at max, then a value in
 * [d/2, d] chosen by rnd (pass random_u64()). */
uint64_t retry_backoff_usec(unsigned attempt, uint64_t base_usec, uint64_t max_usec, uint64_t rnd);
/* interval +- percent (at most 50), chosen by rnd. */
uint64_t retry_jitter_usec(uint64_t interval_usec, unsigned percent, uint64_t rnd);
