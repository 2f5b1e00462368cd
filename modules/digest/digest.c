/*
 * XS binding of the digest core: sha256(data), pbkdf2(password, salt,
 * iterations, length) and random(length), each answering an ArrayBuffer.
 * The password is copied to the C stack only as long as mbedtls needs it.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "digest-core.h"

#define kMaxDerived 255
#define kMaxRandom 4096

/* sha256(data): the 32-byte digest. */
void xs_digest_sha256(xsMachine *the)
{
	void *data, *out;
	xsUnsignedValue length, outLength;
	xsmcSetArrayBuffer(xsResult, NULL, SMGW_SHA256_LENGTH);
	/* Allocating the result may move relocatable buffers: read the input afterwards. */
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	xsmcGetBufferWritable(xsResult, &out, &outLength);
	if (smgw_sha256(data, length, out) != SMGW_DIGEST_OK)
		xsUnknownError("digest: sha256 failed");
}

/* pbkdf2(password, salt, iterations, length): PBKDF2-HMAC-SHA-256. */
void xs_digest_pbkdf2(xsMachine *the)
{
	void *password, *salt, *out;
	xsUnsignedValue passwordLength, saltLength, outLength;
	xsIntegerValue iterations = xsmcToInteger(xsArg(2));
	xsIntegerValue length = xsmcToInteger(xsArg(3));
	if (iterations < 1)
		xsRangeError("digest: pbkdf2 needs at least one iteration");
	if ((length < 1) || (length > kMaxDerived))
		xsRangeError("digest: pbkdf2 length must be 1..255 bytes");
	xsmcSetArrayBuffer(xsResult, NULL, (xsUnsignedValue)length);
	xsmcGetBufferReadable(xsArg(0), &password, &passwordLength);
	xsmcGetBufferReadable(xsArg(1), &salt, &saltLength);
	xsmcGetBufferWritable(xsResult, &out, &outLength);
	if (smgw_pbkdf2_sha256(password, passwordLength, salt, saltLength, (uint32_t)iterations, out, outLength) != SMGW_DIGEST_OK)
		xsUnknownError("digest: pbkdf2 failed");
}

/* random(length): length bytes from the hardware RNG. */
void xs_digest_random(xsMachine *the)
{
	void *out;
	xsUnsignedValue outLength;
	xsIntegerValue length = xsmcToInteger(xsArg(0));
	if ((length < 0) || (length > kMaxRandom))
		xsRangeError("digest: random length must be 0..4096 bytes");
	xsmcSetArrayBuffer(xsResult, NULL, (xsUnsignedValue)length);
	xsmcGetBufferWritable(xsResult, &out, &outLength);
	if (smgw_random(out, outLength) != SMGW_DIGEST_OK)
		xsUnknownError("digest: random failed");
}
