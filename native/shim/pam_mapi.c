/*
 * pam_mapi: the PAM module. A thin shim: it forwards each request to the pam-mapi-worker over
 * a Unix socket, one REQUEST and one RESULT, and carries out what the RESULT asks of libpam
 * (request the fail delay, write syslog lines). For an authentication it first gets the
 * password the way PAM modules do, with libpam's pam_get_authtok() (an earlier module's
 * PAM_AUTHTOK, else a prompt whose answer libpam stores as PAM_AUTHTOK; use_first_pass: never a
 * prompt), and sends it with the REQUEST. All policy (module options, stores, outcomes) lives in
 * the worker; see docs/architecture.md.
 *
 * Every path that does not end in a well-formed RESULT frame from a verified worker ends in
 * PAM_AUTHINFO_UNAVAIL: this module never says yes by accident.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "channel.h"
#include "frame.h"

#define PMP_EXPORT __attribute__((visibility("default")))
/* From src/protocol/constants.json, which the worker reads too. */
#define DEFAULT_WORKER_SOCKET PMP_DEFAULT_SOCKET
#define DEFAULT_TIMEOUT_S PMP_DEFAULT_TIMEOUT_S
#define MAX_TIMEOUT_S PMP_MAX_TIMEOUT_S
#define KEPT_DATA "pam_mapi_kept_connection"

struct exchange {
	pam_handle_t *pamh;
	int fd;
	int timeout_ms;
	unsigned char *buf; /* PMP_FRAME_CAP bytes; every frame is wiped after use */
	int buf_dirty;      /* a receive failed part-way: wipe all of buf before freeing it */
	struct pmp_message *msg;
	/* Authentication: what pam_get_authtok() gave (PMP_PW_*), and the password, which is
	 * libpam's PAM_AUTHTOK item (libpam owns and wipes it; only its copy in buf is ours). */
	unsigned password_from;
	const char *password;
};

/* The connection of a successful authentication, which the worker offered to keep open for the
 * account request of the same PAM transaction (RESULT with KEEP_MS; docs/protocol.md). It saves
 * a connection, and the worker answers from what the authentication just read. */
struct kept {
	int fd;
	long long until_ms; /* CLOCK_MONOTONIC */
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static void kept_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	struct kept *k = data;

