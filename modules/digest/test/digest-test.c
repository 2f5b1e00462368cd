/*
 * Host test driver for the digest core (digest-core.c), built with gcc
 * against Debian's mbedtls by the test suite. One request per line on stdin:
 *   sha256 <data>                                     -> ok <digest>
 *   pbkdf2 <password> <salt> <iterations> <length>    -> ok <derived key>
 *   random <length>                                   -> ok <bytes>
 * Fields are hex; "-" stands for an empty one. Anything that fails: error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "digest-core.h"
#include "driver.h"

#define MAX_DATA 8192

static void answer(int result, const uint8_t *data, size_t length)
{
	if (result != SMGW_DIGEST_OK) {
		printf("error\n");
		return;
	}
	printf("ok ");
	for (size_t i = 0; i < length; i++)
		printf("%02x", data[i]);
	printf("\n");
}

int main(void)
{
	static char line[4 * MAX_DATA];
	static uint8_t a[MAX_DATA], b[MAX_DATA], out[MAX_DATA];
	while (fgets(line, sizeof(line), stdin)) {
		char op[16], f1[2 * MAX_DATA + 1], f2[2 * MAX_DATA + 1];
		unsigned long iterations, length;
		if (sscanf(line, "sha256 %16384s", f1) == 1) {
			size_t n = unhex(f1, a, sizeof(a));
			answer(smgw_sha256(a, n, out), out, SMGW_SHA256_LENGTH);
		} else if (sscanf(line, "pbkdf2 %16384s %16384s %lu %lu", f1, f2, &iterations, &length) == 4 && length <= sizeof(out)) {
			size_t p = unhex(f1, a, sizeof(a)), s = unhex(f2, b, sizeof(b));
			answer(smgw_pbkdf2_sha256(a, p, b, s, (uint32_t)iterations, out, length), out, length);
		} else if (sscanf(line, "random %lu", &length) == 1 && length <= sizeof(out)) {
			answer(smgw_random(out, length), out, length);
		} else if (sscanf(line, "%15s", op) == 1) {
			printf("error\n");
		}
		fflush(stdout);
	}
	return 0;
}
