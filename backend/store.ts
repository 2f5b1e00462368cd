// What the backend keeps: households, their devices and meters, the readings
// and gaps the devices uploaded, and credentials (hashes only). Every process
// of a scaled-out backend works on the same database and keeps nothing of
// its own but caches.

import { createHash, randomBytes } from 'node:crypto';
import { ensurePartition, migrate, openDb, type Sql } from './db';
import type { EventKind, LogEntry, ReadingEntry, SeriesKind } from '../src/store/entries';
import { ChainVerifier, type ChainBreak, type SeqEvent } from '../src/store/event-chain';

export type Role = 'admin' | 'household' | 'research' | 'device';

export interface Credential {
  kind: Role;
  /** The household (household), the device (device); null for admin and research. */
  subject: string | null;
  name: string;
}

export interface Household {
  id: string;
  name: string;
  zone: string;
}

export interface Device {
  id: string;
  householdId: string;
  auth: 'certificate' | 'token';
  certFingerprint: string | null;
  createdAt: number;
  revokedAt: number | null;
  lastSeq: number;
  lastSeen: number | null;
}

/** What a meter measures: the household's grid connection, or the output of its PV system (a generation meter). */
export type MeterRole = 'grid' | 'generation';
export const METER_ROLES: readonly MeterRole[] = ['grid', 'generation'];

export interface Meter {
  id: string;
  householdId: string;
  deviceId: string;
  firstSeen: number;
  lastSeen: number;
}

export interface StoredReading {
  meterId: string;
  kind: SeriesKind;
  time: number;
  offset: number;
  source: 'sntp' | 'meter';
  values: { [obis: string]: { value: number; unit: string } };
}

export interface StoredGap {
  meterId: string;
  kind: SeriesKind;
  first: number;
  last: number;
  count: number;
  reason: string;
}

export interface IngestResult {
  /** Highest sequence number of the device now durably stored. */
  stored: number;
  readings: number;
  gaps: number;
  /** Entries at or below what was stored before: a batch sent again. */
  duplicates: number;
  /** Events stored, and whether their chain links to what was stored before and within itself. */
  events: number;
  chain: 'ok' | 'broken';
}

/** Where a device's event chain stands at the backend. */
export interface EventChainStatus {
  status: 'ok' | 'broken' | 'none';
  /** Events stored. */
  events: number;
  /** The last verified event: continuity of the next batch is checked against it. */
  last: { seq: number; number: number; hash: string } | null;
  /** Breaks found in all, and the first one (kept: a later good batch does not mend it). */
  breaks: number;
  firstBreak: (ChainBreak & { at: string }) | null;
}

