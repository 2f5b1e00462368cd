#include <string.h>
#include "aes-gcm-core.h"
#include "mbedtls/platform_util.h"

int smgw_aes_key_init(smgw_aes_key *key, const uint8_t bytes[16])
{
	mbedtls_gcm_init(&key->gcm);
	mbedtls_aes_init(&key->aes);
	mbedtls_aes_init(&key->aes_dec);
	if (mbedtls_gcm_setkey(&key->gcm, MBEDTLS_CIPHER_ID_AES, bytes, 128) != 0)
		return SMGW_AES_FAILED;
	if (mbedtls_aes_setkey_enc(&key->aes, bytes, 128) != 0)
		return SMGW_AES_FAILED;
	if (mbedtls_aes_setkey_dec(&key->aes_dec, bytes, 128) != 0)
		return SMGW_AES_FAILED;
	return SMGW_AES_OK;
}

int smgw_aes_gcm_decrypt(smgw_aes_key *key, const uint8_t *iv, size_t iv_length,
	const uint8_t *aad, size_t aad_length, const uint8_t *tag, size_t tag_length,
	const uint8_t *in, size_t length, uint8_t *out)
{
	int result = mbedtls_gcm_auth_decrypt(&key->gcm, length, iv, iv_length, aad, aad_length, tag, tag_length, in, out);
	if (result == MBEDTLS_ERR_GCM_AUTH_FAILED) {
		/* mbedtls already wiped out; say why in a way the caller can tell apart. */
		return SMGW_AES_TAG_MISMATCH;
	}
	return result == 0 ? SMGW_AES_OK : SMGW_AES_FAILED;
}

int smgw_aes_gcm_keystream(smgw_aes_key *key, const uint8_t iv[12], const uint8_t *in, size_t length, uint8_t *out)
{
	uint8_t counter[16];
	uint8_t block[16];
	size_t offset = 0;
	int result;
	memcpy(counter, iv, 12);
	counter[12] = 0;
	counter[13] = 0;
	counter[14] = 0;
	counter[15] = 2; /* GCM: counter 1 masks the tag; the data starts at 2 */
	result = mbedtls_aes_crypt_ctr(&key->aes, length, &offset, counter, block, in, out);
	mbedtls_platform_zeroize(block, sizeof(block));
	return result == 0 ? SMGW_AES_OK : SMGW_AES_FAILED;
}

int smgw_aes_cbc_decrypt(smgw_aes_key *key, const uint8_t iv[16], const uint8_t *in, size_t length, uint8_t *out)
{
	uint8_t chain[16];
	int result;
	if (length % 16 != 0)
		return SMGW_AES_FAILED;
	memcpy(chain, iv, 16); /* mbedtls advances the IV it is given: work on a copy */
	result = mbedtls_aes_crypt_cbc(&key->aes_dec, MBEDTLS_AES_DECRYPT, length, chain, in, out);
	mbedtls_platform_zeroize(chain, sizeof(chain));
	return result == 0 ? SMGW_AES_OK : SMGW_AES_FAILED;
}

void smgw_aes_key_free(smgw_aes_key *key)
{
	mbedtls_gcm_free(&key->gcm);
	mbedtls_aes_free(&key->aes);
	mbedtls_aes_free(&key->aes_dec);
	mbedtls_platform_zeroize(key, sizeof(*key));
}
