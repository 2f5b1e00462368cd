// The backend's HTTP API end to end: the query API, the Open Meter Data
// Platform interfaces and access control, on an in-memory SQLite store and
// the real routes (fastify's in-process requests). The data goes in the way
// a gateway delivers it: binary batches of reading-log entries through
// POST /api/v1/ingest. Every response of every request below is also checked
// against the OpenAPI document the server generates from its route schemas:
// its status is documented for the operation, its content type too. That a
// JSON body fits its schema the server's serializer checks itself (an answer
// off its schema is a 500, tested below); bulk NDJSON lines are checked here.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../backend/server';
import { pseudonym } from '../backend/http/pseudonym';
import { newToken, Store } from '../backend/store';
import { Pki } from '../backend/pki';
import { FIRMWARE_CONTENT_TYPE } from '../backend/releases';
import { signedImage } from './support/ota';
import { meterReading } from '../backend/routes/omdp';
import { BATCH_CONTENT_TYPE, BatchWriter } from '../src/formats/batch';
import type { Entry, GapEntry, LogEntry, ReadingEntry } from '../src/formats/entries';
import { QUARTER, workload } from './support/log';
import { eventsOf, logWithEvents, rechain } from './support/events';

// ---------------------------------------------------------------- fixtures

const DAY = 86400000;
const HOUR = 3600000;
const ADMIN = newToken();
const ENTRIES = 600; // about six days of quarter-hours per household
const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const JAN = (day: number, hour = 0, minute = 0) => Date.UTC(2025, 0, day, hour, minute);
/** Stands for an id known only once the data is in (request-schema cases). */
const PLACEHOLDER = '@ID@';

/** Six households in different zones, each with its own meter and workload. */
const PLAN = [
  { name: 'Berlin', zone: undefined, meterId: '1KFM0000000001', seed: 11 },
  { name: 'UTC', zone: 'UTC', meterId: '1KFM0000000002', seed: 12 },
  { name: 'Helsinki', zone: 'Europe/Helsinki', meterId: '1KFM0000000003', seed: 13 },
  // A meter id with "|" in it: reading ids must still parse.
  { name: 'Paris', zone: 'Europe/Paris', meterId: 'EBZ|0000000004', seed: 14 },
  { name: 'Vienna', zone: 'Europe/Vienna', meterId: '1ESY0000000005', seed: 15 },
  { name: 'London', zone: 'Europe/London', meterId: '1ISK0000000006', seed: 16 },
] as const;

interface Household {
  id: string;
  name: string;
  zone: string;
  token: string;
  deviceId: string;
  deviceToken: string;
  meterId: string;
  entries: LogEntry[];
  readings: (ReadingEntry & { seq: number })[];
  gaps: GapEntry[];
}

let dir: string;
let store: Store;
let pki: Pki;
let app: FastifyInstance;
const H: Household[] = [];
let RESEARCH: string;
/** A device (of the London household) that delivers nothing: the "device" caller of the role checks. */
let probe: { id: string; token: string };

interface Call {
  token?: string;
  body?: unknown;
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

/** One request through the app, checked against the OpenAPI document. */
async function api(method: 'GET' | 'POST' | 'DELETE', url: string, c: Call = {}): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...(c.token ? { authorization: `Bearer ${c.token}` } : {}), ...c.headers };
  const payload = c.raw !== undefined ? { payload: c.raw } : c.body !== undefined ? { payload: c.body as object } : {};
  const res = await app.inject({ method, url, headers, ...payload });
  conformsToDocument(method, url, res);
  return res;
}

const get = (url: string, token?: string, headers?: Record<string, string>) => api('GET', url, { token, headers });
const post = (url: string, body: unknown, token?: string) => api('POST', url, { token, body });

/** A 4xx with `{ error: string }`, never a 500. */
function refused(res: LightMyRequestResponse, status: number, pattern?: RegExp): void {
  expect(res.statusCode, res.body).toBe(status);
  const error = res.json().error;
  expect(typeof error).toBe('string');
  expect(error.length).toBeGreaterThan(0);
  if (pattern) expect(error).toMatch(pattern);
}

/** Delivers entries as a gateway does: consecutive batches of at most 2 KB. */
async function deliver(deviceId: string, token: string, entries: LogEntry[]): Promise<void> {
  let i = 0;
  while (i < entries.length) {
    const w = new BatchWriter(deviceId, entries[i].seq);
    while (i < entries.length && w.add(entries[i])) i++;
    expect(w.entries).toBeGreaterThan(0);
    const res = await api('POST', '/api/v1/ingest', { token, raw: Buffer.from(w.finish()), headers: { 'content-type': BATCH_CONTENT_TYPE } });
    expect(res.statusCode, res.body).toBe(200);
  }
}

function numbered(entries: Omit<LogEntry, 'seq'>[]): LogEntry[] {
  return entries.map((e, i) => ({ ...e, seq: i + 1 }) as LogEntry);
}

// ---------------------------------------------------------------- oracles (independent of the server's code)

/** The flags the API gives a reading. */
function flagsOf(r: ReadingEntry): string[] {
  const flags: string[] = [];
  if (r.kind === 'daily') flags.push('daily');
  if (r.kind === 'demand') flags.push('on-demand');
  if (r.source === 'meter') flags.push('timed-by-meter-clock');
  if (r.offset !== 0) flags.push(`capture-offset:${r.offset > 0 ? '+' : ''}${r.offset}s`);
  return flags;
}

