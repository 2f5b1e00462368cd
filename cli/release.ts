// smgw release: the release key and the signed firmware image (docs/ota.md):
// keygen, sign, inspect and sim-image, each with its option table below.
//
// P-256 because the device verifies it natively: ESP-IDF's mbedtls has the
// curve (with the ESP32's MPI accelerator underneath) and SHA-256 runs on the
// SHA accelerator; Ed25519 is not in ESP-IDF's mbedtls, and RSA-3072 would
// need a 384-byte key and signature for the same strength.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toHex } from '../src/codec/bytes';
import { describeHeader, encodeSignedPart, HEADER_LENGTH, ImageError, parseHeader, parseVersion, SIGNED_LENGTH, versionText, type Version } from '../src/ota/image';
import { FIRMWARE_VERSION } from '../src/version';
import { fail } from './usage';
import { closest, command, commandsHelp, parse } from './options';
import { buildSimApp } from '../simulator/world/ota-flash';

const KEYGEN = command({
  name: 'smgw release keygen',
  summary: 'a new ECDSA P-256 release key: DIR/release-key.pem (private, owner only: keep it offline) and DIR/release-key.pub.pem; prints the entry for src/ota/release-keys.ts',
  options: {
    out: { type: 'string', short: 'o', value: 'DIR', required: true, description: 'the directory for the key pair (made owner-only; an existing key is never overwritten)' },
  },
  examples: ['smgw release keygen --out ~/offline/smgw-release'],
});

const SIGN = command({
  name: 'smgw release sign',
  summary: 'the signed image: a header (version, hardware, size, SHA-256, key id, signature) and the app image mcconfig built',
  arguments: 'IMAGE',
  options: {
    key: { type: 'string', value: 'PEM', required: true, description: 'the private release key (release-key.pem)' },
    hardware: { type: 'string', value: 'NAME', required: 'esp32, lin or sim (a device refuses an image for other hardware)', description: 'the hardware the image is for: esp32, lin (Moddable\'s simulator) or sim (smgw sim)' },
    version: { type: 'string', value: 'X.Y.Z', default: FIRMWARE_VERSION, description: 'the version the header names (a device refuses an older one unless a rollout forces a downgrade)' },
    out: { type: 'string', short: 'o', value: 'OUT', required: true, description: 'the signed image to write' },
  },
  examples: ['smgw release sign --key ~/offline/smgw-release/release-key.pem --hardware esp32 --version 0.3.0 xs_esp32.bin -o smgw-0.3.0-esp32.fw'],
});

const INSPECT = command({
  name: 'smgw release inspect',
  summary: "what a signed image's header says, as JSON; with the public key, whether the signature holds (exit 1 when the hash or the signature fails)",
  arguments: 'FILE',
  options: {
    public: { type: 'string', value: 'PEM', description: 'the public release key (release-key.pub.pem), to verify the signature' },
  },
  examples: ['smgw release inspect smgw-0.3.0-esp32.fw --public release-key.pub.pem'],
});

const SIM_IMAGE = command({
  name: 'smgw release sim-image',
  summary: 'a simulated firmware image, to sign with --hardware sim for smgw sim --release-key',
  options: {
    version: { type: 'string', value: 'X.Y.Z', required: 'the version the simulated firmware reports when it runs', description: 'the version the simulated firmware reports' },
    out: { type: 'string', short: 'o', value: 'OUT', required: true, description: 'the image to write' },
  },
  examples: ['smgw release sim-image --version 0.3.0 -o /tmp/app.bin'],
});

export const RELEASE_COMMANDS = { keygen: KEYGEN, sign: SIGN, inspect: INSPECT, 'sim-image': SIM_IMAGE };

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
function keyIdOf(point: Uint8Array): Uint8Array {
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
function inspectImage(file: Uint8Array, publicKey?: KeyObject): { header: object; hash: boolean; signature: boolean | null; description: string } {
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

function readKey(path: string, what: 'key' | 'public'): KeyObject {
  if (!existsSync(path)) fail(`no key file ${path}`);
  try {
    return what === 'key' ? createPrivateKey(readFileSync(path)) : createPublicKey(readFileSync(path));
  } catch {
    fail(`${path} is not a PEM ${what === 'key' ? 'private' : 'public'} key`);
  }
}

function releaseHelp(): string {
  const summaries = Object.fromEntries(Object.entries(RELEASE_COMMANDS).map(([name, c]) => [name, c.summary]));
  return commandsHelp('smgw release', 'the release key and signed firmware images (docs/ota.md)', summaries, Object.values(RELEASE_COMMANDS).map((c) => c.examples[0]));
}

export function releaseCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h' || sub === 'help') {
    process.stdout.write(releaseHelp() + '\n');
    return 0;
  }
  const names = Object.keys(RELEASE_COMMANDS);
  if (sub === undefined || !names.includes(sub)) {
    const near = sub === undefined ? undefined : closest(sub, names);
    fail(`smgw release ${names.join('|')} (got "${sub ?? ''}"); ` + (near ? `did you mean ${near}?` : 'smgw release --help says what each does'));
  }
  switch (sub) {
    case 'keygen': {
      const args = parse(KEYGEN, rest);
      if (!args) return 0;
      const { values } = args;
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
      const args = parse(SIGN, rest);
      if (!args) return 0;
      const { values, positionals } = args;
      const key = readKey(values.key, 'key');
      if (positionals.length !== 1) fail('name one IMAGE to sign (the .bin mcconfig built)');
      const version = parseVersion(values.version);
      if (!version) fail(`--version must be X.Y.Z (got "${values.version}")`);
      if (!existsSync(positionals[0])) fail(`no image ${positionals[0]}`);
      const image = new Uint8Array(readFileSync(positionals[0]));
      const signed = signImage(image, { key, version, hardware: values.hardware });
      writeFileSync(values.out, signed);
      process.stdout.write(`${values.out}: ${describeHeader(parseHeader(signed))}\n`);
      return 0;
    }
    case 'sim-image': {
      const args = parse(SIM_IMAGE, rest);
      if (!args) return 0;
      const { values } = args;
      const version = parseVersion(values.version);
      if (!version) fail(`--version must be X.Y.Z (got "${values.version}"): the version the simulated firmware reports when it runs`);
      writeFileSync(values.out, buildSimApp({ version: versionText(version) }));
      process.stdout.write(`${values.out}: simulated firmware ${versionText(version)}; sign it with --hardware sim\n`);
      return 0;
    }
    default: {
      const args = parse(INSPECT, rest);
      if (!args) return 0;
      const { values, positionals } = args;
      if (positionals.length !== 1) fail('name one signed image');
      if (!existsSync(positionals[0])) fail(`no file ${positionals[0]}`);
      const publicKey = values.public ? readKey(values.public, 'public') : undefined;
      const r = inspectImage(new Uint8Array(readFileSync(positionals[0])), publicKey);
      process.stdout.write(JSON.stringify({ ...r.header, hashMatches: r.hash, signatureVerifies: r.signature }) + '\n');
      return r.hash && r.signature !== false ? 0 : 1;
    }
  }
}
