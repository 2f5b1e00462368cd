// The native side: the AES-GCM core as built for the host (gcc, mbedtls)
// beside node:crypto, and the firmware's flash footprint as the XS linker
// reports it (only where a Moddable SDK is set up: MODDABLE and IDF_PATH).

import { spawnSync } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAesGcmDriver, runAesGcmDriver, ROOT } from '../../tests/support/native';
import type { Row } from './report';

const SECTION = 'native';
const BLOCK = 1024;

function nodeRates(rounds: number): { gcm: number; stream: number } {
  const key = Buffer.alloc(16, 7);
  const iv = Buffer.alloc(12, 1);
  const data = Buffer.alloc(BLOCK, 0x55);
  const counter = Buffer.concat([iv, Buffer.from([0, 0, 0, 2])]);
  let start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const d = createDecipheriv('aes-128-gcm', key, iv, { authTagLength: 12 });
    d.setAAD(iv);
    d.setAuthTag(Buffer.alloc(12));
    d.update(data);
    try {
      d.final();
    } catch {
      // the tag fails; the work is done
    }
  }
  const gcm = (BLOCK * rounds) / ((performance.now() - start) / 1000);
  start = performance.now();
  for (let r = 0; r < rounds; r++) {
    const d = createDecipheriv('aes-128-ctr', key, counter);
    d.update(data);
    d.final();
  }
  return { gcm, stream: (BLOCK * rounds) / ((performance.now() - start) / 1000) };
}

function aesRows(): Row[] {
  const rounds = 50000;
  const answer = runAesGcmDriver(buildAesGcmDriver(), [`bench ${BLOCK} ${rounds}`])[0].split(' ');
  const node = nodeRates(rounds);
  return [
    { section: SECTION, name: 'AES-GCM decrypt, native core (host build, mbedtls)', value: Number(answer[1]) / 1e6, unit: 'MB/s', note: `${BLOCK}-byte frames` },
    { section: SECTION, name: 'AES-GCM decrypt, node:crypto', value: node.gcm / 1e6, unit: 'MB/s', note: `${BLOCK}-byte frames` },
    { section: SECTION, name: 'GCM keystream (no tag), native core', value: Number(answer[2]) / 1e6, unit: 'MB/s' },
    { section: SECTION, name: 'GCM keystream (no tag), node:crypto', value: node.stream / 1e6, unit: 'MB/s' },
  ];
}

function sumXsb(dir: string): number {
  let total = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) total += sumXsb(path);
    else if (name.endsWith('.xsb')) total += statSync(path).size;
  }
  return total;
}

/** Builds the app for esp32 up to the XS link with the developer's Moddable SDK; null when there is none. */
function footprint(): { bytecode: number; ours: number; instances: number } | null {
  const { MODDABLE, IDF_PATH } = process.env;
  if (!MODDABLE || !IDF_PATH || !existsSync(join(MODDABLE, 'build', 'bin', 'lin', 'release', 'mcconfig'))) return null;
  const out = mkdtempSync(join(tmpdir(), 'smgw-esp32-'));
  const env = { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${join(MODDABLE, 'build', 'bin', 'lin', 'release')}:${process.env.PATH}` };
  const config = spawnSync('mcconfig', ['-p', 'esp32', '-o', out, 'manifest.json'], { cwd: ROOT, env, encoding: 'utf8' });
  if (config.status !== 0) throw new Error('mcconfig failed: ' + config.stderr);
  const tmp = join(out, 'tmp', 'esp32', 'release', 'main');
  // Up to the XS link: the sdkconfig header comes from ESP-IDF's build, which is not needed for it.
  const link = spawnSync('make', ['-f', 'makefile', '-o', join(tmp, 'xsProj-esp32', 'build', 'config', 'sdkconfig.h'), join(tmp, 'mc.xs.c')], { cwd: tmp, env, encoding: 'utf8' });
  if (link.status !== 0) throw new Error('XS link failed: ' + link.stdout + link.stderr);
  const linked = readFileSync(join(tmp, 'mc.xs.c'), 'utf8');
  // Each preloaded function's bytecode is a gxCode<n>[size] array in the link output.
  const sizes = new Map<string, number>();
  for (const m of linked.matchAll(/gxCode(\d+)\[(\d+)\]/g)) sizes.set(m[1], Number(m[2]));
  const bytecode = [...sizes.values()].reduce((a, b) => a + b, 0);
  const instances = Number(/### (\d+) instances/.exec(link.stdout + link.stderr)?.[1] ?? 0);
  return { bytecode, ours: sumXsb(join(tmp, 'modules', 'src')) + sumXsb(join(tmp, 'modules', 'hosts')), instances };
}

export function benchNative(): Row[] {
  const rows = aesRows();
  const f = footprint();
  if (f) {
    rows.push({ section: SECTION, name: 'esp32 app: bytecode in the XS link output', value: f.bytecode / 1024, unit: 'KB', note: 'mc.xs.c, SDK and app modules' });
    rows.push({ section: SECTION, name: "esp32 app: smgw-lite's own modules (xsc output)", value: f.ours / 1024, unit: 'KB', note: 'src/ and hosts/moddable/' });
    rows.push({ section: SECTION, name: 'esp32 app: preloaded instances', value: f.instances, unit: 'instances', note: 'in flash, from the XS link' });
  } else {
    rows.push({ section: SECTION, name: 'esp32 app: bytecode in the XS link output', value: NaN, unit: 'KB', note: 'not measured: set MODDABLE (a built Moddable SDK) and IDF_PATH' });
  }
  return rows;
}
