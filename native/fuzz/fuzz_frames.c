/* libFuzzer harness for the module's parsing of what the worker sends: the input is a byte
 * stream read frame by frame exactly as the dialogue does (header, bounds check, payload,
 * decode), so every length and field the worker could send is tried against frame.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static unsigned char *buf;
static struct pmp_message *msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t pos = 0;

	if (buf == NULL) {
		buf = malloc(PMP_FRAME_CAP);
		msg = malloc(sizeof *msg);
	}
	for (int step = 0; step < 8; step++) {
		struct pmp_header h;

		if (size - pos < PMP_HEADER_SIZE)
			return 0;
		memcpy(buf, data + pos, PMP_HEADER_SIZE);
		pmp_decode_header(buf, &h);
		pos += PMP_HEADER_SIZE;
		if (h.length > PMP_MAX_PAYLOAD || h.length > size - pos)
			return 0;
		/* An exactly sized copy, so a read past the payload is caught by ASan. */
		unsigned char *payload = malloc(h.length ? h.length : 1);
		memcpy(payload, data + pos, h.length);
		pos += h.length;
		if (pmp_decode_message(h.type, payload, h.length, msg) == 0) {
			/* What the module would then use: strings must be terminated within bounds. */
			volatile size_t n = strlen(msg->text);
			for (unsigned i = 0; i < msg->log_count; i++)
				n += strlen(msg->logs[i].text);
			(void)n;
			if (msg->log_count > PMP_LIMIT_LOG_ENTRIES)
				abort();
		}
		free(payload);
	}
	return 0;
}
