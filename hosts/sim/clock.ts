// Clock and timers on the desktop: virtual time from the simulator's
// scheduler. Like an ESP32 without a backup battery, the device wakes up
// believing it is 1970 (its wall clock counts from boot) until something
// sets it; a clock-jump fault moves it as a wrong SNTP answer would.

import type { VirtualEvent, VirtualTime } from './virtual-time';
import type { ClockPort, Timer } from '../../src/ports/clock';

interface SimTimer extends Timer {
  event: VirtualEvent | null;
  cancelled: boolean;
}

export class SimClock implements ClockPort {
  private readonly scheduler: VirtualTime;
  private readonly bootedAt: number;
  /** Wall clock minus virtual time. */
  private offset: number;
  private readonly timers = new Set<SimTimer>();
  private nextId = 1;
  /** Wraps every timer callback: the device's event loop (power state, the XS engine). */
  private readonly run: (callback: () => void) => void | Promise<void>;

  constructor(scheduler: VirtualTime, run: (callback: () => void) => void | Promise<void> = (c) => c()) {
    this.scheduler = scheduler;
    this.bootedAt = scheduler.now;
    this.offset = -scheduler.now;
    this.run = run;
  }

  now(): number {
    return this.scheduler.now + this.offset;
  }

  uptime(): number {
    return this.scheduler.now - this.bootedAt;
  }

  set(utcMs: number): void {
    this.offset = utcMs - this.scheduler.now;
  }

  /** A fault: the wall clock jumps by `ms`. */
  jump(ms: number): void {
    this.offset += ms;
  }

  after(ms: number, callback: () => void): Timer {
    const t: SimTimer = { id: this.nextId++, event: null, cancelled: false };
    t.event = this.scheduler.after(Math.max(0, ms), () => {
      this.timers.delete(t);
      if (!t.cancelled) return this.run(callback);
    });
    this.timers.add(t);
    return t;
  }

  every(ms: number, callback: () => void): Timer {
    const t: SimTimer = { id: this.nextId++, event: null, cancelled: false };
    const period = Math.max(1, ms);
    const tick = (): void | Promise<void> => {
      if (t.cancelled) return;
      t.event = this.scheduler.after(period, tick);
      return this.run(callback);
    };
    t.event = this.scheduler.after(period, tick);
    this.timers.add(t);
    return t;
  }

  cancel(timer: Timer): void {
    const t = timer as SimTimer;
    t.cancelled = true;
    if (t.event) this.scheduler.cancel(t.event);
    this.timers.delete(t);
  }

  /** The device lost power: no timer of this boot fires again. */
  cancelAll(): void {
    for (const t of this.timers) {
      t.cancelled = true;
      if (t.event) this.scheduler.cancel(t.event);
    }
    this.timers.clear();
  }
}
