// Variable-length integers for the reading log's records: 7 bits per byte,
// low bits first, the high bit saying another byte follows (LEB128), and
// zigzag for signed values. Written for numbers up to 2^53: plain arithmetic,
// no 32-bit shifts.

/** Writes unsigned v at out[at]; returns the position after it. */
export function putVarint(out: Uint8Array, at: number, v: number): number {
  while (v >= 128) {
    out[at++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  out[at++] = v;
  return at;
}

export function zigzag(v: number): number {
  return v >= 0 ? v * 2 : -v * 2 - 1;
}

export function unzigzag(v: number): number {
  return v % 2 === 0 ? v / 2 : -(v + 1) / 2;
}

/** The varint at b[at]: value in `value`, position after it in `next`; next = -1 when malformed. */
export class VarintReader {
  value = 0;
  next = 0;

  read(b: Uint8Array, at: number, end: number): boolean {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 8 && at < end; i++) {
      const byte = b[at++];
      v += (byte & 127) * scale;
      if (!(byte & 128)) {
        this.value = v;
        this.next = at;
        return true;
      }
      scale *= 128;
    }
    this.next = -1;
    return false;
  }
}
