/* The serve loop: HTTPS workers and the alert worker. */
#include "server/server.h"

#include <malloc.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>

#include "common/log.h"
#include "server/alerts.h"
#include "server/http.h"

int server_serve(struct srv *s)
{
	struct http_server *h = NULL;
	struct alerts_worker aw = { 0 };
	int r;

	/* Each worker thread allocates and frees in its own malloc arena; glibc gives the top of
	 * an arena back with madvise() whenever it passes the trim threshold, and on a VM every
	 * madvise() is a TLB shootdown on all CPUs: a quarter of the server's CPU time in a
	 * profile under load (docs/performance.md). Keep freed memory for reuse instead: RSS stays
	 * at its high-water mark, flat under steady load. Large blocks stay in the arenas too. */
	mallopt(M_TRIM_THRESHOLD, 64 << 20);
	mallopt(M_MMAP_THRESHOLD, 8 << 20);
	r = http_server_start(s, &h);
	if (r < 0)
		return log_error_errno(r, "cannot listen on %s port %d (TLS %s)", s->cfg.listen,
				       s->cfg.port, s->cfg.tls_cert);
	r = alerts_worker_start(&aw, s);
	if (r < 0) {
		http_server_free(h);
		return log_error_errno(r, "cannot start the alert worker");
	}
	log_notice("wxguard-server %s listening on https://%s%s%s:%d/ (%d workers, database %s)",
		   WXG_VERSION, strchr(s->cfg.listen, ':') ? "[" : "", s->cfg.listen,
		   strchr(s->cfg.listen, ':') ? "]" : "", http_server_port(h), s->cfg.workers,
		   s->cfg.database);
	printf("listening port %d\n", http_server_port(h));
	fflush(stdout);
	sd_notifyf(0, "READY=1\nSTATUS=listening on port %d", http_server_port(h));
	http_server_wait(h);
	sd_notify(0, "STOPPING=1");
	http_server_free(h);
	alerts_worker_stop(&aw);
	return 0;
}
