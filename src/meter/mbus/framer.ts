// Wired M-Bus long frames for the EN 13757-3 decoder (--protocol mbus): each
// frame whose checksum and stop byte verify goes to the decoder whole. The
// single-character acknowledgement E5 and short frames (10 C A CS 16: the
// SND_NKE a TD-3511 sends before its data) carry no readings: skipped.

import { DecodeError } from '../errors';
import { Framer } from '../framer';
import { CHECKSUM_MISMATCH, longFrame, MBUS_START, NOT_A_FRAME, PEEK, WAIT } from './link';

export class MbusFramer extends Framer {
  /** The last scan stopped inside a frame. */
  private partial = false;

  protected open(): boolean {
    return this.partial;
  }

  protected reset(): void {
    this.partial = false;
  }

  protected scan(): void {
    while (this.len > 0) {
      let used = NOT_A_FRAME;
      if (this.buf[0] === MBUS_START) used = longFrame(this.buf, this.len, this.ending);
      this.partial = used === WAIT;
      if (used === WAIT || used === PEEK) {
        if (!this.ending || used === WAIT) return;
        used = NOT_A_FRAME;
      }
      if (used > 0) this.emit(used);
      else if (used < NOT_A_FRAME) {
        this.sink.reject(new DecodeError('crc', CHECKSUM_MISMATCH));
        this.consume(-used); // a frame, if a corrupted one: not noise between frames
      } else this.skip(1);
    }
    this.partial = false;
  }
}
