#!/usr/bin/env node
// The system packages in system-packages.txt, checked in about a second: one line for each one
// missing, naming it and the command that installs it, then exit 1. `npm test` runs this first, so a
// machine without a compiler, the mbedtls headers or Chromium stops at once instead of failing
// (or skipping) tests minutes later, deep in their output. The README runs it before `npm ci`, which
// itself needs the compiler: so this file uses nothing but Node's own modules.
//
//   node scripts/prerequisites.mjs             check; exit 1 with one line per missing package (or shared file)
//   node scripts/prerequisites.mjs --missing   only the names of the missing packages, one a line (for .ci/run)
//   node scripts/prerequisites.mjs --packages  the names of all the packages, one a line

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const LIST = join(ROOT, 'system-packages.txt');

/** Not a package, but as needed: the decoder, native and XS tests read the real-meter vectors kept beside the repository. */
export const SHARED_FILES = ['../shared/vectors/public.json'];

const PROBE_KINDS = ['command', 'file', 'mbedtls'];

/** The packages a list names, each with what shows it is there and what needs it. */
export function parseSystemPackages(text, source = 'system-packages.txt') {
  const packages = [];
  text.split('\n').forEach((raw, i) => {
    const hash = raw.indexOf('#');
    const line = (hash < 0 ? raw : raw.slice(0, hash)).trim();
    if (!line) return;
    const [name, ...words] = line.split(/\s+/);
    const where = `${source}:${i + 1}`;
    if (words.length === 0) throw new Error(`${where}: ${name} says nothing that shows it is installed`);
    const probes = words.map((w) => {
      const colon = w.indexOf(':');
      const kind = colon < 0 ? w : w.slice(0, colon);
      const arg = colon < 0 ? '' : w.slice(colon + 1);
      if (!PROBE_KINDS.includes(kind)) throw new Error(`${where}: unknown check "${w}" (known: ${PROBE_KINDS.join(', ')})`);
      if (kind !== 'mbedtls' && !arg) throw new Error(`${where}: "${w}" names no ${kind}`);
      return { kind, arg };
    });
    const why = hash < 0 ? '' : raw.slice(hash + 1).trim();
    packages.push({ name, probes, why });
  });
  return packages;
}

export function readSystemPackages(file = LIST) {
  return parseSystemPackages(readFileSync(file, 'utf8'), file === LIST ? 'system-packages.txt' : file);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Where NAME is found on PATH, or null. */
export function onPath(name, path = process.env.PATH ?? '') {
  for (const dir of path.split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return null;
}

// What the native tests include and link (tests/support/native.ts): the GCM core and the digest core's
// SHA-256 and PBKDF2, in mbedtls 2.28 and 3.x alike.
const MBEDTLS_PROBE = `#include <mbedtls/version.h>
#include <mbedtls/gcm.h>
#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>
int main(void) { mbedtls_gcm_context g; mbedtls_gcm_init(&g); mbedtls_gcm_free(&g); return MBEDTLS_VERSION_NUMBER == 0; }
`;

function mbedtlsLinks() {
  const dir = mkdtempSync(join(tmpdir(), 'smgw-prereq-'));
  try {
    writeFileSync(join(dir, 'probe.c'), MBEDTLS_PROBE);
    const r = spawnSync('gcc', [join(dir, 'probe.c'), '-lmbedcrypto', '-o', join(dir, 'probe')], { encoding: 'utf8', timeout: 20_000 });
    return r.status === 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function probe({ kind, arg }, env) {
  switch (kind) {
    case 'command':
      return onPath(arg, env.PATH) !== null;
    case 'file':
      return isExecutable(arg);
    case 'mbedtls':
      // Without gcc nothing compiles; the headers' presence is the best answer then (gcc is reported on its own line).
      if (onPath('gcc', env.PATH) === null) return ['/usr/include', '/usr/local/include'].some((d) => existsSync(join(d, 'mbedtls', 'gcm.h')));
      return mbedtlsLinks();
    default:
      throw new Error(`unknown check ${kind}`);
  }
}

/** The packages of the list that are not there, each with the checks it failed. */
export function missingPackages(packages = readSystemPackages(), env = process.env) {
  const missing = [];
  for (const p of packages) {
    const failed = p.probes.filter((x) => !probe(x, env));
    if (failed.length) missing.push({ ...p, failed });
  }
  return missing;
}

/** The files of SHARED_FILES (relative to the repository at `root`) that are not there. */
export function missingSharedFiles(root = ROOT) {
  return SHARED_FILES.filter((f) => !existsSync(join(root, f)));
}

/** The command that installs the named packages on this machine. */
export function installCommand(names, { root = process.getuid?.() === 0, apt = existsSync('/etc/debian_version') } = {}) {
  const cmd = `${root ? '' : 'sudo '}apt-get install ${names.join(' ')}`;
  return apt ? cmd : `${cmd} (Debian's names; install your system's equivalent)`;
}

function describe(failed) {
  return failed.map(({ kind, arg }) => (kind === 'command' ? `no ${arg} on PATH` : kind === 'file' ? `no ${arg}` : 'no mbedtls headers and libmbedcrypto to compile against')).join(', ');
}

/** The lines to print for what is missing (none when all is there). */
export function report(missing, options) {
  const lines = [];
  const [major] = process.versions.node.split('.').map(Number);
  if (major < 20) lines.push(`missing: Node 20 or newer (this is ${process.versions.node}): install it from your system's nodejs package or nodejs.org`);
  for (const m of missing) {
    lines.push(`missing: ${m.name} (${describe(m.failed)}${m.why ? `; ${m.why}` : ''}): ${installCommand([m.name], options)}`);
  }
  if (missing.length > 1) lines.push(`all of them: ${installCommand(missing.map((m) => m.name), options)}`);
  return lines;
}

/** The lines to print for the shared files that are missing. */
export function reportSharedFiles(files) {
  return files.map((f) => `missing: ${f} (the real-meter vectors the decoder, native and XS tests read): lay the project's shared/ folder beside the repository`);
}

function main(args) {
  const packages = readSystemPackages();
  if (args.includes('--packages')) {
    for (const p of packages) console.log(p.name);
    return 0;
  }
  const missing = missingPackages(packages);
  if (args.includes('--missing')) {
    for (const m of missing) console.log(m.name);
    return 0;
  }
  const lines = [...report(missing), ...reportSharedFiles(missingSharedFiles())];
  if (lines.length === 0) {
    console.log(`system prerequisites: ${packages.map((p) => p.name).join(', ')} are there, and ${SHARED_FILES.join(', ')}`);
    return 0;
  }
  for (const l of lines) console.error(l);
  return 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
