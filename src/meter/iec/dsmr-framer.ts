// DSMR P1 framing: "/" ... "\n!" CRC "\r\n" for plain telegrams, and the DLMS
// general-glo-ciphering frame DB 08 <system title> <length> ... that encrypted
// P1 ports (Luxembourg Smarty, Austrian Sagemcom T210-D-R) wrap around one.

import { DecodeError } from '../errors';
import { BANG, LF, TextFramer } from './text-framer';
import { gloFrameLength } from '../dlms/glo';

export class DsmrFramer extends TextFramer {
  protected binaryAt(at: number): number {
    const n = gloFrameLength(this.buf, at, this.len);
    if (n <= 0) return n;
    if (n > this.buf.length) {
      this.sink.reject(new DecodeError('overflow', `encrypted P1 frame of ${n} bytes is longer than any P1 telegram: discarded`));
      return -1;
    }
    return at + n > this.len ? 0 : n;
  }

  protected findEnd(): number {
    const buf = this.buf;
    for (let p = this.find(LF, this.pos); p >= 0; p = this.find(LF, p + 1)) {
      if (p + 1 >= this.len) {
        this.pos = p;
        return 0;
      }
      const restart = this.restartAfter(p);
      if (restart) return restart;
      if (buf[p + 1] !== BANG) continue;
      const end = this.crcEnd(p + 2);
      if (end === 0) this.pos = p;
      return end;
    }
    this.pos = this.len;
    return 0;
  }

  /**
   * After the "!": up to four hex digits of CRC (some meters send fewer, DSMR
   * 2.2 none), then CR LF. A meter that leaves out the line end is done after
   * four digits; at the end of input, whatever came is the telegram.
   */
  private crcEnd(from: number): number {
    const buf = this.buf;
    for (let q = from; ; q++) {
      if (q >= this.len) return this.ending ? this.len : 0;
      const c = buf[q];
      if (c === LF) return q + 1;
      if (c === CR) {
        if (q + 1 >= this.len) return this.ending ? q + 1 : 0;
        return buf[q + 1] === LF ? q + 2 : q + 1;
      }
      const digits = q - from;
      if (digits === 4) return q;
      if (!isHexDigit(c)) {
        this.sink.reject(new DecodeError('framing', 'malformed DSMR end line: expected "!" and a CRC'));
        return -from;
      }
    }
  }
}

const CR = 0x0d;

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}
