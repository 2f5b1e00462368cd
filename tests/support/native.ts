// Builds the native modules' host-testable parts with gcc: the AES-GCM core,
// the digest core and the OTA verify core (ECDSA P-256, streamed SHA-256) against the system's mbedtls (Debian's libmbedtls-dev: no package on the npm
// registry ships mbedtls' sources or headers), and syntax checks of the XS bindings against the XS
// headers @agoric/xsnap ships. What gcc needs is in system-packages.txt; a test run on a machine
// without it fails naming the package, as `npm test`'s first step does, rather than in gcc's output.

import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { repositoryRoot } from '../../hosts/node/paths';
import { missingPackages, readSystemPackages, report } from '../../scripts/prerequisites.mjs';

export const ROOT = repositoryRoot();
const require = createRequire(import.meta.url);

export function xsIncludes(): string {
  return join(dirname(require.resolve('@agoric/xsnap/package.json')), 'moddable', 'xs', 'includes');
}

/** Throws, one line per package as scripts/prerequisites.mjs puts it, where one of `names` is not installed. */
function requireSystemPackages(names: string[]): void {
  const listed = readSystemPackages().filter((p) => names.includes(p.name));
  if (listed.length !== names.length) throw new Error(`system-packages.txt lists ${listed.map((p) => p.name).join(', ') || 'none'} of ${names.join(', ')}`);
  const missing = missingPackages(listed);
  if (missing.length) throw new Error(report(missing).join('\n'));
}

function gcc(args: string[]): void {
  const r = spawnSync('gcc', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc ${args.join(' ')}\n${r.stderr}`);
}

/** Compiles modules/<name>'s core with its test driver (tests/native/driver.h beside it); returns the executable's path. */
function buildDriver(name: string): string {
  requireSystemPackages(['build-essential', 'libmbedtls-dev']);
  const out = join(mkdtempSync(join(tmpdir(), 'smgw-native-')), `${name}-test`);
  gcc(['-O2', '-Wall', '-Wextra', '-Werror', `-Imodules/${name}`, '-Itests/native', `modules/${name}/${name}-core.c`, `modules/${name}/test/${name}-test.c`, '-lmbedcrypto', '-o', out]);
  return out;
}

export const buildAesGcmDriver = (): string => buildDriver('aes-gcm');
export const buildDigestDriver = (): string => buildDriver('digest');
export const buildOtaVerifyDriver = (): string => buildDriver('ota-verify');

/** Compiles a native binding as far as the XS headers allow, without linking (the device runtime provides the rest). */
export function checkBinding(source: string, includes: string[] = []): void {
  requireSystemPackages(['build-essential']);
  gcc(['-fsyntax-only', '-include', 'stddef.h', '-Wall', '-Wextra', '-Wno-unused-parameter', '-Werror', `-I${xsIncludes()}`, '-Itests/native/shim', ...includes.map((i) => `-I${i}`), source]);
}

/** Runs a native test driver (AES-GCM, digest) over request lines; returns its answer lines. */
export function runAesGcmDriver(driver: string, requests: string[]): string[] {
  const r = spawnSync(driver, [], { input: requests.join('\n') + '\n', encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${driver} failed: ${r.stderr}`);
  return r.stdout.trimEnd().split('\n');
}

export const runDriver = runAesGcmDriver;
