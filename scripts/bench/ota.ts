// Firmware updates: the release signature check and the slot's hash, the
// native core as built for the host (gcc, mbedtls) beside node:crypto. The
// ESP32's own figures (mbedtls on its MPI and SHA accelerators) are not
// measured here: no board in this loop.

import { spawnSync } from 'node:child_process';
import { createHash, generateKeyPairSync, sign, verify } from 'node:crypto';
import { buildOtaVerifyDriver } from '../../tests/support/native';
import { publicPoint } from '../../cli/release';
import { toHex } from '../../src/codec/bytes';
import type { Row } from './report';

const SECTION = 'ota';

export function benchOta(): Row[] {
  const driver = buildOtaVerifyDriver();
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const header = new Uint8Array(128).fill(7);
  const signature = sign('sha256', header, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  const line = `verify ${toHex(publicPoint(privateKey))} ${toHex(header)} ${toHex(signature)}\n`;
  // The driver's start-up is timed with one line and taken off.
  const time = (input: string) => {
    const start = performance.now();
    const r = spawnSync(driver, [], { input, encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(r.stderr);
    return performance.now() - start;
  };
  const n = 400;
  const nativeMs = (time(line.repeat(n + 1)) - time(line)) / n;
  let start = performance.now();
  for (let i = 0; i < n; i++) verify('sha256', header, { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  const nodeMs = (performance.now() - start) / n;

  // SHA-256 of a 1.5 MB slot in 4 KB pieces (what the updater reads back), native and node:crypto.
  const piece = new Uint8Array(4096).map((_, i) => i & 0xff);
  const pieces = 384;
  const streamLine = (count: number) => 'stream ' + Array.from({ length: count }, () => toHex(piece)).join(' ') + '\n';
  // A driver line holds at most 7 pieces: 56 lines of 7 for 1.5 MB, less one line of one for start-up.
  const lines = Math.ceil(pieces / 7);
  const hashMs = time(streamLine(7).repeat(lines)) - time(streamLine(1));
  start = performance.now();
  const h = createHash('sha256');
  for (let i = 0; i < pieces; i++) h.update(piece);
  h.digest();
  const nodeHashMs = performance.now() - start;
  return [
    { section: SECTION, name: 'ECDSA P-256 verify of a release header, native core (host build, mbedtls)', value: nativeMs, unit: 'ms' },
    { section: SECTION, name: 'ECDSA P-256 verify of a release header, node:crypto', value: nodeMs, unit: 'ms' },
    { section: SECTION, name: 'SHA-256 of a 1.5 MB slot in 4 KB pieces, native core (hex over a pipe included)', value: hashMs, unit: 'ms' },
    { section: SECTION, name: 'SHA-256 of a 1.5 MB slot in 4 KB pieces, node:crypto', value: nodeHashMs, unit: 'ms' },
  ];
}
