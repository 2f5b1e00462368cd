// One version number: package.json's, which scripts/build.mjs writes into
// src/version.ts; the firmware reports it in /api/status and its uploads.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { FIRMWARE_VERSION } from '../src/app';

const read = (p: string) => readFileSync(new URL(`../${p}`, import.meta.url), 'utf8');

describe('the version', () => {
  it('is package.json\'s everywhere, and the manifest keeps none of its own', () => {
    const { version } = JSON.parse(read('package.json'));
    expect(FIRMWARE_VERSION).toBe(version);
    expect(JSON.parse(read('package-lock.json')).version).toBe(version);
    expect(read('manifest.json')).not.toMatch(/"(firmware|version)"\s*:/);
  });
});
