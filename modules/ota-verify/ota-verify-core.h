/*
 * What the firmware updater needs of mbedtls, in plain C with no XS
 * dependency so that it is tested on the host against Debian's mbedtls
 * (2.28) with gcc: ECDSA P-256 verification of a release header's signature,
 * and SHA-256 over an image too large for RAM, fed in pieces. On the ESP32,
 * ESP-IDF's mbedtls runs SHA-256 on the SHA accelerator and the P-256
 * arithmetic on the MPI accelerator.
 */
#ifndef SMGW_OTA_VERIFY_CORE_H
#define SMGW_OTA_VERIFY_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "mbedtls/md.h"

#define SMGW_VERIFY_OK 0
/* The signature does not verify under the key. */
#define SMGW_VERIFY_BAD_SIGNATURE 1
/* The key is not a point on P-256, or mbedtls failed. */
#define SMGW_VERIFY_FAILED 2

#define SMGW_P256_PUBLIC_LENGTH 65
#define SMGW_P256_SIGNATURE_LENGTH 64
#define SMGW_SHA256_STREAM_LENGTH 32

/*
 * Verifies an ECDSA P-256 signature (r || s, 32 bytes each) over SHA-256 of
 * message, under the uncompressed public point (04 || x || y).
 */
int smgw_p256_verify(const uint8_t public_key[SMGW_P256_PUBLIC_LENGTH], const uint8_t *message, size_t message_length,
	const uint8_t signature[SMGW_P256_SIGNATURE_LENGTH]);

/* SHA-256 fed in pieces. */
typedef struct {
	mbedtls_md_context_t md;
	int started;
} smgw_sha256_stream;

int smgw_sha256_stream_start(smgw_sha256_stream *s);
int smgw_sha256_stream_update(smgw_sha256_stream *s, const uint8_t *data, size_t length);
/* Writes the digest and frees the state (the stream cannot be fed again). */
int smgw_sha256_stream_finish(smgw_sha256_stream *s, uint8_t out[SMGW_SHA256_STREAM_LENGTH]);
/* Frees the state; harmless on a finished or never started stream. */
void smgw_sha256_stream_free(smgw_sha256_stream *s);

#endif
