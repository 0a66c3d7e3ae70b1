/* /metrics: the counters in struct srv_metrics and the devices by state, as Prometheus text. */
#include "server/metrics.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>

#include "common/buf.h"
#include "server/store/store.h"

struct metrics_out {
	struct buf b;
	int r; /* the first error; nothing more is written after one */
};

static void __attribute__((format(printf, 2, 3))) out(struct metrics_out *o, const char *fmt, ...)
{
	va_list ap;

	if (o->r < 0)
		return;
	va_start(ap, fmt);
	o->r = buf_vprintf(&o->b, fmt, ap);
	va_end(ap);
}

#define LOAD(x) ((unsigned long long)atomic_load_explicit(&(x), memory_order_relaxed))

static void by_reason(struct metrics_out *o, const char *name, const char *help, atomic_ullong *arr)
{
	out(o, "# HELP %s %s\n# TYPE %s counter\n", name, help, name);
	for (int i = 1; i < _SRV_REASON_MAX; i++)
		out(o, "%s{reason=\"%s\"} %llu\n", name, srv_reason_code(i), LOAD(arr[i]));
}

int metrics_render(struct srv *s, struct store *st, long long now, char **ret)
{
	struct metrics_out o = { .b = { 0 } };
	json_t *states = NULL, *v;
	const char *k;
	int r;

	out(&o,
	    "# HELP wxguard_reports_accepted_total Attestation reports verified and stored.\n"
	    "# TYPE wxguard_reports_accepted_total counter\nwxguard_reports_accepted_total %llu\n",
	    LOAD(s->m.reports_accepted));
	by_reason(&o, "wxguard_reports_refused_total", "Attestation reports refused, by reason.",
		  s->m.reports_refused);
	out(&o,
	    "# HELP wxguard_report_chain_gaps_total Reports accepted with a prev_hash gap (missing "
	    "reports).\n"
	    "# TYPE wxguard_report_chain_gaps_total counter\nwxguard_report_chain_gaps_total "
	    "%llu\n",
	    LOAD(s->m.chain_gaps));
	out(&o,
	    "# HELP wxguard_enrollments_total Devices enrolled.\n"
	    "# TYPE wxguard_enrollments_total counter\nwxguard_enrollments_total %llu\n",
	    LOAD(s->m.enrolls_accepted));
	by_reason(&o, "wxguard_enrollments_refused_total", "Enrollments refused, by reason.",
		  s->m.enrolls_refused);
	out(&o,
	    "# HELP wxguard_events_total Watcher events received.\n# TYPE wxguard_events_total "
	    "counter\n"
	    "wxguard_events_total{result=\"accepted\"} "
	    "%llu\nwxguard_events_total{result=\"duplicate\"} %llu\n",
	    LOAD(s->m.events_accepted), LOAD(s->m.events_duplicate));
	by_reason(&o, "wxguard_event_batches_refused_total", "Event batches refused, by reason.",
		  s->m.events_refused);
	out(&o,
	    "# HELP wxguard_http_requests_total HTTP requests.\n# TYPE wxguard_http_requests_total "
	    "counter\n"
	    "wxguard_http_requests_total %llu\n"
	    "# HELP wxguard_http_errors_total HTTP requests answered 4xx/5xx.\n"
	    "# TYPE wxguard_http_errors_total counter\nwxguard_http_errors_total %llu\n",
	    LOAD(s->m.http_requests), LOAD(s->m.http_errors));
	out(&o,
	    "# HELP wxguard_http_too_large_total Requests refused with 413 (body over max_body), "
	    "any path, "
	    "including bodies over 4 x max_body that libevent refuses before the path is known.\n"
	    "# TYPE wxguard_http_too_large_total counter\nwxguard_http_too_large_total %llu\n",
	    LOAD(s->m.http_too_large));
	out(&o,
	    "# HELP wxguard_alerts_total Alerts raised (suppressed: over the rate limit, kept in "
	    "history).\n"
	    "# TYPE wxguard_alerts_total counter\nwxguard_alerts_total{result=\"raised\"} %llu\n"
	    "wxguard_alerts_total{result=\"suppressed\"} %llu\n",
	    LOAD(s->m.alerts_raised), LOAD(s->m.alerts_suppressed));
	out(&o, "# HELP wxguard_alert_deliveries_total Alert deliveries that succeeded, by sink.\n"
		"# TYPE wxguard_alert_deliveries_total counter\n");
	for (int i = 0; i < _SINK_MAX; i++)
		out(&o, "wxguard_alert_deliveries_total{sink=\"%s\"} %llu\n", srv_sink_name(i),
		    LOAD(s->m.deliveries[i]));
	out(&o, "# HELP wxguard_alert_delivery_failures_total Failed alert delivery attempts, by "
		"sink.\n"
		"# TYPE wxguard_alert_delivery_failures_total counter\n");
	for (int i = 0; i < _SINK_MAX; i++)
		out(&o, "wxguard_alert_delivery_failures_total{sink=\"%s\"} %llu\n",
		    srv_sink_name(i), LOAD(s->m.delivery_failures[i]));
	out(&o,
	    "# HELP wxguard_db_errors_total Database errors (requests answered 503).\n"
	    "# TYPE wxguard_db_errors_total counter\nwxguard_db_errors_total %llu\n",
	    LOAD(s->m.db_errors));
	r = st ? store_device_states(st, now, s->cfg.stale_grace, &states) : -ENOENT;
	out(&o, "# HELP wxguard_devices Devices by state (from the database).\n# TYPE "
		"wxguard_devices gauge\n");
	if (r == 0) {
		json_object_foreach (states, k, v)
			out(&o, "wxguard_devices{state=\"%s\"} %lld\n", k,
			    (long long)json_integer_value(v));
	}
	if (r == 0) {
		int ne = store_device_not_enforcing_count(st);

		if (ne >= 0)
			out(&o,
			    "# HELP wxguard_devices_not_enforcing Approved devices whose policy is "
			    "in "
			    "enforce mode while their watcher is degraded or posture only.\n"
			    "# TYPE wxguard_devices_not_enforcing gauge\n"
			    "wxguard_devices_not_enforcing %d\n",
			    ne);
	}
	out(&o,
	    "# HELP wxguard_up 1 when the database answered this scrape.\n# TYPE wxguard_up "
	    "gauge\nwxguard_up %d\n",
	    r == 0);
	json_decref(states);
	if (o.r < 0) {
		buf_clear(&o.b);
		return o.r;
	}
	*ret = buf_steal(&o.b);
	return 0;
}
