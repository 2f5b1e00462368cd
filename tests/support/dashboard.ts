// A backend for the dashboard tests, filled as gateways fill it: binary
// batches of the simulator's reading-log workload (simulator/log-workload.ts)
// through POST /api/v1/ingest. Two households, each with its own token,
// device and meter, so that access control can be tried; the first also has
// a PV generation meter behind a second device (its role set by the
// household), for self-consumption.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../backend/server';
import { newToken, Store } from '../../backend/store';
import { Pki } from '../../backend/pki';
import { BATCH_CONTENT_TYPE, BatchWriter } from '../../src/formats/batch';
import type { Entry, LogEntry, ReadingEntry } from '../../src/formats/entries';
import { workload } from './log';
import { generationWorkload } from '../../simulator/log-workload';

export interface FilledHousehold {
  id: string;
  name: string;
  zone: string;
  token: string;
  meterId: string;
  /** The household's device and its token (a device credential: it ingests and pushes live values). */
  deviceId: string;
  deviceToken: string;
  readings: ReadingEntry[];
  /** The household's PV generation meter, when it has one. */
  generation?: { meterId: string; readings: ReadingEntry[] };
}

export interface FilledBackend {
  app: FastifyInstance;
  store: Store;
  admin: string;
  households: FilledHousehold[];
  close(): Promise<void>;
}

/** Days of quarter-hours per household from 2025-01-01 (the workload's start), in an SQLite database in memory or in `db`. */
export async function filledBackend(days: number, db = 'sqlite::memory:'): Promise<FilledBackend> {
  const dir = mkdtempSync(join(tmpdir(), 'smgw-dashboard-'));
  const store = await Store.open(db);
  const pki = await Pki.open(dir);
  const app = await buildServer({ store, pki, publicUrl: () => 'http://127.0.0.1', tls: false });
  const admin = newToken();
  await store.addCredential(admin, { kind: 'admin', subject: null, name: 'admin' });
  const call = async (method: 'GET' | 'POST', url: string, token: string, body?: unknown) => {
    const res = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(body ? { payload: body as object } : {}) });
    if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
    return res.json();
  };
  const households: FilledHousehold[] = [];
  const plan = [
    { name: 'Musterstraße 1', zone: 'Europe/Berlin', meterId: '1KFM0000000101', seed: 21, generationMeterId: '1KFM0000000191' },
    { name: 'Nachbarhaus', zone: 'UTC', meterId: '1KFM0000000102', seed: 22, generationMeterId: undefined },
  ];
  /** A device's entries, numbered, through the ingest API in batches as a gateway sends them. */
  const deliver = async (device: { deviceId: string; token: string }, from: Entry[], meterId: string): Promise<LogEntry[]> => {
    const entries = from.map((e, i) => ({ ...(e.type === 'reading' ? { ...e, meterId } : e), seq: i + 1 }) as LogEntry);
    let i = 0;
    while (i < entries.length) {
      const w = new BatchWriter(device.deviceId, entries[i].seq);
      while (i < entries.length && w.add(entries[i])) i++;
      const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${device.token}`, 'content-type': BATCH_CONTENT_TYPE }, payload: Buffer.from(w.finish()) });
      if (res.statusCode !== 200) throw new Error(`ingest: ${res.statusCode} ${res.body}`);
    }
    return entries;
  };
  for (const p of plan) {
    const created = await call('POST', '/api/v1/admin/households', admin, { name: p.name, zone: p.zone });
    const device = await call('POST', '/api/v1/admin/devices', admin, { householdId: created.household.id, auth: 'token' });
    // Entries: quarter-hours, daily readings and gaps; about 100 per day.
    const grid = workload(Math.round(days * 96 * 1.0), p.seed);
    const entries = await deliver(device, grid, p.meterId);
    let generation: FilledHousehold['generation'];
    if (p.generationMeterId) {
      const pv = await call('POST', '/api/v1/admin/devices', admin, { householdId: created.household.id, auth: 'token' });
      const delivered = await deliver(pv, generationWorkload(grid, p.seed + 100, p.generationMeterId), p.generationMeterId);
      await call('POST', `/api/v1/meters/${p.generationMeterId}/role`, created.token, { role: 'generation' });
      generation = { meterId: p.generationMeterId, readings: delivered.filter((e): e is ReadingEntry & { seq: number } => e.type === 'reading') };
    }
    households.push({
      id: created.household.id,
      name: p.name,
      zone: p.zone,
      token: created.token,
      meterId: p.meterId,
      deviceId: device.deviceId,
      deviceToken: device.token,
      readings: entries.filter((e): e is ReadingEntry & { seq: number } => e.type === 'reading'),
      generation,
    });
  }
  return {
    app,
    store,
    admin,
    households,
    close: async () => {
      await app.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
