/* Devices for the admin API: the list, one device's detail, approve and revoke. */
#include "server/api/api_call.h"

int api_admin_devices(struct api_call *c)
{
	json_t *j = NULL;
	int r;

	r = store_device_list(c->st, c->now, c->s->cfg.stale_grace, &j);
	return api_admin_result(c, r, j, "device list");
}

int api_admin_device(struct api_call *c)
{
	json_t *j = NULL;
	int r;

	r = store_device_detail(c->st, c->id, c->now, c->s->cfg.stale_grace, &j);
	return api_admin_result(c, r, j, "device detail");
}

static int device_set_status(struct api_call *c, const char *status)
{
	int r;

	r = store_device_set_status(c->st, c->id, status);
	return api_admin_result(c, r, json_pack("{s:s, s:s}", "id", c->id, "status", status),
				"device status");
}

int api_admin_device_approve(struct api_call *c)
{
	return device_set_status(c, "approved");
}

int api_admin_device_revoke(struct api_call *c)
{
	return device_set_status(c, "revoked");
}
