// The backend's figures, on SQLite (a file) and on PostgreSQL (a fresh
// database per measure, where a server answers at 127.0.0.1:5432):
//
//   ingest    readings/s through the ingest route (decode, validate, the
//             store's transaction; app.inject, no TLS), beside a raw insert
//             of the same rows in transactions of the same size;
//   fleet     devices uploading a day each at once over mutual TLS to a
//             listening backend: readings/s end to end, latency per upload,
//             and the readings lost (counted in the database afterwards);
//   queries   a month of one meter's quarter-hours and the daily series of
//             a year, median latency; the dashboard's routes (a year of
//             days, a week of quarter-hours, the overview): latency and
//             payload bytes (the time to a first chart, server side).
//
// The devices run in a worker thread, so that their TLS does not share the
// backend's event loop.

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import type { FastifyInstance } from 'fastify';
import { startBackend } from '../../backend/main';
import { buildServer } from '../../backend/server';
import { insertReadings, newToken, Store } from '../../backend/store';
import { ensurePartition } from '../../backend/db';
import { Pki, toPem } from '../../backend/pki';
import { BATCH_CONTENT_TYPE, BatchWriter } from '../../src/formats/batch';
import { QUARTER, T0, workload } from '../../simulator/log-workload';
import type { ReadingEntry } from '../../src/formats/entries';
import type { Row } from './report';
import { pgReachable } from '../../tests/support/pg';

const SECTION = 'backend';
const DAY = 86400000;
const PER_DAY = 97;
type DbName = 'SQLite' | 'PostgreSQL';

export const PG_ADMIN_URL = process.env.SMGW_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const PG_DOWN = 'PostgreSQL not reachable';
/** What the device's TLS offers (Moddable on the ESP32). */
const DEVICE_CIPHER = 'ECDHE-RSA-AES128-GCM-SHA256';
/**
 * Batches in flight at once in the ingest measure. SQLite: one, as its single
 * connection takes one writer at a time anyway; and the raw side calls
 * store.db.transaction directly, where two SQLite transactions begun in the
 * same tick collide ("cannot start a transaction within a transaction").
 */
const INGEST_LANES: Record<DbName, number> = { SQLite: 1, PostgreSQL: 8 };

export interface Databases {
  /** A new empty database of this kind. */
  fresh(tag: string): Promise<string>;
  /** Drops what fresh() created. */
  dropAll(): Promise<void>;
}

export function sqliteDatabases(dir: string): Databases {
  return {
    fresh: async (tag) => `sqlite:${join(dir, `${tag}.db`)}`,
    dropAll: async () => undefined,
  };
}


async function pgAdmin<T>(work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export function pgDatabases(): Databases {
  const run = randomBytes(4).toString('hex');
  const made: string[] = [];
  return {
    fresh: async (tag) => {
      const name = `smgw_bench_${run}_${tag.replace(/[^a-z0-9]/g, '_')}`;
      await pgAdmin((c) => c.query(`CREATE DATABASE ${name}`));
      made.push(name);
      return PG_ADMIN_URL.replace(/\/[^/]*$/, '/' + name);
    },
    dropAll: async () => {
      if (!made.length) return;
      await pgAdmin(async (c) => {
        for (const name of made.splice(0)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      });
    },
  };
}

// ---- workload ----

/**
 * `count` days of one meter from `firstDay` (days after 2025-01-01): each the
 * 96 quarter-hours that end at the next midnight (UTC) and the daily reading
 * at that midnight, registers rising as the log workload's do.
 */
function meterDays(meterId: string, seed: number, count: number, firstDay = 0): ReadingEntry[][] {
  const need = count * 96;
  let size = Math.ceil(need * 1.1) + 100;
  let quarters: ReadingEntry[] = [];
  for (;;) {
    quarters = workload(size, seed).filter((e): e is ReadingEntry => e.type === 'reading' && e.kind === 'taf7');
    if (quarters.length >= need) break;
    size = Math.ceil(size * 1.2);
  }
  const days: ReadingEntry[][] = [];
  for (let d = 0; d < count; d++) {
    const start = T0 + (firstDay + d) * DAY;
    const day: ReadingEntry[] = [];
    for (let i = 0; i < 96; i++) {
      const q = quarters[d * 96 + i];
      day.push({ ...q, meterId, time: start + (i + 1) * QUARTER, values: { ...q.values } });
    }
    const last = day[95];
    day.push({ ...last, kind: 'daily', values: { ...last.values } });
    days.push(day);
  }
  return days;
}

/** A day as the device uploads it: one batch. */
function batchOf(deviceId: string, firstSeq: number, entries: ReadingEntry[]): Buffer {
  const w = new BatchWriter(deviceId, firstSeq);
  entries.forEach((e, i) => {
    if (!w.add({ ...e, seq: firstSeq + i })) throw new Error(`a day of ${entries.length} readings does not fit in one batch`);
  });
  return Buffer.from(w.finish());
}

/** The rows the store writes for readings (insertReadings' row shape). */
function rowsOf(entries: ReadingEntry[]): unknown[][] {
  return entries.map((e) => [e.meterId, e.kind, e.time, e.offset, e.source, JSON.stringify(e.values)]);
}

async function pool<T>(items: T[], width: number, work: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        await work(items[i], i);
      }
    }),
  );
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

