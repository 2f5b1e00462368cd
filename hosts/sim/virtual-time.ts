// Virtual time, as the desktop host's ports use it: the simulator's scheduler
// (simulator/world/scheduler.ts) runs the world's events in virtual time, and
// the ports take it through this interface, so that hosts/sim depends on no
// part of the simulator (the simulator builds the world and hands it in).

/** An event due at a virtual instant, as cancel() takes it back. */
export interface VirtualEvent {
  readonly at: number;
}

export interface VirtualTime {
  /** Virtual time, ms since the epoch (UTC). */
  readonly now: number;
  /** Runs `action` at virtual time `at` (not before now); an asynchronous action is waited for before time moves on. */
  at(at: number, action: () => void | Promise<void>): VirtualEvent;
  after(ms: number, action: () => void | Promise<void>): VirtualEvent;
  cancel(event: VirtualEvent): void;
  /** Asynchronous work outside virtual time (a request over a socket): at --speed max, time waits for it. */
  track<T>(work: Promise<T>): Promise<T>;
}
