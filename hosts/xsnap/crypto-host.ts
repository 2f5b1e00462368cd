// Node side of the XS crypto bridge: serves the requests crypto-bridge.ts
// sends, with Node's crypto port (hosts/node/crypto.ts).

import { nodeCrypto } from '../node/crypto';
import { TagMismatch, type AesKey, type Sha256Stream } from '../../src/ports/crypto';
import { FAILED, OK, OP_CBC, OP_CLOSE, OP_GCM, OP_IMPORT, OP_PBKDF2, OP_RANDOM, OP_SHA256, OP_STREAM, OP_STREAM_DIGEST, OP_STREAM_START, OP_STREAM_UPDATE, OP_VERIFY_P256, TAG_MISMATCH } from './crypto-bridge';

export class CryptoHost {
  private readonly keys = new Map<number, AesKey>();
  private next = 0;
  private readonly streams = new Map<number, Sha256Stream>();
  private nextStream = 0;

  /** Handles one request; returns null when it is not a crypto request. */
  handle(r: Uint8Array): Uint8Array | null {
    const op = r[0];
    try {
      if (op === OP_IMPORT) {
        const handle = this.next++ & 0xff;
        this.keys.get(handle)?.close();
        this.keys.set(handle, nodeCrypto.importKey(r.slice(1, 17)));
        return Uint8Array.of(OK, handle);
      }
      if (op === OP_SHA256) return withStatus(nodeCrypto.sha256(r.subarray(2)));
      if (op === OP_RANDOM) return withStatus(nodeCrypto.random(r[2]));
      if (op === OP_STREAM_START) {
        const handle = this.nextStream++ & 0xff;
        this.streams.set(handle, nodeCrypto.sha256Stream());
        return Uint8Array.of(OK, handle);
      }
      if (op === OP_STREAM_UPDATE || op === OP_STREAM_DIGEST) {
        const stream = this.streams.get(r[1]);
        if (!stream) return Uint8Array.of(FAILED);
        if (op === OP_STREAM_UPDATE) {
          stream.update(r.subarray(2));
          return Uint8Array.of(OK);
        }
        this.streams.delete(r[1]);
        return withStatus(stream.digest());
      }
      if (op === OP_VERIFY_P256) return Uint8Array.of(OK, nodeCrypto.verifyP256(r.subarray(2, 67), r.subarray(131), r.subarray(67, 131)) ? 1 : 0);
      if (op === OP_PBKDF2) {
        const iterations = new DataView(r.buffer, r.byteOffset, r.length).getUint32(2);
        const salt = r.subarray(8, 8 + r[7]);
        return withStatus(nodeCrypto.pbkdf2(r.subarray(8 + r[7]), salt, iterations, r[6]));
      }
      const key = this.keys.get(r[1]);
      if (op === OP_CLOSE) {
        key?.close();
        this.keys.delete(r[1]);
        return Uint8Array.of(OK);
      }
      if (!key) return op === OP_GCM || op === OP_STREAM || op === OP_CBC ? Uint8Array.of(FAILED) : null;
      if (op === OP_STREAM) return withStatus(key.gcmKeystream(r.subarray(2, 14), r.subarray(14)));
      if (op === OP_CBC) return withStatus(key.cbcDecrypt(r.subarray(2, 18), r.subarray(18)));
      if (op === OP_GCM) {
        let p = 14;
        const aadLength = (r[p] << 8) | r[p + 1];
        p += 2;
        const aad = r.subarray(p, p + aadLength);
        p += aadLength;
        const tagLength = r[p++];
        const tag = r.subarray(p, p + tagLength);
        p += tagLength;
        return withStatus(key.gcmDecrypt(r.subarray(2, 14), r.subarray(p), aad, tag));
      }
    } catch (e) {
      return Uint8Array.of(e instanceof TagMismatch ? TAG_MISMATCH : FAILED);
    }
    return null;
  }

  close(): void {
    for (const key of this.keys.values()) key.close();
    this.keys.clear();
    this.streams.clear();
  }
}

function withStatus(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + data.length);
  out[0] = OK;
  out.set(data, 1);
  return out;
}
