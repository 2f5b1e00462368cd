// Clock and timers. The wall clock is what the device believes (synchronised
// or not: the firmware keeps track of which); uptime never jumps.

export interface Timer {
  readonly id: number;
}

export interface ClockPort {
  /** Wall clock: ms since the epoch, UTC. */
  now(): number;
  /** ms since boot; monotonic, unaffected by setting the wall clock. */
  uptime(): number;
  /** Sets the wall clock (after SNTP or from a trusted source). */
  set(utcMs: number): void;
  /** Calls back once after `ms`. */
  after(ms: number, callback: () => void): Timer;
  /** Calls back every `ms`. */
  every(ms: number, callback: () => void): Timer;
  cancel(timer: Timer): void;
}
