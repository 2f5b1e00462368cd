/*
 * Host test driver for the AES-GCM core (aes-gcm-core.c), built with gcc
 * against Debian's mbedtls by the test suite. One request per line on stdin:
 *   gcm <key> <iv> <aad> <tag> <ciphertext>   -> ok <plaintext> | tag-mismatch | error
 *   stream <key> <iv> <data>                  -> ok <data with keystream applied> | error
 *   cbc <key> <iv> <ciphertext>               -> ok <plaintext> | error
 *   bench <bytes> <rounds>                    -> bench <gcm bytes/s> <stream bytes/s>
 * ("-" stands for an empty hex field.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "aes-gcm-core.h"
#include "driver.h"

static void hex(const uint8_t *data, size_t length)
{
	for (size_t i = 0; i < length; i++)
		printf("%02x", data[i]);
}

static double seconds(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void bench(size_t bytes, int rounds)
{
	static const uint8_t key_bytes[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
	uint8_t iv[12] = { 0 }, tag[12] = { 0 };
	uint8_t *in = calloc(1, bytes), *out = calloc(1, bytes);
	smgw_aes_key key;
	double start, gcm, stream;
	smgw_aes_key_init(&key, key_bytes);
	start = seconds();
	for (int r = 0; r < rounds; r++)
		smgw_aes_gcm_decrypt(&key, iv, 12, iv, 12, tag, 12, in, bytes, out); /* the tag fails; the work is done */
	gcm = seconds() - start;
	start = seconds();
	for (int r = 0; r < rounds; r++)
		smgw_aes_gcm_keystream(&key, iv, in, bytes, out);
	stream = seconds() - start;
	smgw_aes_key_free(&key);
	printf("bench %.0f %.0f\n", bytes * (double)rounds / gcm, bytes * (double)rounds / stream);
	free(in);
	free(out);
}

int main(void)
{
	static char line[65536];
	static char field[6][16384];
	static uint8_t key_bytes[64], iv[64], aad[8192], tag[64], data[8192], out[8192];
	while (fgets(line, sizeof(line), stdin)) {
		int n = sscanf(line, "%15s %16383s %16383s %16383s %16383s %16383s", field[0], field[1], field[2], field[3], field[4], field[5]);
		smgw_aes_key key;
		if (n >= 3 && strcmp(field[0], "bench") == 0) {
			bench((size_t)atol(field[1]), atoi(field[2]));
			continue;
		}
		if (n == 6 && strcmp(field[0], "gcm") == 0) {
			size_t k = unhex(field[1], key_bytes, sizeof(key_bytes));
			size_t ivl = unhex(field[2], iv, sizeof(iv));
			size_t aadl = unhex(field[3], aad, sizeof(aad));
			size_t tagl = unhex(field[4], tag, sizeof(tag));
			size_t length = unhex(field[5], data, sizeof(data));
			int result;
			if (k != 16 || smgw_aes_key_init(&key, key_bytes) != SMGW_AES_OK) {
				puts("error");
				continue;
			}
			result = smgw_aes_gcm_decrypt(&key, iv, ivl, aad, aadl, tag, tagl, data, length, out);
			smgw_aes_key_free(&key);
			if (result == SMGW_AES_TAG_MISMATCH)
				puts("tag-mismatch");
			else if (result != SMGW_AES_OK)
				puts("error");
			else {
				printf("ok ");
				hex(out, length);
				printf("\n");
			}
			continue;
		}
		if (n == 4 && strcmp(field[0], "stream") == 0) {
			size_t k = unhex(field[1], key_bytes, sizeof(key_bytes));
			size_t ivl = unhex(field[2], iv, sizeof(iv));
			size_t length = unhex(field[3], data, sizeof(data));
			if (k != 16 || ivl != 12 || smgw_aes_key_init(&key, key_bytes) != SMGW_AES_OK) {
				puts("error");
				continue;
			}
			if (smgw_aes_gcm_keystream(&key, iv, data, length, out) != SMGW_AES_OK)
				puts("error");
			else {
				printf("ok ");
				hex(out, length);
				printf("\n");
			}
			smgw_aes_key_free(&key);
			continue;
		}
		if (n == 4 && strcmp(field[0], "cbc") == 0) {
			size_t k = unhex(field[1], key_bytes, sizeof(key_bytes));
			size_t ivl = unhex(field[2], iv, sizeof(iv));
			size_t length = unhex(field[3], data, sizeof(data));
			if (k != 16 || ivl != 16 || smgw_aes_key_init(&key, key_bytes) != SMGW_AES_OK) {
				puts("error");
				continue;
			}
			if (smgw_aes_cbc_decrypt(&key, iv, data, length, out) != SMGW_AES_OK)
				puts("error");
			else {
				printf("ok ");
				hex(out, length);
				printf("\n");
			}
			smgw_aes_key_free(&key);
			continue;
		}
		puts("error");
	}
	return 0;
}
