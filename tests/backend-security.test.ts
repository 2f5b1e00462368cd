// What the backend refuses, over real TLS: certificates it did not issue or
// no longer trusts, a device posing as another, households prying, malformed
// and oversized bodies, batches sent twice; and what the device refuses: a
// backend whose certificate does not chain to the CA it pinned. No secret
// appears in what either side logs or answers.

import { request } from 'node:https';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type RunningBackend } from '../backend/main';
import { Pki, toPem } from '../backend/pki';
import { BATCH_CONTENT_TYPE, BatchWriter } from '../src/formats/batch';
import type { LogEntry } from '../src/formats/entries';
import { SimHttp, InProcessServers } from '../hosts/sim/http';
import { Scheduler } from '../simulator/world/scheduler';
import { workload } from './support/log';

interface Client {
  ca: string;
  cert?: string;
  key?: string;
  token?: string;
}

interface Bundle {
  deviceId: string;
  url: string;
  ca: string;
  certificate?: string;
  key?: string;
  token?: string;
}

function post(url: string, body: Uint8Array | string, c: Client, contentType = BATCH_CONTENT_TYPE): Promise<{ status: number; json: { [k: string]: unknown } }> {
  return new Promise((resolve, reject) => {
    const headers: { [k: string]: string } = { 'content-type': contentType };
    if (c.token) headers.authorization = `Bearer ${c.token}`;
    const r = request(url, { method: 'POST', ca: c.ca, cert: c.cert, key: c.key, headers, maxVersion: 'TLSv1.2', ciphers: 'ECDHE-RSA-AES128-GCM-SHA256' }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
    });
    r.on('error', reject);
    r.end(typeof body === 'string' ? body : Buffer.from(body));
  });
}

function get(url: string, c: Client): Promise<{ status: number; json: { [k: string]: unknown } }> {
  return new Promise((resolve, reject) => {
    const r = request(url, { ca: c.ca, headers: c.token ? { authorization: `Bearer ${c.token}` } : {} }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : {} }));
    });
    r.on('error', reject);
    r.end();
  });
}

