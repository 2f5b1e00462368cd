// smgw release: keygen, sim-image, sign and inspect as a user runs them (the
// built command line), and what `smgw sim --release-key` accepts.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repositoryRoot } from '../hosts/node/paths';
import { HEADER_LENGTH, parseHeader } from '../src/ota/image';
import { checkSimApp } from '../simulator/world/ota-flash';

const smgw = (...args: string[]) => spawnSync(process.execPath, [join(repositoryRoot(), 'bin', 'smgw.mjs'), ...args], { encoding: 'utf8' });

describe('smgw release', () => {
  it('makes a key (private owner-only, never overwritten), a simulated image, signs it, and inspect checks it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-release-'));
    const keys = join(dir, 'keys');
    const keygen = smgw('release', 'keygen', '--out', keys);
    expect(keygen.status, keygen.stderr).toBe(0);
    expect(keygen.stdout).toMatch(/add to RELEASE_KEYS in src\/ota\/release-keys\.ts:\n {2}\{"id":"[0-9a-f]{16}","publicKey":"04[0-9a-f]{128}","note":"release key made \d{4}-\d{2}-\d{2}"\},/);
    expect(statSync(join(keys, 'release-key.pem')).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(keys, 'release-key.pem'), 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    // The private key appears nowhere in what it printed.
    expect(keygen.stdout).not.toContain('PRIVATE');
    const again = smgw('release', 'keygen', '--out', keys);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/exists: a release key is never overwritten/);

    const app = join(dir, 'app.bin');
    expect(smgw('release', 'sim-image', '--version', '0.3.0', '-o', app).status).toBe(0);
    const appBytes = new Uint8Array(readFileSync(app));
    expect(checkSimApp((o, l) => appBytes.slice(o, o + l), 1 << 20)).toEqual({ version: '0.3.0' });

    const fw = join(dir, 'app.fw');
    const signed = smgw('release', 'sign', '--key', join(keys, 'release-key.pem'), '--hardware', 'sim', '--version', '0.3.0', app, '-o', fw);
    expect(signed.status, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/app\.fw: 0\.3\.0 \(sim, \d+ B, key [0-9a-f]{16}\)/);
    const file = new Uint8Array(readFileSync(fw));
    expect(file.subarray(HEADER_LENGTH)).toEqual(appBytes);
    expect(parseHeader(file)).toMatchObject({ version: { major: 0, minor: 3, patch: 0 }, hardware: 'sim', size: appBytes.length });

    const inspect = smgw('release', 'inspect', fw, '--public', join(keys, 'release-key.pub.pem'));
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ version: '0.3.0', hardware: 'sim', hashMatches: true, signatureVerifies: true });
    // Another key, and a changed image: inspect says so and exits 1.
    const other = join(dir, 'other');
    smgw('release', 'keygen', '--out', other);
    expect(JSON.parse(smgw('release', 'inspect', fw, '--public', join(other, 'release-key.pub.pem')).stdout).signatureVerifies).toBe(false);
    file[HEADER_LENGTH + 10] ^= 1;
    writeFileSync(fw, file);
    const changed = smgw('release', 'inspect', fw);
    expect(changed.status).toBe(1);
    expect(JSON.parse(changed.stdout)).toMatchObject({ hashMatches: false, signatureVerifies: null });
  });

  it('says in one line what is wrong: no hardware, a bad version, a key that is not one, a file that is not an image', () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-release-'));
    writeFileSync(join(dir, 'app.bin'), 'x');
    writeFileSync(join(dir, 'not-a-key.pem'), 'hello');
    smgw('release', 'keygen', '--out', join(dir, 'k'));
    const key = join(dir, 'k', 'release-key.pem');
    const cases: [string[], RegExp][] = [
      [['release', 'sign', '--key', key, join(dir, 'app.bin'), '-o', join(dir, 'o')], /--hardware NAME is required/],
      [['release', 'sign', '--key', key, '--hardware', 'sim', '--version', '1.2', join(dir, 'app.bin'), '-o', join(dir, 'o')], /--version must be X\.Y\.Z \(got "1\.2"\)/],
      [['release', 'sign', '--key', join(dir, 'not-a-key.pem'), '--hardware', 'sim', join(dir, 'app.bin'), '-o', join(dir, 'o')], /is not a PEM private key/],
      [['release', 'inspect', join(dir, 'app.bin')], /not a signed smgw-lite image: 1 bytes/],
      [['release', 'frobnicate'], /smgw release keygen\|sign\|inspect\|sim-image \(got "frobnicate"\)/],
      [['sim', '--release-key', join(dir, 'not-a-key.pem')], /is not a P-256 public key/],
    ];
    for (const [args, message] of cases) {
      const r = smgw(...args);
      expect(r.status, args.join(' ')).not.toBe(0);
      expect(r.stderr.split('\n')[0], args.join(' ')).toMatch(message);
    }
  });
});
