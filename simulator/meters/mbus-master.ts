// The link layer of a meter that sends as M-Bus master (EN 13757-2), as the
// Siemens AMIS TD-3511 does on its customer interface:
//  - search: a SND_NKE to primary address 240 (10 40 F0 30 16), once a
//    minute until a reader acknowledges it with E5 (Netz Oberösterreich's
//    interface specification, as quoted by the public AMIS readers);
//  - data: each SND_UD waits for an E5 within 330 bit times + 50 ms after its
//    last byte (the M-Bus master's reply timeout); without one the same frame,
//    with the same frame count bit and access number, is sent again, up to
//    `retries` times; after that the meter falls back to searching.
// Only a lone E5 that the meter's UART received cleanly counts.

import type { SerialLine } from '../world/serial-line';
import type { ScheduledEvent, Scheduler } from '../world/scheduler';

export const SND_NKE_240 = Uint8Array.of(0x10, 0x40, 0xf0, 0x30, 0x16);
const ACK = 0xe5;
const SEARCH_EVERY = 60000;
/** Repetitions of an unacknowledged SND_UD (the TD-3511's own count is not published; libmbus and M-Bus practice use two or three). */
export const RETRIES = 2;

export interface MbusLinkStats {
  /** SND_NKE sent while searching for a reader. */
  searches: number;
  /** E5 received in time. */
  acknowledged: number;
  /** SND_UD sent again for want of an E5. */
  repeats: number;
  /** SND_UD given up after every repetition went unanswered. */
  abandoned: number;
}

interface Waiting {
  bytes: Uint8Array;
  attempts: number;
  timer: ScheduledEvent;
}

export class MbusMaster {
  readonly stats: MbusLinkStats = { searches: 0, acknowledged: 0, repeats: 0, abandoned: 0 };
  private searching = true;
  private nextSearch = -Infinity;
  private waiting: Waiting | null = null;
  private readonly line: SerialLine;
  private readonly scheduler: Scheduler;
  private readonly timeoutMs: number;

  constructor(line: SerialLine, scheduler: Scheduler) {
    this.line = line;
    this.scheduler = scheduler;
    this.timeoutMs = (330 * 1000) / line.meter.baud + 50;
    line.listen((bytes, lineError) => this.heard(bytes, lineError));
  }

  /** At the meter's second t: true when a new SND_UD may go out now (a reader has answered and no frame awaits its E5). */
  ready(t: number): boolean {
    if (this.waiting) return false;
    if (!this.searching) return true;
    if (t >= this.nextSearch) {
      this.stats.searches++;
      this.nextSearch = t + SEARCH_EVERY;
      this.send(SND_NKE_240, t, 1);
    }
    return false;
  }

  /** Sends a SND_UD (after ready said so) and waits for its E5. */
  sendData(frame: Uint8Array, t: number): void {
    this.send(frame, t, 1);
  }

  private send(bytes: Uint8Array, t: number, attempts: number): void {
    const end = this.line.transmit(bytes, t);
    const timer = this.scheduler.at(end + this.timeoutMs, () => this.timedOut());
    this.waiting = { bytes, attempts, timer };
  }

  private heard(bytes: Uint8Array, lineError: boolean): void {
    const w = this.waiting;
    if (!w || lineError || bytes.length !== 1 || bytes[0] !== ACK) return;
    this.scheduler.cancel(w.timer);
    this.waiting = null;
    this.stats.acknowledged++;
    if (w.bytes === SND_NKE_240) this.searching = false;
  }

  private timedOut(): void {
    const w = this.waiting;
    if (!w) return;
    this.waiting = null;
    if (w.bytes === SND_NKE_240) return; // searched in vain: again in a minute
    if (w.attempts <= RETRIES) {
      this.stats.repeats++;
      this.send(w.bytes, this.scheduler.now, w.attempts + 1);
      return;
    }
    this.stats.abandoned++;
    this.searching = true;
    this.nextSearch = this.scheduler.now;
  }
}
