// Day-after delivery. Once a day, in a window after local midnight (default
// 00:30-04:00), at a slot derived from the device id (so that thousands of
// devices do not arrive at once), the device sends what the log holds up to
// that midnight, oldest first, in batches of at most 2 KB, over TLS with the
// pinned CA and its client certificate (or a device token). The backend
// answers with the highest sequence number it has durably stored; only then
// does the cursor advance, so a batch lost on the way is sent again and the
// backend stores nothing twice.
//
// A failed attempt is retried with exponential backoff (1 min doubling to
// 1 h); when the network comes back, at once. "Upload now" sends everything
// the log holds.

import type { ClockPort, Timer } from '../ports/clock';
import type { NetworkPort } from '../ports/network';
import type { ReadingLog } from '../store/reading-log';
import type { Timekeeper } from '../time/timekeeper';
import { fromLocal, isoUtc, toLocal } from '../time/zone';
import { BATCH_CONTENT_TYPE, BatchWriter, MAX_BATCH } from '../formats/batch';
import type { BackendClient } from './client';
import { minutesOf, type UplinkSettings } from './settings';

const FIRST_BACKOFF_MS = 60000;
const MAX_BACKOFF_MS = 3600000;
const CLIENT_BUSY_RETRY_MS = 5000;
const UPLOADS_KEPT = 16;

export interface UploadRecord {
  /** Wall time it started (ms). */
  at: number;
  reason: 'schedule' | 'backlog' | 'network-up' | 'retry' | 'now' | 'boot';
  batches: number;
  entries: number;
  bytes: number;
  /** Sequence numbers sent, first..last; 0 when nothing was due. */
  first: number;
  last: number;
  /** null when it succeeded. */
  error: string | null;
}

export interface UplinkStats {
  attempts: number;
  batches: number;
  entries: number;
  bytes: number;
  failures: number;
  lastError: string | null;
  /** Wall time of the last success, and of the next planned attempt (ms); null when none. */
  lastSuccess: number | null;
  next: number | null;
  uploads: UploadRecord[];
}

