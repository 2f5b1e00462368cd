// The backend's HTTP API (fastify): device ingest over mutual TLS, the admin's
// registry and enrolment, the query API with CSV export, and the Open Meter
// Data Platform interfaces. backend/openapi.json describes every route and
// is served at /openapi.json.
//
// Bad input never costs more than a 4xx with a reason: bodies are bounded,
// every field is validated (zod for JSON, the batch decoder and
// validate.ts for batches), and no handler trusts what it has not checked.

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { BATCH_CONTENT_TYPE, BATCH_CONTENT_TYPE_V1, BatchError, decodeBatch } from '../src/formats/batch';
import { isKnownZone, isoUtc, utcOffset } from '../src/time/zone';
import { EVENT_KINDS, type EventKind, type SeriesKind } from '../src/formats/entries';
import { HttpError, identify, allow, type Caller } from './auth';
import { consumption, boundaries, STEPS, MAX_INTERVALS, type Step } from './series';
import { LIVE_KEEP_MS, METER_ROLES, MeterConflict, meterIdOf, newId, newToken, type Meter, type MeterRole, type Store, type StoredReading } from './store';
import { LIVE_CHANNELS, LIVE_UNITS } from '../src/formats/live';
import { problemWith } from './validate';
import {
  addDays, addMonths, alertSettingsSchema, byDay, cost, evaluateAlerts, NO_ALERTS, type AlertSettings, dashboardFiles, dateOf, DEFAULT_TARIFF, EXPORT, flow, generationTotals, IMPORT, kWhSeries, localDay,
  selfConsumption, sumSeries, tariffSchema, totals, type Tariff,
} from './dashboard';
import type { Pki } from './pki';
import { migrateReleases, Releases, releaseRoutes } from './releases';
import openapiDocument from './openapi.json';

export interface ServerOptions {
  store: Store;
  pki: Pki;
  /** The address devices and clients reach this backend at (for enrolment bundles and download links); known once it listens. */
  publicUrl: () => string;
  /** false: plain HTTP behind a proxy that terminates TLS (devices use tokens). */
  tls: boolean;
  logger?: boolean;
  /** The time readings are checked against (the simulator's virtual clock; Date.now otherwise). */
  now?: () => number;
}

/** Strict-Transport-Security on every HTTPS response: one year. */
export const HSTS = 'max-age=31536000';
/** Largest request body: a batch is 2 KB; JSON requests are small. */
export const BODY_LIMIT = 64 * 1024;
const ZONE_DEFAULT = 'Europe/Berlin';
/** Most events one request returns. */
const MAX_EVENTS = 500;
/** Third-party (research) results hold at least this many readings of at least this many households. */
export const PRIVACY_MIN_ROWS = 20;
export const PRIVACY_MIN_HOUSEHOLDS = 5;
const BULK_VALID_MS = 3600000;
/** A live push: at most this many values (a minute of 1-s values, twice over) in this many bytes. */
const MAX_LIVE_VALUES = 120;
const LIVE_BODY_LIMIT = 16 * 1024;
/** A device clock this far ahead of the backend's is wrong, not early. */
const LIVE_AHEAD_MS = 5 * 60000;
/** The Live view polls every few seconds; the device is told it is watched for this long after the last poll. */
const LIVE_WATCH_MS = 2 * 60000;
/** A live value this old is still the overview's "current power" (unwatched devices push once a minute). */
const LIVE_FRESH_MS = 3 * 60000;

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller;
  }
}

// With Z or an offset: Date.parse reads a time without one in the server process's own zone.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;
const iso = z.string().refine((s) => ISO_TIME.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 time with Z or an offset (2025-06-02T00:00:00Z)');
const KINDS: { [k: string]: SeriesKind[] } = { taf7: ['taf7'], taf6: ['daily', 'demand'], daily: ['daily'], demand: ['demand'] };

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new HttpError(400, `invalid ${what}: ${r.error.issues.map((i) => `${i.path.join('.') || what}: ${i.message}`).join('; ')}`);
  return r.data;
}

function range(q: { from: string; to: string }): { from: number; to: number } {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (!(to > from)) throw new HttpError(400, '"to" must be after "from"');
  if (to - from > 400 * 86400000) throw new HttpError(400, 'at most 400 days per query');
  return { from, to };
}

/** OBIS "1-0:1.8.0" as an Open Meter Data Platform property id "OBIS_1.8.0" (and back). */
export function propertyId(obis: string): string {
  return 'OBIS_' + obis.replace(/^\d+-\d+:/, '');
}

