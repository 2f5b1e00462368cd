// The readings and gaps devices delivered: the day's batches in one
// transaction each (with their events, backend/stores/event-log.ts), the
// readings that arrive one by one over MQTT, and the queries on them.

import type { LogEntry, ReadingEntry, SeriesKind } from '../../src/formats/entries';
import type { SeqEvent } from '../../src/formats/event-chain';
import type { Clock } from '../clock';
import { ensurePartition, type Sql } from '../db';
import { ingestEvents } from './event-log';
import { claimMeter, MeterConflict, meterIdOf } from './meters';
import { readingOf, type Device, type Row, type StoredGap, type StoredReading } from './rows';

interface IngestResult {
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

/** A reading's place in the (time, meter, kind) order of paged queries. */
type PageKey = { time: number; meterId: string; kind: string };

/** The readings and gaps devices delivered. */
export interface ReadingStore {
  /**
   * Stores a device's batch in one transaction. Entries at or below the
   * device's stored sequence number were stored before (the batch was sent
   * again) and are skipped; readings are unique per (meter, kind, time).
   */
  ingest(device: Device, entries: LogEntry[]): Promise<IngestResult>;
  /**
   * Stores readings that arrived one by one (over MQTT), many messages in one
   * transaction: each group's meter is claimed for its device's household as
   * the batch ingest claims it (a meter of another household refuses that
   * group alone), and a reading already stored (by the day-after upload, or
   * an earlier copy of the same message) is skipped. Returns, per group,
   * whether each reading was new, or the MeterConflict that refused it.
   */
  storeReadings(groups: { device: Device; meterId: string; entries: ReadingEntry[] }[]): Promise<(boolean[] | MeterConflict)[]>;
  /** Readings of a meter with from <= time < to, of the given kinds, oldest first. */
  readings(meterId: string, from: number, to: number, kinds: SeriesKind[]): Promise<StoredReading[]>;
  gaps(meterId: string, from: number, to: number, kinds: SeriesKind[]): Promise<StoredGap[]>;
  /**
   * A page of readings over several meters, in (time, meter, kind) order,
   * after the key `after` (keyset paging), at most `limit`; with
   * `properties` (OBIS_C.D.E), only readings holding at least one of them.
   */
  readingsPage(meterIds: string[], from: number, to: number, kinds: SeriesKind[], after: PageKey | null, limit: number, properties?: string[]): Promise<StoredReading[]>;
  /** How many readings, and of how many households, a query would return. */
  extent(meterIds: string[], from: number, to: number, kinds: SeriesKind[], properties?: string[]): Promise<{ rows: number; households: number }>;
  /** A meter's readings of one kind at exactly these times (the boundaries of a daily or monthly series). */
  readingsAt(meterId: string, kind: SeriesKind, times: number[]): Promise<StoredReading[]>;
  /** The time of a meter's newest reading of a kind, or null. */
  latestReading(meterId: string, kind: SeriesKind): Promise<number | null>;
  deleteReading(meterId: string, kind: SeriesKind, time: number): Promise<boolean>;
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
export async function insertReadings(tx: Sql, rows: unknown[][]): Promise<number> {
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

async function lastMeterOf(tx: Sql, deviceId: string): Promise<string | null> {
  const rows = await tx.all<Row>('SELECT id FROM meters WHERE device_id = ? ORDER BY last_seen DESC LIMIT 1', [deviceId]);
  return rows.length ? (rows[0].id as string) : null;
}

export function readingStore(db: Sql, clock: Clock): ReadingStore {
  /** PostgreSQL's monthly partitions of readings known to exist. */
  const partitions = new Set<string>();
  return {
    async ingest(device, entries) {
      const now = clock();
      if (db.dialect === 'postgres') for (const e of entries) if (e.type === 'reading') await ensurePartition(db, e.time, partitions);
      return db.transaction(async (tx) => {
        const current = await tx.all<Row>(db.dialect === 'postgres' ? 'SELECT last_seq FROM devices WHERE id = ? FOR UPDATE' : 'SELECT last_seq FROM devices WHERE id = ?', [device.id]);
        const before = Number(current[0].last_seq);
        const fresh = entries.filter((e) => e.seq > before);
        const result: IngestResult = { stored: before, readings: 0, gaps: 0, duplicates: entries.length - fresh.length, events: 0, chain: 'ok' };
        const meters = new Set<string>();
        for (const e of fresh) if (e.type === 'reading') meters.add(meterIdOf(e.meterId, device.id));
        // Gaps name no meter: they belong to the meter of the readings around them (a device reads one meter).
        let gapMeter = meters.size ? [...meters][meters.size - 1] : null;
        if (!gapMeter && fresh.some((e) => e.type === 'gap')) {
          gapMeter = (await lastMeterOf(tx, device.id)) ?? meterIdOf(null, device.id);
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
          const chain = await ingestEvents(tx, device.id, events, now);
          result.events = chain.stored;
          result.chain = chain.ok ? 'ok' : 'broken';
        }
        const last = entries.length ? entries[entries.length - 1].seq : before;
        result.stored = Math.max(before, last);
        await tx.run('UPDATE devices SET last_seq = ?, last_seen = ? WHERE id = ?', [result.stored, now, device.id]);
        return result;
      });
    },

    async storeReadings(groups) {
      const now = clock();
      if (db.dialect === 'postgres') for (const g of groups) for (const e of g.entries) await ensurePartition(db, e.time, partitions);
      return db.transaction(async (tx) => {
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
    },

    async readings(meterId, from, to, kinds) {
      const marks = kinds.map(() => '?').join(', ');
      const rows = await db.all<Row>(`SELECT * FROM readings WHERE meter_id = ? AND time >= ? AND time < ? AND kind IN (${marks}) ORDER BY time, kind`, [meterId, from, to, ...kinds]);
      return rows.map(readingOf);
    },

    async gaps(meterId, from, to, kinds) {
      const marks = kinds.map(() => '?').join(', ');
      const rows = await db.all<Row>(`SELECT * FROM gaps WHERE meter_id = ? AND last >= ? AND first < ? AND kind IN (${marks}) ORDER BY first`, [meterId, from, to, ...kinds]);
      return rows.map((r) => ({ meterId: r.meter_id as string, kind: r.kind as SeriesKind, first: Number(r.first), last: Number(r.last), count: Number(r.count), reason: r.reason as string }));
    },

    async readingsPage(meterIds, from, to, kinds, after, limit, properties) {
      if (!meterIds.length) return [];
      const { where, params } = selection(meterIds, from, to, kinds, properties);
      let keyset = '';
      if (after) {
        keyset = 'AND (time > ? OR (time = ? AND (meter_id > ? OR (meter_id = ? AND kind > ?))))';
        params.push(after.time, after.time, after.meterId, after.meterId, after.kind);
      }
      params.push(limit);
      const rows = await db.all<Row>(`SELECT * FROM readings WHERE ${where} ${keyset} ORDER BY time, meter_id, kind LIMIT ?`, params);
      return rows.map(readingOf);
    },

    async extent(meterIds, from, to, kinds, properties) {
      if (!meterIds.length) return { rows: 0, households: 0 };
      const { where, params } = selection(meterIds, from, to, kinds, properties);
      const rows = await db.all<Row>(`SELECT COUNT(*) AS n, COUNT(DISTINCT m.household_id) AS h FROM readings JOIN meters m ON m.id = readings.meter_id WHERE ${where}`, params);
      return { rows: Number(rows[0].n), households: Number(rows[0].h) };
    },

    async readingsAt(meterId, kind, times) {
      const out: StoredReading[] = [];
      for (let i = 0; i < times.length; i += 500) {
        const chunk = times.slice(i, i + 500);
        const rows = await db.all<Row>(`SELECT * FROM readings WHERE meter_id = ? AND kind = ? AND time IN (${chunk.map(() => '?').join(', ')}) ORDER BY time`, [meterId, kind, ...chunk]);
        out.push(...rows.map(readingOf));
      }
      return out;
    },

    async latestReading(meterId, kind) {
      const rows = await db.all<Row>('SELECT MAX(time) AS t FROM readings WHERE meter_id = ? AND kind = ?', [meterId, kind]);
      return rows.length && rows[0].t !== null && rows[0].t !== undefined ? Number(rows[0].t) : null;
    },

    async deleteReading(meterId, kind, time) {
      return (await db.run('DELETE FROM readings WHERE meter_id = ? AND kind = ? AND time = ?', [meterId, kind, time])) > 0;
    },
  };
}
