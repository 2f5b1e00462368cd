// UTF-8 without TextEncoder/TextDecoder, which XS on the device may lack:
// request bodies in, JSON out.

export function utf8Encode(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Uint8Array.from(out);
}

/** Decodes UTF-8; null when the bytes are not valid UTF-8 (a client sending garbage gets a clear 400). */
export function utf8Decode(bytes: Uint8Array): string | null {
  let out = '';
  for (let i = 0; i < bytes.length; ) {
    const b = bytes[i];
    let c: number;
    let n: number;
    if (b < 0x80) (c = b), (n = 0);
    else if (b >= 0xc2 && b < 0xe0) (c = b & 31), (n = 1);
    else if (b >= 0xe0 && b < 0xf0) (c = b & 15), (n = 2);
    else if (b >= 0xf0 && b < 0xf5) (c = b & 7), (n = 3);
    else return null;
    if (i + n >= bytes.length + (n ? 0 : 1)) return null;
    for (let k = 1; k <= n; k++) {
      const x = bytes[i + k];
      if ((x & 0xc0) !== 0x80) return null;
      c = (c << 6) | (x & 63);
    }
    i += n + 1;
    if (c >= 0x10000) {
      c -= 0x10000;
      out += String.fromCharCode(0xd800 + (c >> 10), 0xdc00 + (c & 1023));
    } else out += String.fromCharCode(c);
  }
  return out;
}
