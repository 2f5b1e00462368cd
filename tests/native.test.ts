// The native modules' C, compiled and run on the desktop: the AES-GCM core
// against the NIST GCM test cases and against the encrypted meter frames in
// the shared vectors, its CBC against NIST SP 800-38A and the AMIS captures (the same plaintext the Node path gets), and the XS
// bindings of aes-gcm and uart-line compiled against the XS headers.

import { createCipheriv } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildAesGcmDriver, buildDigestDriver, checkBinding, runAesGcmDriver, runDriver } from './support/native';
import { CBC_VECTORS, PBKDF2_VECTORS, SHA256_VECTORS } from './support/crypto-vectors';
import { bytesOf, keyOf, vectors } from './support/vectors';
import { fromHex, toHex } from '../src/codec/bytes';
import { DlmsFramer } from '../src/meter/dlms/framer';
import { DsmrFramer } from '../src/meter/iec/dsmr-framer';
import { decipher } from '../src/meter/dlms/glo';
import { nodeCrypto } from '../hosts/node/crypto';

/** AES-128 test cases 1-4 of "The Galois/Counter Mode of Operation (GCM)", McGrew and Viega, the NIST submission. */
const NIST = [
  { key: '00000000000000000000000000000000', iv: '000000000000000000000000', aad: '', p: '', c: '', tag: '58e2fccefa7e3061367f1d57a4e7455a' },
  { key: '00000000000000000000000000000000', iv: '000000000000000000000000', aad: '', p: '00000000000000000000000000000000', c: '0388dace60b6a392f328c2b971b2fe78', tag: 'ab6e47d42cec13bdf53a67b21257bddf' },
  {
    key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', aad: '',
    p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
    c: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985',
    tag: '4d5c2af327cd64a62cf35abd2ba6fab4',
  },
  {
    key: 'feffe9928665731c6d6a8f9467308308', iv: 'cafebabefacedbaddecaf888', aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    p: 'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    c: '42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091',
    tag: '5bc94fbc3221a5db94fae95ae7121a47',
  },
];

const h = (s: string) => s || '-';

describe('native AES-GCM core (mbedtls)', () => {
  let driver: string;
  beforeAll(() => {
    driver = buildAesGcmDriver();
  });

  it('the NIST test cases are transcribed right (node:crypto agrees)', () => {
    for (const t of NIST) {
      const c = createCipheriv('aes-128-gcm', fromHex(t.key)!, fromHex(t.iv)!);
      c.setAAD(fromHex(t.aad)!);
      const out = Buffer.concat([c.update(fromHex(t.p)!), c.final()]);
      expect(out.toString('hex')).toBe(t.c);
      expect(c.getAuthTag().toString('hex')).toBe(t.tag);
    }
  });

  it('decrypts the NIST test cases with full and DLMS-length (12-byte) tags', () => {
    const requests = NIST.flatMap((t) => [
      `gcm ${t.key} ${t.iv} ${h(t.aad)} ${t.tag} ${h(t.c)}`,
      `gcm ${t.key} ${t.iv} ${h(t.aad)} ${t.tag.slice(0, 24)} ${h(t.c)}`,
    ]);
    const answers = runAesGcmDriver(driver, requests);
    expect(answers).toEqual(NIST.flatMap((t) => [`ok ${t.p}`, `ok ${t.p}`]));
  });

  it('refuses a tag that does not verify, and gives nothing back', () => {
    const t = NIST[3];
    const bad = (t.tag.slice(0, 23) + (t.tag[23] === '0' ? '1' : '0'));
    expect(runAesGcmDriver(driver, [`gcm ${t.key} ${t.iv} ${t.aad} ${bad} ${t.c}`, `gcm ${t.key} ${t.iv} 00 ${t.tag} ${t.c}`])).toEqual(['tag-mismatch', 'tag-mismatch']);
  });

  it('gives the GCM keystream without the tag (counter from 2)', () => {
    const t = NIST[2];
    expect(runAesGcmDriver(driver, [`stream ${t.key} ${t.iv} ${t.c}`])).toEqual([`ok ${t.p}`]);
  });

  it('decrypts the NIST AES-128-CBC vectors (OMS security mode 5), and refuses partial blocks', () => {
    const requests = CBC_VECTORS.flatMap((v) => [`cbc ${v.key} ${v.iv} ${v.ciphertext}`, `cbc ${v.key} ${v.iv} ${v.ciphertext.slice(0, 30)}`]);
    expect(runAesGcmDriver(driver, requests)).toEqual(CBC_VECTORS.flatMap((v) => [`ok ${v.plaintext}`, 'error']));
  });

  it('decrypts the Siemens AMIS TD-3511 captures to what the Node path decrypts, 2F 2F first', () => {
    const captures = JSON.parse(readFileSync(new URL('./vectors/mbus-oms.json', import.meta.url), 'utf8')) as { id: string; hex: string; key: string; expectError: string | null }[];
    const requests: string[] = [];
    const expected: string[] = [];
    for (const c of captures.filter((x) => !x.expectError)) {
      const bytes = fromHex(c.hex)!;
      for (let at = 0; at < bytes.length; at += bytes[at + 1] + 6) {
        // 68 L L 68 C A 5B | ID(4) manufacturer(2) version medium access status config(2) | 80 bytes
        const f = bytes.subarray(at);
        const iv = toHex(f, 11, 13) + toHex(f, 7, 11) + toHex(f, 13, 15) + toHex(f, 15, 16).repeat(8);
        const data = f.subarray(19, 19 + 80);
        const node = nodeCrypto.importKey(fromHex(c.key)!).cbcDecrypt(fromHex(iv)!, data);
        expect(toHex(node, 0, 2), c.id).toBe('2f2f');
        requests.push(`cbc ${c.key} ${iv} ${toHex(data)}`);
        expected.push(`ok ${toHex(node)}`);
      }
    }
    expect(requests).toHaveLength(3);
    expect(runAesGcmDriver(driver, requests)).toEqual(expected);
  });

  it('decrypts every encrypted meter frame in the shared vectors to what the Node path decrypts', () => {
    const cases: { id: string; key: Uint8Array; authKey: Uint8Array | null; frame: Uint8Array }[] = [];
    for (const v of vectors().filter((x) => x.key && !x.expectError)) {
      // The firmware's own framers find the general-glo-ciphering APDU in the transport.
      const frames: Uint8Array[] = [];
      const sink = { frame: (f: Uint8Array) => frames.push(f.slice()), reject: () => undefined };
      const framer = v.protocol === 'dsmr' ? new DsmrFramer(sink) : new DlmsFramer(sink);
      framer.push(bytesOf(v));
      framer.end();
      expect(frames, v.id).toHaveLength(1);
      cases.push({ id: v.id, key: keyOf(v.key)!, authKey: keyOf(v.authKey), frame: frames[0] });
    }
    expect(cases.length).toBeGreaterThanOrEqual(17);
    const requests: string[] = [];
    const expected: string[] = [];
    for (const c of cases) {
      const node = decipher(c.frame, { encryption: nodeCrypto.importKey(c.key), authentication: c.authKey });
      const first = c.frame[10];
      const header = first < 0x80 ? 11 : first === 0x81 ? 12 : 13;
      const sc = c.frame[header];
      const iv = toHex(c.frame, 2, 10) + toHex(c.frame, header + 1, header + 5);
      const tagged = (sc & 0x10) !== 0;
      const body = c.frame.subarray(header + 5, c.frame.length - (tagged ? 12 : 0));
      if (tagged && c.authKey) {
        requests.push(`gcm ${toHex(c.key)} ${iv} ${toHex(Uint8Array.of(sc))}${toHex(c.authKey)} ${toHex(c.frame, c.frame.length - 12, c.frame.length)} ${toHex(body)}`);
      } else {
        requests.push(`stream ${toHex(c.key)} ${iv} ${toHex(body)}`);
      }
      expected.push(`ok ${toHex(node.plaintext)}`);
    }
    expect(runAesGcmDriver(driver, requests)).toEqual(expected);
  });
});

