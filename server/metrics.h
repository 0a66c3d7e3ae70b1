/* Prometheus text exposition of the server's counters (struct srv_metrics) and its devices by
 * state (from the database; wxguard_up 0 when st is NULL or the query fails). */
#pragma once
#include "server/srv.h"

/* *ret is a new string. */
int metrics_render(struct srv *s, struct store *st, long long now, char **ret);
