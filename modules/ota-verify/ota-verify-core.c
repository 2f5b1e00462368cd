#include <string.h>
#include "ota-verify-core.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/ecp.h"
#include "mbedtls/bignum.h"

int smgw_p256_verify(const uint8_t public_key[SMGW_P256_PUBLIC_LENGTH], const uint8_t *message, size_t message_length,
	const uint8_t signature[SMGW_P256_SIGNATURE_LENGTH])
{
	mbedtls_ecp_group group;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s;
	uint8_t hash[32];
	int result = SMGW_VERIFY_FAILED;
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);

	if (!info || mbedtls_md(info, message, message_length, hash) != 0)
		return SMGW_VERIFY_FAILED;
	mbedtls_ecp_group_init(&group);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (mbedtls_ecp_group_load(&group, MBEDTLS_ECP_DP_SECP256R1) != 0)
		goto done;
	/* A point not on the curve is refused here: a malformed key never reaches the arithmetic. */
	if (mbedtls_ecp_point_read_binary(&group, &q, public_key, SMGW_P256_PUBLIC_LENGTH) != 0 || mbedtls_ecp_check_pubkey(&group, &q) != 0)
		goto done;
	if (mbedtls_mpi_read_binary(&r, signature, 32) != 0 || mbedtls_mpi_read_binary(&s, signature + 32, 32) != 0)
		goto done;
	/* mbedtls checks 0 < r, s < n itself and answers a verify failure for anything else. */
	result = mbedtls_ecdsa_verify(&group, hash, sizeof(hash), &q, &r, &s) == 0 ? SMGW_VERIFY_OK : SMGW_VERIFY_BAD_SIGNATURE;
done:
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&r);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&group);
	return result;
}

int smgw_sha256_stream_start(smgw_sha256_stream *s)
{
	const mbedtls_md_info_t *info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
	memset(s, 0, sizeof(*s));
	if (!info)
		return SMGW_VERIFY_FAILED;
	mbedtls_md_init(&s->md);
	s->started = 1;
	if (mbedtls_md_setup(&s->md, info, 0) != 0 || mbedtls_md_starts(&s->md) != 0) {
		smgw_sha256_stream_free(s);
		return SMGW_VERIFY_FAILED;
	}
	return SMGW_VERIFY_OK;
}

int smgw_sha256_stream_update(smgw_sha256_stream *s, const uint8_t *data, size_t length)
{
	if (!s->started)
		return SMGW_VERIFY_FAILED;
	return mbedtls_md_update(&s->md, data, length) == 0 ? SMGW_VERIFY_OK : SMGW_VERIFY_FAILED;
}

int smgw_sha256_stream_finish(smgw_sha256_stream *s, uint8_t out[SMGW_SHA256_STREAM_LENGTH])
{
	int result;
	if (!s->started)
		return SMGW_VERIFY_FAILED;
	result = mbedtls_md_finish(&s->md, out) == 0 ? SMGW_VERIFY_OK : SMGW_VERIFY_FAILED;
	smgw_sha256_stream_free(s);
	return result;
}

void smgw_sha256_stream_free(smgw_sha256_stream *s)
{
	if (s->started)
		mbedtls_md_free(&s->md);
	s->started = 0;
}
