// Wired M-Bus long frames (EN 13757-2): 68 L L 68 C A CI <data> CS 16, the
// checksum the sum of C .. the last data byte. One finder for both users:
// DLMS segments (dlms/framer.ts) and EN 13757-3 application frames
// (mbus/framer.ts), so that the checksum, the stop byte and the Sagemcom
// length quirk are checked the same way on every path.

export const MBUS_START = 0x68;
const MBUS_STOP = 0x16;

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
 * does not end where L says, it may end 256 bytes later (not tried for
 * EN 13757-3 frames). Either way the checksum and the stop byte decide;
 * `ending`: no more bytes will come.
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
    // EN 13757-3 frames state their length (the quirk is Sagemcom's, on DLMS
    // segments): a corrupted one is dropped now rather than after 256 more
    // bytes, which a meter waiting for its E5 would never send.
    if (isApplicationCi(b[6])) break;
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

// -- Link-layer control (EN 13757-2, after IEC 60870-5-2) ---------------------
// A meter that sends as master (the TD-3511 on its customer interface) waits
// for the single character E5 after each SND_NKE and SND_UD, and repeats the
// frame, with the same frame count bit, when none comes in time. Only a frame
// that passed its checks is acknowledged: no E5 is how the meter learns that
// a frame was corrupted.

export const MBUS_SHORT_START = 0x10;
/** The single-character acknowledgement. */
export const MBUS_ACK = 0xe5;
/** C field of SND_NKE (link reset): PRM set, function 0. */
const SND_NKE = 0x40;
/** C field bits: PRM (from the master), FCB (frame count bit), FCV (the FCB is valid), the function code. */
const C_FUNCTION = 0x4f;
const C_SND_UD = 0x43; // 0x53 / 0x73 with FCV, 0x43 / 0x63 without
const C_FCV = 0x10;

/** True when a long frame's C field is SND_UD (send user data, to be confirmed with E5). */
export function isSndUd(c: number): boolean {
  return (c & C_FUNCTION) === C_SND_UD;
}

/**
 * Looks for a SND_NKE short frame 10 40 A CS 16 at b[0]: returns 5 when it is
 * whole and its checksum (C + A) and stop byte verify, PEEK while fewer than
 * five bytes are there, NOT_A_FRAME otherwise. Other short frames (REQ_UD2, a
 * master's request) ask nothing of a gateway that only listens.
 */
export function sndNke(b: Uint8Array, len: number): number {
  if (len < 5) return len > 1 && b[1] !== SND_NKE ? NOT_A_FRAME : PEEK;
  return b[1] === SND_NKE && ((b[1] + b[2]) & 0xff) === b[3] && b[4] === MBUS_STOP ? 5 : NOT_A_FRAME;
}

/**
 * What the link layer remembers of the last SND_UD it confirmed, so that a
 * repeat of it (the meter missed the E5) is confirmed again and not decoded a
 * second time: the repeat carries the same frame count bit and the same
 * bytes. SND_NKE forgets it, as it resets the frame count bit.
 */
export class ConfirmedFrame {
  private readonly last = new Uint8Array(4 + 255 + 2);
  private lastLen = 0;

  /** True when this verified SND_UD is a repeat of the last one confirmed; else it becomes the last one. */
  repeated(b: Uint8Array, n: number): boolean {
    const c = b[4];
    const last = this.last;
    if (n === this.lastLen && (c & C_FCV) !== 0 && c === last[4]) {
      let i = 0;
      while (i < n && b[i] === last[i]) i++;
      if (i === n) return true;
    }
    if (n <= last.length && (c & C_FCV) !== 0) {
      last.set(b.subarray(0, n));
      this.lastLen = n;
    } else this.lastLen = 0;
    return false;
  }

  reset(): void {
    this.lastLen = 0;
  }
}
