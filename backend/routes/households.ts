// The registry: the admin's households, devices (enrolment, revocation) and
// research users; the devices' event logs; what households set for their
// dashboard (tariff, alert thresholds).

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoUtc } from '../../src/time/zone';
import { EVENT_KINDS, type EventKind } from '../../src/formats/entries';
import { HttpError } from '../auth';
import { alertSettingsSchema, tariffSchema } from '../dashboard';
import { requireCaller } from '../http/access';
import { invalid } from '../http/validation';
import { epochMs, householdParams, idParams, knownZone, refusals, utcTime, zone } from '../http/schemas';
import { derOf, type Pki } from '../pki';
import type { Releases } from '../releases';
import { newId, newToken, type EventLogStore, type RegistryStore, type SettingsStore } from '../store';
import { resolvePath, ZONE_DEFAULT } from './visibility';
import { alertSettingsOf, tariffOf } from './household-settings';

export interface HouseholdOptions {
  registry: RegistryStore;
  eventLog: EventLogStore;
  settings: SettingsStore;
  /** Each device's newest update event, for the device list. */
  lastUpdateEvents: Releases['lastUpdateEvents'];
  pki: Pki;
  publicUrl: () => string;
}

/** Most events one request returns. */
const MAX_EVENTS = 500;

const household = z.object({ id: z.string(), name: z.string(), zone }).strict();
const householdBody = z.object({ name: z.string().min(1).max(100), zone: knownZone.optional().meta({ description: 'Default Europe/Berlin.' }) }).strict();
const deviceBody = z
  .object({ householdId: z.string().min(1).max(64), auth: z.enum(['certificate', 'token']).default('certificate') })
  .strict()
  // No body at all is a device with no household: the same 400 as an empty object.
  .prefault({} as { householdId: string });
const userBody = z.object({ role: z.literal('research'), name: z.string().min(1).max(100) }).strict();

const base64 = (description: string) => z.string().meta({ contentEncoding: 'base64', description });
const enrolmentBundle = z
  .object({
    version: z.literal(1),
    deviceId: z.string(),
    url: z.string().meta({ description: 'Where the device delivers.' }),
    auth: z.enum(['certificate', 'token']),
    ca: base64('The CA certificate to pin, DER.'),
    certificate: base64('auth certificate: the client certificate, DER.').optional(),
    key: base64('auth certificate: its private key, PKCS#8 DER.').optional(),
    token: z.string().meta({ description: 'auth token: the device token.' }).optional(),
  })
  .strict();

const chainBreak = z
  .object({
    seq: z.number().int().meta({ description: 'The entry where the chain breaks: for removed, the first event after the missing ones; for edited, the event whose content no longer gives the hash the next one carries (or that next one\'s link was altered).' }),
    reason: z.enum(['edited', 'removed']),
    detail: z.string(),
    at: utcTime,
  })
  .strict();

const eventChain = z
  .object({
    status: z.enum(['ok', 'broken', 'none']),
    events: z.number().int().meta({ description: 'Events stored.' }),
    last: z.object({ seq: z.number().int(), number: z.number().int(), hash: z.string().meta({ description: 'SHA-256 chain hash (hex).' }) }).strict().nullable().meta({ description: 'The last verified event: the next batch must link to it.' }),
    breaks: z.number().int().meta({ description: 'Breaks found over all batches.' }),
    firstBreak: chainBreak.nullable().meta({ description: 'The first break found; kept once found.' }),
  })
  .strict()
  .meta({ description: "The device's event chain as the backend verified it on ingest. none: no event received yet." });

const device = z
  .object({
    id: z.string(),
    householdId: z.string(),
    auth: z.enum(['certificate', 'token']),
    certFingerprint: z.string().nullable().meta({ description: 'SHA-256 of the client certificate (hex).' }),
    createdAt: epochMs,
    revokedAt: epochMs.nullable(),
    lastSeq: z.number().int().meta({ description: 'Highest sequence number stored.' }),
    lastSeen: epochMs.nullable().meta({ description: 'ms since the epoch of the last delivery.' }),
    eventChain,
    firmware: z.string().nullable().meta({ description: 'The firmware version the device last said (header smgw-firmware of its last delivery or live push); null before it said anything.' }),
    backlog: z.number().int().nullable().meta({ description: 'Reading-log entries the device held unacknowledged when it last said (header smgw-backlog).' }),
    reportedAt: utcTime.nullable().meta({ description: 'When the device last said it.' }),
    update: z
      .object({ seq: z.number().int(), time: utcTime.nullable(), message: z.string() })
      .strict()
      .nullable()
      .meta({ description: "The device's newest firmware-update event (offered, refused, installed, self-test passed or failed, rolled back); null when it has none." }),
  })
  .strict();

