// UTF-8 for short texts stored in flash (event messages may carry a Wi-Fi
// name a user typed), with nothing but the language: XS on the device has no
// global TextEncoder.

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

/** Decodes b[at..end); a malformed sequence becomes U+FFFD (such bytes were not written by putUtf8). */
export function utf8(b: Uint8Array, at: number, end: number): string {
  let s = '';
  while (at < end) {
    const c = b[at++];
    let n = 0;
    let v = c;
    if (c >= 0xf0 && c < 0xf8) {
      n = 3;
      v = c & 0x07;
    } else if (c >= 0xe0) {
      n = c < 0xf0 ? 2 : -1;
      v = c & 0x0f;
    } else if (c >= 0xc0) {
      n = 1;
      v = c & 0x1f;
    } else if (c >= 0x80) n = -1;
    let ok = n >= 0 && at + n <= end;
    for (let k = 0; ok && k < n; k++) {
      const d = b[at + k];
      if ((d & 0xc0) !== 0x80) ok = false;
      else v = (v << 6) | (d & 0x3f);
    }
    if (!ok) {
      s += '\ufffd';
      continue;
    }
    at += n;
    s += String.fromCodePoint(v);
  }
  return s;
}