/** A GET over HTTPS, with the answer's headers. */
function getRaw(url: string, c: Client): Promise<{ status: number; headers: { [k: string]: string | string[] | undefined } }> {
  return new Promise((resolve, reject) => {
    const r = request(url, { ca: c.ca, headers: c.token ? { authorization: `Bearer ${c.token}` } : {} }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    r.on('error', reject);
    r.end();
  });
}

function batch(deviceId: string, meterId: string, from = 1, count = 97): Uint8Array {
  const w = new BatchWriter(deviceId, from);
  workload(from - 1 + count, 11)
    .slice(from - 1)
    .forEach((e, i) => w.add({ ...e, ...(e.type === 'reading' ? { meterId } : {}), seq: from + i } as LogEntry));
  return w.finish().slice();
}

describe('the backend refuses', () => {
  let backend: RunningBackend;
  let dir: string;
  let admin: Client;
  let ca: string;
  const households: { id: string; token: string }[] = [];

  const asDevice = (b: Bundle): Client => (b.token ? { ca, token: b.token } : { ca, cert: toPem('CERTIFICATE', Buffer.from(b.certificate!, 'base64')), key: toPem('PRIVATE KEY', Buffer.from(b.key!, 'base64')) });
  const enrol = async (householdId: string, auth: 'certificate' | 'token' = 'certificate'): Promise<Bundle> => {
    const r = await post(`${backend.url}/api/v1/admin/devices`, JSON.stringify({ householdId, auth }), admin, 'application/json');
    expect(r.status).toBe(201);
    return r.json as unknown as Bundle;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'smgw-security-'));
    backend = await startBackend({ db: `sqlite:${join(dir, 'b.db')}`, port: 0, host: '127.0.0.1', data: join(dir, 'pki'), tls: true, hostnames: ['localhost', '127.0.0.1'], logger: false });
    ca = readFileSync(join(dir, 'pki', 'ca.pem'), 'utf8');
    admin = { ca, token: readFileSync(backend.adminTokenFile!, 'utf8').trim() };
    for (const name of ['Haus A', 'Haus B']) {
      const r = await post(`${backend.url}/api/v1/admin/households`, JSON.stringify({ name }), admin, 'application/json');
      households.push({ id: (r.json.household as { id: string }).id, token: r.json.token as string });
    }
  }, 60_000);

  afterAll(async () => {
    await backend.close();
  });

  it('accepts an enrolled device, and a batch sent twice stores nothing twice', async () => {
    const b = await enrol(households[0].id);
    const body = batch(b.deviceId, 'METER-A');
    const first = await post(`${backend.url}/api/v1/ingest`, body, asDevice(b));
    expect(first).toMatchObject({ status: 200, json: { stored: 97, duplicates: 0 } });
    const again = await post(`${backend.url}/api/v1/ingest`, body, asDevice(b));
    expect(again).toMatchObject({ status: 200, json: { stored: 97, readings: 0, gaps: 0, duplicates: 97 } });
    const rows = await backend.store.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM readings WHERE meter_id = 'METER-A'");
    expect(Number(rows[0].n)).toBe((first.json.readings as number));
  });

  it('a client certificate from another CA, or one it issued but never enrolled: 401', async () => {
    const other = await Pki.open(mkdtempSync(join(tmpdir(), 'smgw-other-ca-')));
    const stranger = await other.issueDevice('smgw-stranger');
    const r = await post(`${backend.url}/api/v1/ingest`, batch('smgw-stranger', 'X'), { ca, cert: toPem('CERTIFICATE', stranger.certificate), key: toPem('PRIVATE KEY', stranger.key) });
    expect(r.status).toBe(401);
    expect(r.json.error).toMatch(/^client certificate refused: /);
    const orphan = await backend.pki.issueDevice('smgw-orphan');
    const r2 = await post(`${backend.url}/api/v1/ingest`, batch('smgw-orphan', 'X'), { ca, cert: toPem('CERTIFICATE', orphan.certificate), key: toPem('PRIVATE KEY', orphan.key) });
    expect(r2).toMatchObject({ status: 401, json: { error: 'client certificate refused: no device is enrolled with it' } });
  });

  it('an expired client certificate: 401, saying so', async () => {
    const id = 'smgw-expired';
    const past = Date.now() - 400 * 86400000;
    const old = await backend.pki.issueDevice(id, { from: new Date(past), to: new Date(past + 30 * 86400000) });
    await backend.store.createDevice({ id, householdId: households[0].id, auth: 'certificate', certFingerprint: old.fingerprint, token: null });
    const r = await post(`${backend.url}/api/v1/ingest`, batch(id, 'X'), { ca, cert: toPem('CERTIFICATE', old.certificate), key: toPem('PRIVATE KEY', old.key) });
    expect(r).toMatchObject({ status: 401, json: { error: 'client certificate refused: CERT_HAS_EXPIRED' } });
  });

  it('a revoked device: 403, with its certificate and with its token', async () => {
    for (const auth of ['certificate', 'token'] as const) {
      const b = await enrol(households[0].id, auth);
      expect((await post(`${backend.url}/api/v1/admin/devices/${b.deviceId}/revoke`, '{}', admin, 'application/json')).status).toBe(200);
      const r = await post(`${backend.url}/api/v1/ingest`, batch(b.deviceId, 'REVOKED'), asDevice(b));
      expect(r).toMatchObject({ status: 403, json: { error: `device ${b.deviceId} is revoked` } });
    }
  });

  it("a device's credential with another device's batch: 403", async () => {
    const a = await enrol(households[0].id, 'token');
    const b = await enrol(households[1].id, 'token');
    const r = await post(`${backend.url}/api/v1/ingest`, batch(b.deviceId, 'METER-B'), asDevice(a));
    expect(r.status).toBe(403);
    expect(r.json.error).toBe(`the batch is from device ${b.deviceId}, the credential is device ${a.deviceId}'s`);
  });

  it("a device of one household reporting another household's meter: 409", async () => {
    const b = await enrol(households[1].id, 'token');
    const r = await post(`${backend.url}/api/v1/ingest`, batch(b.deviceId, 'METER-A'), asDevice(b));
    expect(r).toMatchObject({ status: 409, json: { error: 'meter METER-A belongs to another household' } });
  });

  it("a household reading another household's meter: 404, as for a meter that does not exist; people cannot upload", async () => {
    const mine = { ca, token: households[1].token };
    const q = 'from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z';
    expect((await get(`${backend.url}/api/v1/meters/METER-A/readings?${q}`, mine)).status).toBe(404);
    expect((await get(`${backend.url}/api/v1/meters/METER-A/readings?${q}`, { ca, token: households[0].token })).status).toBe(200);
    expect((await get(`${backend.url}/api/v1/meters`, mine)).json).toEqual({ meters: [] });
    const r = await post(`${backend.url}/api/v1/ingest`, batch('x', 'METER-A'), mine);
    expect(r.status).toBe(403);
    expect((await get(`${backend.url}/api/v1/admin/devices`, mine)).status).toBe(403);
    expect((await get(`${backend.url}/api/v1/meters`, { ca, token: 'not-a-token-but-long-enough' })).status).toBe(401);
    expect((await get(`${backend.url}/api/v1/meters`, { ca })).status).toBe(401);
  });

  it('malformed, corrupted, implausible, oversized and mistyped bodies: a 4xx with a reason, and nothing stored', async () => {
    const b = await enrol(households[0].id, 'token');
    const dev = asDevice(b);
    const good = batch(b.deviceId, 'METER-C');
    const flipped = good.slice();
    flipped[40] ^= 0x10;
    expect(await post(`${backend.url}/api/v1/ingest`, flipped, dev)).toMatchObject({ status: 400, json: { error: 'malformed batch: batch CRC mismatch' } });
    expect(await post(`${backend.url}/api/v1/ingest`, good.subarray(0, 7), dev)).toMatchObject({ status: 400, json: { error: 'malformed batch: batch too short' } });
    expect((await post(`${backend.url}/api/v1/ingest`, new Uint8Array(70 * 1024), dev)).status).toBe(413);
    expect((await post(`${backend.url}/api/v1/ingest`, '{"readings":[]}', dev, 'application/json')).status).toBe(415);
    // Well formed, but from 1970.
    const w = new BatchWriter(b.deviceId, 1);
    w.add({ type: 'reading', kind: 'taf7', time: 0, offset: 0, source: 'sntp', meterId: 'METER-C', values: { '1-0:1.8.0': { value: 1, unit: 'Wh' } }, seq: 1 });
    const r = await post(`${backend.url}/api/v1/ingest`, w.finish(), dev);
    expect(r.status).toBe(422);
    expect(r.json.error).toMatch(/^batch refused: entry 1: time 1970-01-01T00:00:00.000Z is outside/);
    const rows = await backend.store.db.all<{ n: number }>("SELECT COUNT(*) AS n FROM readings WHERE meter_id = 'METER-C'");
    expect(Number(rows[0].n)).toBe(0);
    expect((await post(`${backend.url}/api/v1/admin/households`, '{"name":', admin, 'application/json')).status).toBe(400);
    expect((await post(`${backend.url}/api/v1/admin/households`, JSON.stringify({ name: 'x', zone: 'Mars/Olympus' }), admin, 'application/json')).status).toBe(400);
  });

  it("the enrolment bundle is the only place the device's key appears: not in the registry, not in listings", async () => {
    const b = await enrol(households[0].id);
    const listing = JSON.stringify((await get(`${backend.url}/api/v1/admin/devices`, admin)).json);
    expect(listing).toContain(b.deviceId);
    expect(listing).not.toContain(b.key!.slice(20, 60));
    const dump = JSON.stringify(await backend.store.db.all('SELECT * FROM devices')) + JSON.stringify(await backend.store.db.all('SELECT * FROM credentials'));
    expect(dump).not.toContain(b.key!.slice(20, 60));
    expect(dump).not.toContain(admin.token!);
    expect(dump).not.toContain(households[0].token);
  });
});