/** Local time with its offset, from the platform's time-zone database (not the backend's table). */
function localIso(t: number, zone: string): string {
  const p = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'longOffset' })
      .formatToParts(new Date(t))
      .map((x) => [x.type, x.value]),
  );
  const offset = p.timeZoneName === 'GMT' ? '+00:00' : p.timeZoneName.slice(3);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}${offset}`;
}

const taf6 = (kind: string) => (kind === 'taf7' ? 'taf7' : 'taf6');
const decoded = (id: string) => Buffer.from(id, 'base64url').toString('utf8');

/** The readings of some households with from <= time < to, in the OMDP order (time, meter, kind). */
function expectedOmdp(households: Household[], from: number, to: number): { meterId: string; time: number; kind: string; r: ReadingEntry }[] {
  return households
    .flatMap((h) => h.readings.filter((r) => r.time >= from && r.time < to).map((r) => ({ meterId: h.meterId, time: r.time, kind: r.kind as string, r })))
    .sort((a, b) => a.time - b.time || (a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : 0) || (a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0));
}

/** Consumption per interval from register differences, gaps where a boundary has no reading. */
function expectedSeries(h: Household, points: number[], obis: string, kinds: string[]): { from: string; to: string; value: number | null; flags: string[] }[] {
  const register = new Map<number, number>();
  // A daily reading first, then a quarter-hour one, at the same boundary.
  for (const kind of kinds) for (const r of h.readings) if (r.kind === kind && r.values[obis] && !register.has(r.time)) register.set(r.time, r.values[obis].value);
  const reason = (t: number) => h.gaps.find((g) => t >= g.time && t <= g.last && (t - g.time) % QUARTER === 0)?.reason ?? 'no reading';
  const out = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const [a, b] = [register.get(points[i]), register.get(points[i + 1])];
    const flags: string[] = [];
    if (a === undefined || b === undefined) {
      flags.push('gap');
      for (const t of [points[i], points[i + 1]]) if (!register.has(t)) flags.push(`${iso(t)}: ${reason(t)}`);
    }
    out.push({ from: iso(points[i]), to: iso(points[i + 1]), value: a === undefined || b === undefined ? null : b - a, flags });
  }
  return out;
}

/** Every page of an OMDP query, following nextCursor. */
async function allPages(token: string, query: Record<string, unknown>, size?: number): Promise<{ pages: { id: string; meterId: string; readingTime: string; kind: string; flags: string[]; propertyValues: { propertyId: string; value: number; unit: string }[] }[][]; cursors: string[] }> {
  const pages = [];
  const cursors: string[] = [];
  let cursor: string | undefined;
  for (let n = 0; n < 1000; n++) {
    const res = await post('/v1/meterReadings', { ...query, ...(size || cursor ? { page: { ...(size ? { size } : {}), ...(cursor ? { cursor } : {}) } } : {}) }, token);
    expect(res.statusCode, res.body).toBe(200);
    pages.push(res.json().meterReadings);
    cursor = res.json().nextCursor ?? undefined;
    if (!cursor) return { pages, cursors };
    cursors.push(cursor);
  }
  throw new Error('paging does not end');
}

// ---------------------------------------------------------------- the OpenAPI document, as a checker

type Schema = { [key: string]: any };
const METHODS = ['get', 'post', 'put', 'patch', 'delete'];
/** The document the server generates (GET /openapi.json serves it). */
let openapi: Schema;

function resolve(ref: string): Schema | undefined {
  return ref.startsWith('#/') ? ref.slice(2).split('/').reduce<any>((o, k) => o?.[k], openapi) : undefined;
}

/** The documented path a request URL is an instance of. */
function templateOf(path: string): string | undefined {
  return Object.keys(openapi.paths).find((p) => new RegExp('^' + p.replace(/\{\w+\}/g, '[^/]+') + '$').test(path));
}

function operation(method: string, template: string): Schema | undefined {
  return (openapi.paths as Record<string, Schema>)[template]?.[method.toLowerCase()];
}

/** The status is documented for the operation, so is the content type; each line of a bulk download is a MeterReading. */
function conformsToDocument(method: string, url: string, res: LightMyRequestResponse): void {
  expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(500);
  const template = templateOf(url.split('?')[0]);
  const op = template && operation(method, template);
  if (!op) return; // no such route: the not-found reply, checked where it is expected
  let documented: Schema | undefined = op.responses[String(res.statusCode)];
  if (documented?.$ref) documented = resolve(documented.$ref);
  expect(documented, `${method} ${template} answered ${res.statusCode}, which the document does not list`).toBeDefined();
  const type = String(res.headers['content-type'] ?? '').split(';')[0];
  expect(Object.keys(documented!.content ?? {}), `${method} ${template} ${res.statusCode}`).toContain(type);
  if (type === 'application/x-ndjson') {
    for (const line of res.body.split('\n').filter(Boolean)) expect(meterReading.safeParse(JSON.parse(line)).error).toBeUndefined();
  }
}

// ---------------------------------------------------------------- setup: households, devices, and their data delivered

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smgw-backend-api-'));
  store = await Store.open('sqlite::memory:');
  pki = await Pki.open(dir);
  app = await buildServer({ store, pki, publicUrl: () => 'https://backend.test', tls: false });
  await app.ready();
  openapi = app.swagger() as Schema;
  await store.addCredential(ADMIN, { kind: 'admin', subject: null, name: 'admin' });

  for (const plan of PLAN) {
    const created = await post('/api/v1/admin/households', { name: plan.name, ...(plan.zone ? { zone: plan.zone } : {}) }, ADMIN);
    expect(created.statusCode, created.body).toBe(201);
    const device = await post('/api/v1/admin/devices', { householdId: created.json().household.id, auth: 'token' }, ADMIN);
    expect(device.statusCode, device.body).toBe(201);
    let entries: Entry[] = workload(ENTRIES, plan.seed).map((e) => (e.type === 'reading' ? { ...e, meterId: plan.meterId as string } : e));
    if (plan.name === 'UTC') {
      // The quarter-hour reading at 2025-01-02T00:00Z lost, the daily one kept: 1d series use the daily one.
      entries = entries.filter((e) => !(e.type === 'reading' && e.kind === 'taf7' && e.time === JAN(2)));
    }
    if (plan.name === 'Berlin') {
      // Three readings in summer time (+02:00).
      const last = entries.filter((e): e is ReadingEntry => e.type === 'reading').at(-1)!;
      for (let k = 0; k < 3; k++) {
        const values = Object.fromEntries(Object.entries(last.values).map(([o, v]) => [o, { ...v, value: v.value + 1000 * (k + 1) }]));
        entries.push({ type: 'reading', kind: 'taf7', time: Date.UTC(2025, 5, 1, 10, 15 * k), offset: 0, source: 'meter', meterId: plan.meterId, values });
      }
    }
    const log = numbered(entries);
    const h: Household = {
      id: created.json().household.id,
      name: plan.name,
      zone: created.json().household.zone,
      token: created.json().token,
      deviceId: device.json().deviceId,
      deviceToken: device.json().token,
      meterId: plan.meterId,
      entries: log,
      readings: log.filter((e): e is ReadingEntry & { seq: number } => e.type === 'reading'),
      gaps: log.filter((e): e is GapEntry & { seq: number } => e.type === 'gap'),
    };
    await deliver(h.deviceId, h.deviceToken, log);
    H.push(h);
  }
  const research = await post('/api/v1/admin/users', { role: 'research', name: 'Institute' }, ADMIN);
  expect(research.statusCode, research.body).toBe(201);
  RESEARCH = research.json().token;
  const p = await post('/api/v1/admin/devices', { householdId: H[5].id, auth: 'token' }, ADMIN);
  probe = { id: p.json().deviceId, token: p.json().token };
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------- the document and the routes

/** "METHOD /path/{param}" of every route in the app's route tree (fastify's printRoutes), HEAD left out. */
function registeredRoutes(server: FastifyInstance): string[] {
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of server.printRoutes({ commonPrefix: false }).split('\n')) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1].length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? '') + m[2];
    stack.push(path);
    for (const method of m[3]?.split(', ') ?? []) if (method !== 'HEAD') out.push(`${method} ${path.replace(/:(\w+)/g, '{$1}')}`);
  }
  return out.sort();
}

/** Every route of the API: the document must list exactly these, and each must exist. */
const ROUTES = [
  'GET /health', 'GET /openapi.json',
  'POST /api/v1/ingest', 'POST /api/v1/live',
  'POST /api/v1/admin/households', 'GET /api/v1/admin/households', 'POST /api/v1/admin/devices', 'GET /api/v1/admin/devices',
  'POST /api/v1/admin/devices/{id}/revoke', 'POST /api/v1/admin/users', 'GET /api/v1/devices/{deviceId}/events',
  'GET /api/v1/households/{householdId}/tariff', 'POST /api/v1/households/{householdId}/tariff',
  'GET /api/v1/households/{householdId}/alert-settings', 'POST /api/v1/households/{householdId}/alert-settings',
  'GET /api/v1/meters', 'POST /api/v1/meters/{meterId}/role', 'GET /api/v1/meters/{meterId}/readings', 'GET /api/v1/meters/{meterId}/series',
  'GET /api/v1/meters/{meterId}/overview', 'GET /api/v1/meters/{meterId}/profile', 'GET /api/v1/meters/{meterId}/history',
  'GET /api/v1/meters/{meterId}/alerts', 'GET /api/v1/meters/{meterId}/live',
  'POST /v1/meterReadings', 'DELETE /v1/meterReadings', 'GET /v1/bulk/{token}', 'POST /v1/adapterConfiguration',
  'GET /', 'GET /dashboard/{file}',
  'POST /api/v1/admin/releases', 'GET /api/v1/admin/releases', 'POST /api/v1/admin/rollouts', 'POST /api/v1/admin/rollouts/{id}/stop',
  'GET /api/v1/firmware', 'GET /api/v1/firmware/{id}',
];

describe('the OpenAPI document', () => {
  it('is served at /openapi.json as generated, a well-formed OpenAPI 3.1 document with every $ref resolvable', async () => {
    const res = await get('/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(openapi);
    // Structure (OpenAPI 3.1): the fields the specification requires, where it requires them.
    const doc = openapi;
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.any(String) });
    expect(Object.keys(openapi.components.securitySchemes).sort()).toEqual(['bearerAuth', 'deviceCertificate']);
    const tags = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    const operationIds = new Set<string>();
    for (const [path, item] of Object.entries(openapi.paths as Record<string, Schema>)) {
      expect(path, path).toMatch(/^\//);
      for (const [method, op] of Object.entries(item)) {
        const where = `${method} ${path}`;
        expect(METHODS, where).toContain(method);
        expect(op.operationId, where).toEqual(expect.any(String));
        expect(operationIds.has(op.operationId), `${where}: operationId ${op.operationId} twice`).toBe(false);
        operationIds.add(op.operationId);
        for (const tag of op.tags ?? []) expect(tags, `${where}: tag ${tag}`).toContain(tag);
        expect(Object.keys(op.responses).length, where).toBeGreaterThan(0);
        for (const [status, r] of Object.entries(op.responses as Record<string, Schema>)) {
          expect(status, where).toMatch(/^[1-5]\d\d$/);
          expect(r.description, `${where} ${status}`).toEqual(expect.any(String));
          for (const media of Object.values(r.content ?? {}) as Schema[]) expect(media.schema, `${where} ${status}`).toBeInstanceOf(Object);
        }
        const parameters = (op.parameters ?? []) as Schema[];
        for (const p of parameters) {
          expect(['query', 'path', 'header', 'cookie'], where).toContain(p.in);
          expect(p.name, where).toEqual(expect.any(String));
          expect(p.schema, `${where} ${p.name}`).toBeInstanceOf(Object);
        }
        // Every {name} in the path is a required path parameter, and only those are.
        const named = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
        expect(parameters.filter((p) => p.in === 'path').map((p) => p.name).sort(), where).toEqual(named);
        for (const p of parameters.filter((x) => x.in === 'path')) expect(p.required, `${where} ${p.name}`).toBe(true);
        for (const scheme of (op.security ?? []) as Schema[]) for (const name of Object.keys(scheme)) expect(Object.keys(openapi.components.securitySchemes), where).toContain(name);
      }
    }
    const refs = [...JSON.stringify(openapi).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect(resolve(ref), ref).toBeDefined();
  });

  it('lists exactly the routes of the API, and each of them exists in the app', async () => {
    const documented = Object.entries(openapi.paths as Record<string, Schema>).flatMap(([p, ops]) => Object.keys(ops).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${p}`)).sort();
    expect(ROUTES.length).toBe(36);
    expect(documented).toEqual([...ROUTES].sort());
    // And what fastify itself has registered (its route tree), but HEAD (fastify adds it to every GET) and the
    // Swagger UI's own routes under /docs: nothing registered is left out of the document.
    expect(registeredRoutes(app).filter((r) => !/^[A-Z]+ \/docs(\/|$)/.test(r))).toEqual([...ROUTES].sort());
    for (const entry of documented) {
      const [method, path] = entry.split(' ') as ['GET' | 'POST' | 'DELETE', string];
      expect(app.hasRoute({ method, url: path.replace(/\{(\w+)\}/g, ':$1') }), entry).toBe(true);
      // Called without credentials: whatever the answer, not "no route".
      const res = await api(method, path.replace(/\{\w+\}/g, 'x'));
      // (The no-route reply is JSON; the dashboard's pages are not.)
      const json = String(res.headers['content-type'] ?? '').startsWith('application/json');
      expect(json ? (res.json().error ?? '') : '', entry).not.toMatch(/^no route/);
    }
    refused(await get('/api/v1/nothing'), 404, /^no route GET \/api\/v1\/nothing$/);
    // The same document for people, at /docs.
    expect((await app.inject({ method: 'GET', url: '/docs/json' })).json()).toEqual(openapi);
  });

  it('an answer that does not fit its route\'s response schema is not sent: a 500', async () => {
    // A store that hands the route a household with a field the schema does not have (as a leak would).
    const leaky = Object.create(store) as Store;
    leaky.households = async () => [{ id: 'hh-1', name: 'x', zone: 'UTC', secret: 'not for the answer' } as never];
    const other = await buildServer({ store: leaky, pki, publicUrl: () => 'https://backend.test', tls: false });
    try {
      const res = await other.inject({ method: 'GET', url: '/api/v1/admin/households', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: 'internal error' });
      expect(res.body).not.toContain('not for the answer');
      // And one missing a field it must have.
      leaky.households = async () => [{ id: 'hh-1', name: 'x' } as never];
      expect((await other.inject({ method: 'GET', url: '/api/v1/admin/households', headers: { authorization: `Bearer ${ADMIN}` } })).statusCode).toBe(500);
    } finally {
      await other.close();
    }
  });

  it('documents the privacy rule, paging, local readingTime and the security schemes', () => {
    const text = JSON.stringify(openapi);
    expect(text).toMatch(/at least 20 readings of at least 5 households/);
    expect(text).toMatch(/pseudonym/);
    expect(text).toMatch(/never leaves fewer than 20 readings/);
    expect(openapi.components.schemas.MeterReading.properties.readingTime.description).toMatch(/offset/);
    expect(openapi.components.securitySchemes.deviceCertificate.type).toBe('mutualTLS');
    expect(openapi.paths['/api/v1/ingest'].post.security).toEqual([{ deviceCertificate: [] }, { bearerAuth: [] }]);
    expect(Object.keys(openapi.paths['/api/v1/meters/{meterId}/readings'].get.responses[200].content)).toEqual(['application/json', 'text/csv']);
    expect(Object.keys(openapi.paths['/v1/bulk/{token}'].get.responses[200].content)).toEqual(['application/x-ndjson']);
  });

  it('request schemas accept and refuse (400) what they should', async () => {
    const from = '2025-01-01T00:00:00Z';
    const to = '2025-01-02T00:00:00Z';
    const cases: [string, string, unknown][] = [
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from: '2025-01-01T01:00:00+01:00', to, meterIds: [PLAN[0].meterId], properties: ['OBIS_1.8.0'], kind: 'taf6', page: { size: 20 }, delivery: 'json' }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, delivery: 'bulk' }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, extra: 1 }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, page: { size: 19 } }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, page: { size: 1001 } }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, page: { size: 20.5 } }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, page: { size: 20, extra: true } }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, page: { cursor: 'x'.repeat(401) } }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, properties: ['1-0:1.8.0'] }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, kind: 'daily' }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, delivery: 'csv' }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from, to, meterIds: [''] }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from: '2025-01-01', to }],
      ['MeterReadingsQuery', '/v1/meterReadings', { from: '2025-01-01T00:00:00', to }],
      ['HouseholdCreate', '/api/v1/admin/households', { name: 'Schema check', zone: 'Europe/Riga' }],
      ['HouseholdCreate', '/api/v1/admin/households', { name: '' }],
      ['HouseholdCreate', '/api/v1/admin/households', { name: 'x', zone: 'Mars/Olympus' }],
      ['HouseholdCreate', '/api/v1/admin/households', { name: 'x', owner: 'y' }],
      ['DeviceCreate', '/api/v1/admin/devices', { householdId: PLACEHOLDER, auth: 'token' }],
      ['DeviceCreate', '/api/v1/admin/devices', { householdId: PLACEHOLDER, auth: 'password' }],
      ['DeviceCreate', '/api/v1/admin/devices', { householdId: PLACEHOLDER, extra: 1 }],
      ['UserCreate', '/api/v1/admin/users', { role: 'research', name: 'Second institute' }],
      ['UserCreate', '/api/v1/admin/users', { role: 'admin', name: 'x' }],
      ['AdapterConfigurationRequest', '/v1/adapterConfiguration', { deviceId: PLACEHOLDER, meter: { protocol: 'dlms', zone: 'Europe/Oslo' }, taf: { period: 60, tolerance: 10 } }],
      ['AdapterConfigurationRequest', '/v1/adapterConfiguration', { deviceId: PLACEHOLDER, meter: { protocol: 'modbus' } }],
      ['AdapterConfigurationRequest', '/v1/adapterConfiguration', { deviceId: PLACEHOLDER, meter: { zone: 'UTC' } }],
      ['AdapterConfigurationRequest', '/v1/adapterConfiguration', { deviceId: PLACEHOLDER, taf: { period: '15' } }],
      ['AdapterConfigurationRequest', '/v1/adapterConfiguration', { deviceId: PLACEHOLDER, secret: 1 }],
    ];
    // The well-formed ones; every other case is refused with a 400.
    const ACCEPTED = new Set([0, 1, 2, 16, 20, 23, 25].map((i) => cases[i][2]));
    let accepted = 0;
    for (const [schema, url, raw] of cases) {
      const body = JSON.parse(JSON.stringify(raw).replaceAll(PLACEHOLDER, url.includes('adapter') ? H[0].deviceId : H[0].id));
      const res = await post(url, body, ADMIN);
      expect(res.statusCode === 400, `${schema} ${url} ${JSON.stringify(body)}: ${res.body}`).toBe(!ACCEPTED.has(raw));
      if (res.statusCode < 300) accepted++;
    }
    expect(accepted).toBe(7);
  });
});