/** Where in the window this device delivers: seconds after its start, spread evenly over devices by FNV-1a of the id. */
export function slotSeconds(deviceId: string, window: { from: string; to: string }): number {
  const from = minutesOf(window.from) ?? 30;
  let to = minutesOf(window.to) ?? 240;
  if (to <= from) to += 1440;
  let h = 0x811c9dc5;
  for (let i = 0; i < deviceId.length; i++) {
    h ^= deviceId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % ((to - from) * 60);
}

export class Uplink {
  readonly settings: UplinkSettings;
  readonly stats: UplinkStats = { attempts: 0, batches: 0, entries: 0, bytes: 0, failures: 0, lastError: null, lastSuccess: null, next: null, uploads: [] };
  private readonly client: BackendClient;
  private readonly clock: ClockPort;
  private readonly network: NetworkPort;
  private readonly log: ReadingLog;
  private readonly time: Timekeeper;
  private readonly zone: string;
  private readonly firmware: string;
  private readonly say: (line: string) => void;
  /** Deliveries and failures for the event log (which the deliveries carry to the backend). */
  private readonly record: (line: string) => void;
  /** Each acknowledgement, for what else the backend says in it (an update it offers: src/ota/updater.ts). */
  private readonly onAnswer: (answer: { [key: string]: unknown }) => void;
  /** A failure has been recorded since the last delivery (retries are not recorded again). */
  private failing = false;
  private readonly buffer = new Uint8Array(MAX_BATCH);
  private timer: Timer | null = null;
  private busy = false;
  private backoff = 0;
  /** Entries up to this time (ms) are due; Infinity after "upload now"; -Infinity when nothing is. */
  private dueUntil = -Infinity;

  constructor(
    ports: { clock: ClockPort; network: NetworkPort },
    client: BackendClient,
    log: ReadingLog,
    time: Timekeeper,
    settings: UplinkSettings,
    zone: string,
    firmware: string,
    say: (line: string) => void,
    record: (line: string) => void = () => undefined,
    onAnswer: (answer: { [key: string]: unknown }) => void = () => undefined,
  ) {
    this.client = client;
    this.clock = ports.clock;
    this.network = ports.network;
    this.log = log;
    this.time = time;
    this.settings = settings;
    this.zone = zone;
    this.firmware = firmware;
    this.say = say;
    this.record = record;
    this.onAnswer = onAnswer;
  }

  start(): void {
    this.network.onEvent((event) => {
      if (event === 'up' && this.time.synced) this.catchUp('network-up');
    });
    this.time.onSynced(() => this.catchUp('boot'));
    if (this.time.synced) this.catchUp('boot');
  }

  stop(): void {
    if (this.timer) this.clock.cancel(this.timer);
    this.timer = null;
  }

  /** A delivery is under way (between its batches too). */
  get delivering(): boolean {
    return this.busy;
  }

  /** Sends everything the log holds, now. */
  uploadNow(): void {
    this.dueUntil = Infinity;
    this.backoff = 0;
    void this.attempt('now');
  }

  /** The last midnight (local) before `t`: day-after delivery sends up to it. */
  private midnightBefore(t: number): number {
    const l = toLocal(this.zone, t);
    return fromLocal(this.zone, l.year, l.month, l.day, 0, 0, 0);
  }

  /** The next delivery slot after `t`: the window's start plus this device's offset, today or tomorrow. */
  private nextSlot(t: number): number {
    const start = minutesOf(this.settings.window.from) ?? 30;
    const offset = slotSeconds(this.settings.deviceId, this.settings.window);
    const l = toLocal(this.zone, t);
    for (let d = 0; d < 3; d++) {
      const slot = fromLocal(this.zone, l.year, l.month, l.day + d, 0, start, offset);
      if (slot > t) return slot;
    }
    return t + 86400000;
  }

  /** After a boot or an outage: anything older than the last midnight that is not uploaded goes now; then the schedule. */
  private catchUp(reason: UploadRecord['reason']): void {
    if (this.busy) return;
    const now = this.time.now();
    const midnight = this.midnightBefore(now);
    const oldest = this.oldestPendingTime();
    if (oldest !== null && oldest <= midnight && (this.dueUntil !== -Infinity || now >= this.nextSlot(midnight))) {
      // Past today's slot (or an attempt already failed): the backlog goes now, not at the next slot.
      this.dueUntil = Math.max(this.dueUntil, midnight);
      this.backoff = 0;
      void this.attempt(reason);
      return;
    }
    this.plan(this.nextSlot(now), 'schedule');
  }

  /**
   * The time of the oldest entry not yet delivered, skipping events whose time
   * the device did not know (a boot's first events): they go with whatever is
   * delivered next, and are no backlog of their own (else every boot after the
   * slot would deliver its own boot event at once). Null when nothing is dated.
   */
  private oldestPendingTime(): number | null {
    let time: number | null = null;
    this.log.forEach(this.log.cursor + 1, (e) => {
      if (e.time > 0) time = e.time;
      return time === null;
    });
    return time;
  }

  private plan(at: number, reason: UploadRecord['reason']): void {
    if (this.timer) this.clock.cancel(this.timer);
    this.stats.next = at;
    this.timer = this.clock.after(Math.max(0, at - this.time.now()), () => {
      this.timer = null;
      if (reason === 'schedule') this.dueUntil = Math.max(this.dueUntil, this.midnightBefore(this.time.now()));
      void this.attempt(reason);
    });
  }

  /** Sends what is due, batch by batch, until it is all stored or something fails. */
  private async attempt(reason: UploadRecord['reason']): Promise<void> {
    if (this.busy || !this.time.synced) return;
    if (this.network.address() === null) {
      // No Wi-Fi: nothing to try until it is back (its "up" event sends the backlog).
      if (this.dueUntil === -Infinity) this.dueUntil = this.midnightBefore(this.time.now());
      this.stats.lastError = 'waiting for the network';
      this.stats.next = null;
      return;
    }
    if (this.client.busy) {
      // A live push is on its way (a second or two): the delivery starts after it, not instead of it.
      this.plan(this.time.now() + CLIENT_BUSY_RETRY_MS, reason);
      return;
    }
    this.busy = true;
    this.stats.attempts++;
    const record: UploadRecord = { at: this.time.now(), reason, batches: 0, entries: 0, bytes: 0, first: 0, last: 0, error: null };
    try {
      // The delivery is an event of its own, recorded before it starts, so that it goes out with what it delivers
      // (recorded after, it would always wait for the next delivery).
      const due = this.dueUntil;
      const first = this.log.read(this.log.cursor + 1, 1)[0];
      if (first && first.time <= due) this.record(`uplink: delivering entries from ${first.seq} on (${reason})`);
      for (;;) {
        const until = this.dueUntil;
        const writer = new BatchWriter(this.settings.deviceId, this.log.cursor + 1, this.buffer);
        this.log.forEach(this.log.cursor + 1, (e) => e.time <= until && writer.add(e));
        if (!writer.entries) break;
        const body = writer.finish();
        const last = writer.firstSeq + writer.entries - 1;
        const stored = await this.send(body, last);
        if (stored < writer.firstSeq - 1) this.say(`uplink: the backend holds only up to entry ${stored}; it may have lost data`);
        const acked = Math.min(stored, last);
        if (acked > this.log.cursor) this.log.ack(acked);
        if (!record.first) record.first = writer.firstSeq;
        record.last = last;
        record.batches++;
        record.entries += writer.entries;
        record.bytes += body.length;
        this.stats.batches++;
        this.stats.entries += writer.entries;
        this.stats.bytes += body.length;
        if (acked < last) throw new Error(`the backend stored only up to entry ${stored} of ${last}`);
      }
      this.dueUntil = -Infinity;
      this.backoff = 0;
      this.failing = false;
      this.stats.lastSuccess = this.time.now();
      if (record.entries) this.say(`uplink: ${record.entries} entries (${record.first}..${record.last}) in ${record.batches} batch(es), ${record.bytes} bytes`);
      this.plan(this.nextSlot(this.time.now()), 'schedule');
    } catch (e) {
      record.error = e instanceof Error ? e.message : String(e);
      this.stats.failures++;
      this.stats.lastError = record.error;
      this.backoff = this.backoff ? Math.min(MAX_BACKOFF_MS, this.backoff * 2) : FIRST_BACKOFF_MS;
      this.say(`uplink: ${record.error}; next try in ${Math.round(this.backoff / 60000)} min`);
      if (!this.failing) this.record(`uplink failed: ${record.error} (retrying; further failures are not recorded until a delivery succeeds)`);
      this.failing = true;
      this.plan(this.time.now() + this.backoff, 'retry');
    } finally {
      this.busy = false;
      this.stats.uploads.push(record);
      if (this.stats.uploads.length > UPLOADS_KEPT) this.stats.uploads.shift();
    }
  }

  /** One batch to the backend; the highest sequence number it has stored. */
  private async send(body: Uint8Array, last: number): Promise<number> {
    // The backlog as it will be once this batch is stored: what the admin's device list shows.
    const report = { firmware: this.firmware, backlog: Math.max(0, this.log.next - 1 - last) };
    const answer = await this.client.post('/api/v1/ingest', BATCH_CONTENT_TYPE, body, report);
    const stored = answer.stored;
    if (typeof stored !== 'number' || !Number.isInteger(stored) || stored < 0) throw new Error('backend answered without "stored"');
    this.onAnswer(answer);
    return stored;
  }

  /** For the status page: times as ISO text. */
  describe(): object {
    const s = this.stats;
    return {
      url: this.settings.url,
      deviceId: this.settings.deviceId,
      auth: this.settings.auth,
      window: this.settings.window,
      live: this.settings.live,
      attempts: s.attempts,
      batches: s.batches,
      entries: s.entries,
      bytes: s.bytes,
      failures: s.failures,
      lastError: s.lastError,
      lastSuccess: s.lastSuccess === null ? null : isoUtc(Math.floor(s.lastSuccess / 1000) * 1000),
      next: s.next === null ? null : isoUtc(Math.floor(s.next / 1000) * 1000),
      pending: this.log.stats().unacknowledged,
    };
  }
}
