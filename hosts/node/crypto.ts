// Crypto port on Node: node:crypto. Keys stay in KeyObjects, outside the JS heap.
// Shared by the hosts that run on Node: the simulator's device (hosts/sim), the
// host side of the XS crypto bridge (hosts/xsnap) and the command line.

import { createDecipheriv, createHash, createPublicKey, createSecretKey, pbkdf2Sync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { TagMismatch, type AesKey, type CryptoPort } from '../../src/ports/crypto';

const COUNTER_2 = Uint8Array.of(0, 0, 0, 2);

class NodeAesKey implements AesKey {
  private key: KeyObject | null;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== 16) throw new RangeError('AES-128 key must be 16 bytes');
    this.key = createSecretKey(bytes);
  }

  private live(): KeyObject {
    if (!this.key) throw new Error('key closed');
    return this.key;
  }

  gcmDecrypt(iv: Uint8Array, ciphertext: Uint8Array, aad: Uint8Array, tag: Uint8Array): Uint8Array {
    const d = createDecipheriv('aes-128-gcm', this.live(), iv, { authTagLength: tag.length });
    d.setAAD(aad);
    d.setAuthTag(tag);
    const head = d.update(ciphertext);
    try {
      const tail = d.final();
      return tail.length ? new Uint8Array(Buffer.concat([head, tail])) : new Uint8Array(head.buffer, head.byteOffset, head.length);
    } catch {
      throw new TagMismatch();
    }
  }

  gcmKeystream(iv: Uint8Array, data: Uint8Array): Uint8Array {
    const counter = new Uint8Array(16);
    counter.set(iv.subarray(0, 12), 0);
    counter.set(COUNTER_2, 12);
    const d = createDecipheriv('aes-128-ctr', this.live(), counter);
    const out = Buffer.concat([d.update(data), d.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  cbcDecrypt(iv: Uint8Array, data: Uint8Array): Uint8Array {
    if (iv.length !== 16 || data.length % 16 !== 0) throw new RangeError('AES-CBC: a 16-byte IV and whole 16-byte blocks');
    const d = createDecipheriv('aes-128-cbc', this.live(), iv);
    d.setAutoPadding(false);
    const out = Buffer.concat([d.update(data), d.final()]);
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  }

  close(): void {
    this.key = null;
  }
}

function bytes(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** An uncompressed P-256 point (04 || x || y) as a node:crypto key. */
export function p256PublicKey(point: Uint8Array): KeyObject {
  if (point.length !== 65 || point[0] !== 4) throw new RangeError('a P-256 public key is 65 bytes, 04 || x || y');
  const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  return createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: b64url(point.subarray(1, 33)), y: b64url(point.subarray(33)) }, format: 'jwk' });
}

export const nodeCrypto: CryptoPort = {
  importKey: (key) => new NodeAesKey(key),
  sha256: (data) => bytes(createHash('sha256').update(data).digest()),
  pbkdf2: (password, salt, iterations, length) => bytes(pbkdf2Sync(password, salt, iterations, length, 'sha256')),
  random: (length) => bytes(randomBytes(length)),
  sha256Stream: () => {
    const h = createHash('sha256');
    return { update: (data) => void h.update(data), digest: () => bytes(h.digest()) };
  },
  verifyP256: (publicKey, message, signature) => {
    if (signature.length !== 64) throw new RangeError('a P-256 signature is 64 bytes, r || s');
    return verify('sha256', message, { key: p256PublicKey(publicKey), dsaEncoding: 'ieee-p1363' }, signature);
  },
};