async function countReadings(store: Store): Promise<number> {
  return Number((await store.db.all<{ n: unknown }>('SELECT COUNT(*) AS n FROM readings'))[0].n);
}

/** PostgreSQL: the monthly partitions for the times, made beforehand (nothing on SQLite). */
async function partitionsFor(store: Store, times: number[]): Promise<void> {
  const known = new Set<string>();
  for (const t of times) await ensurePartition(store.db, t, known);
}

const pad = (i: number) => String(i).padStart(5, '0');
const int = (n: number) => n.toLocaleString('en-US');

// ---- 1. ingest beside a raw insert ----

interface IngestDevice {
  id: string;
  token: string;
  batches: Buffer[];
  rows: unknown[][][];
}

async function benchIngest(db: DbName, databases: Databases, pki: Pki, size: { devices: number; days: number }): Promise<Row[]> {
  const label = `${size.devices} devices × ${size.days} days, ${int(size.devices * size.days)} batches of ${PER_DAY}`;
  const devices: IngestDevice[] = [];
  for (let i = 0; i < size.devices; i++) {
    const id = `smgw-bench-${pad(i)}`;
    const days = meterDays(`BENCH${pad(i)}`, 1000 + i, size.days);
    devices.push({ id, token: newToken(), batches: days.map((d, k) => batchOf(id, k * PER_DAY + 1, d)), rows: days.map(rowsOf) });
  }
  const batches = size.devices * size.days;
  const total = batches * PER_DAY;
  const times = Array.from({ length: size.days + 1 }, (_, k) => T0 + k * DAY);

  // The route on one database, the raw insert on another, in alternating
  // rounds (day k of every device through the route, then the same rows raw)
  // so that a change in the machine's load falls on both alike.
  const store = await Store.open(await databases.fresh('ingest'));
  let raw: Store | null = null;
  let app: FastifyInstance | null = null;
  let ingestSeconds = 0;
  let rawSeconds = 0;
  let ingested = 0;
  let rawInserted = 0;
  let injectMs = NaN;
  let counted: number;
  try {
    raw = await Store.open(await databases.fresh('raw'));
    const rawDb = raw.db;
    await partitionsFor(store, times);
    await partitionsFor(raw, times);
    for (const d of devices) {
      const householdId = `hh-${d.id}`;
      await store.createHousehold({ id: householdId, name: d.id, zone: 'UTC' });
      await store.createDevice({ id: d.id, householdId, auth: 'token', certFingerprint: null, token: d.token });
    }
    const route = await buildServer({ store, pki, publicUrl: () => 'http://bench', tls: false, logger: false });
    app = route;
    const lanes = INGEST_LANES[db];
    for (let k = 0; k < size.days; k++) {
      let started = performance.now();
      await pool(devices, lanes, async (d) => {
        const res = await route.inject({
          method: 'POST',
          url: '/api/v1/ingest',
          headers: { authorization: `Bearer ${d.token}`, 'content-type': BATCH_CONTENT_TYPE },
          payload: d.batches[k],
        });
        if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
        ingested += (res.json() as { readings: number }).readings;
      });
      ingestSeconds += (performance.now() - started) / 1000;
      started = performance.now();
      await pool(devices, lanes, async (d) => {
        const n = await rawDb.transaction((tx) => insertReadings(tx, d.rows[k]));
        rawInserted += n;
      });
      rawSeconds += (performance.now() - started) / 1000;
    }
    // What app.inject itself costs a request (a part of the route's figure a real server spends otherwise).
    const health = performance.now();
    for (let i = 0; i < 200; i++) await route.inject({ method: 'GET', url: '/health' });
    injectMs = (performance.now() - health) / 200;
    counted = await countReadings(store);
  } finally {
    await app?.close();
    await store.close();
    await raw?.close();
  }

  const ingestRate = total / ingestSeconds;
  const rawRate = total / rawSeconds;
  const check = ingested === total && counted === total && rawInserted === total ? '' : `; MISMATCH: ${int(ingested)} acknowledged, ${int(counted)} in the table, ${int(rawInserted)} raw, ${int(total)} sent`;
  return [
    { section: SECTION, name: `${db}: ingest route (decode + validate + store)`, value: ingestRate, unit: 'readings/s', note: `${label}, app.inject, token auth, ${INGEST_LANES[db]} in flight, ${ingestSeconds.toFixed(1)} s${check}` },
    { section: SECTION, name: `${db}: raw insertReadings, same transactions`, value: rawRate, unit: 'readings/s', note: `same rows into a fresh database, one transaction per batch, alternating with the route day by day, ${INGEST_LANES[db]} in flight, ${rawSeconds.toFixed(1)} s` },
    {
      section: SECTION,
      name: `${db}: ingest / raw insert`,
      value: ingestRate / rawRate,
      unit: 'x',
      target: '>= 0.5',
      note: `wall time per batch: route ${((ingestSeconds * 1000) / batches).toFixed(2)} ms, raw ${((rawSeconds * 1000) / batches).toFixed(2)} ms; app.inject of GET /health alone ${injectMs.toFixed(2)} ms`,
    },
  ];
}

