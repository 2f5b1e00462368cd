#include <string.h>
#include "digest-core.h"
#include "mbedtls/version.h"
#include "mbedtls/md.h"
#include "mbedtls/pkcs5.h"

#ifdef ESP_PLATFORM
#include "esp_random.h"
#else
#include <errno.h>
#include <sys/random.h>
#endif

int smgw_sha256(const uint8_t *data, size_t length, uint8_t out[SMGW_SHA256_LENGTH])
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	if (!info)
		return SMGW_DIGEST_FAILED;
	return mbedtls_md(info, data, length, out) == 0 ? SMGW_DIGEST_OK : SMGW_DIGEST_FAILED;
}

int smgw_pbkdf2_sha256(const uint8_t *password, size_t password_length, const uint8_t *salt, size_t salt_length,
	uint32_t iterations, uint8_t *out, size_t out_length)
{
	int result;
	if (iterations < 1 || out_length < 1 || out_length > 0xFFFFFFFFu)
		return SMGW_DIGEST_FAILED;
#if MBEDTLS_VERSION_NUMBER >= 0x03030000
	/* mbedtls 3.3 and later: the context-free entry point (the context one is deprecated). */
	result = mbedtls_pkcs5_pbkdf2_hmac_ext(MBEDTLS_MD_SHA256, password, password_length, salt, salt_length,
		iterations, (uint32_t)out_length, out);
#else
	{
		mbedtls_md_context_t context;
		const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
		if (!info)
			return SMGW_DIGEST_FAILED;
		mbedtls_md_init(&context);
		result = mbedtls_md_setup(&context, info, 1); /* 1: HMAC */
		if (result == 0)
			result = mbedtls_pkcs5_pbkdf2_hmac(&context, password, password_length, salt, salt_length,
				iterations, (uint32_t)out_length, out);
		mbedtls_md_free(&context); /* wipes the HMAC state, which holds the password */
	}
#endif
	return result == 0 ? SMGW_DIGEST_OK : SMGW_DIGEST_FAILED;
}

int smgw_random(uint8_t *out, size_t length)
{
#ifdef ESP_PLATFORM
	/* The hardware RNG; truly random while the radio (Wi-Fi) or the bootloader's entropy source runs. */
	esp_fill_random(out, length);
	return SMGW_DIGEST_OK;
#else
	while (length > 0) {
		ssize_t n = getrandom(out, length, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return SMGW_DIGEST_FAILED;
		}
		out += n;
		length -= (size_t)n;
	}
	return SMGW_DIGEST_OK;
#endif
}
