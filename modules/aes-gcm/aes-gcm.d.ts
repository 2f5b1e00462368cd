declare module 'aes-gcm' {
  /** AES-128-GCM key held in native memory (mbedtls on the ESP32's AES accelerator). */
  export default class AesGcmKey {
    /** Takes the 16-byte key and wipes the buffer it was given. */
    constructor(key: ArrayBuffer | Uint8Array);
    /** Authenticated decryption; throws "aes-gcm: authentication tag mismatch" when the tag does not verify. */
    decrypt(iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array, tag: Uint8Array): ArrayBuffer;
    /** The GCM keystream without the tag (AES-CTR from IV || 00000002). */
    keystream(iv: Uint8Array, data: Uint8Array): ArrayBuffer;
    /** AES-128-CBC decryption without padding (OMS security mode 5); data a multiple of 16 bytes, IV 16 bytes. */
    cbcDecrypt(iv: Uint8Array, data: Uint8Array): ArrayBuffer;
    /** Wipes and frees the key. */
    close(): void;
  }
}
