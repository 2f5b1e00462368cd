// DLMS transports on a meter's customer interface, reassembled into APDUs:
//  - wired M-Bus long frames (EN 13757-2): 68 L L 68 C A CI STSAP DTSAP
//    <segment> CS 16. The CI field's low nibble numbers the segments, 0x10
//    marks the last (Austrian Kaifa and Sagemcom meters, 2400 8E1). A frame
//    whose CI says EN 13757-3 (0x72, 0x5B ...: the Siemens AMIS TD-3511 of
//    Netz Oberösterreich) is handed on whole for the M-Bus decoder.
//  - HDLC frame format type 3 (IEC 62056-46): 7E A0LL <dst> <src> <ctrl> HCS
//    <info> FCS 7E, with the segmentation bit for APDUs that span frames, and
//    the LLC header E6 E7 00 before the APDU.
//  - bare APDUs: a general-glo-ciphering frame (DB, which carries its length)
//    or a data-notification (0F, whose end is where its data ends).
// 'auto' takes whichever it meets first and then stays with it, so that a
// 0F or 68 inside a corrupted frame is not mistaken for the start of another.

import { crc16X25Register } from '../../codec/crc16';
import { DecodeError } from '../errors';
import { Framer, MAX_TELEGRAM, type FrameSink } from '../framer';
import { skipData } from './axdr';
import { gloFrameLength } from './glo';
import { CHECKSUM_MISMATCH, ConfirmedFrame, isApplicationCi, isSndUd, longFrame, MBUS_SHORT_START, MBUS_START, NOT_A_FRAME, PEEK, sndNke, WAIT } from '../mbus/link';

export type DlmsTransport = 'auto' | 'mbus' | 'hdlc' | 'apdu';

const HDLC_FLAG = 0x7e;
const GLO = 0xdb;
const NOTIFICATION = 0x0f;

// Outcome of looking at the front of the buffer: bytes used (> 0), WAIT for
// the rest of a frame that has begun, PEEK when more bytes are needed to tell
// whether one has begun, or NOT_A_FRAME (as mbus/link.ts defines them).

export class DlmsFramer extends Framer {
  private transport: DlmsTransport;
  private readonly apdu = new Uint8Array(MAX_TELEGRAM);
  private apduLen = 0;
  /** Next M-Bus segment number, or -1 when no APDU is being reassembled. */
  private nextSegment = -1;
  /** An HDLC APDU is being reassembled from segmented frames. */
  private hdlcSegmented = false;
  /** The last scan stopped inside a frame (not merely before telling whether one began). */
  private partial = false;
  /** Bytes left of a frame whose HCS failed: only an HDLC flag may start a frame among them. */
  private hdlcOnly = 0;
  /** This meter's HDLC APDUs begin with the LLC header. */
  private hdlcLlc = false;
  /** An HDLC frame failed its check: frames without the LLC header that follow are the rest of its APDU. */
  private hdlcLost = false;
  /** The last EN 13757-3 SND_UD confirmed (a TD-3511 read by the dlms setting); DLMS push meters expect no E5. */
  private readonly confirmed = new ConfirmedFrame();

  constructor(sink: FrameSink, transport: DlmsTransport = 'auto', capacity = MAX_TELEGRAM) {
    super(sink, capacity);
    this.transport = transport;
  }

  protected open(): boolean {
    return this.partial || this.nextSegment >= 0 || this.hdlcSegmented;
  }

  protected reset(): void {
    this.hdlcOnly = 0;
    this.hdlcLost = false;
    this.apduLen = 0;
    this.nextSegment = -1;
    this.hdlcSegmented = false;
  }

  protected scan(): void {
    while (this.len > 0) {
      const b = this.buf[0];
      const t = this.transport;
      let used = NOT_A_FRAME;
      // Which transports may start here (inline: this runs for every byte between frames).
      if (b === HDLC_FLAG) {
        if (t === 'auto' || t === 'hdlc') used = this.hdlc();
      } else if (this.hdlcOnly > 0) {
        // inside an HDLC frame whose HCS failed: only a flag starts a frame
      } else if (b === MBUS_START) {
        if (t === 'auto' || t === 'mbus') used = this.mbus();
      } else if (b === MBUS_SHORT_START) {
        // A TD-3511 searching for its reader (SND_NKE): confirmed, and counted with the bytes between frames.
        if (t === 'auto' || t === 'mbus') {
          used = sndNke(this.buf, this.len);
          if (used > 0) {
            if (this.confirm()) this.confirmed.reset();
            this.skip(used);
            continue;
          }
        }
      } else if (b === GLO || b === NOTIFICATION) {
        if (t === 'auto' || t === 'apdu') used = this.bare();
      }
      this.partial = used === WAIT;
      if (used === WAIT || used === PEEK) {
        if (!this.ending || used === WAIT) return;
        used = NOT_A_FRAME; // the input ended before this could become a frame
      }
      if (used > 0) {
        this.consume(used);
        if (this.hdlcOnly > 0) this.hdlcOnly = 0;
      } else {
        this.skip(1);
        if (this.hdlcOnly > 0) this.hdlcOnly--;
      }
    }
    this.partial = false;
  }

