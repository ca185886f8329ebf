/* The module's end of the worker socket: connect to the real worker only, and move whole
 * frames with a deadline. Every failure is logged here with its cause, once. */
#ifndef PAM_MAPI_CHANNEL_H
#define PAM_MAPI_CHANNEL_H

#include <security/pam_modules.h>

#include "frame.h"

/* Connects to the worker at path and proves it is the real one: the socket file is a socket
 * owned by root or by the system user worker_user, and the peer process (SO_PEERCRED) runs as
 * root or as that user, so a process of anyone else that squats the path receives nothing. The
 * user's uid is looked up by name (getpwnam_r) only when a uid other than 0 shows up; a name
 * with no such user leaves root the only one trusted. Returns the connected descriptor, or -1. */
int pmp_connect(pam_handle_t *pamh, const char *path, const char *worker_user, int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds. */
long long pmp_now_ms(void);

/* For a connection kept from an earlier call, which the worker may have closed meanwhile:
 * "closed" (EPIPE, ECONNRESET, or end of stream before the first byte) is then returned as
 * PMP_CLOSED without a log line, so the caller can open a new connection instead. */
#define PMP_QUIET_IF_CLOSED 1
#define PMP_CLOSED (-2)

/* Sends len bytes; returns 0, or -1 (logged), or PMP_CLOSED (see above). */
int pmp_send(pam_handle_t *pamh, int fd, const unsigned char *buf, size_t len, int timeout_ms,
	     int flags);

/* Receives one frame into buf (PMP_FRAME_CAP bytes). Returns 0 with *h filled and the payload at
 * buf + PMP_HEADER_SIZE, or -1 (logged), or PMP_CLOSED (see above). A frame of another protocol
 * version is still read whole when it fits, so its ERROR text can be shown. */
int pmp_recv(pam_handle_t *pamh, int fd, unsigned char *buf, struct pmp_header *h, int timeout_ms,
	     int flags);

#endif
