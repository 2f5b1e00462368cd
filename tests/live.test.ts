// The live channel (TAF 14 values pushed by the device, docs/dashboard.md
// "Live"): end to end with the firmware in the simulator and the embedded
// backend, and the backend's route on its own against bad and hostile input.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { Simulation } from '../simulator/runner';
import type { MeterSample } from '../simulator/meters/meter';
import { JUNE, HOUR } from './support/sim';
import { filledBackend, type FilledBackend, type FilledHousehold } from './support/dashboard';
import { FIRMWARE_VERSION } from '../src/app';
import { PG_ADMIN_URL, freshDatabase, pgReachable } from './support/pg';

const MIN = 60000;
const pg = await pgReachable();
if (!pg) console.log(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: the live channel is tested on SQLite only here`);

interface LiveAnswer {
  meterId: string;
  now: string;
  keptSeconds: number;
  units: { [channel: string]: string };
  values: { time: string; p?: number; [channel: string]: number | string | undefined }[];
}

/** The net power the meter measured last before `t` (the telegram a live value came from). */
function truthAt(samples: MeterSample[], t: number): number {
  let lo = 0;
  let hi = samples.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (samples[mid].time <= t) lo = mid;
    else hi = mid - 1;
  }
  return samples[lo].values['1-0:16.7.0'].value;
}

describe('the live channel, end to end (firmware in the simulator, embedded backend)', () => {
  // The simulator's clock has fractions of a millisecond: PostgreSQL's BIGINT columns must not see them.
  it.each(pg ? (['node', 'xs', 'node on PostgreSQL'] as const) : (['node', 'xs'] as const))('%s: pushes the newest value once a minute while nobody watches, every value every 10 s while the Live view is open; the overview has the current power; the admin sees firmware and backlog', async (variant) => {
    const until = JUNE + 2 * HOUR;
    const engineName = variant === 'xs' ? 'xs' : 'node';
    const engine = engineName === 'xs' ? (await import('../hosts/sim/xs-engine')).xsEngine() : undefined;
    const database = variant === 'node on PostgreSQL' ? await freshDatabase() : null;
    onTestFinished(async () => database?.drop());
    const sim = new Simulation({ meter: 'sml', seed: 5, from: JUNE, until, speed: 'max', faults: [], backend: 'embedded', backendDb: database?.url, live: 10, engine, engineName });
    const samples: MeterSample[] = [];
    sim.onSample((s) => samples.push(s));
    const got: { [name: string]: { status: number; json: unknown } } = {};
    let household = '';
    let admin = '';
    let meterId = '';
    const ask = (name: string, at: number, url: () => string, token: () => string) =>
      sim.scheduler.at(at, () => {
        void sim.scheduler.track(
          sim.backend!.app.inject({ method: 'GET', url: url(), headers: { authorization: `Bearer ${token()}` } }).then((r) => {
            got[name] = { status: r.statusCode, json: r.json() };
          }),
        );
      });
    sim.scheduler.at(JUNE + 59 * MIN, () => {
      household = readFileSync(join(sim.backendDir!, 'pki', 'household-token'), 'utf8').trim();
      admin = readFileSync(join(sim.backendDir!, 'pki', 'admin-token'), 'utf8').trim();
    });
    ask('meters', JUNE + 59.5 * MIN, () => '/api/v1/meters', () => household);
    const live = (since?: number) => () => `/api/v1/meters/${encodeURIComponent(meterId)}/live` + (since ? `?since=${new Date(since).toISOString()}` : '');
    sim.scheduler.at(JUNE + 59.9 * MIN, () => {
      meterId = (got.meters.json as { meters: { id: string }[] }).meters[0].id;
    });
    // Opening the Live view: the last quarter of an hour, one value a minute so far.
    ask('unwatched', JUNE + 60 * MIN, live(), () => household);
    // The view polls; 3 minutes later the device pushes every value.
    ask('poll', JUNE + 61.5 * MIN, live(JUNE + 60 * MIN), () => household);
    ask('watched', JUNE + 63 * MIN, live(JUNE + 60 * MIN), () => household);
    ask('overview', until - 3 * MIN, () => `/api/v1/meters/${encodeURIComponent(meterId)}/overview`, () => household);
    ask('devices', JUNE + 90 * MIN, () => '/api/v1/admin/devices', () => admin);
    const report = await sim.run();
    expect(report.uplink!.failures).toBe(0);
    expect(report.uplink!.uploads.every((u) => u.error === null)).toBe(true);

    const unwatched = got.unwatched.json as LiveAnswer;
    expect(got.unwatched.status).toBe(200);
    expect(unwatched).toMatchObject({ meterId, keptSeconds: 900, units: { p: 'W', u1: 'V', i1: 'A' } });
    // 15 minutes kept, one push a minute of the newest value only.
    const quiet = unwatched.values.map((v) => Date.parse(v.time));
    expect(quiet.length).toBeGreaterThanOrEqual(14);
    expect(quiet.length).toBeLessThanOrEqual(16);
    for (let i = 1; i < quiet.length; i++) expect(Math.abs(quiet[i] - quiet[i - 1] - MIN)).toBeLessThan(2000);
    expect(quiet[0]).toBeGreaterThanOrEqual(JUNE + 45 * MIN);

    const watched = (got.watched.json as LiveAnswer).values;
    const times = watched.map((v) => Date.parse(v.time));
    // Within a minute of opening, the device was told; from then on every 1-s value arrives (TAF 14 every 1 s).
    const dense = times.filter((t) => t >= JUNE + 61.5 * MIN && t < JUNE + 62.8 * MIN);
    expect(dense.length).toBeGreaterThanOrEqual(70);
    for (let i = 1; i < dense.length; i++) expect(dense[i] - dense[i - 1]).toBeLessThan(1600);
    // Each value is what the meter measured (the telegram just before it arrived), to the meter's resolution.
    for (const v of [...unwatched.values, ...watched]) expect(Math.abs((v.p as number) - truthAt(samples, Date.parse(v.time)))).toBeLessThan(0.01);

    const overview = got.overview.json as { current: { time: string; power: number; unit: string } | null };
    expect(overview.current).not.toBeNull();
    const current = overview.current!;
    expect(current.unit).toBe('W');
    expect(until - 3 * MIN - Date.parse(current.time)).toBeLessThanOrEqual(MIN + 2000);
    expect(Math.abs(current.power - truthAt(samples, Date.parse(current.time)))).toBeLessThan(0.01);

    const device = (got.devices.json as { devices: { firmware: string | null; backlog: number | null; reportedAt: string | null }[] }).devices[0];
    expect(device.firmware).toBe(FIRMWARE_VERSION);
    // At 01:30 the day-after delivery has at most sent what was before midnight: the backlog holds today's 6 quarter-hours at least.
    expect(device.backlog).toBeGreaterThanOrEqual(6);
    expect(device.backlog).toBeLessThanOrEqual(report.log.entries);
    expect(JUNE + 90 * MIN - Date.parse(device.reportedAt!)).toBeLessThanOrEqual(MIN + 2000);
  }, 180_000);
});

describe('the live channel through an outage', () => {
  it('pushes nothing while the Wi-Fi is down and resumes when it is back; nothing else suffers', async () => {
    const sim = new Simulation({ meter: 'sml', seed: 6, from: JUNE, until: JUNE + 90 * MIN, speed: 'max', faults: ['outage:2025-06-02T00:20:00Z/2025-06-02T01:00:00Z'], backend: 'embedded', live: 10 });
    const got: { [name: string]: string[] } = {};
    const at = (name: string, t: number) =>
      sim.scheduler.at(t, () => {
        const household = readFileSync(join(sim.backendDir!, 'pki', 'household-token'), 'utf8').trim();
        const headers = { authorization: `Bearer ${household}` };
        void sim.scheduler.track(
          (async () => {
            const meters = (await sim.backend!.app.inject({ method: 'GET', url: '/api/v1/meters', headers })).json().meters;
            const live = await sim.backend!.app.inject({ method: 'GET', url: `/api/v1/meters/${encodeURIComponent(meters[0].id)}/live`, headers });
            got[name] = (live.json() as LiveAnswer).values.map((v) => v.time);
          })(),
        );
      });
    at('during', JUNE + 50 * MIN);
    at('after', JUNE + 66 * MIN);
    const report = await sim.run();
    expect(report.crashes).toBe(0);
    // Kept 15 minutes back from 00:50: nothing since the network went down at 00:20.
    expect(got.during).toEqual([]);
    // Back at 01:00: within a few minutes a value a minute again, none of them from the outage.
    const after = got.after.map((t) => Date.parse(t));
    expect(after.length).toBeGreaterThanOrEqual(3);
    expect(after[0]).toBeGreaterThanOrEqual(JUNE + 60 * MIN);
    expect(after[0]).toBeLessThanOrEqual(JUNE + 63 * MIN);
    expect(report.uplink!.pending).toBe(0);
  }, 120_000);
});

describe.each(pg ? ['sqlite', 'postgres'] : ['sqlite'])('POST /api/v1/live and GET /api/v1/meters/{id}/live (%s)', (dialect) => {
  let B: FilledBackend;
  let A: FilledHousehold;
  let N: FilledHousehold;
  let database: { url: string; drop(): Promise<void> } | null = null;
  // The filled backend holds January 2025; its clock is now, so live values are stamped now.
  const push = (h: FilledHousehold, body: unknown, headers: { [k: string]: string } = {}) =>
    B.app.inject({ method: 'POST', url: '/api/v1/live', headers: { authorization: `Bearer ${h.deviceToken}`, ...headers }, payload: body as object });
  const body = (h: FilledHousehold, values: unknown[], meterId: string | null = h.meterId) => ({ deviceId: h.deviceId, meterId, interval: 1, values });

  beforeAll(async () => {
    database = dialect === 'postgres' ? await freshDatabase() : null;
    B = await filledBackend(2, database?.url);
    [A, N] = B.households;
  });
  afterAll(async () => {
    await B?.close();
    await database?.drop();
  });

  it('keeps what a device pushes for its household to read back, in order, and tells the device when somebody watches', async () => {
    const t = Date.now() - 30000;
    const values = [0, 1, 2].map((i) => ({ time: t + i * 1000, p: 1200.5 + i, p1: 400, u1: 230.1, i1: 1.74 }));
    const first = await push(A, body(A, values), { 'smgw-firmware': '0.2.0', 'smgw-backlog': '17' });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toEqual({ accepted: 3, watched: false });
    // Sent again (a push whose answer was lost): kept once.
    expect((await push(A, body(A, values))).json()).toEqual({ accepted: 0, watched: false });
    const read = await B.app.inject({ method: 'GET', url: `/api/v1/meters/${A.meterId}/live`, headers: { authorization: `Bearer ${A.token}` } });
    expect(read.statusCode).toBe(200);
    expect(read.json().values).toEqual(values.map((v) => ({ ...v, time: new Date(v.time).toISOString() })));
    const since = await B.app.inject({ method: 'GET', url: `/api/v1/meters/${A.meterId}/live?since=${new Date(t + 1000).toISOString()}`, headers: { authorization: `Bearer ${A.token}` } });
    expect(since.json().values.map((v: { p: number }) => v.p)).toEqual([1202.5]);
    // The household looked: the next push hears it.
    expect((await push(A, body(A, [{ time: t + 3000, p: 1000 }]))).json()).toEqual({ accepted: 1, watched: true });
    const overview = await B.app.inject({ method: 'GET', url: `/api/v1/meters/${A.meterId}/overview`, headers: { authorization: `Bearer ${A.token}` } });
    expect(overview.json().current).toEqual({ time: new Date(t + 3000).toISOString(), power: 1000, unit: 'W' });
    const devices = await B.app.inject({ method: 'GET', url: '/api/v1/admin/devices', headers: { authorization: `Bearer ${B.admin}` } });
    const d = devices.json().devices.find((x: { id: string }) => x.id === A.deviceId);
    expect(d).toMatchObject({ firmware: '0.2.0', backlog: 17 });
    expect(JSON.stringify(devices.json())).not.toContain(A.deviceToken);
  });

  it('refuses bad pushes with the reason, and drops values too old to show', async () => {
    const now = Date.now();
    const cases: [unknown, number, RegExp][] = [
      [{ deviceId: A.deviceId }, 400, /live push/],
      [body(A, []), 400, /values/],
      [body(A, [{ time: now, watts: 5 }]), 400, /watts|Unrecognized/i],
      [body(A, [{ time: now, p: '5' }]), 400, /p/],
      [body(A, [{ time: now + 0.5, p: 5 }]), 400, /time/],
      [body(A, [{ time: now, p: 1 }], 'bad meter id'), 400, /meterId/],
      [{ ...body(A, [{ time: now, p: 1 }]), interval: 0 }, 400, /interval/],
      [{ ...body(A, [{ time: now, p: 1 }]), extra: true }, 400, /extra|Unrecognized/i],
      [body(A, Array.from({ length: 121 }, (_, i) => ({ time: now - i * 1000, p: i }))), 400, /values/],
      [{ ...body(A, [{ time: now, p: 1 }]), deviceId: N.deviceId }, 403, /credential/],
      [body(A, [{ time: now + 3600000, p: 1 }]), 422, /future.*clock/],
      [body(A, [{ time: now, p: 1 }], N.meterId), 409, /another household/],
    ];
    for (const [b, status, reason] of cases) {
      const res = await push(A, b);
      expect(res.statusCode, JSON.stringify(b).slice(0, 200)).toBe(status);
      expect(res.json().error).toMatch(reason);
    }
    expect((await push(A, 'not json', { 'content-type': 'application/json' })).statusCode).toBe(400);
    const big = await push(A, body(A, [{ time: now, p: 1, pad: 'x'.repeat(20000) }]));
    expect(big.statusCode).toBe(413);
    // A device that could not push for an hour: its old values are dropped, the push is not refused.
    expect((await push(A, body(A, [{ time: now - 3600000, p: 7 }]))).json()).toEqual({ accepted: 0, watched: true });
    // A malformed status header is left out, the push still counts.
    const odd = await push(A, body(A, [{ time: now - 1000, p: 8 }]), { 'smgw-firmware': 'x'.repeat(40), 'smgw-backlog': '-1' });
    expect(odd.json()).toMatchObject({ accepted: 1 });
  });

  it('only devices push, only the household (or the admin) reads', async () => {
    const b = body(A, [{ time: Date.now(), p: 1 }]);
    const asHousehold = await B.app.inject({ method: 'POST', url: '/api/v1/live', headers: { authorization: `Bearer ${A.token}` }, payload: b });
    expect(asHousehold.statusCode).toBe(403);
    expect((await B.app.inject({ method: 'POST', url: '/api/v1/live', payload: b })).statusCode).toBe(401);
    const stranger = await B.app.inject({ method: 'GET', url: `/api/v1/meters/${A.meterId}/live`, headers: { authorization: `Bearer ${N.token}` } });
    expect(stranger.statusCode).toBe(404);
    expect(stranger.body).not.toContain('1200.5');
    const asAdmin = await B.app.inject({ method: 'GET', url: `/api/v1/meters/${A.meterId}/live`, headers: { authorization: `Bearer ${B.admin}` } });
    expect(asAdmin.statusCode).toBe(200);
    const bad = await B.app.inject({ method: 'GET', url: `/api/v1/meters/${A.meterId}/live?since=yesterday`, headers: { authorization: `Bearer ${A.token}` } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('one request at a time', () => {
  it('the backend client refuses a second request while one is on its way, and is free again once it settled, failed or not', async () => {
    const { createServer } = await import('node:http');
    const { SimHttp, InProcessServers } = await import('../hosts/sim/http');
    const { Scheduler } = await import('../simulator/world/scheduler');
    const { BackendClient } = await import('../src/uplink/client');
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    // A backend that takes 50 ms over each answer, and fails the second request it gets.
    const server = createServer((req, res) => {
      inFlight++;
      most = Math.max(most, inFlight);
      seen.push(`${req.url} ${req.headers['smgw-firmware']} ${req.headers['smgw-backlog']}`);
      setTimeout(() => {
        inFlight--;
        const n = seen.length;
        res.writeHead(n === 2 ? 503 : 200, { 'content-type': 'application/json' }).end(n === 2 ? '{"error":"busy"}' : `{"n":${n}}`);
      }, 50);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const http = new SimHttp(new Scheduler(Date.now(), 1), new InProcessServers(), new Map());
      const client = new BackendClient(http, { url: `http://127.0.0.1:${port}`, deviceId: 'd', auth: 'token', window: { from: '00:30', to: '04:00' }, live: 10 }, { ca: null, certificate: null, key: null, token: 'a-device-token-of-some-length' });
      const report = { firmware: '0.2.0', backlog: 5 };
      const batch = client.post('/api/v1/ingest', 'application/vnd.smgw.batch.v2', new Uint8Array(4), report);
      expect(client.busy).toBe(true);
      await expect(client.post('/api/v1/live', 'application/json', '{}', report)).rejects.toThrow(/another request to the backend is on its way/);
      expect(await batch).toEqual({ n: 1 });
      expect(client.busy).toBe(false);
      await expect(client.post('/api/v1/live', 'application/json', '{}', report)).rejects.toThrow('backend answered 503: busy');
      expect(client.busy).toBe(false);
      expect(await client.post('/api/v1/live', 'application/json', '{}', report)).toEqual({ n: 3 });
      expect(most).toBe(1);
      expect(seen).toEqual(['/api/v1/ingest 0.2.0 5', '/api/v1/live 0.2.0 5', '/api/v1/live 0.2.0 5']);
    } finally {
      server.close();
    }
  });
});