  private lock(transport: DlmsTransport): void {
    if (this.transport === 'auto') this.transport = transport;
  }

  private append(bytes: Uint8Array): boolean {
    if (this.apduLen + bytes.length > this.apdu.length) {
      this.sink.reject(new DecodeError('overflow', `DLMS APDU longer than ${this.apdu.length} bytes: discarded`));
      this.reset();
      return false;
    }
    this.apdu.set(bytes, this.apduLen);
    this.apduLen += bytes.length;
    return true;
  }

  // -- M-Bus ----------------------------------------------------------------

  private mbus(): number {
    const n = longFrame(this.buf, this.len, this.ending);
    if (n === WAIT || n === NOT_A_FRAME || n === PEEK) return n;
    if (n < 0) {
      this.sink.reject(new DecodeError('crc', CHECKSUM_MISMATCH));
      if (this.nextSegment < 0) this.dropped(); // no APDU in progress that the flag still holds against
      return -n;
    }
    this.lock('mbus');
    this.mbusFrame(n);
    return n;
  }

  /**
   * A verified long frame of n bytes at buf[0]: C A CI STSAP DTSAP <segment>,
   * or an EN 13757-3 application frame (CI 0x72, 0x5B ...), which goes to the
   * decoder whole.
   */
  private mbusFrame(n: number): void {
    const frame = this.buf.subarray(4, n - 2);
    const ci = frame[2];
    if (ci > 0x1f && isApplicationCi(ci)) {
      if (this.nextSegment > 0) this.sink.reject(new DecodeError('truncated', 'M-Bus segments missing: an APDU was not completed'));
      this.reset();
      // Confirmed as the M-Bus framer does (mbus/framer.ts): a repeat of the last one confirmed is not decoded again.
      if (isSndUd(frame[0]) && this.confirm() && this.confirmed.repeated(this.buf, n)) return;
      this.complete(this.buf.subarray(0, n));
      return;
    }
    if (ci > 0x1f || frame.length < 5) {
      this.sink.reject(new DecodeError('unsupported', `M-Bus frame with CI 0x${ci.toString(16)} carries no DLMS segment`));
      return;
    }
    const segment = ci & 0x0f;
    const last = (ci & 0x10) !== 0;
    if (segment === 0) {
      if (this.nextSegment > 0) this.sink.reject(new DecodeError('truncated', 'M-Bus segments missing: an APDU was not completed'));
      this.reset();
    } else if (segment !== this.nextSegment) {
      this.sink.reject(new DecodeError('truncated', 'M-Bus segment out of sequence: an earlier segment was lost'));
      this.reset();
      return;
    }
    if (!this.append(frame.subarray(5))) return;
    if (last) {
      const n = this.apduLen;
      this.reset();
      this.complete(this.apdu.subarray(0, n));
    } else this.nextSegment = (segment + 1) & 0x0f;
  }

  // -- HDLC -----------------------------------------------------------------

