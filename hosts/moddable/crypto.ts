// Crypto port on Moddable: the native aes-gcm module (mbedtls: on the ESP32 on
// its AES accelerator, on lin the system's libmbedcrypto; the key schedule lives
// in native memory) and the native digest module (SHA-256 and PBKDF2, on the
// ESP32's SHA accelerator; random bytes from its hardware RNG, getrandom on lin),
// and the native ota-verify module (streamed SHA-256, ECDSA P-256 verify).

import AesGcmKey from 'aes-gcm';
import { pbkdf2, random, sha256 } from 'digest';
import { Sha256Stream, verifyP256 } from 'ota-verify';
import { TagMismatch, type AesKey, type CryptoPort } from '../../src/ports/crypto';

class ModdableAesKey implements AesKey {
  private readonly key: AesGcmKey;

  constructor(bytes: Uint8Array) {
    // The native constructor wipes what it is given: give it a copy, not the caller's bytes.
    this.key = new AesGcmKey(bytes.slice());
  }

  gcmDecrypt(iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array, tag: Uint8Array): Uint8Array {
    try {
      return new Uint8Array(this.key.decrypt(iv, ciphertext, aad, tag));
    } catch (e) {
      // The module says so in its message; everything else is a real failure.
      if (e instanceof Error && e.message.indexOf('tag mismatch') >= 0) throw new TagMismatch();
      throw e;
    }
  }

  gcmKeystream(iv: Uint8Array, data: Uint8Array): Uint8Array {
    return new Uint8Array(this.key.keystream(iv, data));
  }

  cbcDecrypt(iv: Uint8Array, data: Uint8Array): Uint8Array {
    return new Uint8Array(this.key.cbcDecrypt(iv, data));
  }

  close(): void {
    this.key.close();
  }
}

export const moddableCrypto: CryptoPort = {
  importKey: (key) => new ModdableAesKey(key),
  sha256: (data) => new Uint8Array(sha256(data)),
  pbkdf2: (password, salt, iterations, length) => new Uint8Array(pbkdf2(password, salt, iterations, length)),
  random: (length) => new Uint8Array(random(length)),
  sha256Stream: () => {
    const s = new Sha256Stream();
    return { update: (data) => s.update(data), digest: () => new Uint8Array(s.digest()) };
  },
  verifyP256: (publicKey, message, signature) => verifyP256(publicKey, message, signature),
};