// ---- 2. a fleet uploading over mutual TLS ----

interface FleetDevice {
  id: string;
  householdId: string;
  fingerprint: string;
  cert: string;
  key: string;
  body: Buffer;
}

interface Fleet {
  devices: FleetDevice[];
  enrolSeconds: number;
}

/** Certificates for `n` devices (RSA 2048 keys, made concurrently), and each device's day. */
async function makeFleet(pki: Pki, n: number): Promise<Fleet> {
  const devices: FleetDevice[] = new Array(n);
  const started = performance.now();
  await pool(
    Array.from({ length: n }, (_, i) => i),
    16,
    async (i) => {
      const id = `smgw-fleet-${pad(i)}`;
      const credential = await pki.issueDevice(id);
      const [day] = meterDays(`FLEET${pad(i)}`, 5000 + i, 1, 30);
      devices[i] = {
        id,
        householdId: `hh-${id}`,
        fingerprint: credential.fingerprint,
        cert: toPem('CERTIFICATE', credential.certificate),
        key: toPem('PRIVATE KEY', credential.key),
        body: batchOf(id, 1, day),
      };
    },
  );
  return { devices, enrolSeconds: (performance.now() - started) / 1000 };
}

interface UploadResult {
  ms: number;
  status: number;
  readings: number;
  error: string | null;
  tls: string | null;
}

