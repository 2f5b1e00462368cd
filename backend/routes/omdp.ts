// The Open Meter Data Platform interfaces: readings of many meters, paged or
// as a bulk download (third parties under the privacy rule and under
// pseudonyms), deleting a reading, and a gateway's adapter configuration.

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoUtc, utcOffset } from '../../src/time/zone';
import type { SeriesKind } from '../../src/formats/entries';
import { HttpError, type Caller } from '../auth';
import type { Clock } from '../clock';
import { requireCaller } from '../http/access';
import { invalid } from '../http/validation';
import { decodeCursor, encodeCursor, type ReadingKey } from '../http/cursor';
import { pseudonym } from '../http/pseudonym';
import { KINDS, range } from '../http/reading-query';
import { flagsOf } from '../../src/mqtt/omdp';
import { parseReadingId, readingId } from '../http/reading-id';
import { apiKind, content, flags, knownZone, queryTime, refusals, text, utcTime } from '../http/schemas';
import { derOf, type Pki } from '../pki';
import type { BulkLinkStore, Meter, ReadingStore, RegistryStore, StoredReading } from '../store';
import { visibleMeter, zoneOf, ZONE_DEFAULT } from './visibility';

export interface OmdpOptions {
  registry: RegistryStore;
  readings: ReadingStore;
  bulkLinks: BulkLinkStore;
  /** Signs cursors and makes pseudonyms. */
  serverKey: string;
  pki: Pki;
  publicUrl: () => string;
  clock: Clock;
}

/** Third-party (research) results hold at least this many readings of at least this many households. */
const PRIVACY_MIN_ROWS = 20;
const PRIVACY_MIN_HOUSEHOLDS = 5;
const BULK_VALID_MS = 3600000;

const meterReadingsQuery = z
  .object({
    meterIds: z.array(z.string().min(1).max(64)).max(1000).optional().meta({ description: "Only these meters (research callers: their pseudonyms). Default: every meter in the caller's scope." }),
    from: queryTime,
    to: queryTime,
    properties: z.array(z.string().regex(/^OBIS_\d{1,3}\.\d{1,3}\.\d{1,3}$/, 'OBIS_C.D.E')).max(32).optional().meta({ description: 'Only these properties in propertyValues (OBIS C.D.E, such as OBIS_1.8.0). Default: all.' }),
    kind: apiKind.optional().meta({ description: 'taf7 quarter-hour, taf6 daily and on-demand readings. Default: all.' }),
    page: z
      .object({
        size: z.number().int().min(PRIVACY_MIN_ROWS).max(1000).default(100),
        cursor: z.string().max(400).optional().meta({ description: 'The nextCursor of the previous page (of the same query).' }),
      })
      .strict()
      .optional(),
    delivery: z.enum(['json', 'bulk']).default('json'),
  })
  .strict();

type ReadingsQuery = z.infer<typeof meterReadingsQuery>;

/** One reading as OMDP gives it (each line of a bulk download is one: tests check them against this, the serializer does not see a stream). */
export const meterReading = z
  .object({
    id: z.string().meta({ description: "The reading's id, for DELETE /v1/meterReadings." }),
    meterId: z.string().meta({ description: 'The meter id; for research callers its pseudonym (`p-` and 16 hex digits).' }),
    readingTime: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$/)
      .meta({ format: 'date-time', description: "The household's local time with its UTC offset (2025-01-01T01:15:00+01:00)." }),
    kind: apiKind,
    flags,
    propertyValues: z.array(z.object({ propertyId: z.string().meta({ description: 'OBIS_C.D.E.' }), value: z.number(), unit: z.string() }).strict()),
  })
  .strict()
  .meta({ id: 'MeterReading' });

const meterReadingsPage = z
  .object({
    meterReadings: z.array(meterReading),
    nextCursor: z.string().nullable().meta({ description: 'null on the last page. A page never leaves fewer than 20 readings for the next: the rest joins this one.' }),
  })
  .strict();

