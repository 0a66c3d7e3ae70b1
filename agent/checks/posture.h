/* Posture checks for the service, off the event loop: each run happens on a worker thread
 * (an apt simulation can take seconds) and the finished report is handed back on the loop. */
#pragma once
#include <systemd/sd-event.h>

#include "agent/checks/check.h"

struct posture;

/* Called on the loop thread with the finished report (owned by the callee: free it with
 * check_report_free) and the policy the checks ran with (owned by the callee: policy_free). */
typedef void (*posture_done_fn)(struct check_report *rep, struct policy *pol, void *userdata);

/* policy_path is reloaded for every run, so the checks never share the watcher's policy. */
int posture_new(sd_event *e, const char *policy_path, const char *cache_dir, posture_done_fn fn,
		void *userdata, struct posture **ret);
/* Start a run. If one is under way, returns -EBUSY and runs once more when it finishes (the
 * policy may have changed since it started); further requests meanwhile fold into that one. */
int posture_start(struct posture *p);
/* Waits for a run under way to finish. */
void posture_free(struct posture *p);
