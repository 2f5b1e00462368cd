/*
 * AES-128-GCM for DLMS security (IEC 62056-5-3, Green Book 9.2.7) and
 * AES-128-CBC decryption for wired M-Bus with OMS security mode 5
 * (EN 13757-7, OMS Vol. 2) over mbedtls. On the ESP32, ESP-IDF builds mbedtls with its AES hardware
 * acceleration, so these calls run on the accelerator. Plain C with no XS
 * dependency, so that it is tested on the host with Debian's mbedtls.
 */
#ifndef SMGW_AES_GCM_CORE_H
#define SMGW_AES_GCM_CORE_H

#include <stddef.h>
#include <stdint.h>
#include "mbedtls/aes.h"
#include "mbedtls/gcm.h"

#define SMGW_AES_OK 0
#define SMGW_AES_TAG_MISMATCH 1
#define SMGW_AES_FAILED 2

typedef struct {
	mbedtls_gcm_context gcm;
	mbedtls_aes_context aes;
	/* The decryption key schedule, for CBC: the other contexts only ever encrypt. */
	mbedtls_aes_context aes_dec;
} smgw_aes_key;

/* Expands a 16-byte key into all three contexts. */
int smgw_aes_key_init(smgw_aes_key *key, const uint8_t bytes[16]);

/* Authenticated decryption: out receives length bytes only when the tag verifies. */
int smgw_aes_gcm_decrypt(smgw_aes_key *key, const uint8_t *iv, size_t iv_length,
	const uint8_t *aad, size_t aad_length, const uint8_t *tag, size_t tag_length,
	const uint8_t *in, size_t length, uint8_t *out);

/* The GCM keystream without the tag: AES-CTR from IV || 00000002 (DLMS security control 0x20). */
int smgw_aes_gcm_keystream(smgw_aes_key *key, const uint8_t iv[12], const uint8_t *in, size_t length, uint8_t *out);

/* AES-128-CBC decryption without padding: length must be a multiple of 16; the IV is not changed. */
int smgw_aes_cbc_decrypt(smgw_aes_key *key, const uint8_t iv[16], const uint8_t *in, size_t length, uint8_t *out);

/* Frees the contexts and wipes them. */
void smgw_aes_key_free(smgw_aes_key *key);

#endif
