// The Live view's query: a meter's TAF 14 values of the last minutes. Asking
// is watching: the device's pushes come every few seconds while somebody
// asks (the live push's answer tells it, routes/ingest.ts).

import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isoUtc } from '../../src/time/zone';
import { LIVE_CHANNELS, LIVE_UNITS } from '../../src/formats/live';
import type { Clock } from '../clock';
import { requireCaller } from '../http/access';
import { meterParams, queryTime, refusals, utcTime, zone } from '../http/schemas';
import { LIVE_KEEP_MS, type LiveStore, type RegistryStore } from '../store';
import { resolvePath, zoneOf } from './visibility';

export interface LiveOptions {
  registry: RegistryStore;
  live: LiveStore;
  clock: Clock;
}

/** The Live view polls every few seconds; the device is told it is watched for this long after the last poll. */
const LIVE_WATCH_MS = 2 * 60000;

const liveAnswer = z
  .object({
    meterId: z.string(),
    zone,
    now: utcTime,
    keptSeconds: z.number().int().meta({ description: 'How far back live values are kept (900).' }),
    units: z.record(z.string(), z.string()),
    values: z.array(z.object({ time: utcTime, ...Object.fromEntries(LIVE_CHANNELS.map((c) => [c, z.number().optional()])) }).strict()),
  })
  .strict();

export const liveRoutes: FastifyPluginAsyncZod<LiveOptions> = async (app, o) => {
  const { registry, live, clock } = o;
  requireCaller(app, registry);
  resolvePath(app, registry);

  app.get(
    '/api/v1/meters/:meterId/live',
    {
      config: { access: ['admin', 'household'] },
      schema: {
        tags: ['dashboard'],
        operationId: 'meterLive',
        summary: "The meter's live values of the last 15 minutes (after `since`)",
        params: meterParams,
        querystring: z.object({ since: queryTime.optional() }).strict(),
        response: { 200: liveAnswer, ...refusals(400, 401, 403, 404) },
      },
    },
    async (request) => {
      const meter = request.visible.meter!;
      const q = request.query;
      const now = clock();
      // Asking is watching: the device's next pushes come every few seconds instead of once a minute.
      await live.watchLive(meter.id, now + LIVE_WATCH_MS);
      const since = Math.max(q.since === undefined ? -Infinity : Date.parse(q.since), now - LIVE_KEEP_MS);
      const rows = await live.liveValues(meter.id, since);
      return {
        meterId: meter.id,
        zone: await zoneOf(registry, meter),
        now: isoUtc(now),
        keptSeconds: LIVE_KEEP_MS / 1000,
        units: LIVE_UNITS,
        values: rows.map((r) => ({ time: isoUtc(r.time), ...r.values })),
      };
    },
  );
};