describe('native digest core (mbedtls): SHA-256, PBKDF2-HMAC-SHA-256, random', () => {
  let driver: string;
  beforeAll(() => {
    driver = buildDigestDriver();
  });

  it('gives the FIPS 180-2 SHA-256 digests', () => {
    const answers = runDriver(driver, SHA256_VECTORS.map((v) => `sha256 ${h(toHex(v.data))}`));
    expect(answers).toEqual(SHA256_VECTORS.map((v) => `ok ${v.digest}`));
  });

  it('hashes an 8 KB input the same as a single call to node:crypto would', () => {
    const data = Uint8Array.from({ length: 8000 }, (_, i) => (i * 7 + 3) & 0xff);
    const [answer] = runDriver(driver, [`sha256 ${toHex(data)}`]);
    expect(answer).toBe('ok ' + toHex(nodeCrypto.sha256(data)));
  });

  it('gives the PBKDF2-HMAC-SHA-256 vectors (1, 2 and 4096 iterations; 32, 40 and 64 bytes)', () => {
    const answers = runDriver(driver, PBKDF2_VECTORS.map((v) => `pbkdf2 ${toHex(v.password)} ${toHex(v.salt)} ${v.iterations} ${v.length}`));
    expect(answers).toEqual(PBKDF2_VECTORS.map((v) => `ok ${v.key}`));
  });

  it('refuses zero iterations rather than deriving nothing', () => {
    expect(runDriver(driver, ['pbkdf2 70617373776f7264 73616c74 0 32'])).toEqual(['error']);
  });

  it('gives random bytes of the length asked for, different every time', () => {
    const answers = runDriver(driver, ['random 32', 'random 32', 'random 1']);
    expect(answers[0]).toMatch(/^ok [0-9a-f]{64}$/);
    expect(answers[1]).toMatch(/^ok [0-9a-f]{64}$/);
    expect(answers[0]).not.toBe(answers[1]);
    expect(answers[2]).toMatch(/^ok [0-9a-f]{2}$/);
  });
});

describe('native bindings compile against the XS headers', () => {
  it('digest', () => {
    expect(() => checkBinding('modules/digest/digest.c', ['modules/digest'])).not.toThrow();
  });
  it('aes-gcm', () => {
    expect(() => checkBinding('modules/aes-gcm/aes-gcm.c', ['modules/aes-gcm'])).not.toThrow();
  });
  it('uart-line (against a stand-in for ESP-IDF driver/uart.h)', () => {
    expect(() => checkBinding('modules/uart-line/uart-line.c')).not.toThrow();
  });
});
