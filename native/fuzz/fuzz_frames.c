/* libFuzzer harness for the module's parsing of what the worker sends: the input is read as the
 * module reads the worker's one answer (header, bounds check, payload, decode), so every length
 * and field the worker could send is tried against frame.c. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

static struct pmp_message *msg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pmp_header h;
	unsigned char *payload;

	if (msg == NULL)
		msg = malloc(sizeof *msg);
	if (size < PMP_HEADER_SIZE)
		return 0;
	pmp_decode_header(data, &h);
	if (h.length > PMP_MAX_PAYLOAD || h.length > size - PMP_HEADER_SIZE)
		return 0;
	/* An exactly sized copy, so a read past the payload is caught by ASan. */
	payload = malloc(h.length ? h.length : 1);
	memcpy(payload, data + PMP_HEADER_SIZE, h.length);
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
	return 0;
}