function localIso(t: number, zone: string): string {
  const offset = utcOffset(zone, t);
  const local = new Date(t + offset * 60000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

function flagsOf(r: StoredReading): string[] {
  const flags: string[] = [];
  if (r.kind === 'daily') flags.push('daily');
  if (r.kind === 'demand') flags.push('on-demand');
  if (r.source === 'meter') flags.push('timed-by-meter-clock');
  if (r.offset !== 0) flags.push(`capture-offset:${r.offset > 0 ? '+' : ''}${r.offset}s`);
  return flags;
}

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csv(rows: unknown[][]): string {
  return rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function wantsCsv(request: FastifyRequest, format?: string): boolean {
  return format === 'csv' || (!format && /text\/csv/.test(request.headers.accept ?? ''));
}

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const { store, pki } = o;
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: o.logger ? { redact: ['req.headers.authorization'] } : false,
    https: o.tls
      ? {
          key: pki.server.key,
          cert: pki.serverChain(),
          ca: [pki.ca.certificate],
          // Asked for, checked per route: people use tokens, devices certificates.
          requestCert: true,
          rejectUnauthorized: false,
          minVersion: 'TLSv1.2',
        }
      : null,
  }) as unknown as FastifyInstance;
  /** The backend's time in whole ms (a simulation's clock has fractions; the database keeps BIGINT). */
  const clock = () => Math.floor((o.now ?? Date.now)());
  const serverKey = await store.secret('server-key');
  const openapi = JSON.stringify(openapiDocument);

  if (o.tls) {
    // Every HTTPS answer, errors and 404s too: a browser that once reached the backend over HTTPS never
    // falls back to plain HTTP for it (RFC 6797). Not includeSubDomains: the backend cannot know what else
    // runs under its host's domain. Behind a TLS-terminating proxy (tls false) the proxy sends it.
    app.addHook('onSend', async (_request, reply) => {
      reply.header('strict-transport-security', HSTS);
    });
  }

  app.addContentTypeParser([BATCH_CONTENT_TYPE, BATCH_CONTENT_TYPE_V1, 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, _request, reply) => {
    if (error instanceof HttpError) return reply.code(error.status).send({ error: error.message, ...(error.details ? { details: error.details } : {}) });
    if (error instanceof MeterConflict) return reply.code(409).send({ error: error.message });
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: `request body larger than ${BODY_LIMIT} bytes` });
    if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) return reply.code(error.statusCode).send({ error: error.message });
    app.log.error(error);
    return reply.code(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));

  const authed = async (request: FastifyRequest) => {
    request.caller = await identify(request, store);
  };

  // Firmware releases, rollouts and the devices' downloads (backend/releases.ts, docs/ota.md).
  await migrateReleases(store.db);
  const releases = new Releases(store.db);
  releaseRoutes(app, { store, releases, authed, clock });

  /** The meters a caller may see one by one: all for the admin, its own for a household. */
  const visibleMeter = async (caller: Caller, id: string): Promise<Meter> => {
    allow(caller, 'admin', 'household');
    const m = await store.meter(id);
    if (!m || (caller.role === 'household' && m.householdId !== caller.householdId)) throw new HttpError(404, `no meter ${id}`);
    return m;
  };
  const zoneOf = async (m: Meter) => (await store.household(m.householdId))?.zone ?? ZONE_DEFAULT;

  // The process that answered (several share the port when scaled out).
  app.get('/health', async () => ({ ok: true, pid: process.pid }));
  app.get('/openapi.json', async (_q, reply) => reply.type('application/json').send(openapi));

  // ---- devices ----

  app.post('/api/v1/ingest', { onRequest: authed }, async (request, reply) => {
    allow(request.caller, 'device');
    const device = request.caller.device!;
    if (!Buffer.isBuffer(request.body)) throw new HttpError(415, `send the batch as ${BATCH_CONTENT_TYPE}`);
    let batch;
    try {
      batch = decodeBatch(new Uint8Array(request.body));
    } catch (e) {
      if (e instanceof BatchError) throw new HttpError(400, 'malformed batch: ' + e.message);
      throw e;
    }
    if (batch.deviceId !== device.id) throw new HttpError(403, `the batch is from device ${batch.deviceId}, the credential is device ${device.id}'s`);
    const now = clock();
    for (const e of batch.entries) {
      const problem = problemWith(e, now);
      if (problem) throw new HttpError(422, 'batch refused: ' + problem);
    }
    const result = await store.ingest(device, batch.entries);
    await noteReport(request, device.id, now);
    // An update waiting for the device rides on the acknowledgement (src/ota/updater.ts).
    const firmware = request.headers['smgw-firmware'];
    const update = await releases.offerFor(device, typeof firmware === 'string' ? firmware : null);
    return reply.code(200).send(update ? { ...result, update } : result);
  });

  /**
   * What a device says of itself in every request's headers (smgw-firmware,
   * smgw-backlog), for the admin's device list. Informative only: a malformed
   * value is left out, the request is not refused for it.
   */
  const noteReport = async (request: FastifyRequest, deviceId: string, now: number) => {
    const firmware = request.headers['smgw-firmware'];
    const backlog = request.headers['smgw-backlog'];
    if (typeof firmware !== 'string' || !/^[\x21-\x7e]{1,32}$/.test(firmware)) return;
    if (typeof backlog !== 'string' || !/^\d{1,9}$/.test(backlog)) return;
    try {
      await store.reportStatus(deviceId, { firmware, backlog: Number(backlog), reportedAt: now });
    } catch (e) {
      // What was delivered is stored: a status that could not be kept must not turn that into an error.
      request.log.error(e);
    }
  };

  // The live channel: TAF 14 values a device pushes while online (docs/dashboard.md, Live).
  const liveValue = z.object({ time: z.number().int(), ...Object.fromEntries(LIVE_CHANNELS.map((c) => [c, z.number().finite().optional()])) }).strict();
  const liveBody = z
    .object({
      deviceId: z.string().min(1).max(64),
      meterId: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'printable ASCII, 1 to 64 characters').nullable(),
      interval: z.number().int().min(1).max(3600),
      values: z.array(liveValue).min(1).max(MAX_LIVE_VALUES),
    })
    .strict();
  app.post('/api/v1/live', { onRequest: authed, bodyLimit: LIVE_BODY_LIMIT }, async (request) => {
    allow(request.caller, 'device');
    const device = request.caller.device!;
    const body = parse(liveBody, request.body, 'live push');
    if (body.deviceId !== device.id) throw new HttpError(403, `the push is from device ${body.deviceId}, the credential is device ${device.id}'s`);
    const now = clock();
    const ahead = body.values.find((v) => v.time > now + LIVE_AHEAD_MS);
    if (ahead) throw new HttpError(422, `live value at ${isoUtc(ahead.time)} is in the future (the backend's time is ${isoUtc(now)}): is the device's clock right?`);
    // Values older than the Live view's window (a device that could not push for a while) are dropped, not refused.
    const rows = body.values.filter((v) => v.time >= now - LIVE_KEEP_MS).map(({ time, ...values }) => ({ time, values: values as { [channel: string]: number } }));
    const result = await store.addLive(device, meterIdOf(body.meterId, device.id), rows, now);
    await noteReport(request, device.id, now);
    return result;
  });

  // ---- admin: registry and enrolment ----

  const householdBody = z.object({ name: z.string().min(1).max(100), zone: z.string().refine(isKnownZone, 'a supported time zone').optional() }).strict();
  app.post('/api/v1/admin/households', { onRequest: authed }, async (request, reply) => {
    allow(request.caller, 'admin');
    const body = parse(householdBody, request.body, 'household');
    const household = { id: newId('hh'), name: body.name, zone: body.zone ?? ZONE_DEFAULT };
    await store.createHousehold(household);
    const token = newToken();
    await store.addCredential(token, { kind: 'household', subject: household.id, name: body.name });
    return reply.code(201).send({ household, token });
  });
  app.get('/api/v1/admin/households', { onRequest: authed }, async (request) => {
    allow(request.caller, 'admin');
    return { households: await store.households() };
  });

  const deviceBody = z.object({ householdId: z.string().min(1).max(64), auth: z.enum(['certificate', 'token']).default('certificate') }).strict();
  app.post('/api/v1/admin/devices', { onRequest: authed }, async (request, reply) => {
    allow(request.caller, 'admin');
    const body = parse(deviceBody, request.body ?? {}, 'device');
    if (!(await store.household(body.householdId))) throw new HttpError(404, `no household ${body.householdId}`);
    const id = newId('smgw');
    const bundle: Record<string, unknown> = { version: 1, deviceId: id, url: o.publicUrl(), auth: body.auth, ca: Buffer.from(pkiDer(pki.serverCa)).toString('base64') };
    if (body.auth === 'certificate') {
      const credential = await pki.issueDevice(id);
      await store.createDevice({ id, householdId: body.householdId, auth: 'certificate', certFingerprint: credential.fingerprint, token: null });
      bundle.certificate = Buffer.from(credential.certificate).toString('base64');
      bundle.key = Buffer.from(credential.key).toString('base64');
    } else {
      const token = newToken();
      await store.createDevice({ id, householdId: body.householdId, auth: 'token', certFingerprint: null, token });
      bundle.token = token;
    }
    // The key (or token) is in this response only: the backend keeps its fingerprint (or hash).
    return reply.code(201).header('cache-control', 'no-store').send(bundle);
  });
  app.get('/api/v1/admin/devices', { onRequest: authed }, async (request) => {
    allow(request.caller, 'admin');
    const chains = await store.eventChains();
    const statuses = await store.deviceStatuses();
    const devices = await store.devices();
    const updates = await releases.lastUpdateEvents();
    return {
      devices: devices.map((d) => {
        const s = statuses.get(d.id);
        const u = updates.get(d.id);
        return {
          ...d,
          // As the device last said (with its last delivery or live push); null before it said anything.
          firmware: s?.firmware ?? null,
          backlog: s?.backlog ?? null,
          reportedAt: s ? isoUtc(s.reportedAt) : null,
          eventChain: chains.get(d.id) ?? { status: 'none', events: 0, last: null, breaks: 0, firstBreak: null },
          // The device's newest firmware-update event (offered, refused, installed, self-test, rolled back).
          update: u ? { seq: u.seq, time: u.time === null ? null : isoUtc(u.time), message: u.message } : null,
        };
      }),
    };
  });
  app.post<{ Params: { id: string } }>('/api/v1/admin/devices/:id/revoke', { onRequest: authed }, async (request) => {
    allow(request.caller, 'admin');
    const device = await store.device(request.params.id);
    if (!device) throw new HttpError(404, `no device ${request.params.id}`);
    await store.revokeDevice(device.id);
    return { revoked: device.id };
  });
  const userBody = z.object({ role: z.literal('research'), name: z.string().min(1).max(100) }).strict();
  app.post('/api/v1/admin/users', { onRequest: authed }, async (request, reply) => {
    allow(request.caller, 'admin');
    const body = parse(userBody, request.body, 'user');
    const token = newToken();
    await store.addCredential(token, { kind: 'research', subject: null, name: body.name });
    return reply.code(201).send({ role: body.role, name: body.name, token });
  });

  // ---- the devices' event logs ----

  const eventsQuery = z
    .object({
      kind: z.string().regex(new RegExp(`^(${EVENT_KINDS.join('|')})(,(${EVENT_KINDS.join('|')}))*$`), `event kinds, comma-separated: ${EVENT_KINDS.join(', ')}`).optional(),
      from: z.coerce.number().int().min(0).optional(),
      limit: z.coerce.number().int().min(1).max(MAX_EVENTS).optional(),
    })
    .strict();
  app.get<{ Params: { deviceId: string } }>('/api/v1/devices/:deviceId/events', { onRequest: authed }, async (request) => {
    const caller = request.caller;
    allow(caller, 'admin', 'household');
    const device = await store.device(request.params.deviceId);
    if (!device || (caller.role === 'household' && device.householdId !== caller.householdId)) throw new HttpError(404, `no device ${request.params.deviceId}`);
    const q = parse(eventsQuery, request.query, 'query');
    const limit = q.limit ?? MAX_EVENTS;
    // One more than asked for says whether there is a next page.
    const rows = await store.events(device.id, { from: q.from ?? 0, limit: limit + 1, kinds: q.kind ? (q.kind.split(',') as EventKind[]) : [] });
    const next = rows.length > limit ? rows[limit].seq : null;
    return { deviceId: device.id, chain: await store.eventChain(device.id), events: rows.slice(0, limit), next };
  });

  // ---- query API ----

  app.get('/api/v1/meters', { onRequest: authed }, async (request) => {
    allow(request.caller, 'admin', 'household');
    const meters = await store.meters(request.caller.role === 'household' ? request.caller.householdId! : undefined);
    const roles = await store.meterRoles(meters.map((m) => m.id));
    return { meters: meters.map((m) => ({ id: m.id, householdId: m.householdId, deviceId: m.deviceId, role: roles.get(m.id) ?? 'grid', firstSeen: isoUtc(m.firstSeen), lastSeen: isoUtc(m.lastSeen) })) };
  });

  // What a meter measures: the household says which of its meters is a PV generation meter.
  const roleBody = z.object({ role: z.enum(METER_ROLES as [MeterRole, ...MeterRole[]]) }).strict();
  app.post<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/role', { onRequest: authed }, async (request) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const { role } = parse(roleBody, request.body, 'role');
    await store.setMeterRole(meter.id, role);
    return { meterId: meter.id, role };
  });

  const readingsQuery = z.object({ from: iso, to: iso, kind: z.enum(['taf7', 'taf6']).optional(), format: z.enum(['json', 'csv']).optional() }).strict();
  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/readings', { onRequest: authed }, async (request, reply) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(readingsQuery, request.query, 'query');
    const { from, to } = range(q);
    const kinds = q.kind ? KINDS[q.kind] : (['taf7', 'daily', 'demand'] as SeriesKind[]);
    const readings = await store.readings(meter.id, from, to, kinds);
    const gaps = await store.gaps(meter.id, from, to, kinds);
    const out = readings.map((r) => ({ time: isoUtc(r.time), kind: r.kind === 'taf7' ? 'taf7' : 'taf6', values: r.values, flags: flagsOf(r) }));
    const gapsOut = gaps.map((g) => ({ from: isoUtc(g.first), to: isoUtc(g.last), count: g.count, kind: g.kind === 'taf7' ? 'taf7' : 'taf6', reason: g.reason }));
    if (wantsCsv(request, q.format)) {
      const obis = [...new Set(readings.flatMap((r) => Object.keys(r.values)))];
      const rows: unknown[][] = [['time', 'kind', ...obis.map((k) => `${k} (${readings.find((r) => r.values[k])!.values[k].unit})`), 'flags']];
      for (const r of out) rows.push([r.time, r.kind, ...obis.map((k) => r.values[k]?.value ?? ''), r.flags.join(' ')]);
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${meter.id}-readings.csv"`).send(csv(rows));
    }
    return { meterId: meter.id, readings: out, gaps: gapsOut };
  });

  const seriesQuery = z.object({ from: iso, to: iso, step: z.enum(STEPS as [Step, ...Step[]]), obis: z.string().regex(/^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'an OBIS code such as 1-0:1.8.0'), format: z.enum(['json', 'csv']).optional() }).strict();
  /** Consumption series of one or more registers of a meter over [from, to] at a step, from one read of the readings. */
  const seriesOf = async (meter: Meter, zone: string, from: number, to: number, step: Step, obis: string[]) => {
    const points = boundaries(from, to, step, zone);
    if (points.length - 1 > MAX_INTERVALS) throw new HttpError(400, `more than ${MAX_INTERVALS} intervals: a longer step or a shorter range`);
    const daily = step === '1d' || step === '1mo';
    const end = points.length ? points[points.length - 1] + 1 : to;
    let readings: StoredReading[];
    if (daily) {
      // The daily readings, and a quarter-hour reading only where a midnight has no daily one.
      readings = await store.readings(meter.id, points[0] ?? from, end, ['daily']);
      const have = new Set(readings.map((r) => r.time));
      readings.push(...(await store.readingsAt(meter.id, 'taf7', points.filter((t) => !have.has(t)))));
    } else {
      readings = await store.readings(meter.id, points[0] ?? from, end, ['taf7']);
    }
    const gaps = await store.gaps(meter.id, points[0] ?? from, end, daily ? ['daily', 'taf7'] : ['taf7']);
    const stepMs = step === '15m' ? 900000 : step === '1h' ? 3600000 : null;
    return obis.map((code) => consumption(points, readings, gaps, code, stepMs));
  };

  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/series', { onRequest: authed }, async (request, reply) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(seriesQuery, request.query, 'query');
    const { from, to } = range(q);
    const zone = await zoneOf(meter);
    const [{ unit, series }] = await seriesOf(meter, zone, from, to, q.step, [q.obis]);
    if (wantsCsv(request, q.format)) {
      const rows: unknown[][] = [['from', 'to', `${q.obis} (${unit ?? ''})`, 'flags'], ...series.map((p) => [p.from, p.to, p.value ?? '', p.flags.join(' ')])];
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${meter.id}-series.csv"`).send(csv(rows));
    }
    return { meterId: meter.id, obis: q.obis, unit, step: q.step, zone, series };
  });

  // ---- the household dashboard: aggregated at the resolution it shows ----

  const tariffOf = async (householdId: string): Promise<{ tariff: Tariff; stored: boolean }> => {
    const text = await store.tariff(householdId);
    return text ? { tariff: JSON.parse(text) as Tariff, stored: true } : { tariff: DEFAULT_TARIFF, stored: false };
  };
  /** The local day asked for, or the day of the meter's newest quarter-hour reading (today when it has none). */
  const dayOf = async (meter: Meter, zone: string, date: string | undefined): Promise<{ day: number; latest: number | null }> => {
    const latest = await store.latestReading(meter.id, 'taf7');
    if (date === undefined) return { day: addDays(zone, latest ?? clock(), 0), latest };
    const day = localDay(zone, date);
    if (day === null) throw new HttpError(400, `invalid query: date: a calendar date YYYY-MM-DD between 2000 and 2100; got "${date}"`);
    return { day, latest };
  };
  const quarterFlow = async (meter: Meter, zone: string, from: number, to: number) => {
    const [imp, exp] = await seriesOf(meter, zone, from, to, '15m', [IMPORT, EXPORT]);
    return flow(imp, exp);
  };
  const dateParam = z.string().max(10).optional();

  /** The newest live value's net power, when it is recent enough to be "now". */
  const currentPower = async (meterId: string): Promise<{ time: string; power: number; unit: 'W' } | null> => {
    const latest = await store.latestLive(meterId);
    const now = clock();
    if (!latest || latest.values.p === undefined || now - latest.time > LIVE_FRESH_MS) return null;
    return { time: isoUtc(latest.time), power: latest.values.p, unit: 'W' };
  };
  const overviewQuery = z.object({ date: dateParam }).strict();
  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/overview', { onRequest: authed }, async (request) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(overviewQuery, request.query, 'query');
    const zone = await zoneOf(meter);
    const { day, latest } = await dayOf(meter, zone, q.date);
    const { tariff } = await tariffOf(meter.householdId);
    const dayEnd = addDays(zone, day, 1);
    // Up to the newest reading when it falls in the day; the comparison periods cover as much of theirs.
    const cut = latest !== null && latest > day && latest < dayEnd ? latest : dayEnd;
    const month = addMonths(zone, day, 0);
    const period = async (name: string, from: number, to: number, days = false) => {
      const f = await quarterFlow(meter, zone, from, to);
      return { period: name, from: isoUtc(from), to: isoUtc(to), ...totals(f), cost: cost(f, tariff, zone), ...(days ? { days: byDay(f, zone) } : {}) };
    };
    const elapsedDay = cut - day;
    const elapsedMonth = cut - month;
    const capped = (start: number, length: number, end: number) => Math.min(start + length, end);
    const lastWeek = addDays(zone, day, -7);
    const lastMonth = addMonths(zone, day, -1);
    const lastYearMonth = addMonths(zone, month, -12);
    return {
      meterId: meter.id,
      zone,
      date: dateOf(zone, day),
      latestReading: latest === null ? null : isoUtc(latest),
      unit: 'kWh',
      tariff,
      current: await currentPower(meter.id),
      today: await period('today', day, cut),
      sameDayLastWeek: await period('same day last week', lastWeek, lastWeek + elapsedDay),
      month: await period('this month', month, cut, true),
      lastMonth: await period('same days of last month', lastMonth, capped(lastMonth, elapsedMonth, month)),
      lastYear: await period('same days of this month last year', lastYearMonth, capped(lastYearMonth, elapsedMonth, addMonths(zone, lastYearMonth, 1))),
    };
  });

  const liveQuery = z.object({ since: iso.optional() }).strict();
  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/live', { onRequest: authed }, async (request) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(liveQuery, request.query, 'query');
    const now = clock();
    // Asking is watching: the device's next pushes come every few seconds instead of once a minute.
    await store.watchLive(meter.id, now + LIVE_WATCH_MS);
    const since = Math.max(q.since === undefined ? -Infinity : Date.parse(q.since), now - LIVE_KEEP_MS);
    const rows = await store.liveValues(meter.id, since);
    return {
      meterId: meter.id,
      zone: await zoneOf(meter),
      now: isoUtc(now),
      keptSeconds: LIVE_KEEP_MS / 1000,
      units: LIVE_UNITS,
      values: rows.map((r) => ({ time: isoUtc(r.time), ...r.values })),
    };
  });

  const profileQuery = z.object({ date: dateParam, days: z.enum(['1', '7']).optional(), format: z.enum(['json', 'csv']).optional() }).strict();
  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/profile', { onRequest: authed }, async (request, reply) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(profileQuery, request.query, 'query');
    const zone = await zoneOf(meter);
    const { day } = await dayOf(meter, zone, q.date);
    const days = Number(q.days ?? '1');
    const end = addDays(zone, day, days);
    const f = await quarterFlow(meter, zone, day, end);
    if (wantsCsv(request, q.format)) {
      const rows: unknown[][] = [['from', `${IMPORT} (kWh)`, `${EXPORT} (kWh)`], ...f.t.map((t, i) => [isoUtc(t * 1000), f.import[i] ?? '', f.export[i] ?? ''])];
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${meter.id}-profile.csv"`).send(csv(rows));
    }
    return { meterId: meter.id, zone, date: dateOf(zone, day), days, step: '15m', unit: 'kWh', from: isoUtc(day), to: isoUtc(end), ...f, totals: totals(f) };
  });

  const historyQuery = z.object({ step: z.enum(['1d', '1mo']), date: dateParam, format: z.enum(['json', 'csv']).optional() }).strict();
  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/history', { onRequest: authed }, async (request, reply) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(historyQuery, request.query, 'query');
    const zone = await zoneOf(meter);
    const { day } = await dayOf(meter, zone, q.date);
    // The year up to and including the day (days) or its month (months).
    const [from, to] = q.step === '1d' ? [addDays(zone, day, -364), addDays(zone, day, 1)] : [addMonths(zone, day, -11), addMonths(zone, day, 1)];
    const [imp, exp] = await seriesOf(meter, zone, from, to, q.step, [IMPORT, EXPORT]);
    const f = flow(imp, exp);
    // Generation: a generation meter's own export; for a grid meter, the export of the household's generation meters
    // over the same intervals, and self-consumption from both.
    const household = await store.meters(meter.householdId);
    const roles = await store.meterRoles(household.map((m) => m.id));
    const role = roles.get(meter.id) ?? 'grid';
    const pvMeters = role === 'generation' ? [] : household.filter((m) => roles.get(m.id) === 'generation');
    const generationMeters = role === 'generation' ? [meter.id] : pvMeters.map((m) => m.id);
    let pv: { generation: (number | null)[]; selfConsumption?: (number | null)[] } | null = null;
    if (role === 'generation') pv = { generation: f.export };
    else if (pvMeters.length) {
      const series = [];
      for (const m of pvMeters) series.push(kWhSeries((await seriesOf(m, zone, from, to, q.step, [EXPORT]))[0]));
      const generation = sumSeries(series, f.t.length);
      pv = { generation, selfConsumption: selfConsumption(f, generation) };
    }
    if (wantsCsv(request, q.format)) {
      const head = ['from', `${IMPORT} (kWh)`, `${EXPORT} (kWh)`, ...(pv ? ['generation (kWh)'] : []), ...(pv?.selfConsumption ? ['self-consumption (kWh)'] : [])];
      const rows: unknown[][] = [head, ...f.t.map((t, i) => [isoUtc(t * 1000), f.import[i] ?? '', f.export[i] ?? '', ...(pv ? [pv.generation[i] ?? ''] : []), ...(pv?.selfConsumption ? [pv.selfConsumption[i] ?? ''] : [])])];
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${meter.id}-history-${q.step}.csv"`).send(csv(rows));
    }
    return {
      meterId: meter.id,
      role,
      zone,
      date: dateOf(zone, day),
      step: q.step,
      unit: 'kWh',
      from: isoUtc(from),
      to: isoUtc(to),
      ...f,
      totals: totals(f),
      ...(pv ? { generationMeters, ...pv, generationTotals: generationTotals(f, pv.generation, pv.selfConsumption ?? null) } : {}),
    };
  });

  /** A household's own (household user) or any (admin). */
  const visibleHousehold = async (caller: Caller, id: string) => {
    allow(caller, 'admin', 'household');
    if (caller.role === 'household' && caller.householdId !== id) throw new HttpError(404, `no household ${id}`);
    const h = await store.household(id);
    if (!h) throw new HttpError(404, `no household ${id}`);
    return h;
  };
  app.get<{ Params: { householdId: string } }>('/api/v1/households/:householdId/tariff', { onRequest: authed }, async (request) => {
    const h = await visibleHousehold(request.caller, request.params.householdId);
    return { householdId: h.id, ...(await tariffOf(h.id)) };
  });
  app.post<{ Params: { householdId: string } }>('/api/v1/households/:householdId/tariff', { onRequest: authed }, async (request) => {
    const h = await visibleHousehold(request.caller, request.params.householdId);
    const tariff = parse(tariffSchema, request.body, 'tariff');
    await store.setTariff(h.id, JSON.stringify(tariff));
    return { householdId: h.id, tariff, stored: true };
  });

  const alertSettingsOf = async (householdId: string): Promise<{ settings: AlertSettings; stored: boolean }> => {
    const text = await store.alertSettings(householdId);
    return text ? { settings: JSON.parse(text) as AlertSettings, stored: true } : { settings: NO_ALERTS, stored: false };
  };
  app.get<{ Params: { householdId: string } }>('/api/v1/households/:householdId/alert-settings', { onRequest: authed }, async (request) => {
    const h = await visibleHousehold(request.caller, request.params.householdId);
    return { householdId: h.id, ...(await alertSettingsOf(h.id)) };
  });
  app.post<{ Params: { householdId: string } }>('/api/v1/households/:householdId/alert-settings', { onRequest: authed }, async (request) => {
    const h = await visibleHousehold(request.caller, request.params.householdId);
    const settings = parse(alertSettingsSchema, request.body, 'alert settings');
    await store.setAlertSettings(h.id, JSON.stringify(settings));
    return { householdId: h.id, settings, stored: true };
  });
  const alertsQuery = z.object({ date: dateParam }).strict();
  app.get<{ Params: { meterId: string } }>('/api/v1/meters/:meterId/alerts', { onRequest: authed }, async (request) => {
    const meter = await visibleMeter(request.caller, request.params.meterId);
    const q = parse(alertsQuery, request.query, 'query');
    const zone = await zoneOf(meter);
    const { day, latest } = await dayOf(meter, zone, q.date);
    // The seven days up to and including the day.
    const from = addDays(zone, day, -6);
    const to = addDays(zone, day, 1);
    const { settings } = await alertSettingsOf(meter.householdId);
    const f = await quarterFlow(meter, zone, from, to);
    const alerts = evaluateAlerts(f, zone, settings, latest, clock());
    return { meterId: meter.id, zone, from: isoUtc(from), to: isoUtc(to), settings, alerts };
  });

  // The web app: its files and uPlot's, same origin, nothing loaded from elsewhere.
  const files = dashboardFiles();
  const page = (reply: FastifyReply, name: string) => {
    const f = files.get(name);
    if (!f) throw new HttpError(404, `no file ${name}`);
    return reply
      .type(f.type)
      .header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-cache')
      .send(f.body);
  };
  app.get('/', async (_request, reply) => page(reply, 'index.html'));
  app.get<{ Params: { file: string } }>('/dashboard/:file', async (request, reply) => page(reply, request.params.file === 'index.html' ? '' : request.params.file));

  // ---- Open Meter Data Platform ----

  const meterReadingsBody = z
    .object({
      meterIds: z.array(z.string().min(1).max(64)).max(1000).optional(),
      from: iso,
      to: iso,
      properties: z.array(z.string().regex(/^OBIS_\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'OBIS_C.D.E')).max(32).optional(),
      kind: z.enum(['taf7', 'taf6']).optional(),
      page: z.object({ size: z.number().int().min(PRIVACY_MIN_ROWS).max(1000).default(100), cursor: z.string().max(400).optional() }).strict().optional(),
      delivery: z.enum(['json', 'bulk']).default('json'),
    })
    .strict();

  type ReadingsQuery = z.infer<typeof meterReadingsBody>;

  /** The meters a query covers for the caller, and how their ids are shown (research: pseudonyms). */
  const scope = async (caller: Caller, q: ReadingsQuery): Promise<{ meters: Meter[]; name: (id: string) => string }> => {
    allow(caller, 'admin', 'household', 'research');
    let meters = await store.meters(caller.role === 'household' ? caller.householdId! : undefined);
    if (q.meterIds) {
      const wanted = new Set(q.meterIds);
      const visible = caller.role === 'research' ? meters.filter((m) => wanted.has(pseudonym(serverKey, m.id))) : meters.filter((m) => wanted.has(m.id));
      if (visible.length !== wanted.size) throw new HttpError(404, 'a meter in meterIds does not exist or is not visible to the caller');
      meters = visible;
    }
    return { meters, name: caller.role === 'research' ? (id) => pseudonym(serverKey, id) : (id) => id };
  };

  const omdpReading = (r: StoredReading, zone: string, name: (id: string) => string, properties?: string[]) => ({
    // Named as the caller sees the meter: a research caller's ids hold the pseudonym, not the meter id.
    id: readingId({ ...r, meterId: name(r.meterId) }),
    meterId: name(r.meterId),
    readingTime: localIso(r.time, zone),
    kind: r.kind === 'taf7' ? 'taf7' : 'taf6',
    flags: flagsOf(r),
    propertyValues: Object.entries(r.values)
      .map(([obis, v]) => ({ propertyId: propertyId(obis), value: v.value, unit: v.unit }))
      .filter((p) => !properties || properties.includes(p.propertyId)),
  });

  const zones = async (meters: Meter[]) => {
    const out = new Map<string, string>();
    for (const m of meters) out.set(m.id, await zoneOf(m));
    return out;
  };

  /** Third parties: at least 20 readings of at least 5 households, or nothing. */
  const privacy = async (caller: Caller, meters: Meter[], from: number, to: number, kinds: SeriesKind[], properties?: string[]) => {
    if (caller.role !== 'research') return;
    const e = await store.extent(meters.map((m) => m.id), from, to, kinds, properties);
    if (e.rows < PRIVACY_MIN_ROWS || e.households < PRIVACY_MIN_HOUSEHOLDS) {
      throw new HttpError(403, `privacy: a third-party query must cover at least ${PRIVACY_MIN_ROWS} readings of at least ${PRIVACY_MIN_HOUSEHOLDS} households`);
    }
  };

  app.post('/v1/meterReadings', { onRequest: authed }, async (request, reply) => {
    const q = parse(meterReadingsBody, request.body, 'meterReadings query');
    const { from, to } = range(q);
    const { meters, name } = await scope(request.caller, q);
    const kinds = q.kind ? KINDS[q.kind] : (['taf7', 'daily', 'demand'] as SeriesKind[]);
    await privacy(request.caller, meters, from, to, kinds, q.properties);
    if (q.delivery === 'bulk') {
      // The link names a stored query: short, unguessable, served by any process of the backend.
      const expires = Date.now() + BULK_VALID_MS;
      const id = randomBytes(24).toString('base64url');
      await store.createBulkLink(id, JSON.stringify({ q: { ...q, delivery: 'json', page: undefined }, c: callerClaim(request.caller) }), expires);
      return reply.code(202).send({ bulkDownload: { url: `${o.publicUrl()}/v1/bulk/${id}`, expiresAt: isoUtc(expires), format: 'application/x-ndjson' } });
    }
    const size = q.page?.size ?? 100;
    let after = q.page?.cursor ? decodeCursor(serverKey, q.page.cursor) : null;
    if (after && request.caller.role === 'research') {
      // A research caller's cursor names the meter by its pseudonym.
      const cursorMeter = after.meterId;
      const m = meters.find((x) => name(x.id) === cursorMeter);
      if (!m) throw new HttpError(400, 'page.cursor is not a cursor this server issued');
      after = { ...after, meterId: m.id };
    }
    // A page never leaves fewer than 20 readings for the next: the rest joins this one.
    const rows = await store.readingsPage(meters.map((m) => m.id), from, to, kinds, after, size + PRIVACY_MIN_ROWS, q.properties);
    const last = rows.length <= size + PRIVACY_MIN_ROWS - 1;
    const page = last ? rows : rows.slice(0, size);
    const zoneMap = await zones(meters);
    const tail = page[page.length - 1];
    return {
      meterReadings: page.map((r) => omdpReading(r, zoneMap.get(r.meterId) ?? ZONE_DEFAULT, name, q.properties)),
      nextCursor: last || !tail ? null : encodeCursor(serverKey, { time: tail.time, meterId: name(tail.meterId), kind: tail.kind }),
    };
  });

  app.get<{ Params: { token: string } }>('/v1/bulk/:token', async (request, reply) => {
    const link = /^[A-Za-z0-9_-]{32}$/.test(request.params.token) ? await store.bulkLink(request.params.token) : null;
    if (!link) throw new HttpError(403, 'this download link is not valid');
    if (Date.now() > link.expires) throw new HttpError(410, 'this download link has expired');
    const c = JSON.parse(link.claim) as { q: ReadingsQuery; c: CallerClaim };
    const caller = callerFromClaim(c.c);
    const { meters, name } = await scope(caller, c.q);
    const { from, to } = range(c.q);
    const kinds = c.q.kind ? KINDS[c.q.kind] : (['taf7', 'daily', 'demand'] as SeriesKind[]);
    // Readings deleted since the link was issued may leave too few: the rule holds for what is delivered.
    await privacy(caller, meters, from, to, kinds, c.q.properties);
    const zoneMap = await zones(meters);
    // Streamed page by page: a year of many meters does not have to fit in memory.
    async function* lines(): AsyncGenerator<string> {
      let after: { time: number; meterId: string; kind: string } | null = null;
      for (;;) {
        const rows = await store.readingsPage(meters.map((m) => m.id), from, to, kinds, after, 5000, c.q.properties);
        if (rows.length) yield rows.map((r) => JSON.stringify(omdpReading(r, zoneMap.get(r.meterId) ?? ZONE_DEFAULT, name, c.q.properties)) + '\n').join('');
        if (rows.length < 5000) return;
        const t = rows[rows.length - 1];
        after = { time: t.time, meterId: t.meterId, kind: t.kind };
      }
    }
    return reply.type('application/x-ndjson').header('content-disposition', 'attachment; filename="meterReadings.ndjson"').send(Readable.from(lines()));
  });

  app.delete<{ Querystring: { id?: string } }>('/v1/meterReadings', { onRequest: authed }, async (request) => {
    allow(request.caller, 'admin', 'household');
    const id = request.query.id;
    if (!id) throw new HttpError(400, 'id is required');
    const key = parseReadingId(id);
    if (!key) throw new HttpError(400, 'id is not a reading id');
    const meter = await visibleMeter(request.caller, key.meterId);
    if (!(await store.deleteReading(meter.id, key.kind, key.time))) throw new HttpError(404, 'no such reading');
    return { deleted: id };
  });

  const adapterBody = z
    .object({
      deviceId: z.string().min(1).max(64),
      meter: z.object({ protocol: z.enum(['sml', 'd0', 'dsmr', 'dlms']), zone: z.string().refine(isKnownZone, 'a supported time zone').optional() }).strict().optional(),
      taf: z
        .object({
          period: z.number().int().refine((p) => p >= 1 && p <= 60 && 60 % p === 0, 'a divisor of 60 minutes').optional(),
          tolerance: z.number().int().min(1).max(1800).optional(),
        })
        .strict()
        .refine((t) => (t.tolerance ?? 30) <= (t.period ?? 15) * 30, 'the tolerance is at most half the period')
        .optional(),
    })
    .strict();
  app.post('/v1/adapterConfiguration', { onRequest: authed }, async (request) => {
    allow(request.caller, 'admin');
    const body = parse(adapterBody, request.body, 'adapter configuration');
    const device = await store.device(body.deviceId);
    if (!device) throw new HttpError(404, `no device ${body.deviceId}`);
    const household = await store.household(device.householdId);
    // What the gateway needs to deliver here; the credentials come only in the enrolment bundle.
    return {
      version: 1,
      deviceId: device.id,
      uplink: { url: o.publicUrl(), auth: device.auth, ca: Buffer.from(pkiDer(pki.serverCa)).toString('base64'), window: { from: '00:30', to: '04:00' } },
      meter: { protocol: body.meter?.protocol ?? 'sml', zone: body.meter?.zone ?? household?.zone ?? ZONE_DEFAULT },
      taf: { period: body.taf?.period ?? 15, tolerance: body.taf?.tolerance ?? 30 },
    };
  });

  return app;
}

