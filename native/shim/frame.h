/* Encoding and decoding of pam_mapi protocol frames (see docs/protocol.md).
 * Pure functions over caller-owned, bounded buffers: no I/O, no allocation, so the decoder
 * can be fuzzed on its own. */
#ifndef PAM_MAPI_FRAME_H
#define PAM_MAPI_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "pam_mapi_protocol.h"

#define PMP_FRAME_CAP (PMP_HEADER_SIZE + PMP_MAX_PAYLOAD)

struct pmp_header {
	unsigned version;
	unsigned type;
	uint32_t length;
};

struct pmp_writer {
	unsigned char *buf;
	size_t cap;
	size_t len;
	int overflow;
};

struct pmp_log_entry {
	unsigned level;
	char text[PMP_LIMIT_TEXT + 1];
};

/* A decoded worker-to-module message. Strings are NUL-terminated and contain no NUL. The
 * scalars come first: decoding clears them, not the 35 KB of text buffers, which are always
 * written before they are read. */
struct pmp_message {
	int has_code;
	uint32_t code;
	int has_delay;
	uint32_t delay_usec;
	int has_error_code;
	uint32_t error_code;
	int has_keep_ms;
	uint32_t keep_ms;
	unsigned log_count;
	int has_text;
	char text[PMP_LIMIT_TEXT + 1];
	struct pmp_log_entry logs[PMP_LIMIT_LOG_ENTRIES];
};

void pmp_writer_init(struct pmp_writer *w, unsigned char *buf, size_t cap, unsigned type);
void pmp_put_bytes(struct pmp_writer *w, unsigned tag, const void *data, size_t len);
void pmp_put_u32(struct pmp_writer *w, unsigned tag, uint32_t value);
/* Puts at most limit + 1 bytes of s: enough for the worker to see that s is over its limit,
 * without the module deciding anything about it. A NULL s puts nothing. */
void pmp_put_capped(struct pmp_writer *w, unsigned tag, const char *s, size_t limit);
/* Writes the payload length into the header; returns the frame's size, or 0 on overflow. */
size_t pmp_writer_finish(struct pmp_writer *w);

void pmp_decode_header(const unsigned char buf[PMP_HEADER_SIZE], struct pmp_header *h);
/* Decodes the payload of a worker message. Returns 0, or -1 when it is malformed. */
int pmp_decode_message(unsigned type, const unsigned char *payload, size_t len,
		       struct pmp_message *m);

#endif
