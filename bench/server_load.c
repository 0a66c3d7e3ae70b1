/* Loopback load generator for wxguard-server: enrolls N simulated devices (tests/lib/simclient.c)
 * and sends signed reports over HTTPS keep-alive connections from T threads.
 *   server_load URL CA TOKEN DEVICES THREADS SECONDS RATE [CONN]
 * RATE 0 = as fast as possible; otherwise reports/s in total, paced (open loop per thread).
 * CONN: "keepalive" (default: one HTTPS connection per thread, reused), "new" (a new TCP+TLS
 * connection per report, TLS session resumed: what an agent that keeps its session but not
 * its connection costs) or "full" (a new connection and a full TLS handshake per report: an
 * agent waking up every few minutes).
 * CPU cost (load-independent, unlike the rates): with WXG_SERVER_PID=<pid> (and optionally
 * WXG_DB_PIDS=<pid,pid,...>, e.g. the PostgreSQL processes) it also prints the CPU time those
 * processes and this one used per report during the timed phase (after enrollment).
 * Prints one line: accepted=<n> refused=<n> errors=<n> seconds=<s> rps=<r> p50_ms=<x> p99_ms=<y>
 * max_ms=<z> [client_cpu_us=<c> server_cpu_us=<s> db_cpu_us=<d>] */
#include <curl/curl.h>
#include <pthread.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "simclient.h"

static const char *url, *ca, *token;
static int ndev, nthreads;
static double seconds, rate;
static int
	conn_mode; /* 0 keepalive, 1 new connection (resumed), 2 new connection, full handshake */
static pthread_barrier_t enrolled; /* the timed phase starts when every device is enrolled */
static double t_start;

struct th {
	pthread_t t;
	int idx;
	struct simclient **dev;
	int ndev;
	long accepted, refused, errors;
	double *lat;
	size_t nlat, cap;
};

struct buf {
	char b[8192];
	size_t n;
};

static size_t collect(char *p, size_t sz, size_t n, void *u)
{
	struct buf *b = u;
	size_t k = sz * n;

	if (b->n + k >= sizeof(b->b))
		k = sizeof(b->b) - 1 - b->n;
	memcpy(b->b + b->n, p, k);
	b->n += k;
	b->b[b->n] = 0;
	return sz * n;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static long post(CURL *c, const char *path, json_t *body, json_t **reply)
{
	static __thread struct curl_slist *h;
	struct buf b = { .n = 0 };
	char u[512], *txt = json_dumps(body, JSON_COMPACT);
	long code = 0;

	if (!h)
		h = curl_slist_append(NULL, "Content-Type: application/json");
	snprintf(u, sizeof(u), "%s%s", url, path);
	curl_easy_setopt(c, CURLOPT_URL, u);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, txt);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	free(txt);
	json_decref(body);
	if (reply)
		*reply = json_loads(b.b, 0, NULL);
	return code;
}

static CURL *mk_curl(void)
{
	CURL *c = curl_easy_init();

	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L);
	if (conn_mode >= 1)
		curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	if (conn_mode == 2)
		curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	return c;
}

static void *run(void *arg)
{
	struct th *t = arg;
	CURL *c = mk_curl();
	double start, end, next, per = rate > 0 ? 1000.0 * nthreads / rate : 0;
	long k = 0;

	/* enroll this thread's devices */
	for (int i = 0; i < t->ndev; i++) {
		json_t *ch = NULL, *rep = NULL;
		char host[64];

		snprintf(host, sizeof(host), "bench-%d-%d", t->idx, i);
		if (simclient_new(&t->dev[i]) < 0 ||
		    post(c, "/api/v1/enroll/challenge", json_object(), &ch) != 200 ||
		    post(c, "/api/v1/enroll",
			 simclient_enroll(t->dev[i], token,
					  json_string_value(json_object_get(ch, "challenge")),
					  host),
			 &rep) != 200 ||
		    simclient_enrolled(t->dev[i], rep) < 0) {
			fprintf(stderr, "enroll failed\n");
			exit(1);
		}
		json_decref(ch);
		json_decref(rep);
	}
	pthread_barrier_wait(&enrolled);
	pthread_barrier_wait(&enrolled); /* main has taken the start time and CPU */
	start = t_start;
	end = start + seconds * 1000;
	next = start + (per > 0 ? per * t->idx / nthreads : 0);
	while (now_ms() < end) {
		struct simclient *d = t->dev[k++ % t->ndev];
		json_t *rep = NULL;
		double t0, lat;
		long code;

		if (per > 0) {
			double w = next - now_ms();

			if (w > 0) {
				struct timespec ts = { (time_t)(w / 1000),
						       (long)((w - (long)(w / 1000) * 1000) *
							      1e6) };

				nanosleep(&ts, NULL);
			}
			t0 = next; /* open loop: latency counts from the scheduled send time */
			next += per;
		} else {
			t0 = now_ms();
		}
		code = post(
			c, "/api/v1/report",
			simclient_report(d, (long long)time(NULL), k % 10 ? NULL : "antivirus", -1),
			&rep);
		lat = now_ms() - t0;
		if (code == 200) {
			simclient_accepted(d, rep);
			t->accepted++;
		} else if (code >= 400 && code < 500) {
			if (rep && json_object_get(rep, "nonce"))
				simclient_accepted(d, rep);
			t->refused++;
		} else {
			t->errors++;
		}
		json_decref(rep);
		if (t->nlat == t->cap) {
			t->cap = t->cap ? t->cap * 2 : 4096;
			t->lat = realloc(t->lat, t->cap * sizeof(double));
		}
		t->lat[t->nlat++] = lat;
	}
	curl_easy_cleanup(c);
	return NULL;
}

