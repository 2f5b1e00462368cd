// The simulator's discrete-event scheduler: virtual time, in ms since the
// epoch (UTC), and the events due at each instant. At `--speed max` the
// events run as fast as the CPU allows and a run is deterministic; at
// `--speed N` virtual time follows wall time N times faster, so that a
// person can use the portal.
//
// An event's action may be asynchronous (the XS engine answers through a
// pipe, an HTTP request goes over a socket): the scheduler waits for it
// before virtual time moves on, so asynchronous work takes no virtual time.

import type { VirtualTime } from '../../hosts/sim/virtual-time';

export type Action = () => void | Promise<void>;

export interface ScheduledEvent {
  readonly at: number;
  readonly seq: number;
  cancelled: boolean;
  action: Action;
}

export class Scheduler implements VirtualTime {
  /** Virtual time, ms since the epoch (UTC). */
  now: number;
  /** `max`, or how many virtual seconds pass per wall second. */
  readonly speed: number | 'max';
  private heap: ScheduledEvent[] = [];
  private seq = 0;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** Events run so far. */
  ran = 0;
  /** Asynchronous work (network I/O) that virtual time waits for at --speed max. */
  private readonly pending = new Set<Promise<unknown>>();

  constructor(start: number, speed: number | 'max') {
    this.now = start;
    this.speed = speed;
  }

  /** Runs `action` at virtual time `at` (not before now). */
  at(at: number, action: Action): ScheduledEvent {
    const e: ScheduledEvent = { at: Math.max(at, this.now), seq: this.seq++, cancelled: false, action };
    this.push(e);
    this.wake?.();
    return e;
  }

  after(ms: number, action: Action): ScheduledEvent {
    return this.at(this.now + ms, action);
  }

  cancel(e: ScheduledEvent): void {
    e.cancelled = true;
  }

  /**
   * Asynchronous work started by an event (a request over a socket). At
   * --speed max virtual time stands still until it settles, so that a run
   * does not depend on how fast the machine's sockets are.
   */
  track<T>(work: Promise<T>): Promise<T> {
    const settled = work.then(
      () => undefined,
      () => undefined,
    );
    this.pending.add(settled);
    settled.then(() => this.pending.delete(settled));
    return work;
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  /** Runs events until virtual time `until` (exclusive) or stop(). */
  async run(until: number): Promise<void> {
    const wallStart = Date.now();
    const virtualStart = this.now;
    while (!this.stopped) {
      if (this.speed === 'max' && this.pending.size) {
        while (this.pending.size) await Promise.all([...this.pending]);
        // What the settled work resumes (an upload's next batch) runs before time moves on: one turn of the
        // event loop drains every microtask, and a new request it made is waited for in turn.
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      const next = this.peek();
      if (!next || next.at >= until) {
        if (this.speed !== 'max' && !this.stopped) {
          // Real time: nothing due; wait until `until` or until something is scheduled.
          const due = next && next.at < until ? next.at : until;
          if (await this.sleepUntil(due, wallStart, virtualStart)) continue;
        }
        this.now = Math.max(this.now, until);
        return;
      }
      if (this.speed !== 'max' && (await this.sleepUntil(next.at, wallStart, virtualStart))) continue;
      this.pop();
      if (next.cancelled) continue;
      this.now = next.at;
      this.ran++;
      const pending = next.action();
      if (pending) await pending;
    }
  }

  /** In real time, waits for the wall-clock moment of virtual time `at`. True if woken early. */
  private sleepUntil(at: number, wallStart: number, virtualStart: number): Promise<boolean> {
    const speed = this.speed as number;
    const wallDue = wallStart + (at - virtualStart) / speed;
    const delay = wallDue - Date.now();
    if (delay <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = null;
        this.now = Math.max(this.now, virtualStart + (Date.now() - wallStart) * speed);
        resolve(false);
      }, Math.min(delay, 1000));
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        this.now = Math.max(this.now, virtualStart + (Date.now() - wallStart) * speed);
        resolve(true);
      };
    });
  }

  // A binary heap ordered by (at, seq): equal times run in the order they were scheduled.
  private less(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private peek(): ScheduledEvent | undefined {
    while (this.heap.length && this.heap[0].cancelled) this.pop();
    return this.heap[0];
  }

  private push(e: ScheduledEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(h[i], h[parent])) break;
      [h[i], h[parent]] = [h[parent], h[i]];
      i = parent;
    }
  }

  private pop(): ScheduledEvent | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length && last) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l], h[m])) m = l;
        if (r < h.length && this.less(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }
}
