/* Frame encoding and decoding; see frame.h and docs/protocol.md. */
#include "frame.h"

#include <stddef.h>
#include <string.h>

static void put_be16(unsigned char *p, unsigned v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static unsigned get_be16(const unsigned char *p)
{
	return ((unsigned)p[0] << 8) | p[1];
}

static uint32_t get_be32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

void pmp_writer_init(struct pmp_writer *w, unsigned char *buf, size_t cap, unsigned type)
{
	w->buf = buf;
	w->cap = cap < PMP_FRAME_CAP ? cap : PMP_FRAME_CAP;
	w->len = PMP_HEADER_SIZE;
	w->overflow = w->cap < PMP_HEADER_SIZE;
	if (!w->overflow) {
		put_be16(buf, PMP_VERSION);
		put_be16(buf + 2, type);
		put_be32(buf + 4, 0);
	}
}

void pmp_put_bytes(struct pmp_writer *w, unsigned tag, const void *data, size_t len)
{
	if (w->overflow || len > 0xffff || w->cap - w->len < 3 + len) {
		w->overflow = 1;
		return;
	}
	w->buf[w->len] = (unsigned char)tag;
	put_be16(w->buf + w->len + 1, (unsigned)len);
	if (len > 0)
		memcpy(w->buf + w->len + 3, data, len);
	w->len += 3 + len;
}

void pmp_put_u32(struct pmp_writer *w, unsigned tag, uint32_t value)
{
	unsigned char v[4];

	put_be32(v, value);
	pmp_put_bytes(w, tag, v, sizeof v);
}

void pmp_put_capped(struct pmp_writer *w, unsigned tag, const char *s, size_t limit)
{
	if (s != NULL)
		pmp_put_bytes(w, tag, s, strnlen(s, limit + 1));
}

size_t pmp_writer_finish(struct pmp_writer *w)
{
	if (w->overflow)
		return 0;
	put_be32(w->buf + 4, (uint32_t)(w->len - PMP_HEADER_SIZE));
	return w->len;
}

void pmp_decode_header(const unsigned char buf[PMP_HEADER_SIZE], struct pmp_header *h)
{
	h->version = get_be16(buf);
	h->type = get_be16(buf + 2);
	h->length = get_be32(buf + 4);
}

/* Copies a text field; refuses over-long text and embedded NULs, which a correct worker never sends. */
static int copy_text(char *dst, const unsigned char *src, size_t len)
{
	if (len > PMP_LIMIT_TEXT || memchr(src, '\0', len) != NULL)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

/* Reads a 4-byte field that may appear once. */
static int take_u32(int *seen, uint32_t *out, const unsigned char *v, size_t len)
{
	if (len != 4 || *seen)
		return -1;
	*seen = 1;
	*out = get_be32(v);
	return 0;
}

static int decode_field(struct pmp_message *m, unsigned tag, const unsigned char *v, size_t len)
{
	switch (tag) {
	case PMP_F_CODE:
		return take_u32(&m->has_code, &m->code, v, len);
	case PMP_F_DELAY_USEC:
		return take_u32(&m->has_delay, &m->delay_usec, v, len);
	case PMP_F_ERROR_CODE:
		return take_u32(&m->has_error_code, &m->error_code, v, len);
	case PMP_F_KEEP_MS:
		return take_u32(&m->has_keep_ms, &m->keep_ms, v, len);
	case PMP_F_TEXT:
		if (m->has_text || copy_text(m->text, v, len) != 0)
			return -1;
		m->has_text = 1;
		return 0;
	case PMP_F_LOG: {
		struct pmp_log_entry *e;

		/* Only the levels the protocol defines: never EMERG, ALERT or CRIT. */
		if (len < 1 || m->log_count >= PMP_LIMIT_LOG_ENTRIES || v[0] < PMP_LOG_ERR ||
		    v[0] > PMP_LOG_DEBUG)
			return -1;
		e = &m->logs[m->log_count];
		e->level = v[0];
		if (copy_text(e->text, v + 1, len - 1) != 0)
			return -1;
		m->log_count++;
		return 0;
	}
	default:
		/* Unknown fields are skipped so a newer worker may add optional ones. */
		return 0;
	}
}

int pmp_decode_message(unsigned type, const unsigned char *payload, size_t len,
		       struct pmp_message *m)
{
	size_t pos = 0;

	memset(m, 0, offsetof(struct pmp_message, text));
	m->text[0] = '\0';
	if (len > PMP_MAX_PAYLOAD)
		return -1;
	while (pos < len) {
		unsigned tag;
		size_t flen;

		if (len - pos < 3)
			return -1;
		tag = payload[pos];
		flen = get_be16(payload + pos + 1);
		pos += 3;
		if (flen > len - pos)
			return -1;
		if (decode_field(m, tag, payload + pos, flen) != 0)
			return -1;
		pos += flen;
	}
	switch (type) {
	case PMP_MSG_RESULT:
		return m->has_code ? 0 : -1;
	case PMP_MSG_ERROR:
		return 0;
	default:
		return -1;
	}
}
