// Byte helpers that run the same on V8 and XS: no Buffer, no TextDecoder
// (a Moddable module the firmware core must not import).

const HEX = '0123456789abcdef';

export function toHex(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[bytes[i] >> 4] + HEX[bytes[i] & 15];
  return s;
}

function nibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  c |= 0x20;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Parses hex text; whitespace is ignored. Returns null when the text is not hex. */
export function fromHex(text: string): Uint8Array | null {
  const out = new Uint8Array(text.length >> 1);
  let n = 0;
  let high = -1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) continue;
    const v = nibble(c);
    if (v < 0) return null;
    if (high < 0) high = v;
    else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  if (high >= 0) return null;
  return out.subarray(0, n);
}

// Bounded so that a long telegram never pushes thousands of arguments onto the
// XS stack (a few hundred slots on the ESP32).
const LATIN1_CHUNK = 128;

/** Decodes bytes 1:1 to a string (ISO 8859-1) with nothing but the language. */
export function portableLatin1(bytes: Uint8Array, start: number, end: number): string {
  if (end - start <= LATIN1_CHUNK) return String.fromCharCode.apply(null, bytes.subarray(start, end) as unknown as number[]);
  let s = '';
  for (let i = start; i < end; i += LATIN1_CHUNK) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + LATIN1_CHUNK)) as unknown as number[]);
  }
  return s;
}

let decodeLatin1 = portableLatin1;

/**
 * Text telegrams are turned into strings byte for byte, a step every byte of
 * every DSMR and IEC 62056-21 telegram goes through. A host with a native
 * decoder installs it at start-up; it must give exactly what portableLatin1
 * gives (each byte to the code point of the same value).
 */
export function useLatin1Decoder(decoder: (bytes: Uint8Array, start: number, end: number) => string): void {
  decodeLatin1 = decoder;
}

/** Decodes bytes 1:1 to a string (ISO 8859-1): meters send ASCII. */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return decodeLatin1(bytes, start, end);
}

const PRINTABLE = /^[\x20-\x7e]+$/;

/** The octets as text when they are printable, else as hex. */
export function textOrHex(bytes: Uint8Array, start: number, end: number): { text: string } | { hex: string } {
  // Binary octets (server ids, status words) mostly start with a control byte: hex at once, without decoding text to discard.
  const first = bytes[start];
  if (end <= start || first < 0x20 || first > 0x7e) return { hex: toHex(bytes, start, end) };
  const text = latin1(bytes, start, end);
  return PRINTABLE.test(text) ? { text } : { hex: toHex(bytes, start, end) };
}

export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
}

/** Big-endian integer of 1..8 bytes; beyond 2^53 precision is lost, as a double must. */
export function readInt(bytes: Uint8Array, at: number, width: number, signed: boolean): number {
  let v = 0;
  for (let i = 0; i < width; i++) v = v * 256 + bytes[at + i];
  if (signed && width > 0 && bytes[at] & 0x80) v -= 2 ** (8 * width);
  return v;
}
