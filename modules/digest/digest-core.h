/*
 * SHA-256, PBKDF2-HMAC-SHA-256 and strong random bytes for the crypto port on
 * the ESP32: the event log's hash chain and the portal's password hash. Over
 * mbedtls, which ESP-IDF builds on the SHA accelerator. Plain C with no XS
 * dependency, so that it is tested on the host with Debian's mbedtls (2.28;
 * ESP-IDF 5 and later ship 3.x, whose PBKDF2 entry point differs).
 */
#ifndef SMGW_DIGEST_CORE_H
#define SMGW_DIGEST_CORE_H

#include <stddef.h>
#include <stdint.h>

#define SMGW_DIGEST_OK 0
#define SMGW_DIGEST_FAILED 1

#define SMGW_SHA256_LENGTH 32

/* SHA-256 of length bytes at data into out[32]. */
int smgw_sha256(const uint8_t *data, size_t length, uint8_t out[SMGW_SHA256_LENGTH]);

/* PBKDF2 (RFC 8018) with HMAC-SHA-256: out_length bytes derived from the password and salt. */
int smgw_pbkdf2_sha256(const uint8_t *password, size_t password_length, const uint8_t *salt, size_t salt_length,
	uint32_t iterations, uint8_t *out, size_t out_length);

/* length bytes from the platform's cryptographically strong generator (the ESP32's RNG; getrandom on a host). */
int smgw_random(uint8_t *out, size_t length);

#endif
