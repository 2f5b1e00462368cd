// CRC-16 variants used by meter interfaces. All are reflected CRCs, computed
// four bytes per step with four lookup tables ("slicing by 4"): on XS that
// halves the bytecodes per byte against the one-table loop, and the CRC is
// the one step every byte of every telegram goes through. The tables (2 KB per
// polynomial) are built once at module load; on the device that happens at
// preload, so they live in flash, not RAM.

type Tables = [Uint16Array, Uint16Array, Uint16Array, Uint16Array];

function tables(poly: number): Tables {
  const t0 = new Uint16Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t0[n] = c;
  }
  // t(k+1)[n] is t(k)[n] advanced by one more zero byte.
  const next = (t: Uint16Array) => {
    const o = new Uint16Array(256);
    for (let n = 0; n < 256; n++) o[n] = (t[n] >>> 8) ^ t0[t[n] & 0xff];
    return o;
  };
  const t1 = next(t0);
  const t2 = next(t1);
  return [t0, t1, t2, next(t2)];
}

/** x^16 + x^12 + x^5 + 1, reflected (CCITT): SML (X-25, KERMIT) and HDLC FCS-16. */
const CCITT = tables(0x8408);
/** x^16 + x^15 + x^2 + 1, reflected (IBM): DSMR P1 (CRC-16/ARC). */
const IBM = tables(0xa001);

function run(t: Tables, crc: number, b: Uint8Array, start: number, end: number): number {
  const t0 = t[0];
  const t1 = t[1];
  const t2 = t[2];
  const t3 = t[3];
  let i = start;
  const end4 = end - 3;
  for (; i < end4; i += 4) crc = t3[(crc ^ b[i]) & 0xff] ^ t2[(crc >>> 8) ^ b[i + 1]] ^ t1[b[i + 2]] ^ t0[b[i + 3]];
  for (; i < end; i++) crc = (crc >>> 8) ^ t0[(crc ^ b[i]) & 0xff];
  return crc;
}

/** CRC-16/X-25 (IBM-SDLC): SML transport and message CRCs, HDLC HCS/FCS. */
export function crc16X25(bytes: Uint8Array, start: number, end: number): number {
  return run(CCITT, 0xffff, bytes, start, end) ^ 0xffff;
}

/** The CRC-16/X-25 register (before the final XOR) after b[start, end), continuing from `register` (0xffff at the start). */
export function crc16X25Register(register: number, bytes: Uint8Array, start: number, end: number): number {
  return run(CCITT, register, bytes, start, end);
}

// A CRC register advanced over n zero bytes is a linear map of the register:
// ZEROS[k] is its 16 x 16 matrix over GF(2) for 2^k zero bytes (k <= 12: the
// longest telegram), kept as four 16-entry tables, one per nibble of the
// register, so that applying it is four lookups (1.6 KB in all).
const ZEROS: Uint16Array[] = [];
{
  const t0 = CCITT[0];
  let columns = new Uint16Array(16); // the image of bit j, for one zero byte
  for (let j = 0; j < 16; j++) columns[j] = ((1 << j) >>> 8) ^ t0[(1 << j) & 0xff];
  for (let k = 0; k <= 12; k++) {
    const m = new Uint16Array(64);
    for (let n = 0; n < 4; n++) {
      for (let v = 1; v < 16; v++) {
        let y = 0;
        for (let i = 0; i < 4; i++) if (v & (1 << i)) y ^= columns[4 * n + i];
        m[16 * n + v] = y;
      }
    }
    ZEROS.push(m);
    const next = new Uint16Array(16); // twice as many zero bytes: the map applied to its own columns
    for (let j = 0; j < 16; j++) next[j] = apply(m, columns[j]);
    columns = next;
  }
}

function apply(m: Uint16Array, x: number): number {
  return m[x & 15] ^ m[16 + ((x >>> 4) & 15)] ^ m[32 + ((x >>> 8) & 15)] ^ m[48 + (x >>> 12)];
}

/**
 * CRC-16/X-25 of a range inside a longer CRC run, from the registers the run
 * had before and after it: CRC is linear, so the range's own CRC takes no
 * second pass over its bytes (register' = A^n (before ^ ffff) ^ after, with
 * A^n the advance over n zero bytes). n below 8192.
 */
export function crc16X25Within(before: number, after: number, length: number): number {
  let x = before ^ 0xffff;
  for (let k = 0; length !== 0; k++, length >>>= 1) {
    if (length & 1) {
      const m = ZEROS[k]; // apply(), inline: this runs for every SML message
      x = m[x & 15] ^ m[16 + ((x >>> 4) & 15)] ^ m[32 + ((x >>> 8) & 15)] ^ m[48 + (x >>> 12)];
    }
  }
  return (x ^ after) ^ 0xffff;
}

/** CRC-16/KERMIT: what some Holley DTZ541 firmware puts where SML expects X-25. */
export function crc16Kermit(bytes: Uint8Array, start: number, end: number): number {
  return run(CCITT, 0, bytes, start, end);
}

/** CRC-16/ARC: DSMR P1 telegrams, over "/" up to and including "!". */
export function crc16Arc(bytes: Uint8Array, start: number, end: number): number {
  return run(IBM, 0, bytes, start, end);
}