// ---------------------------------------------------------------- access control

describe('access control', () => {
  it('refuses requests without a credential, with a malformed header or an unknown token (401)', async () => {
    refused(await get('/api/v1/meters'), 401, /authentication required/);
    refused(await get('/api/v1/meters', undefined, { authorization: 'Basic YWRtaW46YWRtaW4=' }), 401, /malformed/);
    refused(await get('/api/v1/meters', undefined, { authorization: 'Bearer short' }), 401, /malformed/);
    refused(await get('/api/v1/meters', newToken()), 401, /unknown token/);
    refused(await post('/v1/meterReadings', { from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' }, newToken()), 401);
  });

  it('admits each role to exactly the operations the document lists for it in x-roles (403 otherwise)', async () => {
    const other = await post('/api/v1/admin/devices', { householdId: H[5].id, auth: 'token' }, ADMIN);
    const empty = Buffer.from(new BatchWriter(probe.id, 1).finish());
    const all = { from: '2025-01-01T00:00:00Z', to: '2025-01-03T00:00:00Z' };
    const m = encodeURIComponent(H[0].meterId);
    const samples: Record<string, Call & { url: string }> = {
      'POST /api/v1/ingest': { url: '/api/v1/ingest', raw: empty, headers: { 'content-type': BATCH_CONTENT_TYPE } },
      'POST /api/v1/admin/households': { url: '/api/v1/admin/households', body: { name: 'Role check' } },
      'GET /api/v1/admin/households': { url: '/api/v1/admin/households' },
      'POST /api/v1/admin/devices': { url: '/api/v1/admin/devices', body: { householdId: H[5].id, auth: 'token' } },
      'GET /api/v1/admin/devices': { url: '/api/v1/admin/devices' },
      'POST /api/v1/admin/devices/{id}/revoke': { url: `/api/v1/admin/devices/${other.json().deviceId}/revoke` },
      'POST /api/v1/admin/users': { url: '/api/v1/admin/users', body: { role: 'research', name: 'Role check' } },
      'GET /api/v1/meters': { url: '/api/v1/meters' },
      'GET /api/v1/devices/{deviceId}/events': { url: `/api/v1/devices/${H[0].deviceId}/events` },
      'GET /api/v1/meters/{meterId}/readings': { url: `/api/v1/meters/${m}/readings?from=${all.from}&to=${all.to}` },
      'GET /api/v1/meters/{meterId}/series': { url: `/api/v1/meters/${m}/series?from=${all.from}&to=${all.to}&step=1h&obis=1-0:1.8.0` },
      'POST /v1/meterReadings': { url: '/v1/meterReadings', body: all },
      // A well-formed id of a reading that does not exist: 404 for who may delete, 403 for the rest.
      'DELETE /v1/meterReadings': { url: `/v1/meterReadings?id=${Buffer.from(`${H[0].meterId}|taf7|1000`).toString('base64url')}` },
      'POST /v1/adapterConfiguration': { url: '/v1/adapterConfiguration', body: { deviceId: probe.id } },
      'GET /api/v1/meters/{meterId}/overview': { url: `/api/v1/meters/${m}/overview` },
      'GET /api/v1/meters/{meterId}/profile': { url: `/api/v1/meters/${m}/profile?days=1` },
      'GET /api/v1/meters/{meterId}/history': { url: `/api/v1/meters/${m}/history?step=1mo` },
      'POST /api/v1/meters/{meterId}/role': { url: `/api/v1/meters/${m}/role`, body: { role: 'grid' } },
      'GET /api/v1/households/{householdId}/tariff': { url: `/api/v1/households/${H[0].id}/tariff` },
      'POST /api/v1/households/{householdId}/tariff': { url: `/api/v1/households/${H[0].id}/tariff`, body: { kind: 'flat', importPrice: 0.3 } },
      'GET /api/v1/meters/{meterId}/alerts': { url: `/api/v1/meters/${m}/alerts` },
      // An hour old: kept by nobody, so the probe claims no meter.
      'POST /api/v1/live': { url: '/api/v1/live', body: { deviceId: probe.id, meterId: null, interval: 1, values: [{ time: Date.now() - 3600000, p: 1 }] } },
      'GET /api/v1/meters/{meterId}/live': { url: `/api/v1/meters/${m}/live` },
      'GET /api/v1/households/{householdId}/alert-settings': { url: `/api/v1/households/${H[0].id}/alert-settings` },
      'POST /api/v1/households/{householdId}/alert-settings': { url: `/api/v1/households/${H[0].id}/alert-settings`, body: { peakKW: 5 } },
      // Firmware releases (backend/releases.ts): unknown ids answer 404 to who may ask.
      'POST /api/v1/admin/releases': { url: '/api/v1/admin/releases', raw: Buffer.from(signedImage({ version: '9.9.9' })), headers: { 'content-type': FIRMWARE_CONTENT_TYPE } },
      'GET /api/v1/admin/releases': { url: '/api/v1/admin/releases' },
      'POST /api/v1/admin/rollouts': { url: '/api/v1/admin/rollouts', body: { releaseId: 'fw-none', target: 'all' } },
      'POST /api/v1/admin/rollouts/{id}/stop': { url: '/api/v1/admin/rollouts/ro-none/stop' },
      'GET /api/v1/firmware': { url: '/api/v1/firmware' },
      'GET /api/v1/firmware/{id}': { url: '/api/v1/firmware/fw-none' },
    };
    const tokens = { admin: ADMIN, household: H[0].token, research: RESEARCH, device: probe.token };
    let checked = 0;
    for (const [path, ops] of Object.entries(openapi.paths as Record<string, Schema>)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!op['x-roles']) {
          expect(op.security, `${method} ${path} names no roles, so it must be public`).toEqual([]);
          continue;
        }
        const sample = samples[`${method.toUpperCase()} ${path}`];
        expect(sample, `${method} ${path}`).toBeDefined();
        for (const [role, token] of Object.entries(tokens)) {
          const res = await api(method.toUpperCase() as 'GET', sample.url, { ...sample, token });
          if (op['x-roles'].includes(role)) expect([401, 403], `${role} ${method} ${path}: ${res.body}`).not.toContain(res.statusCode);
          else refused(res, 403, new RegExp(`the caller is ${role}`));
          checked++;
        }
      }
    }
    expect(checked).toBe(31 * 4);
  });

  it('refuses a revoked device (403), and lists it as revoked', async () => {
    const d = await post('/api/v1/admin/devices', { householdId: H[5].id, auth: 'token' }, ADMIN);
    const id = d.json().deviceId;
    const batch = Buffer.from(new BatchWriter(id, 1).finish());
    const send = () => api('POST', '/api/v1/ingest', { token: d.json().token, raw: batch, headers: { 'content-type': BATCH_CONTENT_TYPE } });
    expect((await send()).statusCode).toBe(200);
    expect((await post(`/api/v1/admin/devices/${id}/revoke`, undefined, ADMIN)).json()).toEqual({ revoked: id });
    refused(await send(), 403, /revoked/);
    const listed = (await get('/api/v1/admin/devices', ADMIN)).json().devices.find((x: { id: string }) => x.id === id);
    expect(listed.revokedAt).toEqual(expect.any(Number));
    refused(await post('/api/v1/admin/devices/smgw-none/revoke', undefined, ADMIN), 404);
  });
});

// ---------------------------------------------------------------- ingest

describe('POST /api/v1/ingest', () => {
  const batchOf = (deviceId: string, entries: LogEntry[]) => {
    const w = new BatchWriter(deviceId, entries[0].seq);
    for (const e of entries) expect(w.add(e)).toBe(true);
    return Buffer.from(w.finish());
  };
  const send = (token: string, raw: Buffer | string, type = BATCH_CONTENT_TYPE) => api('POST', '/api/v1/ingest', { token, raw, headers: { 'content-type': type } });

  it('stored every entry once: a batch sent again counts as duplicates and stores nothing', async () => {
    const again = await send(H[0].deviceToken, batchOf(H[0].deviceId, H[0].entries.slice(0, 50)));
    expect(again.json()).toEqual({ stored: H[0].entries.length, readings: 0, gaps: 0, duplicates: 50, events: 0, chain: 'ok' });
    const devices = (await get('/api/v1/admin/devices', ADMIN)).json().devices;
    for (const h of H) expect(devices.find((d: { id: string }) => d.id === h.deviceId).lastSeq).toBe(h.entries.length);
  });

  it('refuses what is not a good batch from this device: 415, 400, 403, 422, 409, 413', async () => {
    const next = (h: Household) => h.entries.length + 1;
    refused(await api('POST', '/api/v1/ingest', { token: H[1].deviceToken, body: { readings: [] } }), 415);
    refused(await send(H[1].deviceToken, Buffer.from('not a batch at all')), 400, /malformed batch/);
    refused(await send(H[1].deviceToken, batchOf(H[0].deviceId, [{ ...H[1].readings[0], seq: next(H[1]) }])), 403, /is from device/);
    refused(await send(H[1].deviceToken, batchOf(H[1].deviceId, [{ ...H[1].readings[0], time: Date.UTC(1990, 0, 1), seq: next(H[1]) }])), 422, /outside/);
    // The Berlin household's meter delivered by the UTC household's device.
    refused(await send(H[1].deviceToken, batchOf(H[1].deviceId, [{ ...H[1].readings[0], meterId: H[0].meterId, time: JAN(20), seq: next(H[1]) }])), 409, /another household/);
    refused(await send(H[1].deviceToken, Buffer.alloc(70 * 1024, 1)), 413);
    // Nothing of it was stored.
    expect((await get('/api/v1/admin/devices', ADMIN)).json().devices.find((d: { id: string }) => d.id === H[1].deviceId).lastSeq).toBe(H[1].entries.length);
  });
});

// ---------------------------------------------------------------- the query API

describe('GET /api/v1/devices/{deviceId}/events', () => {
  it('serves a device\'s events and its chain in the documented shapes, to the admin and the owning household only', async () => {
    // A household of its own, and a log of events only: the other tests' meters and readings stay as they are.
    const h = await post('/api/v1/admin/households', { name: 'Events' }, ADMIN);
    const d = await post('/api/v1/admin/devices', { householdId: h.json().household.id, auth: 'token' }, ADMIN);
    const id = d.json().deviceId;
    await deliver(id, d.json().token, rechain(eventsOf(logWithEvents(60, 10, 21))));
    const res = await get(`/api/v1/devices/${id}/events?limit=4`, ADMIN);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().events).toHaveLength(4);
    expect(res.json().events[0]).toMatchObject({ seq: 1, number: 1, link: 'start', time: expect.stringMatching(/Z$/) });
    expect(res.json().chain).toMatchObject({ status: 'ok', events: 6, breaks: 0, firstBreak: null });
    expect((await get(`/api/v1/devices/${id}/events?from=${res.json().next}`, h.json().token)).json().events).toHaveLength(2);
    refused(await get(`/api/v1/devices/${id}/events`, H[0].token), 404);
    const listed = (await get('/api/v1/admin/devices', ADMIN)).json().devices.find((x: { id: string }) => x.id === id);
    expect(listed.eventChain).toMatchObject({ status: 'ok', events: 6 });
  });
});

