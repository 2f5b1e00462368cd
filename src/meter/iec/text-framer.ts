// Framing shared by IEC 62056-21 and DSMR: a telegram starts with "/" and an
// identification line, and ends with a line that begins with "!". What follows
// the "!" (a DSMR CRC, an IEC mode C ETX and BCC) is the subclass's business.

import { Framer } from '../framer';
import { DecodeError } from '../errors';

const SLASH = 0x2f;
export const LF = 0x0a;
export const BANG = 0x21;

export abstract class TextFramer extends Framer {
  private inTelegram = false;
  /** A binary telegram has begun and waits for its remaining bytes. */
  private inBinary = false;
  /** Where the search for the end continues. */
  protected pos = 0;

  protected open(): boolean {
    return this.inTelegram || this.inBinary;
  }

  protected reset(): void {
    this.inTelegram = false;
    this.inBinary = false;
    this.pos = 0;
  }

  /**
   * Looks at a byte that is not "/" while between telegrams. Returns the length
   * of a binary telegram that starts here, 0 when more bytes are needed to
   * tell, or -1 when it starts nothing. Text-only protocols keep the default.
   */
  protected binaryAt(_at: number): number {
    return -1;
  }

  /**
   * Looks for the end of the telegram at buf[0] from `pos`. Returns its length,
   * 0 when more bytes are needed (with `pos` where to resume), or -n when the
   * first n bytes are to be dropped (the subclass has reported why).
   */
  protected abstract findEnd(): number;

  protected scan(): void {
    for (;;) {
      if (!this.inTelegram && !this.seek()) return;
      const end = this.findEnd();
      if (end === 0) return;
      this.reset();
      if (end > 0) this.emit(end);
      else this.skip(-end);
    }
  }

  /** Moves to the next "/" (emitting binary telegrams met on the way). False: wait for more. */
  private seek(): boolean {
    const buf = this.buf;
    let i = 0;
    while (i < this.len) {
      if (buf[i] === SLASH) {
        this.skip(i);
        this.inTelegram = true;
        this.pos = 1;
        return true;
      }
      const binary = this.binaryAt(i);
      this.inBinary = binary === 0;
      if (binary === 0) {
        this.skip(i);
        return false;
      }
      if (binary > 0) {
        this.skip(i);
        this.emit(binary);
        i = 0;
        continue;
      }
      i++;
    }
    this.skip(this.len);
    return false;
  }

  /**
   * At a line feed inside a telegram: a "/" on the next line means the meter
   * started a new telegram before finishing this one. Returns the drop count
   * (negative) for findEnd to pass on, or 0.
   */
  protected restartAfter(lf: number): number {
    if (this.buf[lf + 1] !== SLASH) return 0;
    this.sink.reject(new DecodeError('truncated', 'truncated telegram: a new telegram started before this one ended'));
    return -(lf + 1);
  }

  /** Index of the first LF in buf[from, from + limit), -1 if it has not arrived, -2 if it is missing. */
  protected lineEnd(from: number, limit: number): number {
    const last = Math.min(this.len, from + limit);
    for (let i = from; i < last; i++) if (this.buf[i] === LF) return i;
    return this.len >= from + limit ? -2 : -1;
  }
}
