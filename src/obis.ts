// OBIS codes (IEC 62056-61): A-B:C.D.E*F. Readings are keyed by the textual
// form "A-B:C.D.E", with "*F" only when F is present and not 255.

export function obisKey(a: number, b: number, c: number, d: number, e: number, f: number): string {
  const base = a + '-' + b + ':' + c + '.' + d + '.' + e;
  return f === 255 ? base : base + '*' + f;
}

// A meter sends the same few dozen codes in every telegram: their keys are
// built once and then looked up (a string built from six numbers costs more
// bytecodes on XS than everything else done with the value). Bounded, so
// that hostile input cannot grow it. Made on first use, not when the module
// loads: on the device a Map created while preloading is in flash, read-only.
let KEYS: Map<number, string> | null = null;
const MAX_KEYS = 128;

/** The key for a 6-byte OBIS octet string at `at`. */
export function obisFromBytes(bytes: Uint8Array, at: number): string {
  const id = (((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0) * 65536 + ((bytes[at + 4] << 8) | bytes[at + 5]);
  const keys = (KEYS ??= new Map());
  let key = keys.get(id);
  if (key === undefined) {
    key = obisKey(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3], bytes[at + 4], bytes[at + 5]);
    if (keys.size < MAX_KEYS) keys.set(id, key);
  }
  return key;
}

const OBIS_TEXT = /^(?:(\d{1,3})-(\d{1,3}):)?(\d{1,3}|[A-Z])\.(\d{1,3}|[A-Z])(?:\.(\d{1,3}|[A-Z]))?(?:[*&](\d{1,3}))?$/;

/**
 * Normalises an OBIS code as IEC 62056-21 and DSMR lines write it
 * ("1-0:1.8.0*255", "1.8.0", "0-1:24.2.1", "1-0:1.8.0*96", "C.1.0", "F.F")
 * to the reading key. Codes without A-B are electricity, channel 0. Letter
 * groups (C, F, L, P) stay as written. Returns null when it is not an OBIS code.
 */
export function normaliseObis(text: string): string | null {
  const m = OBIS_TEXT.exec(text);
  if (!m) return null;
  const base = (m[1] === undefined ? '1-0' : m[1] + '-' + m[2]) + ':' + m[3] + '.' + m[4] + '.' + (m[5] ?? '0');
  return m[6] === undefined || m[6] === '255' ? base : base + '*' + m[6];
}