describe('GET /api/v1/meters', () => {
  it('shows the admin every meter, with its household and device', async () => {
    const meters = (await get('/api/v1/meters', ADMIN)).json().meters;
    expect(meters.map((m: { id: string }) => m.id).sort()).toEqual(H.map((h) => h.meterId).sort());
    for (const h of H) expect(meters.find((m: { id: string }) => m.id === h.meterId)).toMatchObject({ householdId: h.id, deviceId: h.deviceId });
  });

  it('shows a household only its own meter', async () => {
    for (const h of H) expect((await get('/api/v1/meters', h.token)).json().meters.map((m: { id: string }) => m.id)).toEqual([h.meterId]);
  });

  it('refuses research and device callers (403)', async () => {
    refused(await get('/api/v1/meters', RESEARCH), 403);
    refused(await get('/api/v1/meters', H[0].deviceToken), 403);
  });
});

describe('GET /api/v1/meters/{meterId}/readings', () => {
  const url = (h: Household, from: number, to: number, extra = '') => `/api/v1/meters/${encodeURIComponent(h.meterId)}/readings?from=${iso(from)}&to=${iso(to)}${extra}`;

  it('gives back what was ingested: times, kinds, values, flags, and the gaps', async () => {
    for (const h of [H[0], H[3]]) {
      const [from, to] = [JAN(1), JAN(4)];
      const body = (await get(url(h, from, to), h.token)).json();
      const expected = h.readings.filter((r) => r.time >= from && r.time < to).sort((a, b) => a.time - b.time || (a.kind < b.kind ? -1 : 1));
      expect(expected.length).toBeGreaterThan(200);
      expect(body.meterId).toBe(h.meterId);
      expect(body.readings).toEqual(expected.map((r) => ({ time: iso(r.time), kind: taf6(r.kind), values: r.values, flags: flagsOf(r) })));
      const gaps = h.gaps.filter((g) => g.last >= from && g.time < to);
      expect(gaps.length).toBeGreaterThan(0);
      expect(body.gaps).toEqual(gaps.map((g) => ({ from: iso(g.time), to: iso(g.last), count: g.count, kind: 'taf7', reason: g.reason })));
    }
  });

  it('kind=taf6 gives the daily readings only, kind=taf7 the quarter-hours only', async () => {
    const [from, to] = [JAN(1), JAN(8)];
    const daily = (await get(url(H[0], from, to, '&kind=taf6'), ADMIN)).json();
    const expected = H[0].readings.filter((r) => r.kind === 'daily' && r.time >= from && r.time < to);
    expect(expected.length).toBeGreaterThanOrEqual(3);
    expect(daily.readings.map((r: { time: string }) => r.time)).toEqual(expected.map((r) => iso(r.time)));
    expect(daily.readings.every((r: { kind: string; flags: string[] }) => r.kind === 'taf6' && r.flags.includes('daily'))).toBe(true);
    const quarter = (await get(url(H[0], from, to, '&kind=taf7'), ADMIN)).json();
    expect(quarter.readings).toHaveLength(H[0].readings.filter((r) => r.kind === 'taf7' && r.time >= from && r.time < to).length);
    expect(quarter.readings.every((r: { kind: string }) => r.kind === 'taf7')).toBe(true);
  });

  it('exports CSV: a header row, then one row per reading with its values', async () => {
    const [from, to] = [JAN(1), JAN(3)];
    const res = await get(url(H[0], from, to, '&format=csv'), H[0].token);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toContain(`${H[0].meterId}-readings.csv`);
    const rows = res.body.trimEnd().split('\r\n').map((line) => line.split(','));
    expect(rows[0]).toEqual(['time', 'kind', '1-0:1.8.0 (Wh)', '1-0:2.8.0 (Wh)', '1-0:3.8.0 (varh)', '1-0:4.8.0 (varh)', 'flags']);
    const expected = H[0].readings.filter((r) => r.time >= from && r.time < to).sort((a, b) => a.time - b.time || (a.kind < b.kind ? -1 : 1));
    expect(rows.length - 1).toBe(expected.length);
    expected.forEach((r, i) => {
      const obis = ['1-0:1.8.0', '1-0:2.8.0', '1-0:3.8.0', '1-0:4.8.0'].map((k) => (r.values[k] ? String(r.values[k].value) : ''));
      expect(rows[i + 1]).toEqual([iso(r.time), taf6(r.kind), ...obis, flagsOf(r).join(' ')]);
    });
    // Accept: text/csv without format= gives the same.
    expect((await get(url(H[0], from, to), H[0].token, { accept: 'text/csv' })).body).toBe(res.body);
  });

  it("is 404 for another household's meter and for an unknown meter; 403 for research", async () => {
    refused(await get(url(H[0], JAN(1), JAN(2)), H[1].token), 404, new RegExp(H[0].meterId));
    refused(await get(`/api/v1/meters/NO-SUCH-METER/readings?from=${iso(JAN(1))}&to=${iso(JAN(2))}`, ADMIN), 404);
    refused(await get(url(H[0], JAN(1), JAN(2)), RESEARCH), 403);
    // Whatever is asked of it: a meter the caller may not see is not found before its query is looked at.
    refused(await get(`/api/v1/meters/${encodeURIComponent(H[0].meterId)}/readings?from=yesterday`, H[1].token), 404, new RegExp(H[0].meterId));
    refused(await post(`/api/v1/households/${H[0].id}/tariff`, { kind: 'none' }, H[1].token), 404, /no household/);
    refused(await get(`/api/v1/devices/${H[0].deviceId}/events?limit=0`, H[1].token), 404, /no device/);
  });
});

