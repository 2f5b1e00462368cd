// IEC 62056-21 framing. Mode D (push, and most German optical "D0" meters):
// "/" identification CR LF CR LF, data lines, "!" CR LF. Mode C readout: the
// data block sits in STX .. ETX, followed by a BCC.

import { DecodeError } from '../errors';
import { BANG, LF, TextFramer } from './text-framer';

export const STX = 0x02;
export const ETX = 0x03;

export class D0Framer extends TextFramer {
  protected findEnd(): number {
    const buf = this.buf;
    if (this.modeC()) {
      // Mode C: the BCC follows the ETX.
      const etx = this.find(ETX, this.pos);
      if (etx < 0 || etx + 1 >= this.len) {
        this.pos = etx < 0 ? this.len : etx;
        return 0;
      }
      return etx + 2;
    }
    for (let p = this.find(LF, this.pos); p >= 0; p = this.find(LF, p + 1)) {
      if (p + 1 >= this.len) {
        this.pos = p;
        return 0;
      }
      const restart = this.restartAfter(p);
      if (restart) return restart;
      if (buf[p + 1] !== BANG) continue;
      const lf = this.lineEnd(p + 2, 4);
      if (lf === -1) {
        this.pos = p;
        return 0;
      }
      if (lf === -2) {
        this.sink.reject(new DecodeError('framing', 'malformed end line: expected "!" CR LF'));
        return -(p + 2);
      }
      return lf + 1;
    }
    this.pos = this.len;
    return 0;
  }

  /** True when the data block is framed by STX (mode C): the end is its ETX, not the "!" line. */
  private modeC(): boolean {
    const lf = this.find(LF, 0);
    return lf >= 0 && lf + 1 < this.len && this.buf[lf + 1] === STX;
  }
}
