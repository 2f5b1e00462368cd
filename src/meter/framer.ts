// Streaming framers: bytes arrive from a UART in arbitrary chunks; a framer
// finds telegrams in the stream, skips what lies between them, and hands each
// complete telegram to its sink. Memory is one fixed buffer per framer: no
// length field can make it allocate.
//
// Chunk invariance: every decision a framer makes depends only on the bytes
// seen, never on where a chunk ended. `scan` runs after each append, makes
// every decision the buffered bytes allow, and waits when they do not.

import { DecodeError } from './errors';

/** Longest telegram any framer accepts: bigger than every real telegram we know (about 1.2 KB). */
export const MAX_TELEGRAM = 4096;

export interface FrameSink {
  /** A complete telegram; the view is valid only during the call. */
  frame(bytes: Uint8Array): void;
  /** A telegram that was found and could not be completed. */
  reject(error: DecodeError): void;
  /**
   * A link-layer frame whose sender waits for a confirmation (M-Bus SND_NKE
   * and SND_UD: the gateway answers E5) passed its checks. Framers of
   * protocols whose meters expect nothing never call it.
   */
  confirm?(): void;
}

export abstract class Framer {
  protected readonly buf: Uint8Array;
  protected len = 0;
  protected readonly sink: FrameSink;
  /** Bytes skipped between telegrams (line noise, a dongle's boot banner). */
  skipped = 0;
  /** Set during the last scan at end of input: no more bytes will come. */
  protected ending = false;
  /** The chunk being scanned arrived with a parity or framing error. */
  private taintedChunk = false;
  /** The telegram in progress holds bytes from such a chunk. */
  private taintedOpen = false;

  constructor(sink: FrameSink, capacity = MAX_TELEGRAM) {
    this.sink = sink;
    this.buf = new Uint8Array(capacity);
  }

  /**
   * Bytes as the UART delivered them. With `lineError` (the UART saw a parity
   * or framing error in them) every telegram they are part of is rejected.
   */
  push(chunk: Uint8Array, lineError = false): void {
    this.taintedChunk = lineError;
    let off = 0;
    while (off < chunk.length) {
      let n = Math.min(this.buf.length - this.len, chunk.length - off);
      if (n === 0) {
        // Full and still inside one telegram: longer than any real one.
        this.overflow();
        n = Math.min(this.buf.length - this.len, chunk.length - off);
        if (n === 0) {
          this.skip(this.len);
          continue;
        }
      }
      this.buf.set(chunk.subarray(off, off + n), this.len);
      this.len += n;
      off += n;
      this.scan();
    }
    if (lineError) this.taintedOpen = this.open();
    this.taintedChunk = false;
  }

  /** End of input: a telegram still open is reported as truncated. */
  end(): void {
    this.ending = true;
    this.scan();
    this.ending = false;
    if (this.open()) {
      this.sink.reject(new DecodeError('truncated', this.truncatedMessage()));
    }
    this.skipped += this.len;
    this.len = 0;
    this.reset();
  }

  /** Makes every decision the buffered bytes allow. */
  protected abstract scan(): void;
  /** True while a telegram has started and not ended. */
  protected abstract open(): boolean;
  /** Forgets the telegram in progress. */
  protected abstract reset(): void;

  protected truncatedMessage(): string {
    return 'truncated telegram: the input ended before the telegram was complete';
  }

  private overflow(): void {
    this.sink.reject(new DecodeError('overflow', `telegram longer than ${this.buf.length} bytes: discarded`));
    // Drop the start of the runaway telegram and look for the next one in what remains.
    this.reset();
    this.skip(1);
    this.scan();
  }

  /** Index of `byte` in buf[from..len), or -1. */
  protected find(byte: number, from: number): number {
    const i = this.buf.indexOf(byte, from);
    return i >= 0 && i < this.len ? i : -1;
  }

  /** Drops n bytes from the front of the buffer. */
  protected consume(n: number): void {
    if (n >= this.len) {
      this.len = 0;
      return;
    }
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
  }

  /** Drops n bytes that belong to no telegram. */
  protected skip(n: number): void {
    this.skipped += Math.min(n, this.len);
    this.consume(n);
  }

  /** Hands buf[0..n) to the sink, then drops it. */
  protected emit(n: number): void {
    try {
      this.complete(this.buf.subarray(0, n));
    } finally {
      this.consume(n);
    }
  }

  /**
   * The telegram in progress was dropped whole (a corrupted frame): the UART's
   * flag on its bytes has done its work and must not hold against what
   * follows (a SND_NKE to confirm, the meter's repeat).
   */
  protected dropped(): void {
    this.taintedOpen = false;
  }

  /**
   * The frame at the front passed its checks and its sender waits for a
   * confirmation: given, unless the UART flagged some of its bytes. True when
   * it was given: only then can a repeat of the frame be the meter's answer to
   * a confirmation it missed.
   */
  protected confirm(): boolean {
    // Without a listener nothing is sent back (smgw decode of a capture), and nothing is taken for a repeat either.
    if (!this.sink.confirm || this.taintedChunk || this.taintedOpen) return false;
    this.sink.confirm();
    return true;
  }

  /** A complete telegram: to the sink, unless the UART flagged some of its bytes. */
  protected complete(telegram: Uint8Array): void {
    const tainted = this.taintedChunk || this.taintedOpen;
    this.taintedOpen = false;
    if (tainted) this.sink.reject(new DecodeError('framing', 'parity or framing error on the line: telegram discarded'));
    else this.sink.frame(telegram);
  }
}