describe('GET /api/v1/meters/{meterId}/series', () => {
  const url = (h: Household, from: string, to: string, step: string, obis = '1-0:1.8.0', extra = '') =>
    `/api/v1/meters/${encodeURIComponent(h.meterId)}/series?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}&step=${step}&obis=${obis}${extra}`;
  const every = (from: number, to: number, ms: number) => Array.from({ length: Math.floor((to - from) / ms) + 1 }, (_, i) => from + i * ms);

  it('15m: each value is the register difference; boundaries without a reading give null and the gap reason, nothing interpolated', async () => {
    for (const h of H.slice(0, 3)) {
      const [from, to] = [JAN(1), JAN(3)];
      const body = (await get(url(h, iso(from), iso(to), '15m'), h.token)).json();
      const expected = expectedSeries(h, every(from, to, QUARTER), '1-0:1.8.0', ['taf7']);
      expect(body).toMatchObject({ meterId: h.meterId, obis: '1-0:1.8.0', unit: 'Wh', step: '15m', zone: h.zone });
      expect(body.series).toEqual(expected);
      // The workload's gaps are in the range and show, with their reason.
      const nulls = body.series.filter((p: { value: number | null }) => p.value === null);
      expect(nulls.length).toBeGreaterThan(2);
      expect(nulls.flatMap((p: { flags: string[] }) => p.flags).join('|')).toMatch(/: (no-telegram|not-running)/);
    }
  });

  it('1h: differences of the hourly registers; a gap inside the hour does not matter, one at the hour does', async () => {
    const h = H[0];
    const [from, to] = [JAN(1), JAN(5)];
    const body = (await get(url(h, iso(from), iso(to), '1h', '1-0:3.8.0'), h.token)).json();
    expect(body.unit).toBe('varh');
    expect(body.series).toHaveLength(96);
    expect(body.series).toEqual(expectedSeries(h, every(from, to, HOUR), '1-0:3.8.0', ['taf7']));
    expect(body.series.some((p: { value: number | null }) => p.value === null)).toBe(true);
  });

  it('a register missing from a reading is a gap of that register only ("no reading")', async () => {
    const h = H.find((x) => x.readings.some((r) => r.kind === 'taf7' && !r.values['1-0:4.8.0'] && r.time < JAN(7)))!;
    expect(h).toBeDefined();
    const r = h.readings.find((x) => x.kind === 'taf7' && !x.values['1-0:4.8.0'] && x.time < JAN(7))!;
    const [from, to] = [r.time - HOUR, r.time + HOUR];
    const d = (await get(url(h, iso(from), iso(to), '15m', '1-0:4.8.0'), ADMIN)).json().series;
    expect(d).toEqual(expectedSeries(h, every(from, to, QUARTER), '1-0:4.8.0', ['taf7']));
    expect(d.find((p: { to: string }) => p.to === iso(r.time))).toMatchObject({ value: null, flags: expect.arrayContaining(['gap', `${iso(r.time)}: no reading`]) });
  });

  it("1d: days at the household's local midnight over several days", async () => {
    // Berlin: local midnight is 23:00 UTC in winter.
    const body = (await get(url(H[0], '2025-01-02T00:00:00+01:00', '2025-01-07T00:00:00+01:00', '1d'), H[0].token)).json();
    const points = every(JAN(1, 23), JAN(6, 23), DAY);
    expect(body.zone).toBe('Europe/Berlin');
    expect(body.series.map((p: { from: string }) => p.from)).toEqual(points.slice(0, -1).map(iso));
    expect(body.series).toEqual(expectedSeries(H[0], points, '1-0:1.8.0', ['daily', 'taf7']));
    expect(body.series.filter((p: { value: number | null }) => p.value !== null).length).toBeGreaterThanOrEqual(3);
  });

  it('1d uses the daily reading at midnight where the quarter-hour one is missing; 15m shows that boundary as a gap', async () => {
    const h = H[1]; // UTC; its quarter-hour reading at 2025-01-02T00:00Z was dropped before delivery
    const daily = (t: number) => h.readings.find((r) => r.kind === 'daily' && r.time === t)!;
    expect(h.readings.some((r) => r.kind === 'taf7' && r.time === JAN(2))).toBe(false);
    expect(daily(JAN(2))).toBeDefined();
    expect(daily(JAN(3))).toBeDefined();
    const days = (await get(url(h, iso(JAN(1)), iso(JAN(6)), '1d'), h.token)).json().series;
    expect(days).toEqual(expectedSeries(h, every(JAN(1), JAN(6), DAY), '1-0:1.8.0', ['daily', 'taf7']));
    expect(days[0]).toMatchObject({ value: null, flags: ['gap', '2025-01-01T00:00:00Z: no reading'] });
    expect(days[1]).toEqual({ from: iso(JAN(2)), to: iso(JAN(3)), value: daily(JAN(3)).values['1-0:1.8.0'].value - daily(JAN(2)).values['1-0:1.8.0'].value, flags: [] });
    const quarters = (await get(url(h, iso(JAN(1, 23)), iso(JAN(2, 1)), '15m'), h.token)).json().series;
    expect(quarters.find((p: { to: string }) => p.to === iso(JAN(2)))).toMatchObject({ value: null, flags: expect.arrayContaining(['gap', '2025-01-02T00:00:00Z: no reading']) });
  });

  it('exports CSV: a header row, then one row per interval', async () => {
    const [from, to] = [JAN(2), JAN(3)];
    const res = await get(url(H[0], iso(from), iso(to), '1h', '1-0:1.8.0', '&format=csv'), H[0].token);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = res.body.trimEnd().split('\r\n').map((line) => line.split(','));
    expect(rows[0]).toEqual(['from', 'to', '1-0:1.8.0 (Wh)', 'flags']);
    const expected = expectedSeries(H[0], every(from, to, HOUR), '1-0:1.8.0', ['taf7']);
    expect(rows.slice(1)).toEqual(expected.map((p) => [p.from, p.to, p.value === null ? '' : String(p.value), p.flags.join(' ')]));
  });

  it('allows at most 10000 intervals', async () => {
    const from = JAN(1);
    expect((await get(url(H[0], iso(from), iso(from + 10000 * QUARTER), '15m'), ADMIN)).json().series).toHaveLength(10000);
    refused(await get(url(H[0], iso(from), iso(from + 10001 * QUARTER), '15m'), ADMIN), 400, /more than 10000 intervals/);
  });
});