// The devices: plain JavaScript for a worker thread (eval), one fresh TLS connection per upload.
const DEVICES_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const https = require('node:https');
const { performance } = require('node:perf_hooks');
const { port, ca, devices, width, contentType, ciphers } = workerData;
function upload(d) {
  return new Promise((resolve) => {
    const started = performance.now();
    let tls = null;
    const done = (status, readings, error) => resolve({ ms: performance.now() - started, status, readings, error, tls });
    const req = https.request({
      host: '127.0.0.1', port, path: '/api/v1/ingest', method: 'POST', agent: false,
      ca, cert: d.cert, key: d.key, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2', ciphers,
      headers: { 'content-type': contentType, 'content-length': d.body.length },
      timeout: 120000,
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('error', (e) => done(res.statusCode || 0, 0, e.message));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) return done(res.statusCode || 0, 0, res.statusCode + ' ' + text.slice(0, 200));
        try { done(200, JSON.parse(text).readings, null); } catch (e) { done(200, 0, 'unreadable answer'); }
      });
    });
    req.on('socket', (s) => s.once('secureConnect', () => { tls = s.getProtocol() + ' ' + (s.getCipher() || {}).name; }));
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => done(0, 0, e.message));
    req.end(Buffer.from(d.body));
  });
}
(async () => {
  const results = new Array(devices.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: Math.min(width, devices.length) }, async () => {
    while (next < devices.length) { const i = next++; results[i] = await upload(devices[i]); }
  }));
  parentPort.postMessage({ seconds: (performance.now() - started) / 1000, results });
})();
`;

function runDevices(port: number, ca: string, devices: FleetDevice[], width: number): Promise<{ seconds: number; results: UploadResult[] }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(DEVICES_WORKER, {
      eval: true,
      workerData: { port, ca, width, contentType: BATCH_CONTENT_TYPE, ciphers: DEVICE_CIPHER, devices: devices.map((d) => ({ cert: d.cert, key: d.key, body: new Uint8Array(d.body) })) },
    });
    let answer: { seconds: number; results: UploadResult[] } | null = null;
    worker.once('message', (m) => (answer = m));
    worker.once('error', reject);
    worker.once('exit', (code) => (answer ? resolve(answer) : reject(new Error(`the devices' worker ended (${code}) without results`))));
  });
}

async function benchFleet(db: DbName, databases: Databases, pkiDir: string, fleet: Fleet, width: number): Promise<Row[]> {
  const n = fleet.devices.length;
  const backend = await startBackend({
    db: await databases.fresh('fleet'),
    port: 0,
    host: '127.0.0.1',
    data: pkiDir,
    adminToken: newToken(),
    tls: true,
    hostnames: ['localhost', '127.0.0.1'],
    logger: false,
  });
  let run: { seconds: number; results: UploadResult[] };
  let counted: number;
  try {
    await pool(fleet.devices, 16, async (d) => {
      await backend.store.createHousehold({ id: d.householdId, name: d.id, zone: 'UTC' });
      await backend.store.createDevice({ id: d.id, householdId: d.householdId, auth: 'certificate', certFingerprint: d.fingerprint, token: null });
    });
    run = await runDevices(Number(new URL(backend.url).port), backend.pki.serverCa, fleet.devices, width);
    counted = await countReadings(backend.store);
  } finally {
    await backend.close();
  }
  const expected = n * PER_DAY;
  const latencies = run.results.map((r) => r.ms).sort((a, b) => a - b);
  const failed = run.results.filter((r) => r.status !== 200);
  const acknowledged = run.results.reduce((a, r) => a + r.readings, 0);
  const tls = [...new Set(run.results.map((r) => r.tls).filter(Boolean))].join(', ');
  const errors = [...new Set(failed.map((r) => r.error))].slice(0, 3).join(' | ');
  const who = `${int(n)} devices`;
  const lost = expected - counted;
  return [
    {
      section: SECTION,
      name: `${db}: ${who} × 1 day over mutual TLS, end to end`,
      value: counted / run.seconds,
      unit: 'readings/s',
      note: `${run.seconds.toFixed(1)} s, ${width >= n ? 'all at once' : `${width} at a time`}, ${tls || 'no handshake'}; certificates for ${who} in ${fleet.enrolSeconds.toFixed(1)} s`,
    },
    { section: SECTION, name: `${db}: ${who}: p50 latency per upload`, value: quantile(latencies, 0.5), unit: 'ms', note: 'handshake + request + commit' },
    { section: SECTION, name: `${db}: ${who}: p99 latency per upload`, value: quantile(latencies, 0.99), unit: 'ms', note: `max ${Math.round(latencies[latencies.length - 1] ?? NaN)} ms` },
    {
      section: SECTION,
      name: `${db}: ${who}: readings lost`,
      value: lost,
      unit: 'readings',
      target: '== 0',
      note: `${int(counted)} of ${int(expected)} in the database, ${int(acknowledged)} acknowledged${failed.length ? `; ${failed.length} uploads failed: ${errors}` : ''}`,
    },
  ];
}