/* utime + stime of a comma-separated list of pids, in µs; -1 when unset. */
static double pids_cpu_us(const char *list)
{
	double total = 0;
	char *copy, *save = NULL;

	if (!list || !*list)
		return -1;
	copy = strdup(list);
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char path[64], buf[1024], *rp;
		unsigned long long ut = 0, st = 0;
		FILE *f;

		snprintf(path, sizeof(path), "/proc/%s/stat", p);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) && (rp = strrchr(buf, ')')) &&
		    sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			   &st) == 2)
			total += (double)(ut + st) * 1e6 / (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	free(copy);
	return total;
}

static double self_cpu_us(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 +
	       ru.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct th *t;
	double *all, t0, el, srv0, srv1, db0, db1, self0, self1;
	size_t n = 0;
	long acc = 0, ref = 0, err = 0;

	if (argc != 8 && argc != 9) {
		fprintf(stderr,
			"usage: %s URL CA TOKEN DEVICES THREADS SECONDS RATE "
			"[keepalive|new|full]\n",
			argv[0]);
		return 2;
	}
	if (argc == 9)
		conn_mode = strcmp(argv[8], "new") == 0 ? 1 : strcmp(argv[8], "full") == 0 ? 2 : 0;
	url = argv[1];
	ca = argv[2];
	token = argv[3];
	ndev = atoi(argv[4]);
	nthreads = atoi(argv[5]);
	seconds = atof(argv[6]);
	rate = atof(argv[7]);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	t = calloc((size_t)nthreads, sizeof(*t));
	for (int i = 0; i < nthreads; i++) {
		t[i].idx = i;
		t[i].ndev = ndev / nthreads + (i < ndev % nthreads);
		t[i].dev = calloc((size_t)t[i].ndev, sizeof(*t[i].dev));
	}
	pthread_barrier_init(&enrolled, NULL, (unsigned)nthreads + 1);
	for (int i = 0; i < nthreads; i++)
		pthread_create(&t[i].t, NULL, run, &t[i]);
	pthread_barrier_wait(&enrolled); /* everyone enrolled: time and CPU from here */
	t0 = t_start = now_ms();
	srv0 = pids_cpu_us(getenv("WXG_SERVER_PID"));
	db0 = pids_cpu_us(getenv("WXG_DB_PIDS"));
	self0 = self_cpu_us();
	pthread_barrier_wait(&enrolled);
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i].t, NULL);
		n += t[i].nlat;
		acc += t[i].accepted;
		ref += t[i].refused;
		err += t[i].errors;
	}
	el = (now_ms() - t0) / 1000;
	srv1 = pids_cpu_us(getenv("WXG_SERVER_PID"));
	db1 = pids_cpu_us(getenv("WXG_DB_PIDS"));
	self1 = self_cpu_us();
	all = malloc((n ? n : 1) * sizeof(double));
	n = 0;
	for (int i = 0; i < nthreads; i++) {
		memcpy(all + n, t[i].lat, t[i].nlat * sizeof(double));
		n += t[i].nlat;
	}
	qsort(all, n, sizeof(double), cmp);
	printf("accepted=%ld refused=%ld errors=%ld seconds=%.1f rps=%.0f p50_ms=%.2f p99_ms=%.2f "
	       "max_ms=%.2f",
	       acc, ref, err, el, (acc + ref) / el, n ? all[n / 2] : 0,
	       n ? all[(size_t)(n * 0.99)] : 0, n ? all[n - 1] : 0);
	if (acc + ref > 0)
		printf(" client_cpu_us=%.0f server_cpu_us=%.0f db_cpu_us=%.0f",
		       (self1 - self0) / (acc + ref), srv0 >= 0 ? (srv1 - srv0) / (acc + ref) : -1,
		       db0 >= 0 ? (db1 - db0) / (acc + ref) : -1);
	printf("\n");
	return err ? 1 : 0;
}
