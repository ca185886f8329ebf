/* Socket I/O between the module and the worker; see channel.h. */
#include "channel.h"

#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>

long long pmp_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits for events on fd until deadline; returns 1 ready, 0 timed out, -1 error. */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		struct pollfd p = { .fd = fd, .events = events };
		long long left = deadline - pmp_now_ms();
		int rc;

		if (left <= 0)
			return 0;
		rc = poll(&p, 1, left > 0x7fffffff ? 0x7fffffff : (int)left);
		if (rc > 0)
			return 1;
		if (rc == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* Whom the module trusts behind the socket: root, and the worker's system user. That user's uid
 * is looked up once per connection, and only when a uid other than 0 shows up, so a worker that
 * runs as root costs no lookup. */
struct trust {
	const char *user;
	int looked_up;
	int found;
	uid_t uid;
};

static int trusted(pam_handle_t *pamh, struct trust *t, uid_t uid)
{
	if (uid == 0)
		return 1;
	if (!t->looked_up) {
		struct passwd pw;
		struct passwd *res = NULL;
		char buf[4096];
		int rc = getpwnam_r(t->user, &pw, buf, sizeof buf, &res);

		t->looked_up = 1;
		/* No such user is not an error: root is then the only one trusted. */
		if (rc != 0)
			pam_syslog(pamh, LOG_ERR, "cannot look up the worker user %.64s: %s", t->user,
				   strerror(rc));
		else if (res != NULL) {
			t->found = 1;
			t->uid = pw.pw_uid;
		}
	}
	return t->found && uid == t->uid;
}

static int verify_peer(pam_handle_t *pamh, int fd, const char *path, struct trust *t)
{
	struct ucred cred;
	socklen_t len = sizeof cred;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || len != sizeof cred) {
		pam_syslog(pamh, LOG_ERR, "cannot read the credentials of the worker at %s: %s", path,
			   strerror(errno));
		return -1;
	}
	if (!trusted(pamh, t, cred.uid)) {
		pam_syslog(pamh, LOG_ERR,
			   "the process serving %s runs as uid %u, not root or %.64s: refusing to talk to it",
			   path, (unsigned)cred.uid, t->user);
		return -1;
	}
	return 0;
}

int pmp_connect(pam_handle_t *pamh, const char *path, const char *worker_user, int timeout_ms)
{
	struct trust t = { .user = worker_user };
	struct sockaddr_un addr;
	struct stat st;
	long long deadline = pmp_now_ms() + timeout_ms;
	int fd;

	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof addr.sun_path) {
		pam_syslog(pamh, LOG_ERR, "worker socket path is too long: %.64s...", path);
		return -1;
	}
	memcpy(addr.sun_path, path, strlen(path) + 1);

	if (lstat(path, &st) != 0) {
		pam_syslog(pamh, LOG_ERR, "cannot reach the worker at %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || !trusted(pamh, &t, st.st_uid)) {
		pam_syslog(pamh, LOG_ERR,
			   "%s is not a socket owned by root or %.64s (owner uid %u): refusing to talk to it",
			   path, worker_user, (unsigned)st.st_uid);
		return -1;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		pam_syslog(pamh, LOG_ERR, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (const struct sockaddr *)&addr, sizeof addr) != 0) {
		int err = errno;

		if (err == EAGAIN || err == EINPROGRESS) {
			socklen_t elen = sizeof err;

			if (wait_fd(fd, POLLOUT, deadline) != 1)
				err = ETIMEDOUT;
			else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0)
				err = errno;
		}
		if (err != 0) {
			pam_syslog(pamh, LOG_ERR, "cannot reach the worker at %s: %s", path,
				   strerror(err));
			close(fd);
			return -1;
		}
	}
	if (verify_peer(pamh, fd, path, &t) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int peer_gone(int err)
{
	return err == EPIPE || err == ECONNRESET;
}

int pmp_send(pam_handle_t *pamh, int fd, const unsigned char *buf, size_t len, int timeout_ms,
	     int flags)
{
	long long deadline = pmp_now_ms() + timeout_ms;
	size_t done = 0;

	while (done < len) {
		ssize_t n = send(fd, buf + done, len - done, MSG_NOSIGNAL);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = wait_fd(fd, POLLOUT, deadline);

			if (rc == 1)
				continue;
			pam_syslog(pamh, LOG_ERR, "writing to the worker: %s",
				   rc == 0 ? "timed out" : strerror(errno));
			return -1;
		}
		if ((flags & PMP_QUIET_IF_CLOSED) && done == 0 && peer_gone(errno))
			return PMP_CLOSED;
		pam_syslog(pamh, LOG_ERR, "writing to the worker: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int recv_exact(pam_handle_t *pamh, int fd, unsigned char *buf, size_t len,
		      long long deadline, int flags)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = recv(fd, buf + done, len - done, 0);

		if (n > 0) {
			done += (size_t)n;
			continue;
		}
		if ((flags & PMP_QUIET_IF_CLOSED) && done == 0 && (n == 0 || peer_gone(errno)))
			return PMP_CLOSED;
		if (n == 0) {
			pam_syslog(pamh, LOG_ERR, "the worker closed the connection without an answer");
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			int rc = wait_fd(fd, POLLIN, deadline);

			if (rc == 1)
				continue;
			pam_syslog(pamh, LOG_ERR, "reading from the worker: %s",
				   rc == 0 ? "timed out" : strerror(errno));
			return -1;
		}
		pam_syslog(pamh, LOG_ERR, "reading from the worker: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int pmp_recv(pam_handle_t *pamh, int fd, unsigned char *buf, struct pmp_header *h, int timeout_ms,
	     int flags)
{
	long long deadline = pmp_now_ms() + timeout_ms;
	int rc = recv_exact(pamh, fd, buf, PMP_HEADER_SIZE, deadline, flags);

	if (rc != 0)
		return rc;
	pmp_decode_header(buf, h);
	if (h->length > PMP_MAX_PAYLOAD) {
		pam_syslog(pamh, LOG_ERR, "the worker sent an over-long frame (%lu bytes)",
			   (unsigned long)h->length);
		return -1;
	}
	return recv_exact(pamh, fd, buf + PMP_HEADER_SIZE, h->length, deadline, 0) == 0 ? 0 : -1;
}