const eventsQuery = z
  .object({
    kind: z.string().regex(new RegExp(`^(${EVENT_KINDS.join('|')})(,(${EVENT_KINDS.join('|')}))*$`), `event kinds, comma-separated: ${EVENT_KINDS.join(', ')}`).optional(),
    from: z.coerce.number().int().min(0).optional().meta({ description: 'The first sequence number (the `next` of the previous page).' }),
    limit: z.coerce.number().int().min(1).max(MAX_EVENTS).optional(),
  })
  .strict();

const deviceEvent = z
  .object({
    seq: z.number().int().meta({ description: "The entry's sequence number in the device's reading log." }),
    number: z.number().int().meta({ description: "The event's number in the chain (1, 2, 3 ...)." }),
    kind: z.enum(EVENT_KINDS),
    time: utcTime.nullable().meta({ description: 'null: the device did not know the time yet.' }),
    uptime: z.number().meta({ description: 'Seconds since the device booted.' }),
    message: z.string(),
    prev: z.string().meta({ description: 'The chain hash of the event before it (hex), as the device recorded it.' }),
    hash: z.string().meta({ description: "This event's chain hash (hex): SHA-256 of its sequence number and record." }),
    link: z.enum(['ok', 'start', 'edited', 'removed']).meta({ description: 'How it linked to the event before it: start when no earlier event was known to the backend.' }),
  })
  .strict();

const tariffState = z.object({ householdId: z.string(), tariff: tariffSchema, stored: z.boolean().meta({ description: 'false: none was set; the default (flat) is shown and used.' }) }).strict();
const alertSettingsState = z.object({ householdId: z.string(), settings: alertSettingsSchema, stored: z.boolean() }).strict();