	(void)pamh;
	(void)error_status;
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static void keep_connection(struct exchange *x, const char *path, uint32_t keep_ms)
{
	size_t n = strlen(path);
	struct kept *k;

	if (keep_ms == 0 || n >= sizeof k->path || (k = malloc(sizeof *k)) == NULL)
		return;
	k->fd = x->fd;
	/* Use it only in the first half of the worker's offer, so as not to race the worker
	 * closing it; a connection closed anyway is replaced (run()). */
	k->until_ms = pmp_now_ms() + keep_ms / 2;
	memcpy(k->path, path, n + 1);
	/* Replacing an earlier kept connection closes it (kept_cleanup). */
	if (pam_set_data(x->pamh, KEPT_DATA, k, kept_cleanup) != PAM_SUCCESS) {
		free(k);
		return;
	}
	x->fd = -1;
}

/* The kept connection to this worker, still within its time, or -1. Taken once. */
static int take_kept(pam_handle_t *pamh, const char *path)
{
	const void *data = NULL;
	struct kept *k;
	int fd;

	if (pam_get_data(pamh, KEPT_DATA, &data) != PAM_SUCCESS || data == NULL)
		return -1;
	k = (struct kept *)data;
	fd = k->fd;
	k->fd = -1;
	if (fd < 0)
		return -1;
	if (strcmp(k->path, path) != 0 || pmp_now_ms() >= k->until_ms) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The only arguments the shim reads itself: where the worker is, which system user besides root
 * it may run as, and how long to wait. */
static void read_transport_args(int argc, const char **argv, const char **path,
				const char **worker_user, int *timeout_ms)
{
	*path = DEFAULT_WORKER_SOCKET;
	*worker_user = PMP_WORKER_USER;
	*timeout_ms = DEFAULT_TIMEOUT_S * 1000;
	for (int i = 0; i < argc; i++) {
		if (strncmp(argv[i], "worker=", 7) == 0 && argv[i][7] != '\0') {
			*path = argv[i] + 7;
		} else if (strncmp(argv[i], "worker_user=", 12) == 0 && argv[i][12] != '\0') {
			*worker_user = argv[i] + 12;
		} else if (strncmp(argv[i], "timeout=", 8) == 0 && argv[i][8] >= '0' && argv[i][8] <= '9') {
			char *end = NULL;
			long s;

			errno = 0;
			s = strtol(argv[i] + 8, &end, 10);
			/* A bad value keeps the default; the worker logs the argument as invalid. */
			if (errno == 0 && end != argv[i] + 8 && *end == '\0' && s > 0 && s <= MAX_TIMEOUT_S)
				*timeout_ms = (int)s * 1000;
		}
	}
}

static const char *item_string(pam_handle_t *pamh, int item)
{
	const void *value = NULL;

	if (pam_get_item(pamh, item, &value) != PAM_SUCCESS)
		return NULL;
	return value;
}

static int send_frame(struct exchange *x, struct pmp_writer *w, int flags)
{
	size_t len = pmp_writer_finish(w);
	int rc;

	if (len == 0) {
		pam_syslog(x->pamh, LOG_ERR, "request does not fit in one protocol frame");
		return -1;
	}
	rc = pmp_send(x->pamh, x->fd, x->buf, len, x->timeout_ms, flags);
	/* The frame may hold a password. */
	explicit_bzero(x->buf, len);
	return rc;
}

static int send_request(struct exchange *x, unsigned op, int argc, const char **argv, int flags)
{
	struct pmp_writer w;
	const char *logname = pam_modutil_getlogin(x->pamh);

	pmp_writer_init(&w, x->buf, PMP_FRAME_CAP, PMP_MSG_REQUEST);
	pmp_put_u32(&w, PMP_F_OP, op);
	pmp_put_capped(&w, PMP_F_SERVICE, item_string(x->pamh, PAM_SERVICE), PMP_LIMIT_TEXT);
	pmp_put_capped(&w, PMP_F_USER, item_string(x->pamh, PAM_USER), PMP_LIMIT_USER);
	pmp_put_capped(&w, PMP_F_RHOST, item_string(x->pamh, PAM_RHOST), PMP_LIMIT_TEXT);
	pmp_put_capped(&w, PMP_F_RUSER, item_string(x->pamh, PAM_RUSER), PMP_LIMIT_TEXT);
	pmp_put_capped(&w, PMP_F_TTY, item_string(x->pamh, PAM_TTY), PMP_LIMIT_TEXT);
	pmp_put_capped(&w, PMP_F_LOGNAME, logname, PMP_LIMIT_TEXT);
	pmp_put_u32(&w, PMP_F_UID, (uint32_t)getuid());
	pmp_put_u32(&w, PMP_F_EUID, (uint32_t)geteuid());
	/* One more than the limit, so the worker sees that the line was cut and can refuse it. */
	for (int i = 0; i < argc && i <= (int)PMP_MAX_ARGS; i++)
		pmp_put_capped(&w, PMP_F_ARG, argv[i], PMP_LIMIT_TEXT);
	if (op == PMP_OP_AUTHENTICATE) {
		/* The frame is wiped once sent (send_frame). */
		pmp_put_u32(&w, PMP_F_PASSWORD_FROM, x->password_from);
		pmp_put_capped(&w, PMP_F_PASSWORD, x->password, PMP_LIMIT_PASSWORD);
	}
	return send_frame(x, &w, flags);
}

static int pam_code(uint32_t result)
{
	switch (result) {
	case PMP_R_SUCCESS:
		return PAM_SUCCESS;
	case PMP_R_AUTH_ERR:
		return PAM_AUTH_ERR;
	case PMP_R_USER_UNKNOWN:
		return PAM_USER_UNKNOWN;
	case PMP_R_PERM_DENIED:
		return PAM_PERM_DENIED;
	case PMP_R_ACCT_EXPIRED:
		return PAM_ACCT_EXPIRED;
	case PMP_R_CONV_ERR:
		return PAM_CONV_ERR;
	case PMP_R_NEW_AUTHTOK_REQD:
		return PAM_NEW_AUTHTOK_REQD;
	case PMP_R_MAXTRIES:
		return PAM_MAXTRIES;
	default:
		return PAM_AUTHINFO_UNAVAIL;
	}
}

static int finish(struct exchange *x)
{
	const struct pmp_message *m = x->msg;

	for (unsigned i = 0; i < m->log_count; i++)
		pam_syslog(x->pamh, (int)m->logs[i].level, "%s", m->logs[i].text);
	if (m->delay_usec > 0)
		pam_fail_delay(x->pamh, m->delay_usec);
	return pam_code(m->code);
}

/* Reads the worker's answer, a RESULT (or an ERROR). With PMP_QUIET_IF_CLOSED (a kept
 * connection), a worker that closed it before answering gives PMP_CLOSED. */
static int receive(struct exchange *x, int flags)
{
	struct pmp_header h;
	int rc = pmp_recv(x->pamh, x->fd, x->buf, &h, x->timeout_ms, flags);

	if (rc != 0) {
		x->buf_dirty = 1;
		return rc == PMP_CLOSED ? PMP_CLOSED : PAM_AUTHINFO_UNAVAIL;
	}
	rc = pmp_decode_message(h.type, x->buf + PMP_HEADER_SIZE, h.length, x->msg);
	explicit_bzero(x->buf, PMP_HEADER_SIZE + h.length);
	if (rc == 0 && h.type == PMP_MSG_ERROR) {
		pam_syslog(x->pamh, LOG_ERR, "the worker refused the request: %s (error %u)",
			   x->msg->has_text ? x->msg->text : "no reason given",
			   (unsigned)x->msg->error_code);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (h.version != PMP_VERSION) {
		pam_syslog(x->pamh, LOG_ERR,
			   "the worker speaks protocol version %u, this module %u: upgrade them together",
			   h.version, PMP_VERSION);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (rc != 0 || h.type != PMP_MSG_RESULT) {
		pam_syslog(x->pamh, LOG_ERR, "malformed answer from the worker (message type %u)",
			   h.type);
		return PAM_AUTHINFO_UNAVAIL;
	}
	return finish(x);
}

/* One REQUEST and its answer, on x->fd: one round trip. */
static int ask(struct exchange *x, unsigned op, int argc, const char **argv, int flags)
{
	int rc = send_request(x, op, argc, argv, flags);

	if (rc != 0)
		return rc == PMP_CLOSED ? PMP_CLOSED : PAM_AUTHINFO_UNAVAIL;
	return receive(x, flags);
}

/* The password, by libpam's rules (pam_get_authtok(3)): PAM_AUTHTOK if an earlier module set
 * it; otherwise none under use_first_pass (PAM_AUTH_ERR); otherwise libpam prompts with its own
 * "Password: " and stores the answer as PAM_AUTHTOK for later modules. Whether and how the
 * password is used is the worker's decision; the shim only says where it came from. */
static void get_password(struct exchange *x)
{
	const void *earlier = NULL;
	const char *tok = NULL;
	int rc;

	if (pam_get_item(x->pamh, PAM_AUTHTOK, &earlier) != PAM_SUCCESS)
		earlier = NULL;
	rc = pam_get_authtok(x->pamh, PAM_AUTHTOK, &tok, NULL);
	if (rc == PAM_SUCCESS && tok != NULL) {
		x->password = tok;
		x->password_from = earlier != NULL ? PMP_PW_EARLIER : PMP_PW_PROMPT;
	} else {
		x->password = NULL;
		x->password_from = rc == PAM_AUTH_ERR ? PMP_PW_NONE : PMP_PW_CONV_FAILED;
	}
}

static int run(pam_handle_t *pamh, unsigned op, int argc, const char **argv)
{
	struct exchange x = { .pamh = pamh, .fd = -1 };
	const char *path;
	const char *worker_user;
	int rc = PAM_AUTHINFO_UNAVAIL;

	read_transport_args(argc, argv, &path, &worker_user, &x.timeout_ms);
	x.buf = malloc(PMP_FRAME_CAP);
	x.msg = malloc(sizeof *x.msg);
	if (x.buf == NULL || x.msg == NULL) {
		pam_syslog(pamh, LOG_ERR, "out of memory");
		rc = PAM_BUF_ERR;
		goto out;
	}
	/* Before connecting, so that the connection carries only the REQUEST and its RESULT and
	 * is never held open while an application (or a person) answers a prompt. */
	if (op == PMP_OP_AUTHENTICATE)
		get_password(&x);
	if (op == PMP_OP_ACCOUNT && (x.fd = take_kept(pamh, path)) >= 0) {
		rc = ask(&x, op, argc, argv, PMP_QUIET_IF_CLOSED);
		if (rc != PMP_CLOSED)
			goto out;
		/* The worker closed the kept connection (restarted, or the offer ran out): the
		 * account request is read-only, so it is asked again on a new connection. */
		close(x.fd);
		rc = PAM_AUTHINFO_UNAVAIL;
	}
	x.fd = pmp_connect(pamh, path, worker_user, x.timeout_ms);
	if (x.fd < 0)
		goto out;
	rc = ask(&x, op, argc, argv, 0);
	if (op == PMP_OP_AUTHENTICATE && rc == PAM_SUCCESS && x.msg->has_keep_ms)
		keep_connection(&x, path, x.msg->keep_ms);
out:
	if (x.fd >= 0)
		close(x.fd);
	if (x.buf != NULL) {
		if (x.buf_dirty)
			explicit_bzero(x.buf, PMP_FRAME_CAP);
		free(x.buf);
	}
	free(x.msg);
	return rc;
}

PMP_EXPORT int pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return run(pamh, PMP_OP_AUTHENTICATE, argc, argv);
}

PMP_EXPORT int pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)flags;
	return run(pamh, PMP_OP_ACCOUNT, argc, argv);
}

PMP_EXPORT int pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}
