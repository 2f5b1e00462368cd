// The crypto port inside XS on Node: each call crosses to the Node side
// through issueCommand, as on the device each call crosses into the native
// aes-gcm module. Keys stay on the Node side; XS holds a handle.
//
// Request:  op(1) handle(1) then op-specific fields; reply: status(1) data.
//   'k' key(16)                                  -> handle
//   'g' handle iv(12) aadLength(2) aad tagLength(1) tag ciphertext -> plaintext
//   's' handle iv(12) data                       -> keystream-applied data
//   'b' handle iv(16) data                       -> AES-CBC-decrypted data
//   'c' handle                                   -> closes
//   'h' 0 data                                   -> SHA-256 (32)
//   'p' 0 iterations(4) length(1) saltLength(1) salt password -> PBKDF2-HMAC-SHA-256
//   'r' 0 length(1)                              -> random bytes
//   'S' 0                                        -> SHA-256 stream handle
//   'u' handle data                              -> feeds the stream
//   'd' handle                                   -> its digest (32); the handle is freed
//   'v' 0 key(65) signature(64) message          -> 1 when the P-256 signature verifies, else 0

import { TagMismatch, type AesKey, type CryptoPort, type Sha256Stream } from '../../src/ports/crypto';

export const OP_IMPORT = 0x6b;
export const OP_GCM = 0x67;
export const OP_STREAM = 0x73;
export const OP_CLOSE = 0x63;
export const OP_CBC = 0x62;
export const OP_SHA256 = 0x68;
export const OP_PBKDF2 = 0x70;
export const OP_RANDOM = 0x72;
export const OP_STREAM_START = 0x53;
export const OP_STREAM_UPDATE = 0x75;
export const OP_STREAM_DIGEST = 0x64;
export const OP_VERIFY_P256 = 0x76;
export const OK = 0;
export const TAG_MISMATCH = 1;
export const FAILED = 2;

function call(request: Uint8Array): Uint8Array {
  const reply = new Uint8Array(issueCommand(request.buffer as ArrayBuffer));
  if (reply[0] === TAG_MISMATCH) throw new TagMismatch();
  if (reply[0] !== OK) throw new Error('crypto bridge: host refused the request');
  return reply.subarray(1);
}

class BridgedKey implements AesKey {
  private handle: number;

  constructor(handle: number) {
    this.handle = handle;
  }

  gcmDecrypt(iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array, tag: Uint8Array): Uint8Array {
    const r = new Uint8Array(2 + 12 + 2 + aad.length + 1 + tag.length + ciphertext.length);
    let p = 0;
    r[p++] = OP_GCM;
    r[p++] = this.handle;
    r.set(iv, p);
    p += 12;
    r[p++] = aad.length >> 8;
    r[p++] = aad.length & 0xff;
    r.set(aad, p);
    p += aad.length;
    r[p++] = tag.length;
    r.set(tag, p);
    p += tag.length;
    r.set(ciphertext, p);
    return call(r);
  }

  gcmKeystream(iv: Uint8Array, data: Uint8Array): Uint8Array {
    const r = new Uint8Array(2 + 12 + data.length);
    r[0] = OP_STREAM;
    r[1] = this.handle;
    r.set(iv, 2);
    r.set(data, 14);
    return call(r);
  }

  cbcDecrypt(iv: Uint8Array, data: Uint8Array): Uint8Array {
    if (iv.length !== 16 || data.length % 16 !== 0) throw new RangeError('AES-CBC: a 16-byte IV and whole 16-byte blocks');
    const r = new Uint8Array(2 + 16 + data.length);
    r[0] = OP_CBC;
    r[1] = this.handle;
    r.set(iv, 2);
    r.set(data, 18);
    return call(r);
  }

  close(): void {
    if (this.handle < 0) return;
    call(Uint8Array.of(OP_CLOSE, this.handle));
    this.handle = -1;
  }
}

class BridgedSha256 implements Sha256Stream {
  private readonly handle: number;

  constructor() {
    this.handle = call(Uint8Array.of(OP_STREAM_START, 0))[0];
  }

  update(data: Uint8Array): void {
    const r = new Uint8Array(2 + data.length);
    r[0] = OP_STREAM_UPDATE;
    r[1] = this.handle;
    r.set(data, 2);
    call(r);
  }

  digest(): Uint8Array {
    return call(Uint8Array.of(OP_STREAM_DIGEST, this.handle)).slice();
  }
}

export const bridgedCrypto: CryptoPort = {
  importKey(key: Uint8Array): AesKey {
    const r = new Uint8Array(1 + key.length);
    r[0] = OP_IMPORT;
    r.set(key, 1);
    return new BridgedKey(call(r)[0]);
  },
  sha256(data: Uint8Array): Uint8Array {
    const r = new Uint8Array(2 + data.length);
    r[0] = OP_SHA256;
    r.set(data, 2);
    return call(r).slice();
  },
  pbkdf2(password: Uint8Array, salt: Uint8Array, iterations: number, length: number): Uint8Array {
    if (salt.length > 255 || length > 255 || length < 1) throw new RangeError('pbkdf2: salt and length must be 1..255 bytes');
    const r = new Uint8Array(2 + 4 + 1 + 1 + salt.length + password.length);
    r[0] = OP_PBKDF2;
    new DataView(r.buffer).setUint32(2, iterations);
    r[6] = length;
    r[7] = salt.length;
    r.set(salt, 8);
    r.set(password, 8 + salt.length);
    return call(r).slice();
  },
  random(length: number): Uint8Array {
    if (length > 255) throw new RangeError('random: at most 255 bytes per call');
    return call(Uint8Array.of(OP_RANDOM, 0, length)).slice();
  },
  sha256Stream: () => new BridgedSha256(),
  verifyP256(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
    if (publicKey.length !== 65 || signature.length !== 64) throw new RangeError('verifyP256: a 65-byte key and a 64-byte signature');
    const r = new Uint8Array(2 + 65 + 64 + message.length);
    r[0] = OP_VERIFY_P256;
    r.set(publicKey, 2);
    r.set(signature, 67);
    r.set(message, 131);
    return call(r)[0] === 1;
  },
};