// ---------------------------------------------------------------- Open Meter Data Platform

describe('POST /v1/meterReadings', () => {
  const all = { from: iso(JAN(1)), to: iso(JAN(3)) };

  it('gives every reading of the range, with values as propertyValues; properties filters them', async () => {
    const h = H[0];
    const { pages } = await allPages(h.token, { ...all, properties: ['OBIS_1.8.0'] }, 1000);
    const got = pages.flat();
    const expected = expectedOmdp([h], JAN(1), JAN(3));
    expect(got).toHaveLength(expected.length);
    got.forEach((x, i) => {
      const e = expected[i];
      expect(x).toMatchObject({ meterId: h.meterId, readingTime: localIso(e.time, h.zone), kind: taf6(e.kind), flags: flagsOf(e.r) });
      expect(x.propertyValues).toEqual([{ propertyId: 'OBIS_1.8.0', value: e.r.values['1-0:1.8.0'].value, unit: 'Wh' }]);
    });
    // Unfiltered: every register as a property.
    const first = (await post('/v1/meterReadings', { ...all, page: { size: 20 } }, h.token)).json().meterReadings[0];
    const values = expected[0].r.values;
    expect(Object.fromEntries(first.propertyValues.map((p: { propertyId: string; value: number; unit: string }) => [p.propertyId, { value: p.value, unit: p.unit }]))).toEqual(
      Object.fromEntries(Object.entries(values).map(([o, v]) => [`OBIS_${o.slice(4)}`, v])),
    );
  });

  it('properties keeps only readings that hold one of them, for the pages and the privacy count alike', async () => {
    const none = await post('/v1/meterReadings', { ...all, properties: ['OBIS_9.8.0'] }, ADMIN);
    expect(none.statusCode).toBe(200);
    expect(none.json()).toEqual({ meterReadings: [], nextCursor: null });
    refused(await post('/v1/meterReadings', { ...all, properties: ['OBIS_9.8.0'] }, RESEARCH), 403, /at least 20 readings/);
  });

  it('refuses a cursor that was edited (it is signed)', async () => {
    const first = (await post('/v1/meterReadings', { ...all, page: { size: 20 } }, ADMIN)).json();
    const [payload, signature] = (first.nextCursor as string).split('.');
    const edited = Buffer.from(Buffer.from(payload, 'base64url').toString().replace(/"time":\d+/, '"time":0')).toString('base64url');
    refused(await post('/v1/meterReadings', { ...all, page: { size: 20, cursor: `${edited}.${signature}` } }, ADMIN), 400, /cursor/);
    expect((await post('/v1/meterReadings', { ...all, page: { size: 20, cursor: first.nextCursor } }, ADMIN)).statusCode).toBe(200);
  });

  it("readingTime is the household's local time with its UTC offset (+01:00 in Berlin in winter, +02:00 in summer)", async () => {
    const at = (body: { meterReadings: { readingTime: string }[] }) => body.meterReadings.map((r) => r.readingTime);
    const winter = at((await post('/v1/meterReadings', { from: iso(JAN(1)), to: iso(JAN(1, 2)), page: { size: 20 } }, H[0].token)).json());
    const first = expectedOmdp([H[0]], JAN(1), JAN(1, 2))[0].time;
    expect(winter[0]).toBe(new Date(first + HOUR).toISOString().slice(0, 19) + '+01:00');
    const summer = at((await post('/v1/meterReadings', { from: '2025-06-01T00:00:00Z', to: '2025-06-02T00:00:00Z' }, H[0].token)).json());
    expect(summer).toEqual(['2025-06-01T12:00:00+02:00', '2025-06-01T12:15:00+02:00', '2025-06-01T12:30:00+02:00']);
    // Every zone, every reading: the offset the zone has at that instant, and the same instant.
    for (const h of H) {
      const readings = (await allPages(h.token, all, 1000)).pages.flat();
      const expected = expectedOmdp([h], JAN(1), JAN(3));
      expect(readings.map((r) => r.readingTime)).toEqual(expected.map((e) => localIso(e.time, h.zone)));
      expect(readings.map((r) => Date.parse(r.readingTime))).toEqual(expected.map((e) => e.time));
    }
    expect(at((await post('/v1/meterReadings', { from: iso(JAN(1)), to: iso(JAN(1, 2)), page: { size: 20 } }, H[2].token)).json())[0]).toMatch(/\+02:00$/);
    expect(at((await post('/v1/meterReadings', { from: iso(JAN(1)), to: iso(JAN(1, 2)), page: { size: 20 } }, H[1].token)).json())[0]).toMatch(/\+00:00$/);
  });

  it('pages: every reading exactly once, in order, and no page (the last included) under 20 readings', async () => {
    const expected = expectedOmdp(H, JAN(1), JAN(3));
    // A page size that would leave a last page of 1..19 readings if pages were cut naively.
    const size = [...Array(200).keys()].map((n) => n + 20).find((s) => expected.length % s > 0 && expected.length % s < 20 && expected.length > 2 * s)!;
    expect(size).toBeDefined();
    const { pages, cursors } = await allPages(ADMIN, all, size);
    expect(pages.length).toBe(Math.floor(expected.length / size));
    for (const page of pages) expect(page.length).toBeGreaterThanOrEqual(20);
    for (const page of pages.slice(0, -1)) expect(page).toHaveLength(size);
    expect(pages.at(-1)!.length).toBe(size + (expected.length % size));
    const got = pages.flat();
    expect(new Set(got.map((r) => r.id)).size).toBe(got.length);
    expect(got.map((r) => `${r.meterId} ${Date.parse(r.readingTime)} ${r.kind}`)).toEqual(expected.map((e) => `${e.meterId} ${e.time} ${taf6(e.kind)}`));
    expect(cursors).toHaveLength(pages.length - 1);
    // The default page size is 100.
    expect((await post('/v1/meterReadings', all, ADMIN)).json().meterReadings).toHaveLength(100);
  });

  it('meterIds narrows the scope; a household naming a meter not its own gets 404', async () => {
    const got = (await allPages(ADMIN, { ...all, meterIds: [H[2].meterId, H[4].meterId] }, 1000)).pages.flat();
    expect(got.map((r) => `${r.meterId} ${Date.parse(r.readingTime)}`)).toEqual(expectedOmdp([H[2], H[4]], JAN(1), JAN(3)).map((e) => `${e.meterId} ${e.time}`));
    refused(await post('/v1/meterReadings', { ...all, meterIds: [H[0].meterId] }, H[1].token), 404, /meterIds/);
    refused(await post('/v1/meterReadings', { ...all, meterIds: ['NO-SUCH-METER'] }, ADMIN), 404);
    // A household without meterIds sees its own meter only.
    expect(new Set((await allPages(H[1].token, all, 1000)).pages.flat().map((r) => r.meterId))).toEqual(new Set([H[1].meterId]));
  });

  it('delivery bulk: 202 with a link whose download is NDJSON of the same readings', async () => {
    const query = { ...all, properties: ['OBIS_1.8.0', 'OBIS_2.8.0'] };
    const res = await post('/v1/meterReadings', { ...query, delivery: 'bulk' }, ADMIN);
    expect(res.statusCode, res.body).toBe(202);
    const link = res.json().bulkDownload;
    expect(link.format).toBe('application/x-ndjson');
    expect(link.url).toMatch(/^https:\/\/backend\.test\/v1\/bulk\/[\w-]{32}$/);
    expect(Date.parse(link.expiresAt) - Date.now()).toBeGreaterThan(59 * 60000);
    expect(Date.parse(link.expiresAt) - Date.now()).toBeLessThanOrEqual(3600000);
    const download = await get(new URL(link.url).pathname);
    expect(download.statusCode, download.body).toBe(200);
    expect(download.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = download.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual((await allPages(ADMIN, query, 1000)).pages.flat());
    expect(lines).toHaveLength(expectedOmdp(H, JAN(1), JAN(3)).length);
  });

  it('a bulk link that was altered is refused (403); an expired one is gone (410)', async () => {
    const link = (await post('/v1/meterReadings', { ...all, delivery: 'bulk' }, H[0].token)).json().bulkDownload.url as string;
    const id = new URL(link).pathname.slice('/v1/bulk/'.length);
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    expect((await get(`/v1/bulk/${id}`)).statusCode).toBe(200);
    refused(await get(`/v1/bulk/${flip(id, 20)}`), 403, /not valid/);
    refused(await get(`/v1/bulk/${id.slice(0, 31)}`), 403, /not valid/);
    refused(await get(`/v1/bulk/${id}x`), 403, /not valid/);
    // The stored query cannot be widened from outside: the link names it, it does not carry it.
    // A link whose hour is over.
    await store.createBulkLink('E'.repeat(32), JSON.stringify({ q: { ...all, delivery: 'json' }, c: { role: 'household', householdId: H[0].id } }), Date.now() - 1000);
    refused(await get(`/v1/bulk/${'E'.repeat(32)}`), 410, /expired/);
  });
});

describe('privacy: research callers', () => {
  let key: string;
  const alias = (h: Household) => pseudonym(key, h.meterId);
  const range = { from: iso(JAN(1)), to: iso(JAN(2)) };
  beforeAll(async () => {
    key = await store.secret('server-key');
  });

  /** Neither the body nor the ids and cursors in it (base64url) hold a real meter id. */
  function noRealMeterIds(text: string): void {
    const body = JSON.parse(text);
    const hidden = [text, ...(body.meterReadings ?? []).map((r: { id: string }) => decoded(r.id)), body.nextCursor ? decoded(body.nextCursor) : ''].join('\n');
    for (const h of H) expect(hidden).not.toContain(h.meterId);
  }

  it('a query over 4 households is refused (403)', async () => {
    const res = await post('/v1/meterReadings', { ...range, meterIds: H.slice(0, 4).map(alias) }, RESEARCH);
    refused(res, 403, /at least 20 readings of at least 5 households/);
  });

  it('over 5 households and at least 20 readings: the readings, under pseudonyms (p- and 16 hex digits) only', async () => {
    const five = H.slice(0, 5);
    const res = await post('/v1/meterReadings', { ...range, meterIds: five.map(alias), page: { size: 50 } }, RESEARCH);
    expect(res.statusCode, res.body).toBe(200);
    noRealMeterIds(res.body);
    const page = res.json().meterReadings as { meterId: string }[];
    expect(page.length).toBe(50);
    for (const r of page) expect(r.meterId).toMatch(/^p-[0-9a-f]{16}$/);
    expect(new Set(page.map((r) => r.meterId))).toEqual(new Set(five.map(alias)));
    // Pages on through the pseudonymous cursors: every reading once.
    const { pages } = await allPages(RESEARCH, { ...range, meterIds: five.map(alias) }, 50);
    const expected = expectedOmdp(five, JAN(1), JAN(2));
    const byAlias = new Map(five.map((h) => [alias(h), h.meterId]));
    expect(pages.flat().map((r) => `${byAlias.get(r.meterId)} ${Date.parse(r.readingTime)} ${r.kind}`).sort()).toEqual(expected.map((e) => `${e.meterId} ${e.time} ${taf6(e.kind)}`).sort());
    for (const p of pages.flat()) expect(p.meterId).toMatch(/^p-[0-9a-f]{16}$/);
  });

  it('without meterIds: all households, all under pseudonyms; real meter ids are not accepted in meterIds', async () => {
    const res = await post('/v1/meterReadings', { ...range, page: { size: 1000 } }, RESEARCH);
    expect(res.statusCode, res.body).toBe(200);
    noRealMeterIds(res.body);
    expect(new Set(res.json().meterReadings.map((r: { meterId: string }) => r.meterId))).toEqual(new Set(H.map(alias)));
    refused(await post('/v1/meterReadings', { ...range, meterIds: H.map((h) => h.meterId) }, RESEARCH), 404);
  });

  it('a query of fewer than 20 readings is refused (403), even over all households', async () => {
    const [from, to] = [JAN(1), JAN(1, 0, 45)];
    const n = expectedOmdp(H, from, to).length;
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(20);
    refused(await post('/v1/meterReadings', { from: iso(from), to: iso(to) }, RESEARCH), 403, /privacy/);
    refused(await post('/v1/meterReadings', { from: iso(from), to: iso(to), delivery: 'bulk' }, RESEARCH), 403, /privacy/);
  });

  it('bulk for research: NDJSON under pseudonyms, the same readings as the pages', async () => {
    const res = await post('/v1/meterReadings', { ...range, delivery: 'bulk' }, RESEARCH);
    expect(res.statusCode, res.body).toBe(202);
    const download = await get(new URL(res.json().bulkDownload.url).pathname);
    expect(download.statusCode, download.body).toBe(200);
    const lines = download.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual((await allPages(RESEARCH, range, 1000)).pages.flat());
    noRealMeterIds(JSON.stringify({ meterReadings: lines }));
  });

  it('research may not use the per-meter query API nor delete (403)', async () => {
    refused(await get(`/api/v1/meters/${encodeURIComponent(H[0].meterId)}/series?from=${range.from}&to=${range.to}&step=1h&obis=1-0:1.8.0`, RESEARCH), 403);
    const id = (await post('/v1/meterReadings', { ...range, page: { size: 20 } }, RESEARCH)).json().meterReadings[0].id;
    refused(await api('DELETE', `/v1/meterReadings?id=${id}`, { token: RESEARCH }), 403);
  });
});

describe('POST /v1/adapterConfiguration', () => {
  it("gives the device's uplink URL, CA and window, and no secret", async () => {
    const res = await post('/v1/adapterConfiguration', { deviceId: H[2].deviceId }, ADMIN);
    expect(res.statusCode, res.body).toBe(200);
    const ca = Buffer.from(pki.serverCa.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, ''), 'base64').toString('base64');
    expect(res.json()).toEqual({
      version: 1,
      deviceId: H[2].deviceId,
      uplink: { url: 'https://backend.test', auth: 'token', ca, window: { from: '00:30', to: '04:00' } },
      meter: { protocol: 'sml', zone: 'Europe/Helsinki' },
      taf: { period: 15, tolerance: 30 },
    });
    const keys = (v: unknown): string[] => (v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : []);
    expect(keys(res.json()).filter((k) => /key|token|certificate|secret|password/i.test(k))).toEqual([]);
    expect(res.body).not.toContain(H[2].deviceToken);
    const asked = await post('/v1/adapterConfiguration', { deviceId: H[2].deviceId, meter: { protocol: 'dlms', zone: 'Europe/Oslo' }, taf: { period: 60, tolerance: 10 } }, ADMIN);
    expect(asked.json()).toMatchObject({ meter: { protocol: 'dlms', zone: 'Europe/Oslo' }, taf: { period: 60, tolerance: 10 } });
  });

  it('is 404 for an unknown device and 403 for anyone but the admin', async () => {
    refused(await post('/v1/adapterConfiguration', { deviceId: 'smgw-000000000000' }, ADMIN), 404);
    refused(await post('/v1/adapterConfiguration', { deviceId: H[2].deviceId }, H[2].token), 403);
  });
});

