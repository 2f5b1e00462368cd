/*
 * XS binding of the AES-GCM core: a key object whose key schedule lives in
 * native memory. The constructor wipes the buffer it was given, so that the
 * key bytes do not stay in the JS heap; close() (or garbage collection) wipes
 * and frees the native copy.
 */
#include "xsmc.h"
#include "xsHost.h"
#include "aes-gcm-core.h"

#define kKeyLength 16
#define kIVLength 12
#define kMaxTagLength 16

void xs_aesgcm_destructor(void *data)
{
	if (data) {
		smgw_aes_key_free((smgw_aes_key *)data);
		c_free(data);
	}
}

static const xsHostHooks xsAesGcmHooks = {
	xs_aesgcm_destructor,
	NULL,
	NULL
};

static smgw_aes_key *getKey(xsMachine *the)
{
	smgw_aes_key *key = xsmcGetHostDataValidate(xsThis, (void *)&xsAesGcmHooks);
	if (!key)
		xsUnknownError("aes-gcm: key closed");
	return key;
}

void xs_aesgcm_constructor(xsMachine *the)
{
	void *bytes;
	xsUnsignedValue length;
	smgw_aes_key *key;

	xsmcGetBufferWritable(xsArg(0), &bytes, &length);
	if (length != kKeyLength)
		xsRangeError("aes-gcm: the key must be 16 bytes");
	key = c_calloc(1, sizeof(smgw_aes_key));
	if (!key)
		xsUnknownError("aes-gcm: no memory");
	if (smgw_aes_key_init(key, bytes) != SMGW_AES_OK) {
		smgw_aes_key_free(key);
		c_free(key);
		xsUnknownError("aes-gcm: key setup failed");
	}
	c_memset(bytes, 0, length);
	xsmcSetHostData(xsThis, key);
	xsSetHostHooks(xsThis, (xsHostHooks *)&xsAesGcmHooks);
}

void xs_aesgcm_close(xsMachine *the)
{
	smgw_aes_key *key = xsmcGetHostDataValidate(xsThis, (void *)&xsAesGcmHooks);
	if (key) {
		xs_aesgcm_destructor(key);
		xsmcSetHostData(xsThis, NULL);
	}
}

/* decrypt(iv, ciphertext, aad, tag): the plaintext as an ArrayBuffer; throws when the tag does not verify. */
void xs_aesgcm_decrypt(xsMachine *the)
{
	smgw_aes_key *key = getKey(the);
	void *iv, *in, *aad, *tag, *out;
	xsUnsignedValue ivLength, length, aadLength, tagLength;
	uint8_t ivCopy[kIVLength], tagCopy[kMaxTagLength];
	int result;

	xsmcGetBufferReadable(xsArg(0), &iv, &ivLength);
	if (ivLength != kIVLength)
		xsRangeError("aes-gcm: the IV must be 12 bytes");
	c_memcpy(ivCopy, iv, kIVLength);
	xsmcGetBufferReadable(xsArg(3), &tag, &tagLength);
	if ((tagLength < 4) || (tagLength > kMaxTagLength))
		xsRangeError("aes-gcm: invalid tag length");
	c_memcpy(tagCopy, tag, tagLength);

	xsmcGetBufferReadable(xsArg(1), &in, &length);
	xsmcSetArrayBuffer(xsResult, NULL, length);
	/* Allocating the result may move relocatable buffers: read the inputs again afterwards. */
	xsmcGetBufferReadable(xsArg(1), &in, &length);
	xsmcGetBufferReadable(xsArg(2), &aad, &aadLength);
	xsmcGetBufferWritable(xsResult, &out, &length);
	result = smgw_aes_gcm_decrypt(key, ivCopy, kIVLength, aad, aadLength, tagCopy, tagLength, in, length, out);
	if (result == SMGW_AES_TAG_MISMATCH)
		xsUnknownError("aes-gcm: authentication tag mismatch");
	if (result != SMGW_AES_OK)
		xsUnknownError("aes-gcm: decryption failed");
}

/* keystream(iv, data): data with the GCM keystream applied (no tag), as an ArrayBuffer. */
void xs_aesgcm_keystream(xsMachine *the)
{
	smgw_aes_key *key = getKey(the);
	void *iv, *in, *out;
	xsUnsignedValue ivLength, length;
	uint8_t ivCopy[kIVLength];

	xsmcGetBufferReadable(xsArg(0), &iv, &ivLength);
	if (ivLength != kIVLength)
		xsRangeError("aes-gcm: the IV must be 12 bytes");
	c_memcpy(ivCopy, iv, kIVLength);
	xsmcGetBufferReadable(xsArg(1), &in, &length);
	xsmcSetArrayBuffer(xsResult, NULL, length);
	xsmcGetBufferReadable(xsArg(1), &in, &length);
	xsmcGetBufferWritable(xsResult, &out, &length);
	if (smgw_aes_gcm_keystream(key, ivCopy, in, length, out) != SMGW_AES_OK)
		xsUnknownError("aes-gcm: decryption failed");
}

/* cbcDecrypt(iv, data): AES-128-CBC decryption (no padding; data a multiple of 16 bytes), as an ArrayBuffer. */
void xs_aesgcm_cbc_decrypt(xsMachine *the)
{
	smgw_aes_key *key = getKey(the);
	void *iv, *in, *out;
	xsUnsignedValue ivLength, length;
	uint8_t ivCopy[16];

	xsmcGetBufferReadable(xsArg(0), &iv, &ivLength);
	if (ivLength != 16)
		xsRangeError("aes-cbc: the IV must be 16 bytes");
	c_memcpy(ivCopy, iv, 16);
	xsmcGetBufferReadable(xsArg(1), &in, &length);
	if (length % 16 != 0)
		xsRangeError("aes-cbc: the data must be a multiple of 16 bytes");
	xsmcSetArrayBuffer(xsResult, NULL, length);
	xsmcGetBufferReadable(xsArg(1), &in, &length);
	xsmcGetBufferWritable(xsResult, &out, &length);
	if (smgw_aes_cbc_decrypt(key, ivCopy, in, length, out) != SMGW_AES_OK)
		xsUnknownError("aes-cbc: decryption failed");
}
