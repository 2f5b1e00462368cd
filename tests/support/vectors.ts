// The shared real-meter vectors (../shared/vectors/public.json beside the repository).

import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromHex } from '../../src/codec/bytes';
import type { Protocol } from '../../src/meter/reading';

export interface Vector {
  id: string;
  category: string;
  protocol: Protocol;
  meter: string;
  hex: string;
  key: string | null;
  authKey: string | null;
  expect: { values: Record<string, { value: number; unit: string }>; alternatives?: Record<string, { value: number; unit: string }[]> };
  expectError: string | null;
}

export const VECTORS_PATH = fileURLToPath(new URL('../../../shared/vectors/public.json', import.meta.url));

let cache: Vector[] | null = null;

export function vectors(): Vector[] {
  if (!cache) {
    try {
      cache = JSON.parse(readFileSync(VECTORS_PATH, 'utf8')) as Vector[];
    } catch (e) {
      throw new Error(`the shared vectors are missing at ${VECTORS_PATH}: the repository expects ../shared beside it (${(e as Error).message})`);
    }
  }
  return cache;
}

export const bytesOf = (v: Vector): Uint8Array => fromHex(v.hex)!;
export const keyOf = (hex: string | null): Uint8Array | null => (hex ? fromHex(hex) : null);
