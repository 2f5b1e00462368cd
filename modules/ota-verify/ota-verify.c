/*
 * XS binding of the OTA verify core: verifyP256(publicKey, message,
 * signature) answers whether the release signature verifies, and Sha256Stream
 * hashes an image piece by piece with its state in native memory.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "ota-verify-core.h"

void xs_sha256stream_destructor(void *data)
{
	if (data) {
		smgw_sha256_stream_free((smgw_sha256_stream *)data);
		c_free(data);
	}
}

static const xsHostHooks xsSha256StreamHooks = {
	xs_sha256stream_destructor,
	NULL,
	NULL
};

/* verifyP256(publicKey, message, signature): true when the signature verifies. */
void xs_otaverify_p256(xsMachine *the)
{
	void *key, *message, *signature;
	xsUnsignedValue keyLength, messageLength, signatureLength;
	int result;
	xsmcGetBufferReadable(xsArg(0), &key, &keyLength);
	xsmcGetBufferReadable(xsArg(1), &message, &messageLength);
	xsmcGetBufferReadable(xsArg(2), &signature, &signatureLength);
	if (keyLength != SMGW_P256_PUBLIC_LENGTH)
		xsRangeError("ota-verify: the public key must be 65 bytes (04 || x || y)");
	if (signatureLength != SMGW_P256_SIGNATURE_LENGTH)
		xsRangeError("ota-verify: the signature must be 64 bytes (r || s)");
	result = smgw_p256_verify(key, message, messageLength, signature);
	if (result == SMGW_VERIFY_FAILED)
		xsUnknownError("ota-verify: the public key is not a P-256 point");
	xsmcSetBoolean(xsResult, result == SMGW_VERIFY_OK);
}

void xs_sha256stream_constructor(xsMachine *the)
{
	smgw_sha256_stream *s = c_calloc(1, sizeof(smgw_sha256_stream));
	if (!s)
		xsUnknownError("ota-verify: no memory");
	if (smgw_sha256_stream_start(s) != SMGW_VERIFY_OK) {
		c_free(s);
		xsUnknownError("ota-verify: sha256 start failed");
	}
	xsmcSetHostData(xsThis, s);
	xsSetHostHooks(xsThis, (xsHostHooks *)&xsSha256StreamHooks);
}

static smgw_sha256_stream *getStream(xsMachine *the)
{
	smgw_sha256_stream *s = xsmcGetHostDataValidate(xsThis, (void *)&xsSha256StreamHooks);
	if (!s || !s->started)
		xsUnknownError("ota-verify: the hash is finished");
	return s;
}

void xs_sha256stream_update(xsMachine *the)
{
	void *data;
	xsUnsignedValue length;
	smgw_sha256_stream *s = getStream(the);
	xsmcGetBufferReadable(xsArg(0), &data, &length);
	if (smgw_sha256_stream_update(s, data, length) != SMGW_VERIFY_OK)
		xsUnknownError("ota-verify: sha256 update failed");
}

void xs_sha256stream_digest(xsMachine *the)
{
	void *out;
	xsUnsignedValue outLength;
	smgw_sha256_stream *s = getStream(the);
	xsmcSetArrayBuffer(xsResult, NULL, SMGW_SHA256_STREAM_LENGTH);
	xsmcGetBufferWritable(xsResult, &out, &outLength);
	if (smgw_sha256_stream_finish(s, out) != SMGW_VERIFY_OK)
		xsUnknownError("ota-verify: sha256 finish failed");
}
