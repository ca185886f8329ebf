/*
 * pam-threads: an outside-style cross-check of the benchmark's own load generator (pam_load).
 * Written apart from it on purpose, the way someone who doubts our figures would write one:
 * T workers, each its own loop of pam_start_confdir, pam_authenticate, pam_acct_mgmt, pam_end
 * through the system's libpam, right passwords only, no fail-delay hook, nothing else.
 *
 *   pam-threads -d CONFDIR -s SERVICE -U PREFIX -N USERS [-t WORKERS] [-S SECONDS] [-f]
 *
 * User k is PREFIX<k> with password pw-<k>; worker i starts at user i*N/T and walks on.
 * -f: the workers are processes (fork), for modules that cannot share a process (pam_mysql
 * 0.8.2). Latencies go to one shared mapping either way, so the percentiles are over every
 * transaction. Output: one line "workers=.. transactions=.. ok=.. failed=.. seconds=..
 * auths_per_s=.. p50_us=.. p99_us=..". Built by the benchmark (gcc -O2 -lpam -lpthread).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <security/pam_appl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 256
/* Latency samples kept per worker (µs, 32 bits): more than any point of a few seconds makes. */
#define MAX_SAMPLES (1 << 20)

struct slot {
	long done, ok, failed;
	uint32_t lat[MAX_SAMPLES];
};

static const char *confdir, *service, *prefix;
static long users;
static int workers = 1;
static double seconds = 3;
static struct slot *slots;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
	struct pam_response *r = calloc((size_t)n, sizeof *r);

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF && msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		r[i].resp = strdup(data);
		if (r[i].resp == NULL) {
			for (int j = 0; j < i; j++)
				free(r[j].resp);
			free(r);
			return PAM_BUF_ERR;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
}

static void *loop(void *arg)
{
	struct slot *s = arg;
	long k = (long)(s - slots) * users / workers;
	double end = now() + seconds;
	char user[64], password[64];

	while (now() < end) {
		snprintf(user, sizeof user, "%s%ld", prefix, k);
		snprintf(password, sizeof password, "pw-%ld", k);
		k = (k + 1) % users;
		struct pam_conv c = { conv, password };
		pam_handle_t *h = NULL;
		double t0 = now();
		int rc = pam_start_confdir(service, user, &c, confdir, &h);
		if (rc == PAM_SUCCESS) {
			rc = pam_authenticate(h, 0);
			if (rc == PAM_SUCCESS)
				rc = pam_acct_mgmt(h, 0);
			pam_end(h, rc);
		}
		double us = (now() - t0) * 1e6;
		if (s->done < MAX_SAMPLES)
			s->lat[s->done] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
		s->done++;
		if (rc == PAM_SUCCESS)
			s->ok++;
		else
			s->failed++;
	}
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	int fork_workers = 0, c;

	while ((c = getopt(argc, argv, "d:s:U:N:t:S:f")) != -1) {
		switch (c) {
		case 'd': confdir = optarg; break;
		case 's': service = optarg; break;
		case 'U': prefix = optarg; break;
		case 'N': users = atol(optarg); break;
		case 't': workers = atoi(optarg); break;
		case 'S': seconds = atof(optarg); break;
		case 'f': fork_workers = 1; break;
		default: return 2;
		}
	}
	if (confdir == NULL || service == NULL || prefix == NULL || strlen(prefix) > 32 || users < 1 ||
	    workers < 1 || workers > MAX_WORKERS || !(seconds > 0)) {
		fprintf(stderr, "usage: pam-threads -d CONFDIR -s SERVICE -U PREFIX -N USERS [-t 1..%d] [-S SECONDS] [-f]\n", MAX_WORKERS);
		return 2;
	}
	/* Shared so that forked workers report into it too; pages are touched only as used. */
	slots = mmap(NULL, (size_t)workers * sizeof *slots, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (slots == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	double t0 = now();
	if (fork_workers) {
		pid_t pids[MAX_WORKERS];
		for (int i = 0; i < workers; i++) {
			pids[i] = fork();
			if (pids[i] < 0) {
				perror("fork");
				return 1;
			}
			if (pids[i] == 0) {
				loop(&slots[i]);
				_exit(0);
			}
		}
		for (int i = 0; i < workers; i++) {
			int status;
			if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
				fprintf(stderr, "pam-threads: worker process %d did not end cleanly\n", i);
				return 1;
			}
		}
	} else {
		pthread_t t[MAX_WORKERS];
		for (int i = 0; i < workers; i++) {
			if (pthread_create(&t[i], NULL, loop, &slots[i]) != 0) {
				fprintf(stderr, "pam-threads: pthread_create failed\n");
				return 1;
			}
		}
		for (int i = 0; i < workers; i++)
			pthread_join(t[i], NULL);
	}
	double elapsed = now() - t0;
	long done = 0, ok = 0, failed = 0, kept = 0;
	for (int i = 0; i < workers; i++) {
		done += slots[i].done;
		ok += slots[i].ok;
		failed += slots[i].failed;
		kept += slots[i].done < MAX_SAMPLES ? slots[i].done : MAX_SAMPLES;
	}
	uint32_t *all = malloc((size_t)(kept > 0 ? kept : 1) * sizeof *all);
	if (all == NULL)
		return 1;
	long k = 0;
	for (int i = 0; i < workers; i++) {
		long n = slots[i].done < MAX_SAMPLES ? slots[i].done : MAX_SAMPLES;
		memcpy(all + k, slots[i].lat, (size_t)n * sizeof *all);
		k += n;
	}
	qsort(all, (size_t)kept, sizeof *all, cmp);
	printf("workers=%d transactions=%ld ok=%ld failed=%ld seconds=%.3f auths_per_s=%.1f p50_us=%u p99_us=%u\n", workers, done, ok,
	       failed, elapsed, done / elapsed, kept > 0 ? all[(kept - 1) / 2] : 0, kept > 0 ? all[(long)((kept - 1) * 0.99)] : 0);
	free(all);
	return failed == 0 ? 0 : 1;
}
