// The project's acceptance check for `smgw decode`: the shared tool, run
// against the shared vectors, on both engines.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { VECTORS_PATH, vectors } from './support/vectors';

const TOOL = fileURLToPath(new URL('../../shared/tools/check-decoder.mjs', import.meta.url));

describe('check-decoder on the shared vectors', () => {
  for (const engine of ['node', 'xs']) {
    it(`passes every vector with --engine ${engine}`, () => {
      const r = spawnSync(process.execPath, [TOOL, VECTORS_PATH, '--engine', engine], { encoding: 'utf8', timeout: 300_000 });
      const summary = r.stdout.trim().split('\n').pop();
      expect(summary).toBe(`${vectors().length} passed, 0 failed`);
      expect(r.status).toBe(0);
    }, 300_000);
  }
});