export interface StoredEventRow {
  seq: number;
  number: number;
  kind: EventKind;
  time: string | null;
  uptime: number;
  message: string;
  prev: string;
  hash: string;
  /** How it linked to the event before it: ok, start (nothing before it known), edited or removed. */
  link: 'ok' | 'start' | 'edited' | 'removed';
}

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
/** Event times outside this are stored as unknown. */
const EVENT_EARLIEST = Date.UTC(2000, 0, 1);

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function newId(prefix: string): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`;
}

type Row = Record<string, unknown>;

const deviceOf = (r: Row): Device => ({
  id: r.id as string,
  householdId: r.household_id as string,
  auth: r.auth as Device['auth'],
  certFingerprint: (r.cert_fingerprint as string | null) ?? null,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null || r.revoked_at === undefined ? null : Number(r.revoked_at),
  lastSeq: Number(r.last_seq),
  lastSeen: r.last_seen === null || r.last_seen === undefined ? null : Number(r.last_seen),
});

const meterOf = (r: Row): Meter => ({
  id: r.id as string,
  householdId: r.household_id as string,
  deviceId: r.device_id as string,
  firstSeen: Number(r.first_seen),
  lastSeen: Number(r.last_seen),
});

const readingOf = (r: Row): StoredReading => ({
  meterId: r.meter_id as string,
  kind: r.kind as SeriesKind,
  time: Number(r.time),
  offset: Number(r.capture_offset),
  source: r.source as StoredReading['source'],
  values: JSON.parse(r.register_values as string),
});

/** A meter that sends no id is known by its device. */
export function meterIdOf(meterId: string | null, deviceId: string): string {
  return meterId ?? `device:${deviceId}`;
}

export class MeterConflict extends Error {}

/** The meter is the device's household's (a new one becomes it); another household's meter is a conflict. */
async function claimMeter(tx: Sql, meterId: string, device: Device, now: number): Promise<void> {
  const owner = await tx.all<Row>('SELECT household_id FROM meters WHERE id = ?', [meterId]);
  if (owner.length && owner[0].household_id !== device.householdId) throw new MeterConflict(`meter ${meterId} belongs to another household`);
  if (owner.length) await tx.run('UPDATE meters SET last_seen = ?, device_id = ? WHERE id = ?', [now, device.id, meterId]);
  else await tx.run('INSERT INTO meters (id, household_id, device_id, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)', [meterId, device.householdId, device.id, now, now]);
}

/** How long live values are kept: the Live view's window. */
export const LIVE_KEEP_MS = 15 * 60000;

export interface LiveRow {
  time: number;
  values: { [channel: string]: number };
}

function liveRowOf(r: Row): LiveRow {
  return { time: Number(r.time), values: JSON.parse(String(r.live)) as LiveRow['values'] };
}

export interface DeviceStatus {
  firmware: string;
  backlog: number;
  reportedAt: number;
}

// ---- what the routes need of the store, each plugin only its part ----

/** Who a token or certificate belongs to (authentication). */
export interface CredentialStore {
  credential(token: string): Promise<Credential | null>;
  deviceByFingerprint(fingerprint: string): Promise<Device | null>;
  deviceByToken(token: string): Promise<Device | null>;
}

/** Households, their devices and meters, credentials, what devices say of themselves. */
export interface RegistryStore extends CredentialStore {
  addCredential(token: string, c: Credential): Promise<void>;
  createHousehold(h: Household): Promise<void>;
  household(id: string): Promise<Household | null>;
  households(): Promise<Household[]>;
  createDevice(d: { id: string; householdId: string; auth: Device['auth']; certFingerprint: string | null; token: string | null }): Promise<void>;
  device(id: string): Promise<Device | null>;
  devices(): Promise<Device[]>;
  revokeDevice(id: string): Promise<boolean>;
  meters(householdId?: string): Promise<Meter[]>;
  meter(id: string): Promise<Meter | null>;
  reportStatus(deviceId: string, status: DeviceStatus): Promise<void>;
  deviceStatuses(): Promise<Map<string, DeviceStatus>>;
}

/** The readings and gaps devices delivered. */
export interface ReadingStore {
  ingest(device: Device, entries: LogEntry[]): Promise<IngestResult>;
  readings(meterId: string, from: number, to: number, kinds: SeriesKind[]): Promise<StoredReading[]>;
  gaps(meterId: string, from: number, to: number, kinds: SeriesKind[]): Promise<StoredGap[]>;
  readingsPage(meterIds: string[], from: number, to: number, kinds: SeriesKind[], after: { time: number; meterId: string; kind: string } | null, limit: number, properties?: string[]): Promise<StoredReading[]>;
  extent(meterIds: string[], from: number, to: number, kinds: SeriesKind[], properties?: string[]): Promise<{ rows: number; households: number }>;
  readingsAt(meterId: string, kind: SeriesKind, times: number[]): Promise<StoredReading[]>;
  latestReading(meterId: string, kind: SeriesKind): Promise<number | null>;
  deleteReading(meterId: string, kind: SeriesKind, time: number): Promise<boolean>;
}

/** The devices' event logs as verified on ingest. */
export interface EventLogStore {
  eventChain(deviceId: string): Promise<EventChainStatus>;
  eventChains(): Promise<Map<string, EventChainStatus>>;
  events(deviceId: string, o: { from: number; limit: number; kinds: EventKind[] }): Promise<StoredEventRow[]>;
}

/** The live channel's last minutes per meter, and who watches. */
export interface LiveStore {
  addLive(device: Device, meterId: string, rows: LiveRow[], now: number): Promise<{ accepted: number; watched: boolean }>;
  liveValues(meterId: string, since: number): Promise<LiveRow[]>;
  latestLive(meterId: string): Promise<LiveRow | null>;
  watchLive(meterId: string, until: number): Promise<void>;
}

/** What households set: tariffs, alert thresholds (JSON text), the roles of their meters. */
export interface SettingsStore {
  tariff(householdId: string): Promise<string | null>;
  setTariff(householdId: string, tariff: string): Promise<void>;
  alertSettings(householdId: string): Promise<string | null>;
  setAlertSettings(householdId: string, settings: string): Promise<void>;
  meterRoles(meterIds: string[]): Promise<Map<string, MeterRole>>;
  setMeterRole(meterId: string, role: MeterRole): Promise<void>;
}

/** Stored bulk-download queries. */
export interface BulkLinkStore {
  createBulkLink(id: string, claim: string, expires: number): Promise<void>;
  bulkLink(id: string): Promise<{ claim: string; expires: number } | null>;
}

export class Store implements RegistryStore, ReadingStore, EventLogStore, LiveStore, SettingsStore, BulkLinkStore {
  readonly db: Sql;
  private readonly partitions = new Set<string>();

  private constructor(db: Sql) {
    this.db = db;
  }

  static async open(url: string): Promise<Store> {
    const db = await openDb(url);
    await migrate(db);
    return new Store(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ---- credentials ----

  async addCredential(token: string, c: Credential): Promise<void> {
    await this.db.run('INSERT INTO credentials (token_hash, kind, subject, name, created_at) VALUES (?, ?, ?, ?, ?)', [hashToken(token), c.kind, c.subject, c.name, Date.now()]);
  }

  async credential(token: string): Promise<Credential | null> {
    const rows = await this.db.all<Row>('SELECT kind, subject, name FROM credentials WHERE token_hash = ?', [hashToken(token)]);
    return rows.length ? { kind: rows[0].kind as Role, subject: (rows[0].subject as string | null) ?? null, name: rows[0].name as string } : null;
  }

  async hasAdmin(): Promise<boolean> {
    return (await this.db.all("SELECT 1 FROM credentials WHERE kind = 'admin' LIMIT 1")).length > 0;
  }

  /** A stored download query; expired ones older than a day are cleared on the way. */
  async createBulkLink(id: string, claim: string, expires: number): Promise<void> {
    await this.db.run('DELETE FROM bulk_links WHERE expires < ?', [Date.now() - 86400000]);
    await this.db.run('INSERT INTO bulk_links (id, claim, expires) VALUES (?, ?, ?)', [id, claim, expires]);
  }

  async bulkLink(id: string): Promise<{ claim: string; expires: number } | null> {
    const rows = await this.db.all<Row>('SELECT claim, expires FROM bulk_links WHERE id = ?', [id]);
    return rows.length ? { claim: rows[0].claim as string, expires: Number(rows[0].expires) } : null;
  }

  /** A server-side secret (the key that signs cursors and makes pseudonyms), created once and shared by every process. */
  async secret(name: string): Promise<string> {
    const rows = await this.db.all<Row>('SELECT value FROM secrets WHERE name = ?', [name]);
    if (rows.length) return rows[0].value as string;
    await this.db.run('INSERT INTO secrets (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING', [name, randomBytes(32).toString('hex')]);
    return (await this.db.all<Row>('SELECT value FROM secrets WHERE name = ?', [name]))[0].value as string;
  }

  // ---- households and devices ----

  async createHousehold(h: Household): Promise<void> {
    await this.db.run('INSERT INTO households (id, name, zone, created_at) VALUES (?, ?, ?, ?)', [h.id, h.name, h.zone, Date.now()]);
  }

  async household(id: string): Promise<Household | null> {
    const rows = await this.db.all<Row>('SELECT id, name, zone FROM households WHERE id = ?', [id]);
    return rows.length ? { id: rows[0].id as string, name: rows[0].name as string, zone: rows[0].zone as string } : null;
  }

  async households(): Promise<Household[]> {
    return (await this.db.all<Row>('SELECT id, name, zone FROM households ORDER BY id')).map((r) => ({ id: r.id as string, name: r.name as string, zone: r.zone as string }));
  }

  async createDevice(d: { id: string; householdId: string; auth: Device['auth']; certFingerprint: string | null; token: string | null }): Promise<void> {
    await this.db.run('INSERT INTO devices (id, household_id, auth, cert_fingerprint, token_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      d.id,
      d.householdId,
      d.auth,
      d.certFingerprint,
      d.token ? hashToken(d.token) : null,
      Date.now(),
    ]);
  }

  async device(id: string): Promise<Device | null> {
    const rows = await this.db.all<Row>('SELECT * FROM devices WHERE id = ?', [id]);
    return rows.length ? deviceOf(rows[0]) : null;
  }

  async deviceByFingerprint(fingerprint: string): Promise<Device | null> {
    const rows = await this.db.all<Row>('SELECT * FROM devices WHERE cert_fingerprint = ?', [fingerprint]);
    return rows.length ? deviceOf(rows[0]) : null;
  }

  async deviceByToken(token: string): Promise<Device | null> {
    const rows = await this.db.all<Row>('SELECT * FROM devices WHERE token_hash = ?', [hashToken(token)]);
    return rows.length ? deviceOf(rows[0]) : null;
  }

  async devices(): Promise<Device[]> {
    return (await this.db.all<Row>('SELECT * FROM devices ORDER BY id')).map(deviceOf);
  }

  async revokeDevice(id: string): Promise<boolean> {
    return (await this.db.run('UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [Date.now(), id])) > 0;
  }

  // ---- ingest ----

  /**
   * Stores a device's batch in one transaction. Entries at or below the
   * device's stored sequence number were stored before (the batch was sent
   * again) and are skipped; readings are unique per (meter, kind, time).
   */
  async ingest(device: Device, entries: LogEntry[]): Promise<IngestResult> {
    const now = Date.now();
    if (this.db.dialect === 'postgres') for (const e of entries) if (e.type === 'reading') await ensurePartition(this.db, e.time, this.partitions);
    return this.db.transaction(async (tx) => {
      const current = await tx.all<Row>(this.db.dialect === 'postgres' ? 'SELECT last_seq FROM devices WHERE id = ? FOR UPDATE' : 'SELECT last_seq FROM devices WHERE id = ?', [device.id]);
      const before = Number(current[0].last_seq);
      const fresh = entries.filter((e) => e.seq > before);
      const result: IngestResult = { stored: before, readings: 0, gaps: 0, duplicates: entries.length - fresh.length, events: 0, chain: 'ok' };
      const meters = new Set<string>();
      for (const e of fresh) if (e.type === 'reading') meters.add(meterIdOf(e.meterId, device.id));
      // Gaps name no meter: they belong to the meter of the readings around them (a device reads one meter).
      let gapMeter = meters.size ? [...meters][meters.size - 1] : null;
      if (!gapMeter && fresh.some((e) => e.type === 'gap')) {
        gapMeter = (await this.lastMeterOf(tx, device.id)) ?? meterIdOf(null, device.id);
        meters.add(gapMeter);
      }
      for (const m of meters) await claimMeter(tx, m, device, now);
      const rows: unknown[][] = [];
      const events: SeqEvent[] = [];
      for (const e of fresh) {
        if (e.type === 'reading') {
          rows.push([meterIdOf(e.meterId, device.id), e.kind, e.time, e.offset, e.source, JSON.stringify(e.values)]);
        } else if (e.type === 'event') {
          events.push(e);
        } else {
          result.gaps += await tx.run('INSERT INTO gaps (meter_id, kind, first, last, count, reason) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING', [gapMeter!, e.kind, e.time, e.last, e.count, e.reason]);
        }
      }
      result.readings = await insertReadings(tx, rows);
      if (events.length) {
        const chain = await this.ingestEvents(tx, device.id, events, now);
        result.events = chain.stored;
        result.chain = chain.ok ? 'ok' : 'broken';
      }
      const last = entries.length ? entries[entries.length - 1].seq : before;
      result.stored = Math.max(before, last);
      await tx.run('UPDATE devices SET last_seq = ?, last_seen = ? WHERE id = ?', [result.stored, now, device.id]);
      return result;
    });
  }

  /**
   * Stores readings that arrived one by one (over MQTT), many messages in one
   * transaction: each group's meter is claimed for its device's household as
   * the batch ingest claims it (a meter of another household refuses that
   * group alone), and a reading already stored (by the day-after upload, or
   * an earlier copy of the same message) is skipped. Returns, per group,
   * whether each reading was new, or the MeterConflict that refused it.
   */
  async storeReadings(groups: { device: Device; meterId: string; entries: ReadingEntry[] }[]): Promise<(boolean[] | MeterConflict)[]> {
    const now = Date.now();
    if (this.db.dialect === 'postgres') for (const g of groups) for (const e of g.entries) await ensurePartition(this.db, e.time, this.partitions);
    return this.db.transaction(async (tx) => {
      const out: (boolean[] | MeterConflict)[] = [];
      // Each meter is claimed once per transaction: a backlog is many readings of one meter.
      const claimed = new Map<string, MeterConflict | null>();
      for (const g of groups) {
        const claim = `${g.device.id}\n${g.meterId}`;
        if (!claimed.has(claim)) {
          try {
            await claimMeter(tx, g.meterId, g.device, now);
            claimed.set(claim, null);
          } catch (e) {
            if (!(e instanceof MeterConflict)) throw e;
            claimed.set(claim, e);
          }
        }
        const conflict = claimed.get(claim);
        if (conflict) {
          out.push(conflict);
          continue;
        }
        const fresh: boolean[] = [];
        for (const e of g.entries) fresh.push((await insertReadings(tx, [[g.meterId, e.kind, e.time, e.offset, e.source, JSON.stringify(e.values)]])) > 0);
        out.push(fresh);
      }
      return out;
    });
  }

  /**
   * Checks a batch's events against the device's chain (continuing from the
   * last verified event) and stores them, with how each linked. A broken
   * chain is recorded, never a reason to refuse the batch: the readings in it
   * are not lost.
   */
  private async ingestEvents(tx: Sql, deviceId: string, events: SeqEvent[], now: number): Promise<{ stored: number; ok: boolean }> {
    const rows = await tx.all<Row>('SELECT * FROM event_chains WHERE device_id = ?', [deviceId]);
    const row = rows.length ? rows[0] : null;
    const anchor = row ? { seq: Number(row.last_seq), number: Number(row.last_number), hash: Buffer.from(row.last_hash as string, 'hex') } : null;
    const verifier = new ChainVerifier(sha256, anchor ? { ...anchor, hash: new Uint8Array(anchor.hash) } : null);
    let stored = 0;
    const breaks: ChainBreak[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i];
      const found = verifier.add(e);
      if (found) breaks.push(found);
      const link = found ? found.reason : anchor || i > 0 ? 'ok' : 'start';
      const time = e.time >= EVENT_EARLIEST && e.time <= now + 2 * 86400000 ? e.time : null;
      stored += await tx.run(
        'INSERT INTO events (device_id, seq, number, kind, time, uptime, message, prev_hash, hash, link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
        [deviceId, e.seq, e.number, e.kind, time, e.uptime, e.message, Buffer.from(e.prev).toString('hex'), Buffer.from(verifier.last!.hash).toString('hex'), link],
      );
    }
    const last = verifier.last!;
    const lastHash = Buffer.from(last.hash).toString('hex');
    const first = breaks[0];
    if (!row) {
      await tx.run(
        'INSERT INTO event_chains (device_id, events, last_seq, last_number, last_hash, breaks, break_seq, break_reason, break_detail, broken_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [deviceId, stored, last.seq, last.number, lastHash, breaks.length, first?.seq ?? null, first?.reason ?? null, first?.detail ?? null, first ? now : null],
      );
    } else {
      await tx.run('UPDATE event_chains SET events = events + ?, last_seq = ?, last_number = ?, last_hash = ?, breaks = breaks + ? WHERE device_id = ?', [
        stored, last.seq, last.number, lastHash, breaks.length, deviceId,
      ]);
      if (first && row.break_seq === null) {
        await tx.run('UPDATE event_chains SET break_seq = ?, break_reason = ?, break_detail = ?, broken_at = ? WHERE device_id = ?', [first.seq, first.reason, first.detail, now, deviceId]);
      }
    }
    return { stored, ok: breaks.length === 0 };
  }

  /** Where a device's event chain stands. */
  async eventChain(deviceId: string): Promise<EventChainStatus> {
    const rows = await this.db.all<Row>('SELECT * FROM event_chains WHERE device_id = ?', [deviceId]);
    return rows.length ? chainOf(rows[0]) : NO_CHAIN;
  }

  /** Every device's chain status, by device id. */
  async eventChains(): Promise<Map<string, EventChainStatus>> {
    const rows = await this.db.all<Row>('SELECT * FROM event_chains');
    return new Map(rows.map((r) => [r.device_id as string, chainOf(r)]));
  }

  /** A device's events from sequence number `from` on, oldest first, of the given kinds (all when empty). */
  async events(deviceId: string, o: { from: number; limit: number; kinds: EventKind[] }): Promise<StoredEventRow[]> {
    const marks = o.kinds.map(() => '?').join(', ');
    const rows = await this.db.all<Row>(
      `SELECT * FROM events WHERE device_id = ? AND seq >= ?${o.kinds.length ? ` AND kind IN (${marks})` : ''} ORDER BY seq LIMIT ?`,
      [deviceId, o.from, ...o.kinds, o.limit],
    );
    return rows.map((r) => ({
      seq: Number(r.seq),
      number: Number(r.number),
      kind: r.kind as EventKind,
      time: r.time === null || r.time === undefined ? null : isoTime(Number(r.time)),
      uptime: Number(r.uptime) / 1000,
      message: r.message as string,
      prev: r.prev_hash as string,
      hash: r.hash as string,
      link: r.link as StoredEventRow['link'],
    }));
  }

  private async lastMeterOf(tx: Sql, deviceId: string): Promise<string | null> {
    const rows = await tx.all<Row>('SELECT id FROM meters WHERE device_id = ? ORDER BY last_seen DESC LIMIT 1', [deviceId]);
    return rows.length ? (rows[0].id as string) : null;
  }

  // ---- queries ----

  async meters(householdId?: string): Promise<Meter[]> {
    const rows = householdId
      ? await this.db.all<Row>('SELECT * FROM meters WHERE household_id = ? ORDER BY id', [householdId])
      : await this.db.all<Row>('SELECT * FROM meters ORDER BY id');
    return rows.map(meterOf);
  }

  async meter(id: string): Promise<Meter | null> {
    const rows = await this.db.all<Row>('SELECT * FROM meters WHERE id = ?', [id]);
    return rows.length ? meterOf(rows[0]) : null;
  }

  /** Readings of a meter with from <= time < to, of the given kinds, oldest first. */
  async readings(meterId: string, from: number, to: number, kinds: SeriesKind[]): Promise<StoredReading[]> {
    const marks = kinds.map(() => '?').join(', ');
    const rows = await this.db.all<Row>(
      `SELECT * FROM readings WHERE meter_id = ? AND time >= ? AND time < ? AND kind IN (${marks}) ORDER BY time, kind`,
      [meterId, from, to, ...kinds],
    );
    return rows.map(readingOf);
  }

  async gaps(meterId: string, from: number, to: number, kinds: SeriesKind[]): Promise<StoredGap[]> {
    const marks = kinds.map(() => '?').join(', ');
    const rows = await this.db.all<Row>(
      `SELECT * FROM gaps WHERE meter_id = ? AND last >= ? AND first < ? AND kind IN (${marks}) ORDER BY first`,
      [meterId, from, to, ...kinds],
    );
    return rows.map((r) => ({ meterId: r.meter_id as string, kind: r.kind as SeriesKind, first: Number(r.first), last: Number(r.last), count: Number(r.count), reason: r.reason as string }));
  }

  /**
   * A page of readings over several meters, in (time, meter, kind) order,
   * after the key `after` (keyset paging), at most `limit`; with
   * `properties` (OBIS_C.D.E), only readings holding at least one of them.
   */
  async readingsPage(
    meterIds: string[],
    from: number,
    to: number,
    kinds: SeriesKind[],
    after: { time: number; meterId: string; kind: string } | null,
    limit: number,
    properties?: string[],
  ): Promise<StoredReading[]> {
    if (!meterIds.length) return [];
    const { where, params } = selection(meterIds, from, to, kinds, properties);
    let keyset = '';
    if (after) {
      keyset = 'AND (time > ? OR (time = ? AND (meter_id > ? OR (meter_id = ? AND kind > ?))))';
      params.push(after.time, after.time, after.meterId, after.meterId, after.kind);
    }
    params.push(limit);
    const rows = await this.db.all<Row>(`SELECT * FROM readings WHERE ${where} ${keyset} ORDER BY time, meter_id, kind LIMIT ?`, params);
    return rows.map(readingOf);
  }

  /** How many readings, and of how many households, a query would return. */
  async extent(meterIds: string[], from: number, to: number, kinds: SeriesKind[], properties?: string[]): Promise<{ rows: number; households: number }> {
    if (!meterIds.length) return { rows: 0, households: 0 };
    const { where, params } = selection(meterIds, from, to, kinds, properties);
    const rows = await this.db.all<Row>(
      `SELECT COUNT(*) AS n, COUNT(DISTINCT m.household_id) AS h FROM readings JOIN meters m ON m.id = readings.meter_id WHERE ${where}`,
      params,
    );
    return { rows: Number(rows[0].n), households: Number(rows[0].h) };
  }

  /** A meter's readings of one kind at exactly these times (the boundaries of a daily or monthly series). */
  async readingsAt(meterId: string, kind: SeriesKind, times: number[]): Promise<StoredReading[]> {
    const out: StoredReading[] = [];
    for (let i = 0; i < times.length; i += 500) {
      const chunk = times.slice(i, i + 500);
      const rows = await this.db.all<Row>(`SELECT * FROM readings WHERE meter_id = ? AND kind = ? AND time IN (${chunk.map(() => '?').join(', ')}) ORDER BY time`, [meterId, kind, ...chunk]);
      out.push(...rows.map(readingOf));
    }
    return out;
  }

  /** The time of a meter's newest reading of a kind, or null. */
  async latestReading(meterId: string, kind: SeriesKind): Promise<number | null> {
    const rows = await this.db.all<Row>('SELECT MAX(time) AS t FROM readings WHERE meter_id = ? AND kind = ?', [meterId, kind]);
    return rows.length && rows[0].t !== null && rows[0].t !== undefined ? Number(rows[0].t) : null;
  }

  /** A household's tariff as stored (JSON text), or null. */
  async tariff(householdId: string): Promise<string | null> {
    const rows = await this.db.all<Row>('SELECT tariff FROM tariffs WHERE household_id = ?', [householdId]);
    return rows.length ? (rows[0].tariff as string) : null;
  }

  // ---- what devices say of themselves, and the live channel ----

  async reportStatus(deviceId: string, status: DeviceStatus): Promise<void> {
    await this.db.run(
      'INSERT INTO device_status (device_id, firmware, backlog, reported_at) VALUES (?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET firmware = excluded.firmware, backlog = excluded.backlog, reported_at = excluded.reported_at',
      [deviceId, status.firmware, status.backlog, status.reportedAt],
    );
  }

  async deviceStatuses(): Promise<Map<string, DeviceStatus>> {
    const rows = await this.db.all<Row>('SELECT * FROM device_status');
    return new Map(rows.map((r) => [String(r.device_id), { firmware: String(r.firmware), backlog: Number(r.backlog), reportedAt: Number(r.reported_at) }]));
  }

  /**
   * Keeps a live push's values (a value already held for its time is kept as
   * it was) and forgets the meter's values older than LIVE_KEEP_MS; says
   * whether somebody watches the meter's Live view.
   */
  async addLive(device: Device, meterId: string, rows: LiveRow[], now: number): Promise<{ accepted: number; watched: boolean }> {
    return this.db.transaction(async (tx) => {
      // A push with nothing to keep changes nothing (it only asks whether somebody watches).
      if (rows.length) await claimMeter(tx, meterId, device, now);
      let accepted = 0;
      for (const r of rows) {
        accepted += await tx.run('INSERT INTO live_values (meter_id, time, device_id, live) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING', [meterId, r.time, device.id, JSON.stringify(r.values)]);
      }
      await tx.run('DELETE FROM live_values WHERE meter_id = ? AND time < ?', [meterId, now - LIVE_KEEP_MS]);
      const watch = await tx.all<Row>('SELECT until FROM live_watch WHERE meter_id = ?', [meterId]);
      return { accepted, watched: watch.length > 0 && Number(watch[0].until) > now };
    });
  }

  /** The meter's live values after `since` (ms), oldest first. */
  async liveValues(meterId: string, since: number): Promise<LiveRow[]> {
    return (await this.db.all<Row>('SELECT time, live FROM live_values WHERE meter_id = ? AND time > ? ORDER BY time', [meterId, since])).map(liveRowOf);
  }

  /** The meter's newest live value, or null. */
  async latestLive(meterId: string): Promise<LiveRow | null> {
    const rows = await this.db.all<Row>('SELECT time, live FROM live_values WHERE meter_id = ? ORDER BY time DESC LIMIT 1', [meterId]);
    return rows.length ? liveRowOf(rows[0]) : null;
  }

  /** Somebody looks at the meter's Live view until `until` (ms). */
  async watchLive(meterId: string, until: number): Promise<void> {
    await this.db.run('INSERT INTO live_watch (meter_id, until) VALUES (?, ?) ON CONFLICT (meter_id) DO UPDATE SET until = excluded.until', [meterId, until]);
  }

  async setTariff(householdId: string, tariff: string): Promise<void> {
    await this.db.run('INSERT INTO tariffs (household_id, tariff, updated_at) VALUES (?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET tariff = excluded.tariff, updated_at = excluded.updated_at', [
      householdId,
      tariff,
      Date.now(),
    ]);
  }

  /** A household's alert thresholds as stored (JSON text), or null. */
  async alertSettings(householdId: string): Promise<string | null> {
    const rows = await this.db.all<Row>('SELECT settings FROM alert_settings WHERE household_id = ?', [householdId]);
    return rows.length ? (rows[0].settings as string) : null;
  }

  async setAlertSettings(householdId: string, settings: string): Promise<void> {
    await this.db.run(
      'INSERT INTO alert_settings (household_id, settings, updated_at) VALUES (?, ?, ?) ON CONFLICT (household_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at',
      [householdId, settings, Date.now()],
    );
  }

  /** The roles households gave their meters (meters without one measure the grid connection). */
  async meterRoles(meterIds: string[]): Promise<Map<string, MeterRole>> {
    if (!meterIds.length) return new Map();
    const rows = await this.db.all<Row>(`SELECT meter_id, role FROM meter_roles WHERE meter_id IN (${meterIds.map(() => '?').join(', ')})`, meterIds);
    return new Map(rows.map((r) => [r.meter_id as string, r.role as MeterRole]));
  }

  async setMeterRole(meterId: string, role: MeterRole): Promise<void> {
    await this.db.run('INSERT INTO meter_roles (meter_id, role, updated_at) VALUES (?, ?, ?) ON CONFLICT (meter_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at', [meterId, role, Date.now()]);
  }

  async deleteReading(meterId: string, kind: SeriesKind, time: number): Promise<boolean> {
    return (await this.db.run('DELETE FROM readings WHERE meter_id = ? AND kind = ? AND time = ?', [meterId, kind, time])) > 0;
  }
}

/**
 * The WHERE clause of a readings query over meters, a time range and kinds;
 * a property OBIS_C.D.E matches a register "A-B:C.D.E" in the stored JSON.
 */
function selection(meterIds: string[], from: number, to: number, kinds: SeriesKind[], properties?: string[]): { where: string; params: unknown[] } {
  const params: unknown[] = [...meterIds, from, to, ...kinds];
  let where = `readings.meter_id IN (${meterIds.map(() => '?').join(', ')}) AND readings.time >= ? AND readings.time < ? AND readings.kind IN (${kinds.map(() => '?').join(', ')})`;
  if (properties?.length) {
    where += ` AND (${properties.map(() => 'readings.register_values LIKE ?').join(' OR ')})`;
    for (const p of properties) params.push(`%:${p.slice('OBIS_'.length)}"%`);
  }
  return { where, params };
}

