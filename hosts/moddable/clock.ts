// Clock and timers on Moddable: Date for the wall clock, Time.ticks for
// uptime (extended past its 32-bit wrap), Time.set after SNTP, Moddable timers.

import Time from 'time';
import Timer from 'timer';
import type { ClockPort, Timer as PortTimer } from '../../src/ports/clock';

const WRAP = 0x100000000;

interface ModdableTimer extends PortTimer {
  timer: Timer;
}

export class ModdableClock implements ClockPort {
  private lastTicks = Time.ticks;
  private wraps = 0;
  private nextId = 1;

  constructor() {
    // Read the tick counter at least once per wrap (49.7 days) so that no wrap goes unnoticed.
    Timer.repeat(() => this.uptime(), 24 * 3600 * 1000);
  }

  now(): number {
    return Date.now();
  }

  uptime(): number {
    const ticks = Time.ticks >>> 0;
    if (ticks < this.lastTicks) this.wraps++;
    this.lastTicks = ticks;
    return this.wraps * WRAP + ticks;
  }

  set(utcMs: number): void {
    Time.set(Math.floor(utcMs / 1000));
  }

  after(ms: number, callback: () => void): PortTimer {
    const t: ModdableTimer = { id: this.nextId++, timer: Timer.set(() => callback(), ms) };
    return t;
  }

  every(ms: number, callback: () => void): PortTimer {
    const t: ModdableTimer = { id: this.nextId++, timer: Timer.repeat(() => callback(), ms) };
    return t;
  }

  cancel(timer: PortTimer): void {
    Timer.clear((timer as ModdableTimer).timer);
  }
}
