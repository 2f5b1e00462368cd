// The time the readings are stamped with. An ESP32 has no battery-backed
// clock: after a power cut it believes it is 1970 until something tells it
// otherwise. The timekeeper trusts two sources: SNTP, and before SNTP is
// reachable the meter's own clock (DLMS and DSMR telegrams carry one; the
// meter is a calibrated instrument whose clock the grid operator sets). It
// never trusts the system clock alone: the wall time of an instant is
// base + uptime, where only a sync moves the base, so a system clock that
// jumps by itself is noticed, set back and checked with SNTP, and cannot
// move a reading to another quarter-hour.

import type { ClockPort, Timer } from '../ports/clock';
import type { NetworkPort } from '../ports/network';
import { isoUtc } from './zone';

export type TimeSource = 'none' | 'meter' | 'sntp';

/** A sync that moved the time by `by` ms at uptime `at` (positive: forward). */
export interface Correction {
  at: number;
  by: number;
  source: TimeSource;
}

/** SNTP again this often, and the meter clock is followed this often until SNTP answers. */
const RESYNC_MS = 6 * 3600000;
/** How often the system clock is checked, and SNTP retried while it has not answered. */
const CHECK_MS = 60000;
/** Smaller corrections are drift (or a meter clock's whole seconds), taken silently. */
const CORRECTION_MS = 2000;
/** The system clock may differ this much from base + uptime (it is set in whole seconds). */
const JUMP_MS = 2000;

export class Timekeeper {
  private readonly clock: ClockPort;
  private readonly network: NetworkPort;
  private readonly host: string;
  private readonly say: (line: string) => void;
  private sourceNow: TimeSource = 'none';
  /** Wall time (ms since the epoch) minus uptime, once a source has spoken. */
  private base = 0;
  /** Uptime of the last sync. */
  private syncedAt = -Infinity;
  private asking = false;
  private timer: Timer | null = null;
  private readonly corrections: ((c: Correction) => void)[] = [];
  private readonly syncs: (() => void)[] = [];

  constructor(clock: ClockPort, network: NetworkPort, sntpHost: string, say: (line: string) => void) {
    this.clock = clock;
    this.network = network;
    this.host = sntpHost;
    this.say = say;
  }

  start(): void {
    this.network.onEvent((event) => {
      if (event === 'up') this.sync();
    });
    this.timer = this.clock.every(CHECK_MS, () => this.check());
  }

  stop(): void {
    if (this.timer) this.clock.cancel(this.timer);
    this.timer = null;
  }

  get source(): TimeSource {
    return this.sourceNow;
  }

  get synced(): boolean {
    return this.sourceNow !== 'none';
  }

  /** Wall time (ms) of an uptime; meaningful only when synced. */
  wall(uptime: number): number {
    return this.base + uptime;
  }

  /** Wall time now; meaningful only when synced. */
  now(): number {
    return this.base + this.clock.uptime();
  }

  /** Uptime (ms) of a sync, for the status page. */
  get lastSync(): number {
    return this.syncedAt;
  }

  /** Called with every correction of two seconds or more after the first sync. */
  onCorrection(listener: (c: Correction) => void): void {
    this.corrections.push(listener);
  }

  /** Called when the time first becomes known. */
  onSynced(listener: () => void): void {
    this.syncs.push(listener);
  }

  /** The clock of a telegram that arrived at `uptime` (ms since the epoch, UTC). */
  meterClock(time: number, uptime: number): void {
    if (this.sourceNow === 'sntp') return;
    if (this.sourceNow === 'meter' && uptime - this.syncedAt < RESYNC_MS) return;
    this.adopt(time - uptime, 'meter', uptime);
  }

  /** Asks SNTP now (at network up, every 6 hours, and when the system clock moved by itself). */
  sync(): void {
    if (this.asking) return;
    this.asking = true;
    const asked = this.clock.uptime();
    this.network.sntp(this.host, (result) => {
      this.asking = false;
      const now = this.clock.uptime();
      if (result instanceof Error) {
        this.say('time: ' + result.message);
        return;
      }
      // The server's time is from half way through the exchange.
      this.adopt(result + (now - asked) / 2 - now, 'sntp', now);
    });
  }

  private adopt(base: number, source: TimeSource, uptime: number): void {
    const first = this.sourceNow === 'none';
    const by = base - this.base;
    this.base = base;
    this.sourceNow = source;
    this.syncedAt = uptime;
    this.clock.set(this.now());
    if (first) {
      this.say(`time: ${isoUtc(Math.floor(this.wall(uptime) / 1000) * 1000)} from ${source === 'sntp' ? 'SNTP' : "the meter's clock"}`);
      for (const l of this.syncs) l();
    } else if (Math.abs(by) >= CORRECTION_MS) {
      this.say(`time: corrected by ${by > 0 ? '+' : ''}${(by / 1000).toFixed(1)} s from ${source === 'sntp' ? 'SNTP' : "the meter's clock"}`);
      for (const l of this.corrections) l({ at: uptime, by, source });
    }
  }

  private check(): void {
    const uptime = this.clock.uptime();
    if (this.synced) {
      const moved = this.clock.now() - uptime - this.base;
      if (Math.abs(moved) > JUMP_MS) {
        this.say(`time: the system clock moved by ${moved > 0 ? '+' : ''}${Math.round(moved / 1000)} s by itself; set back, checking with SNTP`);
        this.clock.set(this.wall(uptime));
        this.sync();
        return;
      }
    }
    if ((this.sourceNow !== 'sntp' || uptime - this.syncedAt >= RESYNC_MS) && this.network.address() !== null) this.sync();
  }
}
