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

/** CRC-16/KERMIT: what some Holley DTZ541 firmware puts where SML expects X-25. */
export function crc16Kermit(bytes: Uint8Array, start: number, end: number): number {
  return run(CCITT, 0, bytes, start, end);
}

/** CRC-16/ARC: DSMR P1 telegrams, over "/" up to and including "!". */
export function crc16Arc(bytes: Uint8Array, start: number, end: number): number {
  return run(IBM, 0, bytes, start, end);
}
