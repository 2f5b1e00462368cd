// smgw release: the release key and the signed firmware image (docs/ota.md).
//
//   smgw release keygen --out DIR      a new ECDSA P-256 release key: DIR/release-key.pem (private, owner
//                                      only: keep it offline) and DIR/release-key.pub.pem; prints the
//                                      entry for src/ota/release-keys.ts
//   smgw release sign --key PEM --hardware esp32 [--version 1.2.3] IMAGE -o OUT
//                                      the signed image: header (version, hardware, size, SHA-256, key id,
//                                      signature) + the app image mcconfig built
//   smgw release inspect FILE [--public PEM]
//                                      what a signed image's header says; with the public key, whether the
//                                      hash and the signature hold
//
// P-256 because the device verifies it natively: ESP-IDF's mbedtls has the
// curve (with the ESP32's MPI accelerator underneath) and SHA-256 runs on the
// SHA accelerator; Ed25519 is not in ESP-IDF's mbedtls, and RSA-3072 would
// need a 384-byte key and signature for the same strength.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { toHex } from '../src/codec/bytes';
import { describeHeader, encodeSignedPart, HEADER_LENGTH, ImageError, parseHeader, parseVersion, SIGNED_LENGTH, versionText, type Version } from '../src/ota/image';
import { FIRMWARE_VERSION } from '../src/version';
import { fail } from './usage';
import { buildSimApp } from '../simulator/world/ota-flash';

export const RELEASE_USAGE = `usage: smgw release keygen --out DIR
       smgw release sign --key PEM --hardware esp32|lin|sim [--version X.Y.Z] IMAGE -o OUT
       smgw release inspect FILE [--public PEM]
       smgw release sim-image --version X.Y.Z -o OUT     (a simulated firmware image to sign for smgw sim)`;

/** The uncompressed public point (04 || x || y) of a P-256 key, private or public. */
export function publicPoint(key: KeyObject): Uint8Array {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  if (jwk.crv !== 'P-256' || !jwk.x || !jwk.y) throw new ImageError('the release key must be an ECDSA P-256 key');
  const out = new Uint8Array(65);
  out[0] = 4;
  out.set(Buffer.from(jwk.x, 'base64url'), 1);
  out.set(Buffer.from(jwk.y, 'base64url'), 33);
  return out;
}

/** The key id a header names: the first 8 bytes of SHA-256 of the public point. */
export function keyIdOf(point: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(point).digest().subarray(0, 8));
}

/** The entry src/ota/release-keys.ts takes for a key. */
export function releaseKeyEntry(key: KeyObject, note: string): { id: string; publicKey: string; note: string } {
  const point = publicPoint(key);
  return { id: toHex(keyIdOf(point)), publicKey: toHex(point), note };
}

export function generateReleaseKey(): KeyObject {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
}

/** The signed image: a header for `image` signed with `key`, then the image. */
export function signImage(image: Uint8Array, o: { key: KeyObject; version: Version; hardware: string; signedAt?: number }): Uint8Array {
  if (image.length === 0) throw new ImageError('the image is empty');
  const signed = encodeSignedPart({
    version: o.version,
    hardware: o.hardware,
    size: image.length,
    sha256: new Uint8Array(createHash('sha256').update(image).digest()),
    keyId: keyIdOf(publicPoint(o.key)),
    signedAt: o.signedAt ?? Math.floor(Date.now() / 1000),
  });
  const signature = sign('sha256', signed, { key: o.key, dsaEncoding: 'ieee-p1363' });
  const out = new Uint8Array(HEADER_LENGTH + image.length);
  out.set(signed, 0);
  out.set(signature, SIGNED_LENGTH);
  out.set(image, HEADER_LENGTH);
  return out;
}