describe('the backend\'s HTTPS answers', () => {
  let backend: RunningBackend;
  let ca: string;
  let admin: Client;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-headers-'));
    backend = await startBackend({ db: `sqlite:${join(dir, 'b.db')}`, port: 0, host: '127.0.0.1', data: join(dir, 'pki'), tls: true, hostnames: ['localhost', '127.0.0.1'], logger: false });
    ca = readFileSync(join(dir, 'pki', 'ca.pem'), 'utf8');
    admin = { ca, token: readFileSync(backend.adminTokenFile!, 'utf8').trim() };
  }, 60_000);

  afterAll(async () => {
    await backend.close();
  });

  it('all carry Strict-Transport-Security: pages, assets, API answers, refusals and 404s', async () => {
    const anonymous = { ca };
    const answers = [
      ['/', anonymous, 200], ['/dashboard/app.js', anonymous, 200], ['/dashboard/uPlot.min.css', anonymous, 200], ['/health', anonymous, 200],
      ['/openapi.json', anonymous, 200], ['/api/v1/meters', anonymous, 401], ['/api/v1/meters', { ca, token: 'not-a-token-at-all' }, 401],
      ['/api/v1/admin/households', admin, 200], ['/nothing/here', anonymous, 404], ['/dashboard/nothing.js', anonymous, 404],
    ] as const;
    for (const [path, client, status] of answers) {
      const r = await getRaw(backend.url + path, client);
      expect(r.status, path).toBe(status);
      expect(r.headers['strict-transport-security'], path).toBe('max-age=31536000');
    }
  });

  it("the dashboard's scripts, styles and uPlot carry the page's security headers", async () => {
    const page = await getRaw(backend.url + '/', { ca });
    const security = (h: typeof page.headers) => ({ csp: h['content-security-policy'], nosniff: h['x-content-type-options'], cache: h['cache-control'], hsts: h['strict-transport-security'] });
    expect(security(page.headers)).toEqual({
      csp: "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
      nosniff: 'nosniff', cache: 'no-cache', hsts: 'max-age=31536000',
    });
    for (const f of ['index.html', 'app.js', 'style.css', 'uPlot.iife.min.js', 'uPlot.min.css']) {
      const r = await getRaw(`${backend.url}/dashboard/${f}`, { ca });
      expect(r.status, f).toBe(f === 'index.html' ? 404 : 200);
      if (r.status === 200) expect(security(r.headers), f).toEqual(security(page.headers));
    }
  });
});

