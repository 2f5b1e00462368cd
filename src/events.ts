// What happened on the device that a user or an auditor should see: boots and
// their cause, firmware changes, configuration changes, time corrections,
// decode errors by class, rejected frames, uploads, the reading log's own
// troubles. Each event goes to the console, to a bounded ring in RAM (the
// status page), and to flash: an event record in the reading log, chained to
// the one before it by its SHA-256 hash (formats/event-chain.ts), so that an
// edited or removed event is detectable, on the device and at the backend
// that the uplink delivers it to with the readings.

import type { ReadingLog } from './store/reading-log';
import { HASH_LENGTH, type EventEntry, type EventKind } from './formats/entries';
import { ChainVerifier, GENESIS, eventHash, type ChainStatus, type Sha256, type SeqEvent } from './formats/event-chain';
import type { KeyValuePort } from './ports/kv';
import { fromHex, toHex } from './codec/bytes';


export interface DeviceEvent {
  /** Uptime (ms) and wall time (ms, null when the time was not known). */
  uptime: number;
  time: number | null;
  kind: EventKind;
  message: string;
  /** Its entry in the reading log (0 while the log is not open yet) and its number in the chain. */
  seq: number;
  number: number;
  /** Its chain hash (hex): the next event carries it. */
  hash: string;
}

/** An event as read back from flash. */
export interface StoredEvent {
  seq: number;
  number: number;
  kind: EventKind;
  time: number | null;
  uptime: number;
  message: string;
  /** The chain hash of the event before it (hex). */
  prev: string;
}

/** Events kept in RAM for the status page. */
const KEPT = 32;
/** Events waiting for the reading log to open (boot); more than a boot says are dropped, and counted. */
const MAX_WAITING = 16;
/** Most events one read returns. */
const MAX_EVENTS_PER_READ = 50;
/**
 * Flash budget per kind: a burst of this many events, then one an hour. What
 * goes over it stays in RAM and on the console, and the next stored event of
 * the kind says how many were not stored: a fault that repeats (a broken
 * line, an SNTP server that never answers, a boot loop) cannot fill the flash.
 */
const BURST = 8;
const REFILL_MS = 3600000;
/** Where the chain's head survives a flash that lost its newest events (key-value store). */
const HEAD_KEY = 'eventHead';

export interface EventQuery {
  /** Only these kinds; all when absent or empty. */
  kinds?: readonly EventKind[];
  /** Sequence numbers from this one on (oldest first); 0: from the oldest held. */
  from?: number;
  limit?: number;
}

export class EventLog {
  private readonly ring: DeviceEvent[] = [];
  private readonly sha256: Sha256;
  private readonly kv: KeyValuePort | null;
  private log: ReadingLog | null = null;
  private waiting: { entry: EventEntry; shown: DeviceEvent }[] = [];
  private dropped = 0;
  /** The newest event's number and chain hash: the next event links to it. */
  private number = 0;
  private hash: Uint8Array = GENESIS;
  private readonly scratch = new Uint8Array(256);
  private readonly budget: { [kind: string]: { tokens: number; at: number; over: number } } = {};
  private readonly queue: { entry: EventEntry; shown: DeviceEvent }[] = [];
  private writing = false;

  constructor(sha256: Sha256, kv: KeyValuePort | null = null) {
    this.sha256 = sha256;
    this.kv = kv;
  }

  /**
   * Records an event: to RAM at once, to flash when the reading log is open
   * (until then it waits; the boot's first events come before the log opens).
   */
  add(event: { uptime: number; time: number | null; kind: EventKind; message: string }): DeviceEvent {
    const shown: DeviceEvent = { ...event, seq: 0, number: 0, hash: '' };
    this.ring.push(shown);
    if (this.ring.length > KEPT) this.ring.shift();
    const entry: EventEntry = {
      type: 'event',
      kind: event.kind,
      time: event.time === null ? 0 : Math.floor(event.time / 1000) * 1000,
      uptime: Math.floor(event.uptime / 1000) * 1000,
      number: 0,
      prev: GENESIS,
      message: event.message,
    };
    if (!this.withinBudget(entry)) return shown;
    if (this.log) this.write(entry, shown);
    else if (this.waiting.length < MAX_WAITING) this.waiting.push({ entry, shown });
    else this.dropped++;
    return shown;
  }

