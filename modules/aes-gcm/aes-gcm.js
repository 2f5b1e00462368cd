/*
 * AES-128 key held in native memory, for DLMS (GCM) and OMS mode 5 (CBC)
 * decryption on the ESP32's AES accelerator (via mbedtls). See aes-gcm.c.
 */
class AesGcmKey extends Native("xs_aesgcm_destructor") {
	constructor(key) { super(); native("xs_aesgcm_constructor").call(this, key); }
	decrypt(iv, ciphertext, aad, tag) { return native("xs_aesgcm_decrypt").call(this, iv, ciphertext, aad, tag); }
	keystream(iv, data) { return native("xs_aesgcm_keystream").call(this, iv, data); }
	cbcDecrypt(iv, data) { return native("xs_aesgcm_cbc_decrypt").call(this, iv, data); }
	close() { return native("xs_aesgcm_close").call(this); }
}

export default AesGcmKey;