describe('the device refuses', () => {
  it('a backend whose certificate does not chain to the pinned CA, and says why', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-pin-'));
    const backend = await startBackend({ db: `sqlite:${join(dir, 'b.db')}`, port: 0, host: '127.0.0.1', data: join(dir, 'pki'), tls: true, hostnames: ['127.0.0.1'], logger: false });
    try {
      const other = await Pki.open(mkdtempSync(join(tmpdir(), 'smgw-wrong-ca-')));
      const der = (pem: string) => new Uint8Array(Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64'));
      const http = new SimHttp(new Scheduler(Date.now(), 'max'), new InProcessServers(), new Map());
      const wrong = http.request({ url: `${backend.url}/health`, method: 'GET', headers: {}, tls: { ca: der(other.ca.certificate) }, timeout: 5000 });
      await expect(wrong).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
      const right = await http.request({ url: `${backend.url}/health`, method: 'GET', headers: {}, tls: { ca: der(backend.pki.ca.certificate) }, timeout: 5000 });
      expect(right.status).toBe(200);
      // And there is no way to ask for https without a CA.
      await expect(http.request({ url: `${backend.url}/health`, method: 'GET', headers: {}, timeout: 5000 })).rejects.toThrow(/needs the CA/);
    } finally {
      await backend.close();
    }
  });
});
