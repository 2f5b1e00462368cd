/*
 * The peer for the SML benchmark: libsml (Debian's libsml-dev), decoding the
 * same SML files our decoder does, with the work a reader needs per file: the
 * transport CRC, sml_file_parse, and every GetListResponse entry's value as
 * a number (sml_value_to_double) with its scaler. Built with gcc by
 * scripts/bench/decoders.ts when libsml is installed.
 *
 *   stdin: one SML file per line, as hex; argv[1]: milliseconds to run
 *   stdout: "rate <files/s> <files> <values per round>"
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include <sml/sml_file.h>
#include <sml/sml_crc16.h>
#include <sml/sml_value.h>

#define MAX_FILES 256
#define MAX_BYTES 4096

static unsigned char files[MAX_FILES][MAX_BYTES];
static size_t lengths[MAX_FILES];

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

/* One file as a reader reads it: -1 when its CRC or its messages do not parse, else the values read. */
static int decode(unsigned char *b, size_t n, double *sink)
{
	int values = 0;
	if (n < 16)
		return -1;
	/* The transport CRC, as sml_transport_read checks it (libsml's CRC-16/X-25 comes with its bytes swapped). */
	if (sml_crc16_calculate(b, (int)n - 2) != (u16)((b[n - 2] << 8) | b[n - 1]))
		return -1;
	sml_file *file = sml_file_parse(b + 8, n - 16);
	if (!file)
		return -1;
	for (int m = 0; m < file->messages_len; m++) {
		sml_message *message = file->messages[m];
		if (!message->message_body || *message->message_body->tag != SML_MESSAGE_GET_LIST_RESPONSE)
			continue;
		sml_get_list_response *list = message->message_body->data;
		for (sml_list *entry = list->val_list; entry; entry = entry->next) {
			/* Numbers only (octet strings are ids and texts: libsml has no number for them). */
			if (!entry->value || ((entry->value->type & 0x70) != 0x50 && (entry->value->type & 0x70) != 0x60))
				continue;
			double v = sml_value_to_double(entry->value);
			if (entry->scaler)
				v *= pow(10, *entry->scaler);
			*sink += v;
			values++;
		}
	}
	sml_file_free(file);
	return values;
}

static int unhex(const char *text, unsigned char *out, size_t max)
{
	size_t n = 0;
	while (text[0] && text[1] && text[0] != '\n' && n < max) {
		unsigned v;
		if (sscanf(text, "%2x", &v) != 1)
			return -1;
		out[n++] = (unsigned char)v;
		text += 2;
	}
	return (int)n;
}

int main(int argc, char **argv)
{
	static char line[2 * MAX_BYTES + 2];
	int count = 0, values = 0;
	double sink = 0;
	double ms = argc > 1 ? atof(argv[1]) : 1000;
	while (count < MAX_FILES && fgets(line, sizeof(line), stdin)) {
		int n = unhex(line, files[count], MAX_BYTES);
		if (n > 0)
			lengths[count++] = (size_t)n;
	}
	for (int i = 0; i < count; i++) {
		/* libsml parses a scratch copy: it may write into the buffer it is given. */
		static unsigned char scratch[MAX_BYTES];
		memcpy(scratch, files[i], lengths[i]);
		int v = decode(scratch, lengths[i], &sink);
		if (v < 0) {
			printf("error file %d does not decode\n", i);
			return 1;
		}
		values += v;
	}
	long rounds = 0;
	double start = seconds(), elapsed = 0;
	while (elapsed * 1000 < ms) {
		for (int i = 0; i < count; i++)
			decode(files[i], lengths[i], &sink);
		rounds++;
		elapsed = seconds() - start;
	}
	printf("rate %.0f %d %d %s\n", rounds * count / elapsed, count, values, sink == 12345.678 ? "!" : "");
	return 0;
}