// ---------------------------------------------------------------- bad input

describe('bad input is a 400 with a reason, never a 500', () => {
  const m = () => `/api/v1/meters/${encodeURIComponent(H[0].meterId)}`;
  const day = { from: '2025-01-01T00:00:00Z', to: '2025-01-02T00:00:00Z' };

  it('query API: invalid times, to before from, over 400 days, unknown parameters and values', async () => {
    const cases: [string, RegExp?][] = [
      [`${m()}/readings?from=yesterday&to=${day.to}`, /from/],
      [`${m()}/readings?from=2025-13-01T00:00:00Z&to=${day.to}`, /from/],
      [`${m()}/readings?from=2025-01-01T00:00:00&to=${day.to}`, /offset/],
      [`${m()}/readings?from=${day.from}`, /to/],
      [`${m()}/readings?from=${day.to}&to=${day.from}`, /"to" must be after "from"/],
      [`${m()}/readings?from=${day.from}&to=${day.from}`, /"to" must be after "from"/],
      [`${m()}/readings?from=${day.from}&to=2026-02-06T00:00:00Z`, /400 days/],
      [`${m()}/readings?from=${day.from}&to=${day.to}&foo=1`, /foo/],
      [`${m()}/readings?from=${day.from}&to=${day.to}&kind=daily`, /kind/],
      [`${m()}/readings?from=${day.from}&to=${day.to}&format=xml`, /format/],
      [`${m()}/readings?from=${day.from}&from=${day.from}&to=${day.to}`, /from/],
      [`${m()}/series?from=${day.from}&to=${day.to}&step=2h&obis=1-0:1.8.0`, /step/],
      [`${m()}/series?from=${day.from}&to=${day.to}&step=15m`, /obis/],
      [`${m()}/series?from=${day.from}&to=${day.to}&step=15m&obis=1.8.0`, /OBIS/],
      [`${m()}/series?from=${day.to}&to=${day.from}&step=1h&obis=1-0:1.8.0`, /after/],
      [`${m()}/series?from=${day.from}&to=2026-02-06T00:00:00Z&step=1d&obis=1-0:1.8.0`, /400 days/],
      [`${m()}/series?from=${day.from}&to=2025-07-01T00:00:00Z&step=15m&obis=1-0:1.8.0`, /intervals/],
      [`${m()}/series?from=${day.from}&to=${day.to}&step=1h&obis=1-0:1.8.0&window=3`, /window/],
    ];
    for (const [url, pattern] of cases) refused(await get(url, ADMIN), 400, pattern);
    // 400 days exactly is allowed.
    expect((await get(`${m()}/series?from=${day.from}&to=2026-02-05T00:00:00Z&step=1mo&obis=1-0:1.8.0`, ADMIN)).statusCode).toBe(200);
    expect((await get(`${m()}/readings?from=${day.from}&to=2026-02-05T00:00:00Z`, ADMIN)).statusCode).toBe(200);
  });

  it('OMDP: malformed JSON, unknown fields, invalid times and pages, bad cursors', async () => {
    const json = { 'content-type': 'application/json' };
    refused(await api('POST', '/v1/meterReadings', { token: ADMIN, raw: '{"from": "2025-01-01T00:00:00Z",', headers: json }), 400);
    refused(await api('POST', '/v1/meterReadings', { token: ADMIN, raw: '', headers: json }), 400);
    refused(await api('POST', '/v1/meterReadings', { token: ADMIN, raw: 'null', headers: json }), 400);
    refused(await api('POST', '/v1/meterReadings', { token: ADMIN, raw: '[]', headers: json }), 400);
    refused(await api('POST', '/v1/meterReadings', { token: ADMIN, raw: '{"__proto__": {"x": 1}, "from": "2025-01-01T00:00:00Z", "to": "2025-01-02T00:00:00Z"}', headers: json }), 400);
    const bodies: [unknown, RegExp][] = [
      [{ ...day, meterId: 'x' }, /meterId/],
      [{ ...day, page: { size: 20, offset: 40 } }, /offset/],
      [{ ...day, page: { size: 19 } }, /size/],
      [{ ...day, page: { size: 1001 } }, /size/],
      [{ ...day, page: { cursor: 'x' } }, /cursor/],
      [{ ...day, page: { cursor: Buffer.from('{"time":"soon"}').toString('base64url') } }, /cursor/],
      [{ ...day, properties: ['OBIS_1.8'] }, /properties/],
      [{ ...day, kind: 'daily' }, /kind/],
      [{ ...day, delivery: 'csv' }, /delivery/],
      [{ from: 'now', to: day.to }, /from/],
      [{ from: 1735689600000, to: day.to }, /from/],
      [{ from: day.to, to: day.from }, /after/],
      [{ from: day.from, to: '2026-02-06T00:00:00Z' }, /400 days/],
    ];
    for (const [body, pattern] of bodies) refused(await post('/v1/meterReadings', body, ADMIN), 400, pattern);
    refused(await api('POST', '/v1/meterReadings', { token: ADMIN, raw: '<q/>', headers: { 'content-type': 'application/xml' } }), 415);
    refused(await post('/v1/meterReadings', { ...day, meterIds: Array(1000).fill('m'.repeat(64)), pad: 'x'.repeat(10) }, ADMIN), 413);
  });

  it('DELETE: no id, an empty id, an id that is not a reading id (400)', async () => {
    refused(await api('DELETE', '/v1/meterReadings', { token: ADMIN }), 400, /id is required/);
    refused(await api('DELETE', '/v1/meterReadings?id=', { token: ADMIN }), 400, /id is required/);
    refused(await api('DELETE', '/v1/meterReadings?id=not-a-reading-id', { token: ADMIN }), 400, /not a reading id/);
    refused(await api('DELETE', `/v1/meterReadings?id=${Buffer.from(`${H[0].meterId}|hourly|1`).toString('base64url')}`, { token: ADMIN }), 400);
    refused(await api('DELETE', `/v1/meterReadings?id=${Buffer.from(`${H[0].meterId}|taf7|-5`).toString('base64url')}`, { token: ADMIN }), 400);
  });

  it('admin routes: missing, empty, unknown and invalid fields', async () => {
    refused(await post('/api/v1/admin/households', {}, ADMIN), 400, /name/);
    refused(await post('/api/v1/admin/households', { name: 'x'.repeat(101) }, ADMIN), 400, /name/);
    refused(await post('/api/v1/admin/households', { name: 'x', zone: 'America/New_York' }, ADMIN), 400, /zone/);
    refused(await post('/api/v1/admin/devices', {}, ADMIN), 400, /householdId/);
    refused(await post('/api/v1/admin/devices', { householdId: 'hh-none' }, ADMIN), 404, /no household/);
    refused(await post('/api/v1/admin/users', { role: 'household', name: 'x' }, ADMIN), 400, /role/);
  });
});

