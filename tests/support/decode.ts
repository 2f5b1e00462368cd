// Runs the firmware's MeterDecoder over bytes and collects what came out.

import { MeterDecoder, type DecoderOptions } from '../../src/meter/decoder';
import type { DecodeError } from '../../src/meter/errors';
import type { Reading } from '../../src/meter/reading';
import { readingJson } from '../../src/meter/format';
import { nodeCrypto } from '../../hosts/node/crypto';
import { installNodeText } from '../../hosts/sim/text';

// Decode as the Node host does; the XS engine tests compare with the firmware's own text decoding.
installNodeText();

export interface Collected {
  readings: Reading[];
  errors: DecodeError[];
  /** Readings and rejections in order, as text: what chunking must not change. */
  trace: string[];
  skipped: number;
}

export function decodeChunks(options: Omit<DecoderOptions, 'crypto'>, chunks: Uint8Array[]): Collected {
  const out: Collected = { readings: [], errors: [], trace: [], skipped: 0 };
  const meter = new MeterDecoder(
    { ...options, crypto: nodeCrypto },
    {
      reading: (r) => {
        out.readings.push(r);
        out.trace.push(readingJson(r));
      },
      rejected: (e) => {
        out.errors.push(e);
        out.trace.push('rejected ' + e.reason + ': ' + e.message);
      },
    },
  );
  for (const c of chunks) meter.push(c);
  meter.end();
  meter.close();
  out.skipped = meter.skipped;
  return out;
}

export const decodeAll = (options: Omit<DecoderOptions, 'crypto'>, bytes: Uint8Array): Collected => decodeChunks(options, [bytes]);

/** Splits bytes at the given sizes (cycled). */
export function chunked(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let k = 0;
  for (let i = 0; i < bytes.length; ) {
    const n = Math.max(1, sizes[k++ % sizes.length]);
    out.push(bytes.subarray(i, i + n));
    i += n;
  }
  return out;
}

export function concatAll(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
