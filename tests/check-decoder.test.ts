// The project's acceptance check for `smgw decode`: the shared tool, run
// against the shared vectors and the repository's own (the EN 13757-3 M-Bus
// captures), on both engines. The two engines' runs go side by side (each is
// a chain of short processes, one per vector, so two use two cores).

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VECTORS_PATH, vectors } from './support/vectors';

const TOOL = fileURLToPath(new URL('../../shared/tools/check-decoder.mjs', import.meta.url));
const MBUS_VECTORS = fileURLToPath(new URL('./vectors/mbus-oms.json', import.meta.url));

function checkDecoder(engine: string, file = VECTORS_PATH): Promise<{ stdout: string; stderr: string; status: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TOOL, file, '--engine', engine], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ stdout, stderr, status }));
  });
}

describe.concurrent('check-decoder on the shared vectors', () => {
  for (const engine of ['node', 'xs']) {
    it(`passes every vector with --engine ${engine}`, async () => {
      const r = await checkDecoder(engine);
      const summary = r.stdout.trim().split('\n').pop();
      expect(summary, r.stdout.slice(-4000) + r.stderr.slice(-2000)).toBe(`${vectors().length} passed, 0 failed`);
      expect(r.status).toBe(0);
    }, 300_000);

    it(`passes the M-Bus (EN 13757-3, OMS mode 5) vectors with --engine ${engine}`, async () => {
      const count = (JSON.parse(readFileSync(MBUS_VECTORS, 'utf8')) as unknown[]).length;
      const r = await checkDecoder(engine, MBUS_VECTORS);
      expect(r.stdout.trim().split('\n').pop(), r.stdout + r.stderr).toBe(`${count} passed, 0 failed`);
      expect(r.status).toBe(0);
    }, 120_000);
  }
});
