/*
 * What the native modules' host test drivers (modules/<name>/test/<name>-test.c)
 * share: their requests and answers are hex fields, "-" for an empty one.
 */
#ifndef SMGW_TEST_DRIVER_H
#define SMGW_TEST_DRIVER_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Parses hex text into `out` (at most `max` bytes); returns how many bytes it holds. */
static inline size_t unhex(const char *text, uint8_t *out, size_t max)
{
	size_t n = 0;
	if (strcmp(text, "-") == 0)
		return 0;
	while (text[0] && text[1] && n < max) {
		unsigned v;
		if (sscanf(text, "%2x", &v) != 1)
			break;
		out[n++] = (uint8_t)v;
		text += 2;
	}
	return n;
}

#endif
