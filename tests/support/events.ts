// A device's log with events among its readings, chained as the firmware
// chains them (the hash of each event in the next one's `prev`), for the
// backend's tests: numbered entries ready for BatchWriter.

import { nodeCrypto } from '../../hosts/node/crypto';
import { EVENT_KINDS, type Entry, type EventEntry, type LogEntry } from '../../src/formats/entries';
import { GENESIS, eventHash, type SeqEvent } from '../../src/formats/event-chain';
import { workload } from './log';

/** Readings from the workload with an event after every `every`-th, numbered from 1; events chained from the genesis. */
export function logWithEvents(readings: number, every: number, seed = 5): LogEntry[] {
  const out: LogEntry[] = [];
  let number = 0;
  let prev = GENESIS;
  for (const r of workload(readings, seed) as Entry[]) {
    out.push({ ...r, seq: out.length + 1 } as LogEntry);
    if (out.length % every === 0) {
      const e: SeqEvent = {
        type: 'event', kind: EVENT_KINDS[number % EVENT_KINDS.length], time: r.time, uptime: (number + 1) * 60000,
        number: ++number, prev, message: `event ${number} after reading ${out.length}`, seq: out.length + 1,
      };
      prev = eventHash(e, nodeCrypto.sha256);
      out.push(e);
    }
  }
  return out;
}

/** Recomputes the chain from `from` on (an attacker without a key can): numbers and hashes made consistent again. */
export function rechain(entries: LogEntry[]): LogEntry[] {
  let prev: Uint8Array | null = null;
  let number = 0;
  return entries.map((e, i) => {
    const seq = i + 1;
    if (e.type !== 'event') return { ...e, seq };
    const ev: SeqEvent = { ...(e as EventEntry), seq, number: ++number, prev: prev ?? GENESIS };
    prev = eventHash(ev, nodeCrypto.sha256);
    return ev;
  });
}

export const eventsOf = (entries: LogEntry[]): SeqEvent[] => entries.filter((e): e is SeqEvent => e.type === 'event');