const bulkAccepted = z
  .object({
    bulkDownload: z
      .object({ url: z.string().meta({ description: 'GET it (no Authorization header): /v1/bulk/{token}.' }), expiresAt: utcTime, format: z.literal('application/x-ndjson') })
      .strict(),
  })
  .strict();

const adapterBody = z
  .object({
    deviceId: z.string().min(1).max(64),
    meter: z.object({ protocol: z.enum(['sml', 'd0', 'dsmr', 'dlms']), zone: knownZone.optional() }).strict().optional(),
    taf: z
      .object({
        period: z.number().int().refine((p) => p >= 1 && p <= 60 && 60 % p === 0, 'a divisor of 60 minutes').optional().meta({ description: 'Minutes.' }),
        tolerance: z.number().int().min(1).max(1800).optional().meta({ description: 'Seconds.' }),
      })
      .strict()
      .refine((t) => (t.tolerance ?? 30) <= (t.period ?? 15) * 30, 'the tolerance is at most half the period')
      .optional(),
  })
  .strict();

const hhmm = z.string().regex(/^\d{2}:\d{2}$/);
const adapterConfiguration = z
  .object({
    version: z.literal(1),
    deviceId: z.string(),
    uplink: z
      .object({
        url: z.string(),
        auth: z.enum(['certificate', 'token']),
        ca: z.string().meta({ contentEncoding: 'base64', description: 'The CA certificate to pin, DER.' }),
        window: z.object({ from: hhmm, to: hhmm }).strict().meta({ description: 'Local time of day for the daily upload.' }),
      })
      .strict(),
    meter: z.object({ protocol: z.enum(['sml', 'd0', 'dsmr', 'dlms']), zone: z.string().meta({ description: "The one asked for, else the household's." }) }).strict(),
    taf: z.object({ period: z.number().int().meta({ description: 'Minutes (default 15).' }), tolerance: z.number().int().meta({ description: 'Seconds (default 30).' }) }).strict(),
  })
  .strict();

/** OBIS "1-0:1.8.0" as an Open Meter Data Platform property id "OBIS_1.8.0". */
function propertyId(obis: string): string {
  return 'OBIS_' + obis.replace(/^\d+-\d+:/, '');
}