  private hdlc(): number {
    const buf = this.buf;
    if (this.len < 3) return PEEK;
    const format = (buf[1] << 8) | buf[2];
    if (format >> 12 !== 0xa) return NOT_A_FRAME; // e.g. the closing flag of the frame before
    const length = format & 0x7ff;
    if (length < 7) return NOT_A_FRAME;
    if (1 + length > this.buf.length) return NOT_A_FRAME;
    // Addresses end with a byte whose low bit is set; one to four bytes each.
    let p = 3;
    for (let field = 0; field < 2; field++) {
      const start = p;
      for (;;) {
        if (p >= this.len) return PEEK;
        if (p - start >= 4 || p >= length) return NOT_A_FRAME;
        if (buf[p++] & 1) break;
      }
    }
    const control = p++;
    const hcs = p;
    const fcs = 1 + length - 2;
    const hasInfo = hcs + 2 < fcs;
    // The FCS covers the header too: it continues from the HCS's register rather than running over the header again.
    let register = 0xffff;
    let from = 1;
    if (hasInfo) {
      if (this.len < hcs + 2) return PEEK;
      register = crc16X25Register(0xffff, buf, 1, hcs);
      from = hcs;
      if ((register ^ 0xffff) !== (buf[hcs] | (buf[hcs + 1] << 8))) {
        // A header in the shape of one whose check fails: a frame corrupted
        // on the line (or noise that looks like one). Its length is not to be
        // trusted, so resync byte by byte; but until its claimed end only an
        // HDLC flag may start a frame, so that the APDU inside (DB ...) is not
        // taken as a bare frame that no check covers.
        this.hdlcCorrupted('HDLC header check sequence mismatch: the frame was corrupted on the line');
        this.hdlcOnly = 1 + length;
        return NOT_A_FRAME;
      }
    }
    // The closing flag is not awaited: the next frame's opening flag may be it.
    if (this.len < 1 + length) return WAIT;
    if ((crc16X25Register(register, buf, from, fcs) ^ 0xffff) !== (buf[fcs] | (buf[fcs + 1] << 8))) {
      this.hdlcCorrupted('HDLC frame check sequence mismatch: the frame was corrupted on the line');
      return 1 + length;
    }
    this.lock('hdlc');
    if (control >= fcs || !hasInfo) return 1 + length; // no information field: nothing to read
    const segmented = (format & 0x0800) !== 0;
    if (!this.hdlcSegmented) {
      // Until the LLC header has been seen, and after a corrupted frame: does this APDU begin with it?
      if (!this.hdlcLlc || this.hdlcLost) {
        const llc = isLlc(buf, hcs + 2, fcs);
        if (llc) this.hdlcLlc = true;
        if (this.hdlcLost && this.hdlcLlc && !llc) {
          // No LLC header where an APDU of this meter begins: the rest of the
          // APDU whose earlier segment failed its check. Dropped to its end.
          if (!segmented) {
            this.hdlcLost = false;
            this.sink.reject(new DecodeError('truncated', 'HDLC segments lost: the rest of an APDU whose earlier segment was corrupted is discarded'));
          }
          return 1 + length;
        }
        this.hdlcLost = false;
      }
      this.apduLen = 0;
    }
    if (!this.append(buf.subarray(hcs + 2, fcs))) return 1 + length;
    if (segmented) {
      this.hdlcSegmented = true;
      return 1 + length;
    }
    this.hdlcSegmented = false;
    const start = isLlc(this.apdu, 0, this.apduLen) ? 3 : 0;
    const n = this.apduLen;
    this.apduLen = 0;
    this.complete(this.apdu.subarray(start, n));
    return 1 + length;
  }

  /** An HDLC frame failed a check: the APDU it belonged to is lost, and so are its remaining segments. */
  private hdlcCorrupted(message: string): void {
    this.sink.reject(new DecodeError('crc', message));
    this.apduLen = 0;
    this.hdlcSegmented = false;
    this.hdlcLost = true;
  }

  // -- bare APDU --------------------------------------------------------------

  private bare(): number {
    const buf = this.buf;
    let n: number;
    if (buf[0] === GLO) {
      n = gloFrameLength(buf, 0, this.len);
      if (n < 0) return NOT_A_FRAME;
      if (n === 0) return PEEK;
      if (n > this.buf.length) {
        this.sink.reject(new DecodeError('overflow', `encrypted APDU of ${n} bytes is longer than ${this.buf.length}: discarded`));
        return NOT_A_FRAME;
      }
      if (n > this.len) return WAIT;
    } else {
      n = notificationLength(buf, this.len);
      if (n === NOT_A_FRAME || n === PEEK) return n;
      if (n === 0) return this.len >= this.buf.length ? NOT_A_FRAME : WAIT;
    }
    this.lock('apdu');
    this.complete(buf.subarray(0, n));
    return n;
  }
}

/** LLC header at b[start]: destination LSAP E6, source LSAP E7 (response) or E6, quality 00. */
function isLlc(b: Uint8Array, start: number, end: number): boolean {
  return end - start >= 3 && b[start] === 0xe6 && (b[start + 1] === 0xe7 || b[start + 1] === 0xe6) && b[start + 2] === 0;
}

/** Length of the plain data-notification at b[0]: 0 when incomplete, -1 when it is not one. */
function notificationLength(b: Uint8Array, len: number): number {
  if (len < 7) return PEEK;
  let p = 5;
  if (b[p] === 0x09 && b[p + 1] === 0x0c) p++;
  const n = b[p++];
  if (n !== 0 && n !== 12) return NOT_A_FRAME;
  p += n;
  if (p >= len) return WAIT;
  return skipData(b, p, len);
}
