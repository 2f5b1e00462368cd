// Crypto port. On the ESP32 it is the native aes-gcm module over mbedtls (the
// AES hardware); on the desktop node:crypto; inside the XS engine under Node, a
// bridge to the Node side. Keys live on the host side: the JS heap holds only a
// handle after importKey.

export interface AesKey {
  /**
   * AES-GCM authenticated decryption with a 12-byte tag. Throws TagMismatch
   * when the tag does not verify; nothing is returned in that case.
   */
  gcmDecrypt(iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array, tag: Uint8Array): Uint8Array;
  /**
   * The GCM keystream applied without a tag (AES-CTR from IV || 00000002), as
   * DLMS security control 0x20 (encryption only) requires.
   */
  gcmKeystream(iv: Uint8Array, data: Uint8Array): Uint8Array;
  /**
   * AES-CBC decryption without padding, as OMS security mode 5 (wired and
   * wireless M-Bus, EN 13757-7) requires: `data` a multiple of 16 bytes, a
   * 16-byte IV. Nothing tells a wrong key here: the caller checks the result.
   */
  cbcDecrypt(iv: Uint8Array, data: Uint8Array): Uint8Array;
  /** Zeroes and frees the key. */
  close(): void;
}

/** SHA-256 over data fed in pieces: a firmware image is larger than the RAM. */
export interface Sha256Stream {
  update(data: Uint8Array): void;
  /** The digest (32 bytes); the stream cannot be fed after it. */
  digest(): Uint8Array;
}

export interface CryptoPort {
  /** Imports a 16-byte AES-128 key. */
  importKey(key: Uint8Array): AesKey;
  /** SHA-256 of `data` (32 bytes): the event log's hash chain. */
  sha256(data: Uint8Array): Uint8Array;
  /**
   * PBKDF2 with HMAC-SHA-256 (RFC 8018): the portal's admin password hash. On the
   * ESP32 it runs natively on the SHA accelerator; in JS on XS it would take seconds.
   */
  pbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array;
  /** `length` bytes from a cryptographically strong generator (salts, session ids, CSRF tokens). */
  random(length: number): Uint8Array;
  /** A SHA-256 fed piece by piece (a firmware image, read back from its slot). */
  sha256Stream(): Sha256Stream;
  /**
   * Whether `signature` (r || s, 64 bytes) is an ECDSA P-256 signature over
   * SHA-256 of `message` under `publicKey` (uncompressed point, 65 bytes): a
   * release header's signature. Native mbedtls on the device (the MPI
   * accelerator); throws on a key that is not a P-256 point.
   */
  verifyP256(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean;
}

export class TagMismatch extends Error {
  constructor() {
    super('authentication tag mismatch');
  }
}
