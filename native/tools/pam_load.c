/*
 * pam_load: runs whole PAM transactions (pam_start_confdir, pam_authenticate, pam_acct_mgmt,
 * pam_end) from T threads, for a count or a time, checking every answer, and prints auths/s
 * and latency percentiles. For the benchmark (bench/) and for valgrind runs of the module.
 *
 *   pam_load -d CONFDIR -s SERVICE -u USER -p PASSWORD [-w WRONG] [-t THREADS]
 *            [-n COUNT_PER_THREAD | -S SECONDS] [-r WRONG_EVERY] [-U USERS_PREFIX -N USERS]
 *
 * Every R-th transaction uses the wrong password and must fail; every other must succeed.
 * With -U/-N, thread i uses users PREFIX0..PREFIX(N-1) in turn, password "pw-<k>".
 * Output: one line "key=value ..." (ok, failures, wrong_answers, auths_per_s, p50_us ...).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct opts {
	const char *confdir, *service, *user, *password, *wrong, *prefix;
	int threads, count, wrong_every, users;
	double seconds;
};

struct worker {
	const struct opts *o;
	int id;
	long done, ok, failed, wrong_answers;
	double *lat; /* microseconds */
	long lat_cap;
};


static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	const char *password = data;
	struct pam_response *r = calloc((size_t)n, sizeof *r);

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON)
			r[i].resp = strdup(password);
	}
	*resp = r;
	return PAM_SUCCESS;
}

/* No real sleep for failures: the benchmark measures the module, not the fail delay. */
static void no_delay(int retval, unsigned usec, void *data)
{
	(void)retval;
	(void)usec;
	(void)data;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int transaction(const struct opts *o, const char *user, const char *password)
{
	struct pam_conv c = { conv, (void *)password };
	pam_handle_t *h = NULL;
	int rc = pam_start_confdir(o->service, user, &c, o->confdir, &h);

	if (rc != PAM_SUCCESS)
		return rc;
	pam_set_item(h, PAM_FAIL_DELAY, (const void *)no_delay);
	rc = pam_authenticate(h, 0);
	if (rc == PAM_SUCCESS)
		rc = pam_acct_mgmt(h, 0);
	pam_end(h, rc);
	return rc;
}

static void *run(void *arg)
{
	struct worker *w = arg;
	const struct opts *o = w->o;
	double end = o->seconds > 0 ? now_us() + o->seconds * 1e6 : 0;
	char user[256], password[256];

	for (long i = 0;; i++) {
		if (o->seconds > 0 ? now_us() >= end : i >= o->count)
			break;
		int wrong = o->wrong_every > 0 && (i + w->id) % o->wrong_every == 0;
		if (o->prefix != NULL) {
			long k = (i * o->threads + w->id) % o->users;
			snprintf(user, sizeof user, "%s%ld", o->prefix, k);
			snprintf(password, sizeof password, "pw-%ld", k);
		} else {
			snprintf(user, sizeof user, "%s", o->user);
			snprintf(password, sizeof password, "%s", o->password);
		}
		double t0 = now_us();
		int rc = transaction(o, user, wrong ? o->wrong : password);
		double dt = now_us() - t0;
		if (w->done >= w->lat_cap) {
			w->lat_cap *= 2;
			w->lat = realloc(w->lat, (size_t)w->lat_cap * sizeof *w->lat);
		}
		w->lat[w->done++] = dt;
		if (rc == PAM_SUCCESS)
			w->ok++;
		else
			w->failed++;
		if ((rc == PAM_SUCCESS) == wrong)
			w->wrong_answers++;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	struct opts o = { .wrong = "definitely-wrong", .threads = 1, .count = 100, .wrong_every = 0 };
	int c;

	while ((c = getopt(argc, argv, "d:s:u:p:w:t:n:S:r:U:N:")) != -1) {
		switch (c) {
		case 'd': o.confdir = optarg; break;
		case 's': o.service = optarg; break;
		case 'u': o.user = optarg; break;
		case 'p': o.password = optarg; break;
		case 'w': o.wrong = optarg; break;
		case 't': o.threads = atoi(optarg); break;
		case 'n': o.count = atoi(optarg); break;
		case 'S': o.seconds = atof(optarg); break;
		case 'r': o.wrong_every = atoi(optarg); break;
		case 'U': o.prefix = optarg; break;
		case 'N': o.users = atoi(optarg); break;
		default: return 2;
		}
	}
	if (o.confdir == NULL || o.service == NULL || o.threads < 1 ||
	    (o.prefix == NULL && (o.user == NULL || o.password == NULL)) || (o.prefix != NULL && o.users < 1)) {
		fprintf(stderr, "usage: pam_load -d CONFDIR -s SERVICE (-u USER -p PASSWORD | -U PREFIX -N USERS) [-t T] [-n N | -S SEC] [-r R]\n");
		return 2;
	}
	struct worker *w = calloc((size_t)o.threads, sizeof *w);
	pthread_t *t = calloc((size_t)o.threads, sizeof *t);
	double t0 = now_us();
	for (int i = 0; i < o.threads; i++) {
		w[i] = (struct worker){ .o = &o, .id = i, .lat_cap = 4096 };
		w[i].lat = malloc((size_t)w[i].lat_cap * sizeof *w[i].lat);
		pthread_create(&t[i], NULL, run, &w[i]);
	}
	long done = 0, ok = 0, failed = 0, wrong_answers = 0;
	for (int i = 0; i < o.threads; i++) {
		pthread_join(t[i], NULL);
		done += w[i].done;
		ok += w[i].ok;
		failed += w[i].failed;
		wrong_answers += w[i].wrong_answers;
	}
	double elapsed = (now_us() - t0) / 1e6;
	double *all = malloc((size_t)(done > 0 ? done : 1) * sizeof *all);
	long k = 0;
	for (int i = 0; i < o.threads; i++) {
		memcpy(all + k, w[i].lat, (size_t)w[i].done * sizeof *all);
		k += w[i].done;
		free(w[i].lat);
	}
	qsort(all, (size_t)done, sizeof *all, cmp);
#define PCT(p) (done > 0 ? all[(long)((p) * (done - 1))] : 0)
	printf("threads=%d transactions=%ld ok=%ld failed=%ld wrong_answers=%ld seconds=%.3f auths_per_s=%.1f p50_us=%.0f p90_us=%.0f p99_us=%.0f max_us=%.0f\n",
	       o.threads, done, ok, failed, wrong_answers, elapsed, done / elapsed, PCT(0.5), PCT(0.9), PCT(0.99),
	       done > 0 ? all[done - 1] : 0);
	free(all);
	free(w);
	free(t);
	return wrong_answers == 0 ? 0 : 1;
}
