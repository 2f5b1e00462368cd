// What devices deliver: the day's batches of the reading log (POST
// /api/v1/ingest) and the TAF 14 live push (POST /api/v1/live). Both note
// what the device says of itself in its headers, and the ingest's answer
// carries a firmware update waiting for the device.

import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BATCH_CONTENT_TYPE, BATCH_CONTENT_TYPE_V1, BatchError, decodeBatch } from '../../src/formats/batch';
import { isoUtc } from '../../src/time/zone';
import { LIVE_CHANNELS } from '../../src/formats/live';
import { HttpError } from '../auth';
import type { Clock } from '../clock';
import { requireCaller } from '../http/access';
import { invalid } from '../http/validation';
import { binaryBody } from '../http/binary-body';
import { refusals } from '../http/schemas';
import type { Offer } from '../releases';
import { LIVE_KEEP_MS, meterIdOf, type Device, type LiveStore, type ReadingStore, type RegistryStore } from '../store';
import { problemWith } from '../validate';
import { updateOffer } from './releases';

export interface IngestOptions {
  registry: RegistryStore;
  readings: ReadingStore;
  live: LiveStore;
  /** The update waiting for a device, given the version it reports. */
  offerFor: (device: Device, firmware: string | null) => Promise<Offer | null>;
  clock: Clock;
}

/** A live push: at most this many values (a minute of 1-s values, twice over) in this many bytes. */
const MAX_LIVE_VALUES = 120;
const LIVE_BODY_LIMIT = 16 * 1024;
/** A device clock this far ahead of the backend's is wrong, not early. */
const LIVE_AHEAD_MS = 5 * 60000;

const ingestResult = z
  .object({
    stored: z.number().int().meta({ description: "The device's highest sequence number now stored: the device may drop entries up to it." }),
    readings: z.number().int().meta({ description: 'Readings newly stored.' }),
    gaps: z.number().int().meta({ description: 'Gaps newly stored.' }),
    duplicates: z.number().int().meta({ description: 'Entries at or below what was stored before.' }),
    events: z.number().int().meta({ description: 'Events newly stored (batch version 2).' }),
    chain: z.enum(['ok', 'broken']).meta({
      description: "Whether the batch's events link to the device's last verified event and to each other. A broken chain is recorded (see the device's eventChain), the batch is stored all the same.",
    }),
    update: updateOffer.optional().meta({ description: 'Present when a rollout offers the device an update it does not run (docs/ota.md).' }),
  })
  .strict();

const liveValue = z
  .object({
    time: z.number().int().meta({ description: "ms since the epoch (the device's time of the telegram)." }),
    ...Object.fromEntries(LIVE_CHANNELS.map((c) => [c, z.number().finite().optional()])),
  })
  .strict()
  .meta({ description: 'One TAF 14 value: active power in W (p net, positive import; p1..p3 per phase), voltage in V (u1..u3), current in A (i1..i3); channels the meter does not send are absent.' });

const livePush = z
  .object({
    deviceId: z.string().min(1).max(64),
    meterId: z.string().regex(/^[\x21-\x7e]{1,64}$/, 'printable ASCII, 1 to 64 characters').nullable().meta({ description: "The meter of the newest reading; null: the device's meter without an id." }),
    interval: z.number().int().min(1).max(3600).meta({ description: 'Seconds between TAF 14 values.' }),
    values: z.array(liveValue).min(1).max(MAX_LIVE_VALUES),
  })
  .strict();

const livePushResult = z
  .object({
    accepted: z.number().int().meta({ description: 'Values stored (values already held for their time, and values older than the kept window, are not).' }),
    watched: z.boolean().meta({ description: "Somebody has the meter's Live view open: push every few seconds, all values; otherwise once a minute, the newest only." }),
  })
  .strict();

export const ingestRoutes: FastifyPluginAsyncZod<IngestOptions> = async (app, o) => {
  const { registry, readings, live, clock } = o;
  requireCaller(app, registry);

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
      await registry.reportStatus(deviceId, { firmware, backlog: Number(backlog), reportedAt: now });
    } catch (e) {
      // What was delivered is stored: a status that could not be kept must not turn that into an error.
      request.log.error(e);
    }
  };

  app.post(
    '/api/v1/ingest',
    {
      config: { access: ['device'], swaggerTransform: binaryBody([BATCH_CONTENT_TYPE, BATCH_CONTENT_TYPE_V1, 'application/octet-stream']) },
      schema: {
        tags: ['devices'],
        operationId: 'ingest',
        summary: "A batch of the device's reading log",
        description: 'Readings, gaps and events, binary (docs/uplink.md). Entries at or below what was stored before are counted as duplicates and skipped. Headers smgw-firmware and smgw-backlog, when well formed, are kept for the device list.',
        response: { 200: ingestResult, ...refusals(400, 401, 403, 409, 413, 415, 422) },
      },
    },
    async (request) => {
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
      const result = await readings.ingest(device, batch.entries);
      await noteReport(request, device.id, now);
      // An update waiting for the device rides on the acknowledgement (src/ota/updater.ts).
      const firmware = request.headers['smgw-firmware'];
      const update = await o.offerFor(device, typeof firmware === 'string' ? firmware : null);
      return update ? { ...result, update } : result;
    },
  );

  // The live channel: TAF 14 values a device pushes while online (docs/dashboard.md, Live).
  app.post(
    '/api/v1/live',
    {
      config: { access: ['device'] },
      bodyLimit: LIVE_BODY_LIMIT,
      schemaErrorFormatter: invalid('live push'),
      schema: {
        tags: ['devices'],
        operationId: 'livePush',
        summary: 'TAF 14 live values',
        description: "Values older than the Live view's window are dropped, not refused; a value more than 5 minutes ahead of the backend's clock is refused (422).",
        body: livePush,
        response: { 200: livePushResult, ...refusals(400, 401, 403, 409, 413, 422) },
      },
    },
    async (request) => {
      const device = request.caller.device!;
      const body = request.body;
      if (body.deviceId !== device.id) throw new HttpError(403, `the push is from device ${body.deviceId}, the credential is device ${device.id}'s`);
      const now = clock();
      const ahead = body.values.find((v) => v.time > now + LIVE_AHEAD_MS);
      if (ahead) throw new HttpError(422, `live value at ${isoUtc(ahead.time)} is in the future (the backend's time is ${isoUtc(now)}): is the device's clock right?`);
      // Values older than the Live view's window (a device that could not push for a while) are dropped, not refused.
      const rows = body.values.filter((v) => v.time >= now - LIVE_KEEP_MS).map(({ time, ...values }) => ({ time, values: values as { [channel: string]: number } }));
      const result = await live.addLive(device, meterIdOf(body.meterId, device.id), rows, now);
      await noteReport(request, device.id, now);
      return result;
    },
  );
};
