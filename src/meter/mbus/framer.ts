// Wired M-Bus long frames for the EN 13757-3 decoder (--protocol mbus): each
// frame whose checksum and stop byte verify goes to the decoder whole. The
// single-character acknowledgement E5 and short frames carry no readings. A
// meter that sends as master (the TD-3511: SND_NKE, then a SND_UD a second)
// waits for an E5 after each: a SND_NKE and a SND_UD that verify are
// confirmed (sink.confirm), a corrupted one is not, and a SND_UD the meter
// repeats because it missed the E5 is confirmed again but decoded only once.

import { DecodeError } from '../errors';
import { Framer } from '../framer';
import { CHECKSUM_MISMATCH, ConfirmedFrame, isSndUd, longFrame, MBUS_SHORT_START, MBUS_START, NOT_A_FRAME, PEEK, sndNke, WAIT } from './link';

export class MbusFramer extends Framer {
  /** The last scan stopped inside a frame. */
  private partial = false;
  private readonly confirmed = new ConfirmedFrame();

  protected open(): boolean {
    return this.partial;
  }

  protected reset(): void {
    this.partial = false;
  }

  protected scan(): void {
    while (this.len > 0) {
      const b = this.buf[0];
      let used = NOT_A_FRAME;
      if (b === MBUS_START) used = longFrame(this.buf, this.len, this.ending);
      else if (b === MBUS_SHORT_START) {
        used = sndNke(this.buf, this.len);
        if (used > 0) {
          // Not a reading: counted with the bytes between frames, as before it was confirmed.
          if (this.confirm()) this.confirmed.reset();
          this.skip(used);
          continue;
        }
      }
      this.partial = used === WAIT;
      if (used === WAIT || used === PEEK) {
        if (!this.ending || used === WAIT) return;
        used = NOT_A_FRAME;
      }
      if (used > 0) {
        if (isSndUd(this.buf[4])) {
          // A repeat of a frame that was confirmed; one whose bytes the UART flagged is neither confirmed nor remembered.
          if (this.confirm() && this.confirmed.repeated(this.buf, used)) {
            this.consume(used);
            continue;
          }
        }
        this.emit(used);
      } else if (used < NOT_A_FRAME) {
        this.sink.reject(new DecodeError('crc', CHECKSUM_MISMATCH));
        this.consume(-used); // a frame, if a corrupted one: not noise between frames
        this.dropped();
      } else this.skip(1);
    }
    this.partial = false;
  }
}
