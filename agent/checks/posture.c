#include "agent/checks/posture.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "common/log.h"

struct posture {
	sd_event_source *src;
	int pipefd[2]; /* worker -> loop: one struct posture_result* per run */
	char *policy_path;
	char *cache_dir;
	posture_done_fn fn;
	void *userdata;
	pthread_t thread;
	bool running;
	bool joinable;
	bool again; /* asked to start while running: run once more when done */
};

struct posture_result {
	struct check_report *rep;
	struct policy *pol;
};

static void *worker(void *arg)
{
	struct posture *p = arg;
	struct posture_result *res = calloc(1, sizeof(*res));
	struct sysroot *sr = NULL;
	struct check_ctx ctx;
	int r;

	if (!res)
		goto out;
	/* Diagnostics were printed when the watcher loaded the same path; here a failure just
	 * means this run is skipped (the loop is told with an empty result). */
	r = policy_load(p->policy_path, &res->pol, NULL);
	if (r < 0) {
		log_debug("posture: policy %s: %s", p->policy_path, strerror(-r));
		goto out;
	}
	r = sysroot_new("/", &sr);
	if (r < 0)
		goto out;
	ctx = (struct check_ctx){
		.policy = res->pol,
		.root = sr,
		.cache_dir = p->cache_dir,
		.remediate = res->pol->mode == POLICY_MODE_ENFORCE,
		.now = time(NULL),
	};
	r = check_report_run(&ctx, NULL, &res->rep);
	if (r < 0)
		log_debug("posture: checks could not run: %s", strerror(-r));
out:
	sysroot_free(sr);
	if (write(p->pipefd[1], &res, sizeof(res)) != sizeof(res)) {
		if (res) {
			check_report_free(res->rep);
			policy_free(res->pol);
			free(res);
		}
	}
	return NULL;
}

static void join_worker(struct posture *p)
{
	if (p->joinable) {
		pthread_join(p->thread, NULL);
		p->joinable = false;
	}
	p->running = false;
}

static int on_result(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct posture *p = userdata;
	struct posture_result *res = NULL;

	if (read(fd, &res, sizeof(res)) != sizeof(res))
		return 0;
	join_worker(p);
	if (res && res->rep && res->pol)
		p->fn(res->rep, res->pol, p->userdata);
	else if (res) {
		check_report_free(res->rep);
		policy_free(res->pol);
	}
	free(res);
	/* A policy reload arrived during the run: the checks run again with the new policy. */
	if (p->again) {
		p->again = false;
		if (posture_start(p) < 0)
			log_debug("posture: the queued run could not start");
	}
	return 0;
}

int posture_new(sd_event *e, const char *policy_path, const char *cache_dir, posture_done_fn fn,
		void *userdata, struct posture **ret)
{
	struct posture *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->pipefd[0] = p->pipefd[1] = -1;
	p->fn = fn;
	p->userdata = userdata;
	p->policy_path = strdup(policy_path);
	p->cache_dir = cache_dir ? strdup(cache_dir) : NULL;
	if (!p->policy_path || (cache_dir && !p->cache_dir)) {
		r = -ENOMEM;
		goto fail;
	}
	if (pipe2(p->pipefd, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}
	r = sd_event_add_io(e, &p->src, p->pipefd[0], EPOLLIN, on_result, p);
	if (r < 0)
		goto fail;
	*ret = p;
	return 0;
fail:
	posture_free(p);
	return r;
}

int posture_start(struct posture *p)
{
	int r;

	if (p->running) {
		p->again = true;
		return -EBUSY;
	}
	r = -pthread_create(&p->thread, NULL, worker, p);
	if (r < 0)
		return r;
	p->running = p->joinable = true;
	return 0;
}

void posture_free(struct posture *p)
{
	struct posture_result *res;

	if (!p)
		return;
	join_worker(p);
	/* A result the loop never read. */
	while (p->pipefd[0] >= 0 && read(p->pipefd[0], &res, sizeof(res)) == sizeof(res)) {
		if (!res)
			continue;
		check_report_free(res->rep);
		policy_free(res->pol);
		free(res);
	}
	sd_event_source_unref(p->src);
	if (p->pipefd[0] >= 0)
		close(p->pipefd[0]);
	if (p->pipefd[1] >= 0)
		close(p->pipefd[1]);
	free(p->policy_path);
	free(p->cache_dir);
	free(p);
}