// ---------------------------------------------------------------- deleting readings (last: it changes the data)

describe('DELETE /v1/meterReadings', () => {
  const day = { from: iso(JAN(2)), to: iso(JAN(3)) };
  const readingsOf = async (h: Household) => (await allPages(h.token, day, 1000)).pages.flat();

  it('deletes exactly the reading with that id: gone from later queries, the rest unchanged', async () => {
    const h = H[0];
    const before = await readingsOf(h);
    // An hour of Jan 2 with readings an hour before and after it: its two hourly intervals become gaps.
    const has = (t: number) => before.some((r) => r.kind === 'taf7' && Date.parse(r.readingTime) === t);
    const t = [...Array(20).keys()].map((i) => JAN(2, i + 2)).find((x) => has(x - HOUR) && has(x) && has(x + HOUR))!;
    expect(t).toBeDefined();
    const victim = before.find((r) => r.kind === 'taf7' && Date.parse(r.readingTime) === t)!;
    expect((await api('DELETE', `/v1/meterReadings?id=${victim.id}`, { token: h.token })).json()).toEqual({ deleted: victim.id });
    expect(await readingsOf(h)).toEqual(before.filter((r) => r.id !== victim.id));
    // The query API agrees: the reading is gone and its boundary is a gap.
    const times = (await get(`/api/v1/meters/${h.meterId}/readings?from=${day.from}&to=${day.to}`, h.token)).json().readings.map((r: { time: string }) => r.time);
    expect(times).toHaveLength(before.length - 1);
    expect(times).not.toContain(iso(t));
    const series = (await get(`/api/v1/meters/${h.meterId}/series?from=${iso(t - HOUR)}&to=${iso(t + HOUR)}&step=1h&obis=1-0:1.8.0`, h.token)).json().series;
    expect(series.map((p: { value: number | null }) => p.value)).toEqual([null, null]);
    expect(series[0].flags).toEqual(['gap', `${iso(t)}: no reading`]);
    expect(series[1].flags).toEqual(['gap', `${iso(t)}: no reading`]);
    // Deleting it again, or a reading that never was: 404.
    refused(await api('DELETE', `/v1/meterReadings?id=${victim.id}`, { token: h.token }), 404, /no such reading/);
    refused(await api('DELETE', `/v1/meterReadings?id=${Buffer.from(`${h.meterId}|taf7|${t + 7 * 60000}`).toString('base64url')}`, { token: h.token }), 404);
    refused(await api('DELETE', `/v1/meterReadings?id=${Buffer.from(`NO-SUCH-METER|taf7|${JAN(2)}`).toString('base64url')}`, { token: ADMIN }), 404);
  });

  it("another household's reading: 404, and it stays", async () => {
    const before = await readingsOf(H[1]);
    refused(await api('DELETE', `/v1/meterReadings?id=${before[0].id}`, { token: H[0].token }), 404);
    expect(await readingsOf(H[1])).toEqual(before);
  });

  it('a meter id holding "|" still has deletable readings; the admin may delete any reading', async () => {
    const h = H[3];
    const before = await readingsOf(h);
    expect(decoded(before[0].id).startsWith(`${h.meterId}|`)).toBe(true);
    expect((await api('DELETE', `/v1/meterReadings?id=${before[0].id}`, { token: h.token })).statusCode).toBe(200);
    expect((await api('DELETE', `/v1/meterReadings?id=${before[1].id}`, { token: ADMIN })).statusCode).toBe(200);
    expect(await readingsOf(h)).toEqual(before.slice(2));
  });

  it('a research bulk link delivers nothing once deletions leave fewer than 20 readings', async () => {
    // The shortest range from JAN(4) with at least 20 readings over all households.
    let to = JAN(4) + QUARTER;
    while (expectedOmdp(H, JAN(4), to).length < 20) to += QUARTER;
    const q = { from: iso(JAN(4)), to: iso(to) };
    const res = await post('/v1/meterReadings', { ...q, delivery: 'bulk' }, RESEARCH);
    expect(res.statusCode, res.body).toBe(202);
    const path = new URL(res.json().bulkDownload.url).pathname;
    expect((await get(path)).statusCode).toBe(200);
    const rows = (await allPages(ADMIN, q, 1000)).pages.flat();
    for (const r of rows.slice(0, rows.length - 19)) expect((await api('DELETE', `/v1/meterReadings?id=${r.id}`, { token: ADMIN })).statusCode).toBe(200);
    refused(await get(path), 403, /privacy/);
  });
});