/** Inserts rows of readings, skipping any already there; returns how many were new. */
async function insertReadings(tx: Sql, rows: unknown[][]): Promise<number> {
  if (!rows.length) return 0;
  const columns = '(meter_id, kind, time, capture_offset, source, register_values)';
  if (tx.dialect === 'postgres') {
    // One statement for the batch: one round trip.
    let inserted = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const values = chunk.map(() => '(?, ?, ?, ?, ?, ?)').join(', ');
      inserted += await tx.run(`INSERT INTO readings ${columns} VALUES ${values} ON CONFLICT DO NOTHING`, chunk.flat());
    }
    return inserted;
  }
  let inserted = 0;
  for (const r of rows) inserted += await tx.run(`INSERT INTO readings ${columns} VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r);
  return inserted;
}

export { insertReadings };

const NO_CHAIN: EventChainStatus = { status: 'none', events: 0, last: null, breaks: 0, firstBreak: null };

function chainOf(r: Row): EventChainStatus {
  const broken = r.break_seq !== null && r.break_seq !== undefined;
  return {
    status: broken ? 'broken' : 'ok',
    events: Number(r.events),
    last: { seq: Number(r.last_seq), number: Number(r.last_number), hash: r.last_hash as string },
    breaks: Number(r.breaks),
    firstBreak: broken
      ? { seq: Number(r.break_seq), reason: r.break_reason as ChainBreak['reason'], detail: r.break_detail as string, at: isoTime(Number(r.broken_at)) }
      : null,
  };
}

function isoTime(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}
