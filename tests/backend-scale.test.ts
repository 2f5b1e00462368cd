// Scaling out: `smgw backend --workers 2` on PostgreSQL, two stateless
// processes behind one port, as a user starts it. Devices upload to either;
// nothing is lost or stored twice, and a link one process signed is served
// by the other. Runs where a PostgreSQL server is up.

import { spawn } from 'node:child_process';
import { request } from 'node:https';
import { freePort } from './support/free-port';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { freshDatabase, pgReachable, PG_ADMIN_URL } from './support/pg';
import { BATCH_CONTENT_TYPE, BatchWriter } from '../src/formats/batch';
import type { LogEntry } from '../src/formats/entries';
import { workload } from './support/log';

const pg = await pgReachable();


function call(url: string, ca: string, token: string, body?: Uint8Array | string, type = 'application/json'): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const r = request(url, { method: body === undefined ? 'GET' : 'POST', ca, agent: false, headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': type }) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
    });
    r.on('error', reject);
    r.end(body === undefined ? undefined : typeof body === 'string' ? body : Buffer.from(body));
  });
}

describe('several backend processes on one PostgreSQL', () => {
  if (!pg) {
    console.log(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: the scale-out test is not run here`);
    return;
  }
  it('two workers share the port and the database: 40 devices upload a day each, all stored once', async () => {
    const db = await freshDatabase();
    const dir = mkdtempSync(join(tmpdir(), 'smgw-scale-'));
    const port = await freePort();
    const token = randomBytes(24).toString('base64url');
    const child = spawn(process.execPath, ['bin/smgw.mjs', 'backend', '--db', db.url, '--workers', '2', '--port', String(port), '--admin-token', token, '--data', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d));
    child.stderr.on('data', (d: Buffer) => (output += d));
    try {
      const base = `https://127.0.0.1:${port}`;
      let ca = '';
      for (let i = 0; i < 100; i++) {
        try {
          ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
          if ((await call(`${base}/health`, ca, token)).status === 200) break;
        } catch {
          // not up yet
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const pids = new Set<number>();
      for (let i = 0; i < 40; i++) pids.add((await call(`${base}/health`, ca, token)).json.pid);
      expect(pids.size, output).toBe(2);

      const devices: { id: string; token: string; meter: string }[] = [];
      for (let h = 0; h < 40; h++) {
        const hh = (await call(`${base}/api/v1/admin/households`, ca, token, JSON.stringify({ name: `H${h}` }))).json.household.id;
        const bundle = (await call(`${base}/api/v1/admin/devices`, ca, token, JSON.stringify({ householdId: hh, auth: 'token' }))).json;
        devices.push({ id: bundle.deviceId, token: bundle.token, meter: `M${h}` });
      }
      const day = workload(200, 5).filter((e) => e.type === 'reading').slice(0, 97);
      const answers = await Promise.all(
        devices.map((d) => {
          const w = new BatchWriter(d.id, 1);
          day.forEach((e, i) => w.add({ ...e, meterId: d.meter, seq: i + 1 } as LogEntry));
          return call(`${base}/api/v1/ingest`, ca, d.token, w.finish().slice(), BATCH_CONTENT_TYPE);
        }),
      );
      for (const a of answers) expect(a).toMatchObject({ status: 200, json: { stored: 97, readings: 97 } });
      // A bulk link signed by one process, downloaded (by a new connection, so by either) again and again.
      const link = (await call(`${base}/v1/meterReadings`, ca, token, JSON.stringify({ from: '2025-01-01T00:00:00Z', to: '2025-01-03T00:00:00Z', delivery: 'bulk' }))).json.bulkDownload.url as string;
      for (let i = 0; i < 6; i++) {
        const lines = await new Promise<number>((resolve, reject) => {
          request(link, { ca, agent: false }, (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d));
            res.on('end', () => resolve(text.trim().split('\n').length));
          })
            .on('error', reject)
            .end();
        });
        expect(lines).toBe(40 * 97);
      }
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await db.drop();
    }
  }, 120_000);
});