export const householdRoutes: FastifyPluginAsyncZod<HouseholdOptions> = async (app, o) => {
  const { registry, eventLog, settings, pki } = o;
  requireCaller(app, registry);
  resolvePath(app, registry);

  app.post(
    '/api/v1/admin/households',
    {
      config: { access: ['admin'] },
      schemaErrorFormatter: invalid('household'),
      schema: {
        tags: ['admin'],
        operationId: 'createHousehold',
        summary: 'Create a household and its bearer token',
        body: householdBody,
        response: { 201: z.object({ household, token: z.string().meta({ description: "The household's bearer token." }) }).strict(), ...refusals(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const created = { id: newId('hh'), name: body.name, zone: body.zone ?? ZONE_DEFAULT };
      await registry.createHousehold(created);
      const token = newToken();
      await registry.addCredential(token, { kind: 'household', subject: created.id, name: body.name });
      return reply.code(201).send({ household: created, token });
    },
  );

  app.get(
    '/api/v1/admin/households',
    { config: { access: ['admin'] }, schema: { tags: ['admin'], operationId: 'listHouseholds', summary: 'Every household', response: { 200: z.object({ households: z.array(household) }).strict(), ...refusals(401, 403) } } },
    async () => ({ households: await registry.households() }),
  );

  app.post(
    '/api/v1/admin/devices',
    {
      config: { access: ['admin'] },
      schemaErrorFormatter: invalid('device'),
      schema: {
        tags: ['admin'],
        operationId: 'enrolDevice',
        summary: 'Enrol a device: its enrolment bundle',
        description: "The bundle holds the device's private key (auth certificate) or token (auth token): this answer is the only place it appears.",
        body: deviceBody,
        response: { 201: enrolmentBundle, ...refusals(400, 401, 403, 404, 413, 415) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      if (!(await registry.household(body.householdId))) throw new HttpError(404, `no household ${body.householdId}`);
      const id = newId('smgw');
      const bundle: z.infer<typeof enrolmentBundle> = { version: 1, deviceId: id, url: o.publicUrl(), auth: body.auth, ca: Buffer.from(derOf(pki.serverCa)).toString('base64') };
      if (body.auth === 'certificate') {
        const credential = await pki.issueDevice(id);
        await registry.createDevice({ id, householdId: body.householdId, auth: 'certificate', certFingerprint: credential.fingerprint, token: null });
        bundle.certificate = Buffer.from(credential.certificate).toString('base64');
        bundle.key = Buffer.from(credential.key).toString('base64');
      } else {
        const token = newToken();
        await registry.createDevice({ id, householdId: body.householdId, auth: 'token', certFingerprint: null, token });
        bundle.token = token;
      }
      // The key (or token) is in this response only: the backend keeps its fingerprint (or hash).
      return reply.code(201).header('cache-control', 'no-store').send(bundle);
    },
  );

  app.get(
    '/api/v1/admin/devices',
    { config: { access: ['admin'] }, schema: { tags: ['admin'], operationId: 'listDevices', summary: 'Every device, with what it last said and its event chain', response: { 200: z.object({ devices: z.array(device) }).strict(), ...refusals(401, 403) } } },
    async () => {
      const chains = await eventLog.eventChains();
      const statuses = await registry.deviceStatuses();
      const devices = await registry.devices();
      const updates = await o.lastUpdateEvents();
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
            eventChain: chains.get(d.id) ?? { status: 'none' as const, events: 0, last: null, breaks: 0, firstBreak: null },
            // The device's newest firmware-update event (offered, refused, installed, self-test, rolled back).
            update: u ? { seq: u.seq, time: u.time === null ? null : isoUtc(u.time), message: u.message } : null,
          };
        }),
      };
    },
  );

  app.post(
    '/api/v1/admin/devices/:id/revoke',
    {
      config: { access: ['admin'] },
      schema: { tags: ['admin'], operationId: 'revokeDevice', summary: 'Revoke a device: its certificate and token are refused from now on', params: idParams, response: { 200: z.object({ revoked: z.string() }).strict(), ...refusals(401, 403, 404) } },
    },
    async (request) => {
      const found = await registry.device(request.params.id);
      if (!found) throw new HttpError(404, `no device ${request.params.id}`);
      await registry.revokeDevice(found.id);
      return { revoked: found.id };
    },
  );

  app.post(
    '/api/v1/admin/users',
    {
      config: { access: ['admin'] },
      schemaErrorFormatter: invalid('user'),
      schema: {
        tags: ['admin'],
        operationId: 'createUser',
        summary: 'Create a research user and its bearer token',
        body: userBody,
        response: { 201: z.object({ role: z.literal('research'), name: z.string(), token: z.string() }).strict(), ...refusals(400, 401, 403, 413, 415) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const token = newToken();
      await registry.addCredential(token, { kind: 'research', subject: null, name: body.name });
      return reply.code(201).send({ role: body.role, name: body.name, token });
    },
  );

  // ---- the devices' event logs ----

  app.get(
    '/api/v1/devices/:deviceId/events',
    {
      config: { access: ['admin', 'household'] },
      schema: {
        tags: ['query'],
        operationId: 'deviceEvents',
        summary: "A device's event log, oldest first, with its chain status",
        params: z.object({ deviceId: z.string() }).strict(),
        querystring: eventsQuery,
        response: {
          200: z.object({ deviceId: z.string(), chain: eventChain, events: z.array(deviceEvent), next: z.number().int().nullable().meta({ description: '`from` of the next page; null when there is none.' }) }).strict(),
          ...refusals(400, 401, 403, 404),
        },
      },
    },
    async (request) => {
      const found = request.visible.device!;
      const q = request.query;
      const limit = q.limit ?? MAX_EVENTS;
      // One more than asked for says whether there is a next page.
      const rows = await eventLog.events(found.id, { from: q.from ?? 0, limit: limit + 1, kinds: q.kind ? (q.kind.split(',') as EventKind[]) : [] });
      const next = rows.length > limit ? rows[limit].seq : null;
      return { deviceId: found.id, chain: await eventLog.eventChain(found.id), events: rows.slice(0, limit), next };
    },
  );

  // ---- what a household sets for its dashboard ----

  app.get(
    '/api/v1/households/:householdId/tariff',
    { config: { access: ['admin', 'household'] }, schema: { tags: ['dashboard'], operationId: 'getTariff', summary: "The household's tariff", params: householdParams, response: { 200: tariffState, ...refusals(401, 403, 404) } } },
    async (request) => {
      const h = request.visible.household!;
      return { householdId: h.id, ...(await tariffOf(settings, h.id)) };
    },
  );

  app.post(
    '/api/v1/households/:householdId/tariff',
    {
      config: { access: ['admin', 'household'] },
      schemaErrorFormatter: invalid('tariff'),
      schema: { tags: ['dashboard'], operationId: 'setTariff', summary: "Set the household's tariff", params: householdParams, body: tariffSchema, response: { 200: tariffState, ...refusals(400, 401, 403, 404) } },
    },
    async (request) => {
      const h = request.visible.household!;
      await settings.setTariff(h.id, JSON.stringify(request.body));
      return { householdId: h.id, tariff: request.body, stored: true };
    },
  );

  app.get(
    '/api/v1/households/:householdId/alert-settings',
    { config: { access: ['admin', 'household'] }, schema: { tags: ['dashboard'], operationId: 'getAlertSettings', summary: "The household's alert thresholds", params: householdParams, response: { 200: alertSettingsState, ...refusals(401, 403, 404) } } },
    async (request) => {
      const h = request.visible.household!;
      return { householdId: h.id, ...(await alertSettingsOf(settings, h.id)) };
    },
  );

  app.post(
    '/api/v1/households/:householdId/alert-settings',
    {
      config: { access: ['admin', 'household'] },
      schemaErrorFormatter: invalid('alert settings'),
      schema: { tags: ['dashboard'], operationId: 'setAlertSettings', summary: "Set the household's alert thresholds", params: householdParams, body: alertSettingsSchema, response: { 200: alertSettingsState, ...refusals(400, 401, 403, 404) } },
    },
    async (request) => {
      const h = request.visible.household!;
      await settings.setAlertSettings(h.id, JSON.stringify(request.body));
      return { householdId: h.id, settings: request.body, stored: true };
    },
  );
};
