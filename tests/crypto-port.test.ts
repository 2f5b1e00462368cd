// The crypto port's digests give the known answers on every host the
// firmware runs on here: node:crypto (the simulator) and the bridge inside
// the real XS engine (xsnap), where the event chain is also computed and
// checked with them and agrees with Node byte for byte. (The ESP32's native
// module is checked against the same vectors in tests/native.test.ts.)

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { nodeCrypto } from '../hosts/node/crypto';
import { XsWorker } from '../hosts/xsnap/worker';
import { CryptoHost } from '../hosts/xsnap/crypto-host';
import { fromHex, toHex } from '../src/codec/bytes';
import { ChainVerifier } from '../src/formats/event-chain';
import { CBC_VECTORS, PBKDF2_VECTORS, SHA256_VECTORS } from './support/crypto-vectors';
import { eventsOf, logWithEvents } from './support/events';

describe('crypto port on Node (node:crypto)', () => {
  it('gives the SHA-256 and PBKDF2-HMAC-SHA-256 vectors, and random bytes of the length asked for', () => {
    for (const v of SHA256_VECTORS) expect(toHex(nodeCrypto.sha256(v.data))).toBe(v.digest);
    for (const v of PBKDF2_VECTORS) expect(toHex(nodeCrypto.pbkdf2(v.password, v.salt, v.iterations, v.length))).toBe(v.key);
    const a = nodeCrypto.random(32);
    expect(a).toHaveLength(32);
    expect(toHex(a)).not.toBe(toHex(nodeCrypto.random(32)));
  });

  it('decrypts the NIST AES-128-CBC vectors without padding, and refuses partial blocks', () => {
    for (const v of CBC_VECTORS) {
      const key = nodeCrypto.importKey(fromHex(v.key)!);
      expect(toHex(key.cbcDecrypt(fromHex(v.iv)!, fromHex(v.ciphertext)!))).toBe(v.plaintext);
      // One block at a time with the previous ciphertext block as IV: the chaining is CBC's.
      expect(toHex(key.cbcDecrypt(fromHex(v.ciphertext.slice(0, 32))!, fromHex(v.ciphertext.slice(32, 64))!))).toBe(v.plaintext.slice(32, 64));
      expect(() => key.cbcDecrypt(fromHex(v.iv)!, fromHex(v.ciphertext.slice(0, 30))!)).toThrow(RangeError);
      key.close();
    }
  });
});

describe('crypto port inside the XS engine (the bridge)', () => {
  let xs: XsWorker;
  let host: CryptoHost;
  const ask = async (request: object): Promise<{ hex?: string; hashes?: string[]; status?: unknown; error?: string }> => {
    const { reply } = await xs.command(new TextEncoder().encode(JSON.stringify(request)));
    return JSON.parse(new TextDecoder().decode(reply));
  };

  beforeAll(async () => {
    const bundle = await build({ entryPoints: ['tests/support/xs-crypto-main.ts'], bundle: true, write: false, platform: 'neutral', format: 'iife', target: 'es2022', logLevel: 'warning' });
    host = new CryptoHost();
    xs = XsWorker.start((request) => host.handle(request) ?? Uint8Array.of(2));
    await xs.evaluate(bundle.outputFiles[0].text);
  });
  afterAll(async () => {
    host?.close();
    await xs?.close();
  });

  it('gives the SHA-256 vectors', async () => {
    for (const v of SHA256_VECTORS) expect((await ask({ op: 'sha256', data: toHex(v.data) })).hex).toBe(v.digest);
  });

  it('gives the PBKDF2-HMAC-SHA-256 vectors (1, 2 and 4096 iterations)', async () => {
    for (const v of PBKDF2_VECTORS) {
      expect((await ask({ op: 'pbkdf2', password: toHex(v.password), salt: toHex(v.salt), iterations: v.iterations, length: v.length })).hex).toBe(v.key);
    }
  });

  it('decrypts the NIST AES-128-CBC vectors', async () => {
    for (const v of CBC_VECTORS) expect((await ask({ op: 'cbc', key: v.key, iv: v.iv, data: v.ciphertext })).hex).toBe(v.plaintext);
  });

  it('gives random bytes of the length asked for', async () => {
    const a = (await ask({ op: 'random', length: 16 })).hex!;
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect((await ask({ op: 'random', length: 16 })).hex).not.toBe(a);
  });

  it('computes the event chain as Node does, and finds the same break', async () => {
    const events = eventsOf(logWithEvents(200, 10));
    const wire = (list: typeof events) => list.map((e) => ({ ...e, prev: toHex(e.prev) }));
    const node = new ChainVerifier(nodeCrypto.sha256);
    const nodeHashes = events.map((e) => {
      node.add(e);
      return toHex(node.last!.hash);
    });
    const inXs = await ask({ op: 'chain', events: wire(events) });
    expect(inXs.error).toBeUndefined();
    expect(inXs.hashes).toEqual(nodeHashes);
    expect(inXs.status).toEqual(node.status());
    expect(inXs.status).toMatchObject({ ok: true, events: events.length });
    const edited = events.map((e, i) => (i === 3 ? { ...e, message: e.message + '!' } : e));
    expect((await ask({ op: 'chain', events: wire(edited) })).status).toMatchObject({ ok: false, break: { seq: events[3].seq, reason: 'edited' } });
  });
});
