// SML 1.04 transport (BSI TR-03109-1 / FNN "SML" 1.04, section 8): a file
// starts with 1b1b1b1b 01010101 and ends with 1b1b1b1b 1a NN C1 C2. Inside,
// escape sequences sit on 4-byte boundaries (the sender pads the file to a
// multiple of four), and a literal 1b1b1b1b in the payload is sent twice.

import { Framer } from '../framer';
import { DecodeError } from '../errors';

const ESC = 0x1b;
const START = [ESC, ESC, ESC, ESC, 1, 1, 1, 1];

export class SmlFramer extends Framer {
  private inFile = false;
  /** Next 4-byte-aligned offset (from the file start at buf[0]) to examine. */
  private pos = 0;

  protected open(): boolean {
    return this.inFile;
  }

  protected reset(): void {
    this.inFile = false;
    this.pos = 0;
  }

  protected truncatedMessage(): string {
    return 'truncated SML file: no end sequence (1b1b1b1b 1a) before the input ended';
  }

  protected scan(): void {
    const buf = this.buf;
    for (;;) {
      if (!this.inFile) {
        const start = this.findStart();
        if (start < 0) return;
        this.skip(start);
        this.inFile = true;
        this.pos = 8;
      }
      for (;;) {
        // Escape sequences start on 4-byte boundaries: only every fourth byte can begin one.
        let p = this.pos;
        const last = this.len - 4;
        while (p + 12 <= last && buf[p] !== ESC && buf[p + 4] !== ESC && buf[p + 8] !== ESC && buf[p + 12] !== ESC) p += 16; // four words a step
        while (p <= last && buf[p] !== ESC) p += 4;
        if (p > last) {
          this.pos = p;
          return;
        }
        if (buf[p + 1] !== ESC || buf[p + 2] !== ESC || buf[p + 3] !== ESC) {
          this.pos = p + 4;
          continue;
        }
        if (p + 8 > this.len) {
          this.pos = p;
          return;
        }
        const kind = buf[p + 4];
        if (kind === ESC && buf[p + 5] === ESC && buf[p + 6] === ESC && buf[p + 7] === ESC) {
          this.pos = p + 8; // an escaped 1b1b1b1b in the payload
          continue;
        }
        if (kind === 0x1a) {
          this.reset();
          this.emit(p + 8);
          break;
        }
        if (kind === 0x01 && buf[p + 5] === 0x01 && buf[p + 6] === 0x01 && buf[p + 7] === 0x01) {
          // A new file began before this one ended (the meter restarted or bytes were lost).
          this.sink.reject(new DecodeError('truncated', 'truncated SML file: a new file started before the end sequence'));
          this.skip(p);
          this.pos = 8;
          continue;
        }
        this.sink.reject(new DecodeError('framing', 'invalid SML escape sequence: bytes were lost or corrupted on the line'));
        this.reset();
        this.skip(p + 4);
        break;
      }
    }
  }

  /** Index of the next start sequence, dropping bytes that cannot begin one. -1: wait for more. */
  private findStart(): number {
    const buf = this.buf;
    let i = 0;
    for (;;) {
      i = this.find(ESC, i);
      if (i < 0) {
        this.skip(this.len);
        return -1;
      }
      if (i + 8 > this.len) {
        // Might be the start of a start sequence: keep it, drop what came before.
        if (this.couldStart(i)) {
          this.skip(i);
          return -1;
        }
        i++;
        continue;
      }
      if (
        buf[i + 1] === ESC && buf[i + 2] === ESC && buf[i + 3] === ESC &&
        buf[i + 4] === 1 && buf[i + 5] === 1 && buf[i + 6] === 1 && buf[i + 7] === 1
      ) return i;
      i++;
    }
  }

  private couldStart(i: number): boolean {
    for (let k = 0; i + k < this.len; k++) if (this.buf[i + k] !== START[k]) return false;
    return true;
  }
}
