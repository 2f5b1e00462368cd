/*
 * Host test driver for the OTA verify core (ota-verify-core.c), built with gcc
 * against Debian's mbedtls by the test suite. One request per line on stdin:
 *   verify <public key> <message> <signature>  -> ok | bad-signature | error
 *   stream <piece> <piece> ...                 -> ok <SHA-256 of the pieces in order>
 * Fields are hex; "-" stands for an empty one.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ota-verify-core.h"
#include "driver.h"

#define MAX_DATA 8192

int main(void)
{
	static char line[8 * MAX_DATA];
	static uint8_t key[128], message[MAX_DATA], signature[128], piece[MAX_DATA];
	while (fgets(line, sizeof(line), stdin)) {
		char *save = NULL;
		char *op = strtok_r(line, " \n", &save);
		if (!op)
			continue;
		if (strcmp(op, "verify") == 0) {
			char *k = strtok_r(NULL, " \n", &save), *m = strtok_r(NULL, " \n", &save), *s = strtok_r(NULL, " \n", &save);
			if (!k || !m || !s || unhex(k, key, sizeof(key)) != SMGW_P256_PUBLIC_LENGTH || unhex(s, signature, sizeof(signature)) != SMGW_P256_SIGNATURE_LENGTH) {
				printf("error\n");
			} else {
				int r = smgw_p256_verify(key, message, unhex(m, message, sizeof(message)), signature);
				printf("%s\n", r == SMGW_VERIFY_OK ? "ok" : r == SMGW_VERIFY_BAD_SIGNATURE ? "bad-signature" : "error");
			}
		} else if (strcmp(op, "stream") == 0) {
			smgw_sha256_stream s;
			uint8_t out[SMGW_SHA256_STREAM_LENGTH];
			char *p;
			int r = smgw_sha256_stream_start(&s);
			while (r == SMGW_VERIFY_OK && (p = strtok_r(NULL, " \n", &save)))
				r = smgw_sha256_stream_update(&s, piece, unhex(p, piece, sizeof(piece)));
			if (r == SMGW_VERIFY_OK)
				r = smgw_sha256_stream_finish(&s, out);
			smgw_sha256_stream_free(&s);
			if (r != SMGW_VERIFY_OK) {
				printf("error\n");
			} else {
				printf("ok ");
				for (size_t i = 0; i < sizeof(out); i++)
					printf("%02x", out[i]);
				printf("\n");
			}
		} else {
			printf("error\n");
		}
		fflush(stdout);
	}
	return 0;
}
