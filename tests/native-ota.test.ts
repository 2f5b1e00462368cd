// The OTA verify core's C (modules/ota-verify), compiled with gcc against
// Debian's mbedtls and run on the desktop: ECDSA P-256 verification against
// RFC 6979's test vector and against signatures node:crypto makes (another
// implementation), a release header as `smgw release sign` writes it, and the
// streamed SHA-256 the updater hashes a slot with; and the XS bindings of
// ota-verify and ota-boot compiled against the XS headers.

import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildOtaVerifyDriver, checkBinding, runDriver } from './support/native';
import { publicPoint, signImage } from '../cli/release';
import { SIGNED_LENGTH, HEADER_LENGTH } from '../src/ota/image';
import { toHex } from '../src/codec/bytes';
import { nodeCrypto, p256PublicKey } from '../hosts/node/crypto';

/** RFC 6979, A.2.5: ECDSA over P-256 with SHA-256, message "sample". */
const RFC6979 = {
  publicKey: '04' + '60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6' + '7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299',
  message: toHex(new TextEncoder().encode('sample')),
  signature: 'efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716' + 'f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8',
};
/** The order n of P-256: an s of n or more is no signature. */
const ORDER = 'ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551';

const flip = (hex: string, at: number) => hex.slice(0, at) + ((parseInt(hex[at], 16) ^ 1).toString(16)) + hex.slice(at + 1);

describe('native OTA verify core (mbedtls): ECDSA P-256', () => {
  let driver: string;
  beforeAll(() => {
    driver = buildOtaVerifyDriver();
  });

  it('verifies RFC 6979\'s P-256/SHA-256 vector (node:crypto agrees it is transcribed right)', () => {
    const fromHex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));
    expect(nodeCrypto.verifyP256(fromHex(RFC6979.publicKey), fromHex(RFC6979.message), fromHex(RFC6979.signature))).toBe(true);
    expect(runDriver(driver, [`verify ${RFC6979.publicKey} ${RFC6979.message} ${RFC6979.signature}`])).toEqual(['ok']);
  });

  it('refuses a changed message, a changed r or s, s = n and r = 0 as bad signatures', () => {
    const { publicKey, message, signature } = RFC6979;
    const answers = runDriver(driver, [
      `verify ${publicKey} ${flip(message, 3)} ${signature}`,
      `verify ${publicKey} ${message} ${flip(signature, 10)}`,
      `verify ${publicKey} ${message} ${flip(signature, 100)}`,
      `verify ${publicKey} ${message} ${signature.slice(0, 64)}${ORDER}`,
      `verify ${publicKey} ${message} ${'0'.repeat(64)}${signature.slice(64)}`,
    ]);
    expect(answers).toEqual(['bad-signature', 'bad-signature', 'bad-signature', 'bad-signature', 'bad-signature']);
  });

  it('refuses a key that is not a point on the curve, and one in compressed or wrong form', () => {
    const { publicKey, message, signature } = RFC6979;
    const offCurve = publicKey.slice(0, 128) + flip(publicKey.slice(128), 1);
    expect(runDriver(driver, [`verify ${offCurve} ${message} ${signature}`, `verify 05${publicKey.slice(2)} ${message} ${signature}`])).toEqual(['error', 'error']);
    expect(() => nodeCrypto.verifyP256(Buffer.from(offCurve, 'hex'), Buffer.from(message, 'hex'), Buffer.from(signature, 'hex'))).toThrow();
  });

  it('verifies 40 signatures node:crypto made over random messages under random keys, and refuses each under another key', () => {
    const requests: string[] = [];
    const expected: string[] = [];
    const other = toHex(publicPoint(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey));
    for (let i = 0; i < 40; i++) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const message = createHash('sha256').update(String(i)).digest().subarray(0, 1 + (i * 13) % 32);
      const signature = sign('sha256', message, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      requests.push(`verify ${toHex(publicPoint(privateKey))} ${toHex(message)} ${toHex(signature)}`, `verify ${other} ${toHex(message)} ${toHex(signature)}`);
      expected.push('ok', 'bad-signature');
    }
    expect(runDriver(driver, requests)).toEqual(expected);
  });

  it('verifies a release header as `smgw release sign` writes it, and not one with a byte changed', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const file = signImage(Uint8Array.from({ length: 3000 }, (_, i) => i & 0xff), { key: privateKey, version: { major: 1, minor: 2, patch: 3 }, hardware: 'esp32', signedAt: 1750000000 });
    const key = toHex(publicPoint(privateKey));
    const signed = toHex(file.subarray(0, SIGNED_LENGTH));
    const signature = toHex(file.subarray(SIGNED_LENGTH, HEADER_LENGTH));
    expect(runDriver(driver, [`verify ${key} ${signed} ${signature}`, `verify ${key} ${flip(signed, 30)} ${signature}`])).toEqual(['ok', 'bad-signature']);
    // The same with the crypto port the simulator uses.
    expect(nodeCrypto.verifyP256(publicPoint(privateKey), file.subarray(0, SIGNED_LENGTH), file.subarray(SIGNED_LENGTH, HEADER_LENGTH))).toBe(true);
    expect(p256PublicKey(publicPoint(privateKey)).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });
});

describe('native OTA verify core (mbedtls): streamed SHA-256', () => {
  let driver: string;
  beforeAll(() => {
    driver = buildOtaVerifyDriver();
  });

  it('gives FIPS 180-2\'s digests of "abc" and of nothing, in one piece and byte by byte', () => {
    expect(runDriver(driver, ['stream 616263', 'stream 61 62 63', 'stream -'])).toEqual([
      'ok ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      'ok ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      'ok e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    ]);
  });

  it('hashes 24 KB in pieces of 4 KB, 1 B, 4095 B ... to what node:crypto gives in one call', () => {
    const data = Uint8Array.from({ length: 24 * 1024 }, (_, i) => (i * 31 + 7) & 0xff);
    const cuts = [4096, 1, 4095, 63, 65, 8000, 4000];
    const pieces: string[] = [];
    let at = 0;
    for (const n of cuts) {
      pieces.push(toHex(data.subarray(at, Math.min(at + n, data.length))));
      at += n;
    }
    pieces.push(toHex(data.subarray(at)));
    expect(runDriver(driver, ['stream ' + pieces.join(' ')])).toEqual(['ok ' + createHash('sha256').update(data).digest('hex')]);
  });
});

describe('OTA bindings compile against the XS headers', () => {
  it('ota-verify', () => {
    expect(() => checkBinding('modules/ota-verify/ota-verify.c', ['modules/ota-verify'])).not.toThrow();
  });
  it('ota-boot (against stand-ins for ESP-IDF esp_ota_ops.h and esp_partition.h)', () => {
    expect(() => checkBinding('modules/ota-boot/ota-boot.c')).not.toThrow();
  });
});