// ---- 3. queries ----

export async function benchQueries(db: DbName, databases: Databases, pki: Pki, repetitions: number): Promise<Row[]> {
  const store = await Store.open(await databases.fresh('query'));
  let app: FastifyInstance | null = null;
  try {
    const adminToken = newToken();
    await store.addCredential(adminToken, { kind: 'admin', subject: null, name: 'admin' });
    const deviceToken = newToken();
    const meterId = 'QUERY0000000001';
    await store.createHousehold({ id: 'hh-query', name: 'query', zone: 'UTC' });
    await store.createDevice({ id: 'smgw-query', householdId: 'hh-query', auth: 'token', certFingerprint: null, token: deviceToken });
    app = await buildServer({ store, pki, publicUrl: () => 'http://bench', tls: false, logger: false });
    // A year, day by day from 2024-12-31 (so that 2025-01-01 00:00 has a reading), through the ingest route.
    const days = meterDays(meterId, 7, 366, -1);
    for (let k = 0; k < days.length; k++) {
      const res = await app.inject({
        method: 'POST',
        url: '/api/v1/ingest',
        headers: { authorization: `Bearer ${deviceToken}`, 'content-type': BATCH_CONTENT_TYPE },
        payload: batchOf('smgw-query', k * PER_DAY + 1, days[k]),
      });
      if (res.statusCode !== 200) throw new Error(`seeding: ingest answered ${res.statusCode}: ${res.body.slice(0, 200)}`);
    }
    const queries = [
      {
        name: 'a month of quarter-hours (one meter)',
        url: `/api/v1/meters/${meterId}/readings?from=2025-03-01T00:00:00Z&to=2025-04-01T00:00:00Z&kind=taf7`,
        size: (body: { readings: unknown[] }) => `${int(body.readings.length)} readings`,
      },
      {
        name: 'daily series of a year (one meter)',
        url: `/api/v1/meters/${meterId}/series?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&step=1d&obis=1-0:1.8.0`,
        size: (body: { series: { value: number | null }[] }) => `${body.series.length} days, ${body.series.filter((p) => p.value === null).length} without a value`,
      },
      // The dashboard's first chart: what the server does and sends for it (aggregated at the resolution shown).
      {
        name: 'dashboard history, a year of days (one meter)',
        url: `/api/v1/meters/${meterId}/history?step=1d&date=2025-12-31`,
        size: (body: { t: unknown[] }) => `${body.t.length} days`,
        bytes: true,
      },
      {
        name: 'dashboard load profile, a week of quarter-hours (one meter)',
        url: `/api/v1/meters/${meterId}/profile?days=7&date=2025-06-02`,
        size: (body: { t: unknown[] }) => `${body.t.length} quarter-hours`,
        bytes: true,
      },
      {
        name: 'dashboard overview (one meter)',
        url: `/api/v1/meters/${meterId}/overview?date=2025-06-20`,
        size: (body: { month: { intervals: number } }) => `${body.month.intervals} quarter-hours this month, 4 comparison periods`,
        bytes: true,
      },
    ];
    const rows: Row[] = [];
    for (const q of queries) {
      const times: number[] = [];
      let size = '';
      let bytes = 0;
      for (let i = 0; i <= repetitions; i++) {
        const started = performance.now();
        const res = await app.inject({ method: 'GET', url: q.url, headers: { authorization: `Bearer ${adminToken}` } });
        const ms = performance.now() - started;
        if (res.statusCode !== 200) throw new Error(`${q.name}: ${res.statusCode} ${res.body.slice(0, 200)}`);
        // The first is a warm-up.
        if (i === 0) {
          size = q.size(res.json());
          bytes = Buffer.byteLength(res.body);
        } else times.push(ms);
      }
      rows.push({ section: SECTION, name: `${db}: query ${q.name}`, value: median(times), unit: 'ms', note: `median of ${repetitions}, app.inject, JSON; ${size}; a year of 1 meter stored` });
      if ('bytes' in q) rows.push({ section: SECTION, name: `${db}: payload ${q.name}`, value: bytes, unit: 'bytes', target: '<= 50000', note: `${size}, JSON, uncompressed` });
    }
    return rows;
  } finally {
    await app?.close();
    await store.close();
  }
}

