// Replay protection for encrypted DLMS: the frame counter (the invocation
// counter in the GCM nonce) must increase with every telegram of a system
// title. A telegram whose counter is not above the last one seen is a
// recording played back (or a meter that was reset, which a user must look
// at): rejected, and reported as a security event.
//
// The last counters survive restarts in the key-value store. Writing NVS at
// every telegram (every 5 s) would wear it for nothing, so they are saved
// every quarter of an hour: a replay of telegrams from the last minutes
// before a power cut could pass once after it; an older one never does.

import type { KeyValuePort } from '../ports/kv';
import { jsonText } from '../codec/json';

const KV_KEY = 'frameCounters';
/** System titles remembered (an M-Bus line can carry several meters; more is not a gateway's job). */
const MAX_TITLES = 4;

export class ReplayGuard {
  private readonly kv: KeyValuePort;
  private counters: { [systemTitle: string]: number } = {};
  private dirty = false;

  constructor(kv: KeyValuePort) {
    this.kv = kv;
    const saved = kv.get(KV_KEY);
    if (saved) {
      try {
        const parsed = JSON.parse(saved) as unknown;
        if (parsed && typeof parsed === 'object') {
          for (const [title, n] of Object.entries(parsed as { [k: string]: unknown })) if (typeof n === 'number') this.counters[title] = n;
        }
      } catch {
        // A damaged entry is replaced at the next save.
      }
    }
  }

  /** Null when the counter is new for the title; otherwise why the telegram is refused. */
  check(systemTitle: string, frameCounter: number): string | null {
    const last = this.counters[systemTitle];
    if (last !== undefined && frameCounter <= last) {
      return `frame counter ${frameCounter} of system title ${systemTitle} is not above the last one seen (${last}): a replayed telegram`;
    }
    if (last === undefined) {
      const titles = Object.keys(this.counters);
      if (titles.length >= MAX_TITLES) delete this.counters[titles[0]];
    }
    this.counters[systemTitle] = frameCounter;
    this.dirty = true;
    return null;
  }

  /** Writes the counters when they changed. */
  save(): void {
    if (!this.dirty) return;
    this.kv.set(KV_KEY, jsonText(this.counters));
    this.dirty = false;
  }
}