  /** Takes a token of the kind's budget; false when there is none left (the event is counted instead). */
  private withinBudget(entry: EventEntry): boolean {
    const now = entry.uptime;
    let b = this.budget[entry.kind];
    if (!b) b = this.budget[entry.kind] = { tokens: BURST, at: now, over: 0 };
    if (now > b.at) {
      b.tokens = Math.min(BURST, b.tokens + (now - b.at) / REFILL_MS);
      b.at = now;
    }
    if (b.tokens < 1) {
      b.over++;
      return false;
    }
    b.tokens--;
    if (b.over) {
      entry.message += ` (${b.over} earlier ${entry.kind} event(s) not stored: rate limit)`;
      b.over = 0;
    }
    return true;
  }

  /**
   * Opens the flash side: the chain continues from the newest event the log
   * holds, or from the head saved in the key-value store when that is newer
   * (the flash lost events: the gap stays visible as removed events).
   */
  attach(log: ReadingLog): void {
    this.log = log;
    const last = log.lastEvent();
    if (last) {
      this.number = last.number;
      this.hash = eventHash(last, this.sha256, this.scratch);
    }
    const saved = this.savedHead();
    if (saved && saved.number > this.number) {
      const from = this.number;
      this.number = saved.number;
      this.hash = saved.hash;
      this.add({ uptime: 0, time: null, kind: 'store', message: `event log: events ${from + 1}..${saved.number} are missing from flash (the chain head was saved at ${saved.number})` });
    }
    const waiting = this.waiting;
    this.waiting = [];
    for (const w of waiting) this.write(w.entry, w.shown);
    if (this.dropped) {
      const n = this.dropped;
      this.dropped = 0;
      this.add({ uptime: 0, time: null, kind: 'store', message: `event log: ${n} event(s) at boot were not recorded (too many before the log opened)` });
    }
  }

  /**
   * Writes events in order. Appending one can make the reading log say
   * something (it erased its oldest sector to make room), which is an event in
   * turn: it waits until the one being written has its number and hash.
   */
  private write(entry: EventEntry, shown: DeviceEvent): void {
    this.queue.push({ entry, shown });
    if (this.writing) return;
    this.writing = true;
    try {
      while (this.queue.length) {
        const next = this.queue.shift()!;
        this.writeNow(next.entry, next.shown);
      }
    } finally {
      this.writing = false;
    }
  }

  private writeNow(entry: EventEntry, shown: DeviceEvent): void {
    const log = this.log!;
    entry.number = this.number + 1;
    entry.prev = this.hash;
    // A flash that cannot be written throws, as it does for readings (the simulator's power cuts throw here too).
    const seq = log.append(entry);
    this.number = entry.number;
    this.hash = eventHash({ ...entry, seq }, this.sha256, this.scratch);
    shown.seq = seq;
    shown.number = entry.number;
    shown.hash = toHex(this.hash);
    this.kv?.set(HEAD_KEY, entry.number + ':' + shown.hash);
  }

  private savedHead(): { number: number; hash: Uint8Array } | null {
    const text = this.kv?.get(HEAD_KEY);
    if (!text) return null;
    const colon = text.indexOf(':');
    const number = Number(text.slice(0, colon));
    const hash = fromHex(text.slice(colon + 1));
    return colon > 0 && Number.isInteger(number) && number > 0 && hash && hash.length === HASH_LENGTH ? { number, hash } : null;
  }

  /** The newest events, oldest first (RAM: since this boot, at most 32). */
  list(): DeviceEvent[] {
    return this.ring.slice();
  }

  /**
   * Events from flash, oldest first, filtered by kind: at most `limit` (and
   * never more than 50), from sequence number `from` on. `next` is where the
   * following page starts, null when there is none.
   */
  read(query: EventQuery = {}): { events: StoredEvent[]; next: number | null } {
    const events: StoredEvent[] = [];
    const limit = Math.max(1, Math.min(query.limit ?? MAX_EVENTS_PER_READ, MAX_EVENTS_PER_READ));
    const kinds = query.kinds && query.kinds.length ? query.kinds : null;
    let next: number | null = null;
    this.log?.forEachEvent(query.from ?? 0, (e) => {
      if (kinds && kinds.indexOf(e.kind) < 0) return true;
      if (events.length === limit) {
        next = e.seq;
        return false;
      }
      events.push(storedEvent(e));
      return true;
    });
    return { events, next };
  }

  /** Checks the chain of every event the flash holds, from the oldest. */
  verify(): ChainStatus {
    const verifier = new ChainVerifier(this.sha256);
    this.log?.forEachEvent(0, (e) => {
      verifier.add(e);
      return true;
    });
    return verifier.status();
  }
}

function storedEvent(e: SeqEvent): StoredEvent {
  return { seq: e.seq, number: e.number, kind: e.kind, time: e.time > 0 ? e.time : null, uptime: e.uptime, message: e.message, prev: toHex(e.prev) };
}