// ---- all of it ----

function unavailable(rows: Row[], note: string): Row[] {
  return rows.map(({ target: _target, ...r }) => ({ ...r, value: NaN, note }));
}

/** The rows a measure would give, as placeholders (for a database that is not there, or a measure that failed). */
function placeholders(db: DbName, fleetSize: number): { ingest: Row[]; fleet: Row[]; queries: Row[] } {
  const r = (name: string, unit: string, target?: string): Row => ({ section: SECTION, name: `${db}: ${name}`, value: NaN, unit, ...(target ? { target } : {}) });
  const who = `${int(fleetSize)} devices`;
  return {
    ingest: [r('ingest route (decode + validate + store)', 'readings/s'), r('raw insertReadings, same transactions', 'readings/s'), r('ingest / raw insert', 'x', '>= 0.5')],
    fleet: [
      r(`${who} × 1 day over mutual TLS, end to end`, 'readings/s'),
      r(`${who}: p50 latency per upload`, 'ms'),
      r(`${who}: p99 latency per upload`, 'ms'),
      r(`${who}: readings lost`, 'readings', '== 0'),
    ],
    queries: [
      r('query a month of quarter-hours (one meter)', 'ms'),
      r('query daily series of a year (one meter)', 'ms'),
      ...['dashboard history, a year of days (one meter)', 'dashboard load profile, a week of quarter-hours (one meter)', 'dashboard overview (one meter)'].flatMap((n) => [
        r(`query ${n}`, 'ms'),
        r(`payload ${n}`, 'bytes', '<= 50000'),
      ]),
    ],
  };
}

async function guarded(work: () => Promise<Row[]>, instead: Row[]): Promise<Row[]> {
  try {
    return await work();
  } catch (e) {
    // The measure failed: its rows say why, and keep their targets (a failure is a miss).
    return instead.map((r) => ({ ...r, note: `failed: ${(e as Error).message}`.slice(0, 300) }));
  }
}

export async function benchBackend(options: { quick: boolean }): Promise<Row[]> {
  const size = options.quick ? { devices: 100, days: 10 } : { devices: 100, days: 30 };
  const fleetSize = options.quick ? 100 : 1000;
  const fleetWidth = fleetSize;
  const repetitions = options.quick ? 10 : 50;

  const dir = mkdtempSync(join(tmpdir(), 'smgw-bench-backend-'));
  const pkiDir = join(dir, 'pki');
  const sqlite = sqliteDatabases(dir);
  const postgres = (await pgReachable(PG_ADMIN_URL)) ? pgDatabases() : null;
  const rows: Row[] = [];
  try {
    const pki = await Pki.open(pkiDir, ['localhost', '127.0.0.1']);
    const kinds: [DbName, Databases | null][] = [
      ['SQLite', sqlite],
      ['PostgreSQL', postgres],
    ];
    for (const [db, databases] of kinds) {
      const p = placeholders(db, fleetSize);
      if (!databases) rows.push(...unavailable(p.ingest, PG_DOWN));
      else rows.push(...(await guarded(() => benchIngest(db, databases, pki, size), p.ingest)));
    }
    const fleet = await makeFleet(pki, fleetSize);
    for (const [db, databases] of kinds) {
      const p = placeholders(db, fleetSize);
      if (!databases) rows.push(...unavailable(p.fleet, PG_DOWN));
      else rows.push(...(await guarded(() => benchFleet(db, databases, pkiDir, fleet, fleetWidth), p.fleet)));
    }
    for (const [db, databases] of kinds) {
      const p = placeholders(db, fleetSize);
      if (!databases) rows.push(...unavailable(p.queries, PG_DOWN));
      else rows.push(...(await guarded(() => benchQueries(db, databases, pki, repetitions), p.queries)));
    }
  } finally {
    await postgres?.dropAll().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
