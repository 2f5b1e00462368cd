// Wired M-Bus long frames (EN 13757-2): 68 L L 68 C A CI <data> CS 16, the
// checksum the sum of C .. the last data byte. One finder for both users:
// DLMS segments (dlms/framer.ts) and EN 13757-3 application frames
// (mbus/framer.ts), so that the checksum, the stop byte and the Sagemcom
// length quirk are checked the same way on every path.

export const MBUS_START = 0x68;
export const MBUS_STOP = 0x16;

/** Outcomes of `longFrame` other than a frame's length. */
export const WAIT = 0; // a frame has begun: wait for the rest
export const NOT_A_FRAME = -1; // no frame starts here
export const PEEK = -2; // more bytes are needed to tell

/**
 * Looks for a long frame at b[0]. Returns its length (> 0) when it is whole and
 * its checksum and stop byte verify; WAIT, PEEK or NOT_A_FRAME; or -n (n >= 6)
 * when a frame with this header failed its checksum or stop byte and its n
 * bytes (as its L field says) are to be dropped.
 *
 * Sagemcom T210-D sends L modulo 256 for frames over 255 bytes: when the frame
 * does not end where L says, it may end 256 bytes later. Either way the
 * checksum and the stop byte decide; `ending`: no more bytes will come.
 */
export function longFrame(b: Uint8Array, len: number, ending: boolean): number {
  if (len < 4) return PEEK;
  const l = b[1];
  if (b[2] !== l || b[3] !== MBUS_START) return NOT_A_FRAME;
  for (let length = l; length <= l + 256; length += 256) {
    const end = 4 + length;
    if (len < end + 2) {
      if (length > l && ending) break;
      return WAIT;
    }
    if (length >= 3 && b[end + 1] === MBUS_STOP && checksum(b, 4, end) === b[end]) return end + 2;
  }
  return -Math.min(len, 4 + l + 2);
}

/** The M-Bus checksum: the sum of b[start, end) modulo 256. */
export function checksum(b: Uint8Array, start: number, end: number): number {
  let s = 0;
  let i = start;
  for (const end4 = end - 3; i < end4; i += 4) s += b[i] + b[i + 1] + b[i + 2] + b[i + 3];
  for (; i < end; i++) s += b[i];
  return s & 0xff;
}

/** True when a whole long frame's checksum and stop byte verify (for decoders handed a frame directly). */
export function verifiedLongFrame(frame: Uint8Array): boolean {
  const n = frame.length;
  if (n < 9 || frame[0] !== MBUS_START || frame[3] !== MBUS_START || frame[1] !== frame[2]) return false;
  if (((n - 6) & 0xff) !== frame[1]) return false;
  return frame[n - 1] === MBUS_STOP && checksum(frame, 4, n - 2) === frame[n - 2];
}

export const CHECKSUM_MISMATCH = 'M-Bus checksum mismatch: the frame was corrupted on the line';

/**
 * EN 13757-3 application-layer CI fields that carry variable data records:
 * 0x72 / 0x7A / 0x78 from the meter (long, short, no header), and 0x5B / 0x5A
 * / 0x51 in a SND_UD the meter sends as master (Siemens AMIS TD-3511).
 * DLMS over M-Bus uses CI 0x00-0x1F (segment numbers).
 */
export function isApplicationCi(ci: number): boolean {
  return ci === 0x72 || ci === 0x7a || ci === 0x78 || ci === 0x5b || ci === 0x5a || ci === 0x51;
}
