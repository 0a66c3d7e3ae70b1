/* Alerts for the admin API (raised by reports, events and the sweep: server/alerts.c). */
#include "server/api/api_call.h"

int api_admin_alerts(struct api_call *c)
{
	return api_admin_list(c, store_alerts_list, "alerts");
}