/** A time in the zone, with its offset: 2025-01-01T01:15:00+01:00. */
function localIso(t: number, zone: string): string {
  const offset = utcOffset(zone, t);
  const local = new Date(t + offset * 60000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  return `${local}${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** Who a bulk link was issued to: the link serves what that caller could see, nothing else. */
interface CallerClaim {
  role: Caller['role'];
  householdId: string | null;
}

export const omdpRoutes: FastifyPluginAsyncZod<OmdpOptions> = async (app, o) => {
  const { registry, readings, bulkLinks, serverKey, clock } = o;
  requireCaller(app, registry);

  /** The meters a query covers for the caller, and how their ids are shown (research: pseudonyms). */
  const scope = async (caller: Caller, q: ReadingsQuery): Promise<{ meters: Meter[]; name: (id: string) => string }> => {
    let meters = await registry.meters(caller.role === 'household' ? caller.householdId! : undefined);
    if (q.meterIds) {
      const wanted = new Set(q.meterIds);
      const visible = caller.role === 'research' ? meters.filter((m) => wanted.has(pseudonym(serverKey, m.id))) : meters.filter((m) => wanted.has(m.id));
      if (visible.length !== wanted.size) throw new HttpError(404, 'a meter in meterIds does not exist or is not visible to the caller');
      meters = visible;
    }
    return { meters, name: caller.role === 'research' ? (id) => pseudonym(serverKey, id) : (id) => id };
  };

  const omdpReading = (r: StoredReading, zone: string, name: (id: string) => string, properties?: string[]): z.infer<typeof meterReading> => ({
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
    for (const m of meters) out.set(m.id, await zoneOf(registry, m));
    return out;
  };

  /** Third parties: at least 20 readings of at least 5 households, or nothing. */
  const privacy = async (caller: Caller, meters: Meter[], from: number, to: number, kinds: SeriesKind[], properties?: string[]) => {
    if (caller.role !== 'research') return;
    const e = await readings.extent(meters.map((m) => m.id), from, to, kinds, properties);
    if (e.rows < PRIVACY_MIN_ROWS || e.households < PRIVACY_MIN_HOUSEHOLDS) {
      throw new HttpError(403, `privacy: a third-party query must cover at least ${PRIVACY_MIN_ROWS} readings of at least ${PRIVACY_MIN_HOUSEHOLDS} households`);
    }
  };

  app.post(
    '/v1/meterReadings',
    {
      config: { access: ['admin', 'household', 'research'] },
      schemaErrorFormatter: invalid('meterReadings query'),
      schema: {
        tags: ['omdp'],
        operationId: 'queryMeterReadings',
        summary: 'Readings of many meters, paged or as a bulk download',
        description:
          'In (time, meter, kind) order; readingTime is the household\'s local time with its offset. A page never leaves fewer than 20 readings for the next: the rest joins this one. Privacy: a research query must cover at least 20 readings of at least 5 households (else 403), and research callers see pseudonyms (`p-` and 16 hex digits) instead of meter ids. delivery bulk: 202 with a link (valid an hour) to the whole result as NDJSON.',
        body: meterReadingsQuery,
        response: { 200: meterReadingsPage, 202: bulkAccepted, ...refusals(400, 401, 403, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const q = request.body;
      const { from, to } = range(q);
      const { meters, name } = await scope(request.caller, q);
      const kinds = q.kind ? KINDS[q.kind] : (['taf7', 'daily', 'demand'] as SeriesKind[]);
      await privacy(request.caller, meters, from, to, kinds, q.properties);
      if (q.delivery === 'bulk') {
        // The link names a stored query: short, unguessable, served by any process of the backend.
        const expires = clock() + BULK_VALID_MS;
        const id = randomBytes(24).toString('base64url');
        const claim: CallerClaim = { role: request.caller.role, householdId: request.caller.householdId };
        await bulkLinks.createBulkLink(id, JSON.stringify({ q: { ...q, delivery: 'json', page: undefined }, c: claim }), expires);
        return reply.code(202).send({ bulkDownload: { url: `${o.publicUrl()}/v1/bulk/${id}`, expiresAt: isoUtc(expires), format: 'application/x-ndjson' as const } });
      }
      const size = q.page?.size ?? 100;
      let after: ReadingKey | null = q.page?.cursor ? decodeCursor(serverKey, q.page.cursor) : null;
      if (after && request.caller.role === 'research') {
        // A research caller's cursor names the meter by its pseudonym.
        const cursorMeter = after.meterId;
        const m = meters.find((x) => name(x.id) === cursorMeter);
        if (!m) throw new HttpError(400, 'page.cursor is not a cursor this server issued');
        after = { ...after, meterId: m.id };
      }
      // A page never leaves fewer than 20 readings for the next: the rest joins this one.
      const rows = await readings.readingsPage(meters.map((m) => m.id), from, to, kinds, after, size + PRIVACY_MIN_ROWS, q.properties);
      const last = rows.length <= size + PRIVACY_MIN_ROWS - 1;
      const page = last ? rows : rows.slice(0, size);
      const zoneMap = await zones(meters);
      const tail = page[page.length - 1];
      return {
        meterReadings: page.map((r) => omdpReading(r, zoneMap.get(r.meterId) ?? ZONE_DEFAULT, name, q.properties)),
        nextCursor: last || !tail ? null : encodeCursor(serverKey, { time: tail.time, meterId: name(tail.meterId), kind: tail.kind }),
      };
    },
  );

  app.get(
    '/v1/bulk/:token',
    {
      config: { access: 'public' },
      schema: {
        tags: ['omdp'],
        operationId: 'bulkDownload',
        summary: 'A bulk download: the query it was issued for, as NDJSON',
        description: 'The link is the credential (no Authorization header). One MeterReading per line; the privacy rule holds for what is delivered.',
        params: z.object({ token: z.string() }).strict(),
        response: { 200: content('One MeterReading per line.', { 'application/x-ndjson': text }), ...refusals(403, 404, 410) },
      },
    },
    async (request, reply) => {
      const link = /^[A-Za-z0-9_-]{32}$/.test(request.params.token) ? await bulkLinks.bulkLink(request.params.token) : null;
      if (!link) throw new HttpError(403, 'this download link is not valid');
      if (clock() > link.expires) throw new HttpError(410, 'this download link has expired');
      const c = JSON.parse(link.claim) as { q: ReadingsQuery; c: CallerClaim };
      const caller: Caller = { role: c.c.role, householdId: c.c.householdId, device: null, name: 'bulk download' };
      const { meters, name } = await scope(caller, c.q);
      const { from, to } = range(c.q);
      const kinds = c.q.kind ? KINDS[c.q.kind] : (['taf7', 'daily', 'demand'] as SeriesKind[]);
      // Readings deleted since the link was issued may leave too few: the rule holds for what is delivered.
      await privacy(caller, meters, from, to, kinds, c.q.properties);
      const zoneMap = await zones(meters);
      // Streamed page by page: a year of many meters does not have to fit in memory.
      async function* lines(): AsyncGenerator<string> {
        let after: ReadingKey | null = null;
        for (;;) {
          const rows = await readings.readingsPage(meters.map((m) => m.id), from, to, kinds, after, 5000, c.q.properties);
          if (rows.length) yield rows.map((r) => JSON.stringify(omdpReading(r, zoneMap.get(r.meterId) ?? ZONE_DEFAULT, name, c.q.properties)) + '\n').join('');
          if (rows.length < 5000) return;
          const t = rows[rows.length - 1];
          after = { time: t.time, meterId: t.meterId, kind: t.kind };
        }
      }
      return reply.type('application/x-ndjson').header('content-disposition', 'attachment; filename="meterReadings.ndjson"').send(Readable.from(lines()));
    },
  );

  app.delete(
    '/v1/meterReadings',
    {
      config: { access: ['admin', 'household'] },
      schema: {
        tags: ['omdp'],
        operationId: 'deleteMeterReading',
        summary: 'Delete one reading',
        // Unknown parameters are ignored here, as they always were.
        querystring: z.object({ id: z.string().optional().meta({ description: 'The id a MeterReading carries.' }) }),
        response: { 200: z.object({ deleted: z.string() }).strict(), ...refusals(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const id = request.query.id;
      if (!id) throw new HttpError(400, 'id is required');
      const key = parseReadingId(id);
      if (!key) throw new HttpError(400, 'id is not a reading id');
      const meter = await visibleMeter(registry, request.caller, key.meterId);
      if (!(await readings.deleteReading(meter.id, key.kind, key.time))) throw new HttpError(404, 'no such reading');
      return { deleted: id };
    },
  );

  app.post(
    '/v1/adapterConfiguration',
    {
      config: { access: ['admin'] },
      schemaErrorFormatter: invalid('adapter configuration'),
      schema: {
        tags: ['omdp'],
        operationId: 'adapterConfiguration',
        summary: 'What a gateway needs to deliver here',
        description: 'The credentials come only in the enrolment bundle, never here.',
        body: adapterBody,
        response: { 200: adapterConfiguration, ...refusals(400, 401, 403, 404, 413, 415) },
      },
    },
    async (request) => {
      const body = request.body;
      const device = await registry.device(body.deviceId);
      if (!device) throw new HttpError(404, `no device ${body.deviceId}`);
      const household = await registry.household(device.householdId);
      // What the gateway needs to deliver here; the credentials come only in the enrolment bundle.
      return {
        version: 1 as const,
        deviceId: device.id,
        uplink: { url: o.publicUrl(), auth: device.auth, ca: Buffer.from(derOf(o.pki.serverCa)).toString('base64'), window: { from: '00:30', to: '04:00' } },
        meter: { protocol: body.meter?.protocol ?? 'sml', zone: body.meter?.zone ?? household?.zone ?? ZONE_DEFAULT },
        taf: { period: body.taf?.period ?? 15, tolerance: body.taf?.tolerance ?? 30 },
      };
    },
  );
};
