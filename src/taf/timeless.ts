// Telegrams that arrived before the gateway knew the time (after a power cut,
// until SNTP or the meter's clock answers). They wait in RAM by uptime, which
// is exact, and are placed against the boundaries once the time is known:
// then uptime -> wall time is exact too, so the quarter-hour reading taken
// from them is the one that would have been taken with the time known.
//
// The gateway chose waiting over storing readings flagged "time not
// synchronised" and re-timing them later: a log record cannot be rewritten in
// place, re-timed copies would be a second record for one boundary, and a
// reading whose time cannot be established is of no use to a billing
// backend. Usually the wait is seconds. RAM bounds it: 120 telegrams, kept at
// most one per tolerance/2 (15 s), then one per tolerance (30 s: every
// boundary still has one within its tolerance), which is an hour at the
// default settings; after that the oldest go, and their boundaries become
// gaps with the reason "no-time".

import type { Reading } from '../meter/reading';
import type { EnergyRegisters, EnergySnapshot, Layout } from './energy';

const TIMELESS_CAPACITY = 120;

export class TimelessBuffer {
  private readonly maxSpacing: number;
  private spacing: number;
  private uptimes: Float64Array | null = null;
  private values: Float64Array | null = null;
  private layout: Layout | null = null;
  private meterId: string | null = null;
  count = 0;
  /** Uptime of the newest telegram dropped for room; -1 when none was. */
  droppedUpTo = -1;

  constructor(tolerance: number) {
    this.maxSpacing = tolerance;
    this.spacing = tolerance / 2;
  }

  offer(uptime: number, reading: Reading, energy: EnergyRegisters): void {
    if (this.count && uptime - this.uptimes![this.count - 1] < this.spacing) return;
    const s = energy.snapshot(reading);
    if (!s) return;
    const width = s.layout.keys.length;
    if (s.layout !== this.layout) {
      // Another set of registers: the ones held so far cannot share the arrays.
      if (this.count) this.droppedUpTo = this.uptimes![this.count - 1];
      this.layout = s.layout;
      this.uptimes = new Float64Array(TIMELESS_CAPACITY);
      this.values = new Float64Array(TIMELESS_CAPACITY * width);
      this.count = 0;
    }
    if (this.count === TIMELESS_CAPACITY) this.makeRoom(width);
    this.meterId = s.meterId;
    this.uptimes![this.count] = uptime;
    this.values!.set(s.values, this.count * width);
    this.count++;
  }

  /** Keeps every other telegram while that leaves one per tolerance; drops the oldest quarter after that. */
  private makeRoom(width: number): void {
    const u = this.uptimes!;
    const v = this.values!;
    if (this.spacing < this.maxSpacing) {
      let n = 0;
      for (let i = 0; i < this.count; i += 2, n++) {
        u[n] = u[i];
        v.copyWithin(n * width, i * width, (i + 1) * width);
      }
      this.count = n;
      this.spacing *= 2;
      return;
    }
    const drop = TIMELESS_CAPACITY / 4;
    this.droppedUpTo = u[drop - 1];
    u.copyWithin(0, drop, this.count);
    v.copyWithin(0, drop * width, this.count * width);
    this.count -= drop;
  }

  /** Hands every waiting telegram over, oldest first, and frees the arrays. */
  drain(place: (uptime: number, snapshot: EnergySnapshot) => void): void {
    const n = this.count;
    const u = this.uptimes;
    const v = this.values;
    const layout = this.layout;
    this.count = 0;
    this.uptimes = this.values = null;
    this.layout = null;
    this.spacing = this.maxSpacing / 2;
    if (!n || !u || !v || !layout) return;
    const width = layout.keys.length;
    for (let i = 0; i < n; i++) place(u[i], { layout, values: v.slice(i * width, (i + 1) * width), meterId: this.meterId });
  }
}
