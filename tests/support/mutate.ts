// Mutations for property tests and the fuzzer. A bare mutation mostly stops
// at the first checksum; "resealed" mutations fix the checksums afterwards so
// that corrupted content reaches the parsers behind them.

import { crc16Arc, crc16X25 } from '../../src/codec/crc16';

// The simulator's seeded PRNG, so that fuzz runs can be replayed by seed.
export { prng, type Random } from '../../simulator/world/random';
import type { Random } from '../../simulator/world/random';

const int = (r: Random, n: number) => Math.floor(r() * n);

/** Interesting byte values: framing bytes and integer edges. */
const SPECIAL = [0x00, 0x01, 0x02, 0x03, 0x09, 0x0a, 0x0d, 0x0f, 0x16, 0x1a, 0x1b, 0x21, 0x28, 0x29, 0x2a, 0x2f, 0x68, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0xdb, 0xe6, 0xff];

/** One to four random edits: bit flips, byte sets, insertions, deletions, duplicated or cut ranges. */
export function mutate(input: Uint8Array, r: Random): Uint8Array {
  let b = Array.from(input);
  const edits = 1 + int(r, 4);
  for (let k = 0; k < edits && b.length > 0; k++) {
    const at = int(r, b.length);
    switch (int(r, 7)) {
      case 0:
        b[at] ^= 1 << int(r, 8);
        break;
      case 1:
        b[at] = SPECIAL[int(r, SPECIAL.length)];
        break;
      case 2:
        b.splice(at, 0, int(r, 256));
        break;
      case 3:
        b.splice(at, 1 + int(r, 8));
        break;
      case 4: {
        const n = 1 + int(r, 16);
        b.splice(at, 0, ...b.slice(at, at + n));
        break;
      }
      case 5:
        b = b.slice(0, at);
        break;
      default:
        b[at] = int(r, 256);
    }
  }
  return Uint8Array.from(b);
}

/** Recomputes an SML file's transport CRC (the last two bytes, low byte first). */
export function resealSml(b: Uint8Array): Uint8Array {
  if (b.length < 2) return b;
  const out = b.slice();
  const crc = crc16X25(out, 0, out.length - 2);
  out[out.length - 2] = crc & 0xff;
  out[out.length - 1] = crc >> 8;
  return out;
}

/** Recomputes a DSMR telegram's CRC after its "!". */
export function resealDsmr(b: Uint8Array): Uint8Array {
  const bang = b.lastIndexOf(0x21);
  if (bang < 0) return b;
  const crc = crc16Arc(b, 0, bang + 1).toString(16).toUpperCase().padStart(4, '0');
  return Uint8Array.from([...b.subarray(0, bang + 1), ...Array.from(crc, (c) => c.charCodeAt(0)), 0x0d, 0x0a]);
}

/** Recomputes HCS and FCS of every HDLC frame whose header still parses. */
export function resealHdlc(b: Uint8Array): Uint8Array {
  const out = b.slice();
  for (let i = 0; i + 3 < out.length; i++) {
    if (out[i] !== 0x7e || out[i + 1] >> 4 !== 0xa) continue;
    const length = ((out[i + 1] & 0x07) << 8) | out[i + 2];
    if (i + 1 + length > out.length || length < 9) continue;
    let p = i + 3;
    for (let field = 0; field < 2 && p < i + length; field++) while (p < i + length && !(out[p++] & 1));
    const hcs = p + 1;
    const fcs = i + 1 + length - 2;
    if (hcs + 2 <= fcs) {
      const h = crc16X25(out, i + 1, hcs);
      out[hcs] = h & 0xff;
      out[hcs + 1] = h >> 8;
    }
    const f = crc16X25(out, i + 1, fcs);
    out[fcs] = f & 0xff;
    out[fcs + 1] = f >> 8;
    i += length;
  }
  return out;
}

/** Recomputes the checksum of every M-Bus long frame whose header still parses. */
export function resealMbus(b: Uint8Array): Uint8Array {
  const out = b.slice();
  for (let i = 0; i + 4 < out.length; i++) {
    if (out[i] !== 0x68 || out[i + 3] !== 0x68 || out[i + 1] !== out[i + 2]) continue;
    const end = i + 4 + out[i + 1];
    if (end + 1 >= out.length) continue;
    let s = 0;
    for (let k = i + 4; k < end; k++) s += out[k];
    out[end] = s & 0xff;
    out[end + 1] = 0x16;
    i = end + 1;
  }
  return out;
}
