// The devices' event logs: each event as uploaded, with its chain hash and
// how it linked to the one before, and per device where its chain stands
// (checked on ingest, in the ingest's transaction).

import { createHash } from 'node:crypto';
import type { EventKind } from '../../src/formats/entries';
import { ChainVerifier, type ChainBreak, type SeqEvent } from '../../src/formats/event-chain';
import type { Sql } from '../db';
import { isoTime, type Row } from './rows';

/** Where a device's event chain stands at the backend. */
interface EventChainStatus {
  status: 'ok' | 'broken' | 'none';
  /** Events stored. */
  events: number;
  /** The last verified event: continuity of the next batch is checked against it. */
  last: { seq: number; number: number; hash: string } | null;
  /** Breaks found in all, and the first one (kept: a later good batch does not mend it). */
  breaks: number;
  firstBreak: (ChainBreak & { at: string }) | null;
}

interface StoredEventRow {
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

/** The devices' event logs as verified on ingest. */
export interface EventLogStore {
  eventChain(deviceId: string): Promise<EventChainStatus>;
  eventChains(): Promise<Map<string, EventChainStatus>>;
  events(deviceId: string, o: { from: number; limit: number; kinds: EventKind[] }): Promise<StoredEventRow[]>;
}

const sha256 = (data: Uint8Array): Uint8Array => new Uint8Array(createHash('sha256').update(data).digest());
/** Event times outside this are stored as unknown. */
const EVENT_EARLIEST = Date.UTC(2000, 0, 1);

const NO_CHAIN: EventChainStatus = { status: 'none', events: 0, last: null, breaks: 0, firstBreak: null };

function chainOf(r: Row): EventChainStatus {
  const broken = r.break_seq !== null && r.break_seq !== undefined;
  return {
    status: broken ? 'broken' : 'ok',
    events: Number(r.events),
    last: { seq: Number(r.last_seq), number: Number(r.last_number), hash: r.last_hash as string },
    breaks: Number(r.breaks),
    firstBreak: broken ? { seq: Number(r.break_seq), reason: r.break_reason as ChainBreak['reason'], detail: r.break_detail as string, at: isoTime(Number(r.broken_at)) } : null,
  };
}

/**
 * Checks a batch's events against the device's chain (continuing from the
 * last verified event) and stores them, with how each linked. A broken
 * chain is recorded, never a reason to refuse the batch: the readings in it
 * are not lost.
 */
export async function ingestEvents(tx: Sql, deviceId: string, events: SeqEvent[], now: number): Promise<{ stored: number; ok: boolean }> {
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

export function eventLogStore(db: Sql): EventLogStore {
  return {
    async eventChain(deviceId) {
      const rows = await db.all<Row>('SELECT * FROM event_chains WHERE device_id = ?', [deviceId]);
      return rows.length ? chainOf(rows[0]) : NO_CHAIN;
    },
    async eventChains() {
      const rows = await db.all<Row>('SELECT * FROM event_chains');
      return new Map(rows.map((r) => [r.device_id as string, chainOf(r)]));
    },
    async events(deviceId, o) {
      const marks = o.kinds.map(() => '?').join(', ');
      const rows = await db.all<Row>(`SELECT * FROM events WHERE device_id = ? AND seq >= ?${o.kinds.length ? ` AND kind IN (${marks})` : ''} ORDER BY seq LIMIT ?`, [deviceId, o.from, ...o.kinds, o.limit]);
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
    },
  };
}