/** What a signed image's header says, and with a public key whether its hash and signature hold. */
export function inspectImage(file: Uint8Array, publicKey?: KeyObject): { header: object; hash: boolean; signature: boolean | null; description: string } {
  const h = parseHeader(file);
  const body = file.subarray(HEADER_LENGTH);
  const hash = body.length === h.size && Buffer.from(createHash('sha256').update(body).digest()).equals(Buffer.from(h.sha256));
  const signature = publicKey ? verify('sha256', file.subarray(0, SIGNED_LENGTH), { key: publicKey, dsaEncoding: 'ieee-p1363' }, h.signature) : null;
  return {
    header: { version: versionText(h.version), hardware: h.hardware, size: h.size, sha256: toHex(h.sha256), keyId: toHex(h.keyId), signedAt: new Date(h.signedAt * 1000).toISOString() },
    hash,
    signature,
    description: describeHeader(h),
  };
}

function readKey(path: string | undefined, what: string): KeyObject {
  if (!path) fail(`--${what} PEM is required`);
  if (!existsSync(path)) fail(`no key file ${path}`);
  try {
    return what === 'key' ? createPrivateKey(readFileSync(path)) : createPublicKey(readFileSync(path));
  } catch {
    fail(`${path} is not a PEM ${what === 'key' ? 'private' : 'public'} key`);
  }
}

export function releaseCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      key: { type: 'string' },
      public: { type: 'string' },
      hardware: { type: 'string' },
      version: { type: 'string' },
    },
  });
  switch (sub) {
    case 'keygen': {
      if (!values.out) fail('--out DIR is required');
      mkdirSync(values.out, { recursive: true, mode: 0o700 });
      const privateFile = join(values.out, 'release-key.pem');
      if (existsSync(privateFile)) fail(`${privateFile} exists: a release key is never overwritten (move it away first)`);
      const key = generateReleaseKey();
      writeFileSync(privateFile, key.export({ format: 'pem', type: 'pkcs8' }), { mode: 0o600 });
      chmodSync(privateFile, 0o600);
      writeFileSync(join(values.out, 'release-key.pub.pem'), createPublicKey(key).export({ format: 'pem', type: 'spki' }));
      const entry = releaseKeyEntry(key, `release key made ${new Date().toISOString().slice(0, 10)}`);
      process.stdout.write(`${privateFile}: the private key (keep it offline; whoever has it can update every device)\n`);
      process.stdout.write(`add to RELEASE_KEYS in src/ota/release-keys.ts:\n  ${JSON.stringify(entry)},\n`);
      return 0;
    }
    case 'sign': {
      const key = readKey(values.key, 'key');
      if (positionals.length !== 1) fail('name one IMAGE to sign (the .bin mcconfig built)');
      if (!values.out) fail('-o OUT is required');
      if (!values.hardware) fail('--hardware is required (esp32, lin or sim): a device refuses an image for other hardware');
      const version = parseVersion(values.version ?? FIRMWARE_VERSION);
      if (!version) fail(`--version must be X.Y.Z (got "${values.version ?? FIRMWARE_VERSION}")`);
      if (!existsSync(positionals[0])) fail(`no image ${positionals[0]}`);
      const image = new Uint8Array(readFileSync(positionals[0]));
      const signed = signImage(image, { key, version, hardware: values.hardware });
      writeFileSync(values.out, signed);
      process.stdout.write(`${values.out}: ${describeHeader(parseHeader(signed))}\n`);
      return 0;
    }
    case 'sim-image': {
      const version = parseVersion(values.version ?? '');
      if (!version) fail('--version X.Y.Z is required: the version the simulated firmware reports when it runs');
      if (!values.out) fail('-o OUT is required');
      writeFileSync(values.out, buildSimApp({ version: versionText(version) }));
      process.stdout.write(`${values.out}: simulated firmware ${versionText(version)}; sign it with --hardware sim\n`);
      return 0;
    }
    case 'inspect': {
      if (positionals.length !== 1) fail('name one signed image');
      if (!existsSync(positionals[0])) fail(`no file ${positionals[0]}`);
      const publicKey = values.public ? readKey(values.public, 'public') : undefined;
      const r = inspectImage(new Uint8Array(readFileSync(positionals[0])), publicKey);
      process.stdout.write(JSON.stringify({ ...r.header, hashMatches: r.hash, signatureVerifies: r.signature }) + '\n');
      return r.hash && r.signature !== false ? 0 : 1;
    }
    default:
      fail(`smgw release keygen|sign|inspect|sim-image (got "${sub ?? ''}")\n${RELEASE_USAGE}`);
  }
}