function pkiDer(pemText: string): Uint8Array {
  return new Uint8Array(Buffer.from(pemText.replace(/-----(BEGIN|END) [^-]+-----/g, '').replace(/\s+/g, ''), 'base64'));
}

function sign(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function pseudonym(key: string, meterId: string): string {
  return 'p-' + createHmac('sha256', key).update('meter:' + meterId).digest('hex').slice(0, 16);
}

interface CallerClaim {
  role: Caller['role'];
  householdId: string | null;
}

function callerClaim(c: Caller): CallerClaim {
  return { role: c.role, householdId: c.householdId };
}

function callerFromClaim(c: CallerClaim): Caller {
  return { role: c.role, householdId: c.householdId, device: null, name: 'bulk download' };
}

export function readingId(r: { meterId: string; kind: string; time: number }): string {
  return Buffer.from(`${r.meterId}|${r.kind}|${r.time}`).toString('base64url');
}

function parseReadingId(id: string): { meterId: string; kind: SeriesKind; time: number } | null {
  // From the right: a meter id may itself hold "|".
  const m = /^(.+)\|(taf7|daily|demand)\|(\d+)$/s.exec(Buffer.from(id, 'base64url').toString('utf8'));
  if (!m) return null;
  return { meterId: m[1], kind: m[2] as SeriesKind, time: Number(m[3]) };
}

/** A page cursor, signed: a caller cannot edit it to page through a narrower slice than it was allowed. */
function encodeCursor(key: string, k: { time: number; meterId: string; kind: string }): string {
  const payload = Buffer.from(JSON.stringify(k)).toString('base64url');
  return `${payload}.${sign(key, payload)}`;
}

function decodeCursor(key: string, c: string): { time: number; meterId: string; kind: string } {
  const [payload, signature] = c.split('.');
  if (payload && signature && safeEqual(sign(key, payload), signature)) {
    try {
      const k = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { time: unknown; meterId: unknown; kind: unknown };
      if (typeof k.time === 'number' && typeof k.meterId === 'string' && typeof k.kind === 'string') return k as { time: number; meterId: string; kind: string };
    } catch {
      // fall through
    }
  }
  throw new HttpError(400, 'page.cursor is not a cursor this server issued');
}

export type { FastifyReply };
