// UTF-8 with nothing but the language (XS on the device has no global
// TextEncoder/TextDecoder): event messages stored in flash (they may carry a
// Wi-Fi name a user typed), request bodies the portal receives, passwords it
// hashes.

/** Encodes `text` into out[at..), at most `max` bytes, never splitting a character; returns the end. */
export function putUtf8(text: string, out: Uint8Array, at: number, max: number): number {
  const limit = at + max;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd; // a lone surrogate has no UTF-8 form
    const n = c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
    if (at + n > limit) break;
    if (n === 1) out[at++] = c;
    else if (n === 2) {
      out[at++] = 0xc0 | (c >> 6);
      out[at++] = 0x80 | (c & 0x3f);
    } else if (n === 3) {
      out[at++] = 0xe0 | (c >> 12);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    } else {
      out[at++] = 0xf0 | (c >> 18);
      out[at++] = 0x80 | ((c >> 12) & 0x3f);
      out[at++] = 0x80 | ((c >> 6) & 0x3f);
      out[at++] = 0x80 | (c & 0x3f);
    }
  }
  return at;
}

/** The whole of `text` as UTF-8. */
export function utf8Encode(text: string): Uint8Array {
  // A UTF-16 code unit takes at most 3 bytes (a surrogate pair, two units, takes 4).
  const out = new Uint8Array(text.length * 3);
  return out.slice(0, putUtf8(text, out, 0, out.length));
}

/** The smallest code point each sequence length may carry (longer forms are overlong, and invalid). */
const MIN_OF_LENGTH = [0, 0x80, 0x800, 0x10000];

/**
 * Decodes b[at..end). A malformed sequence (bad lead or continuation byte,
 * truncated, overlong, a surrogate, beyond U+10FFFF) makes it return null when
 * `strict`, and becomes U+FFFD otherwise.
 */
function decode(b: Uint8Array, at: number, end: number, strict: boolean): string | null {
  let s = '';
  while (at < end) {
    const c = b[at++];
    if (c < 0x80) {
      s += String.fromCharCode(c);
      continue;
    }
    const n = c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xc0 && c < 0xe0 ? 1 : -1;
    let v = n === 3 ? c & 0x07 : n === 2 ? c & 0x0f : c & 0x1f;
    let ok = n > 0 && at + n <= end;
    for (let k = 0; ok && k < n; k++) {
      const d = b[at + k];
      if ((d & 0xc0) !== 0x80) ok = false;
      else v = (v << 6) | (d & 0x3f);
    }
    if (ok && (v < MIN_OF_LENGTH[n] || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))) ok = false;
    if (!ok) {
      if (strict) return null;
      s += '\ufffd';
      continue;
    }
    at += n;
    s += String.fromCodePoint(v);
  }
  return s;
}

/** Decodes b[at..end) as stored text: what putUtf8 did not write becomes U+FFFD. */
export function utf8(b: Uint8Array, at: number, end: number): string {
  return decode(b, at, end, false)!;
}

/** Decodes a whole body; null when it is not valid UTF-8 (a client sending garbage gets a clear 400). */
export function utf8Decode(bytes: Uint8Array): string | null {
  return decode(bytes, 0, bytes.length, true);
}
