// The admin's firmware releases and rollouts, and the devices' view of them:
// what they are offered and its download in HTTP Range pieces (backend/
// releases.ts keeps them; docs/ota.md).

import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpError } from '../auth';
import type { Clock } from '../clock';
import { requireCaller } from '../http/access';
import { invalid } from '../http/validation';
import { binaryBody } from '../http/binary-body';
import { binary, content, epochMs, idParams, refusals } from '../http/schemas';
import { FIRMWARE_CONTENT_TYPE, MAX_IMAGE, parseRange, type Releases, type RolloutTarget } from '../releases';
import type { RegistryStore } from '../store';

export interface ReleaseOptions {
  registry: RegistryStore;
  releases: Releases;
  clock: Clock;
}

/** Most bytes one range request gets (a device asks for 16 KB). */
const MAX_RANGE = 64 * 1024;

/** A firmware update waiting for a device (also in the ingest acknowledgement). */
export const updateOffer = z
  .object({
    release: z.string().meta({ description: 'The release id: GET /api/v1/firmware/{id} downloads it.' }),
    version: z.string().meta({ description: 'X.Y.Z' }),
    size: z.number().int().meta({ description: 'Image bytes after the 192-byte signed header.' }),
    downgrade: z.boolean().meta({ description: "The admin forced it although it is not newer than the device's version." }),
  })
  .strict()
  .meta({ description: 'A firmware update waiting for the device (docs/ota.md).' });

const release = z
  .object({
    id: z.string(),
    version: z.string(),
    hardware: z.string().meta({ description: 'The target hardware the header names.' }),
    size: z.number().int(),
    sha256: z.string().meta({ description: 'SHA-256 of the image (hex), as the signed header gives it.' }),
    keyId: z.string().meta({ description: 'The release key that signed it (first 8 bytes of SHA-256 of its public point, hex). The backend does not check the signature; the device does.' }),
    createdAt: epochMs,
  })
  .strict();

const rollout = z
  .object({
    id: z.string(),
    releaseId: z.string(),
    target: z.union([z.object({ all: z.literal(true) }).strict(), z.object({ householdId: z.string() }).strict(), z.object({ percent: z.number().int().min(1).max(100) }).strict()]),
    downgrade: z.boolean().meta({ description: 'Forced on devices that run a newer or the same version: recorded with who did it.' }),
    by: z.string().meta({ description: "The admin credential's name." }),
    createdAt: epochMs,
    stoppedAt: epochMs.nullable(),
  })
  .strict();

const rolloutBody = z
  .object({
    releaseId: z.string().min(1).max(64),
    target: z.union([z.literal('all'), z.object({ householdId: z.string().min(1).max(64) }).strict(), z.object({ percent: z.number().int().min(1).max(100) }).strict()]),
    downgrade: z.boolean().optional(),
  })
  .strict();

export const releaseRoutes: FastifyPluginAsyncZod<ReleaseOptions> = async (app, o) => {
  const { releases, registry, clock } = o;
  requireCaller(app, registry);
  app.addContentTypeParser(FIRMWARE_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: MAX_IMAGE }, (_req, body, done) => done(null, body));

  app.post(
    '/api/v1/admin/releases',
    {
      config: { access: ['admin'], swaggerTransform: binaryBody([FIRMWARE_CONTENT_TYPE]) },
      bodyLimit: MAX_IMAGE,
      schema: {
        tags: ['admin'],
        operationId: 'uploadRelease',
        summary: 'Upload a signed firmware image',
        description: 'As `smgw release sign` writes it. Checked for structure and for the SHA-256 its header gives; the signature is checked by the device.',
        response: { 201: release, ...refusals(400, 401, 403, 409, 413, 415) },
      },
    },
    async (request, reply) => {
      if (!Buffer.isBuffer(request.body)) throw new HttpError(415, `send the signed image as ${FIRMWARE_CONTENT_TYPE}`);
      return reply.code(201).send(await releases.add(new Uint8Array(request.body), clock()));
    },
  );

  app.get(
    '/api/v1/admin/releases',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['admin'],
        operationId: 'listReleases',
        summary: 'Releases and rollouts',
        response: { 200: z.object({ releases: z.array(release), rollouts: z.array(rollout) }).strict(), ...refusals(401, 403) },
      },
    },
    async () => ({ releases: await releases.list(), rollouts: await releases.rollouts() }),
  );

  app.post(
    '/api/v1/admin/rollouts',
    {
      config: { access: ['admin'] },
      schemaErrorFormatter: invalid('rollout'),
      schema: {
        tags: ['admin'],
        operationId: 'startRollout',
        summary: 'Roll a release out',
        description: 'To all devices, one household, or a percentage of devices (a fixed bucket per device and release: widening keeps who had it). An older version than a device runs is offered only with downgrade: true.',
        body: rolloutBody,
        response: { 201: rollout, ...refusals(400, 401, 403, 404) },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const found = await releases.release(body.releaseId);
      if (!found) throw new HttpError(404, `no release ${body.releaseId}`);
      if (typeof body.target === 'object' && 'householdId' in body.target && !(await registry.household(body.target.householdId))) throw new HttpError(404, `no household ${body.target.householdId}`);
      const target: RolloutTarget = body.target === 'all' ? { all: true } : body.target;
      const started = await releases.startRollout({ releaseId: found.id, target, downgrade: body.downgrade === true, by: request.caller.name, createdAt: clock() });
      return reply.code(201).send(started);
    },
  );

  app.post(
    '/api/v1/admin/rollouts/:id/stop',
    {
      config: { access: ['admin'] },
      schema: {
        tags: ['admin'],
        operationId: 'stopRollout',
        summary: 'Stop a rollout',
        params: idParams,
        response: { 200: z.object({ stopped: z.string() }).strict(), ...refusals(401, 403, 404) },
      },
    },
    async (request) => {
      if (!(await releases.stopRollout(request.params.id, clock()))) throw new HttpError(404, `no running rollout ${request.params.id}`);
      return { stopped: request.params.id };
    },
  );

  // ---- devices ----

  const reported = (request: FastifyRequest): string | null => {
    const f = request.headers['smgw-firmware'];
    return typeof f === 'string' && /^[\x21-\x7e]{1,32}$/.test(f) ? f : null;
  };

  /** What the device is offered now (the self-test of a new image asks this: "backend reached"). */
  app.get(
    '/api/v1/firmware',
    {
      config: { access: ['device'] },
      schema: {
        tags: ['devices'],
        operationId: 'firmwareOffer',
        summary: 'The update offered to the device',
        description: 'Given the version in its smgw-firmware header; a new image asks this in its self-test.',
        response: { 200: z.object({ update: updateOffer.nullable() }).strict(), ...refusals(401, 403) },
      },
    },
    async (request) => ({ update: await releases.offerFor(request.caller.device!, reported(request)) }),
  );

  app.get(
    '/api/v1/firmware/:id',
    {
      config: { access: ['device'] },
      schema: {
        tags: ['devices'],
        operationId: 'downloadRelease',
        summary: 'Download the release offered to the device',
        description: 'The signed file, whole or in Range pieces of at most 64 KB; only the release the device is offered.',
        params: idParams,
        response: {
          200: content('The whole file.', { 'application/octet-stream': binary }),
          206: content('The range asked for (Content-Range).', { 'application/octet-stream': binary }),
          ...refusals(401, 403, 404, 416),
        },
      },
    },
    async (request, reply) => {
      const device = request.caller.device!;
      // Only what the device is offered, whatever it now reports (it reports the old version until it restarts).
      const offer = await releases.offerFor(device, null);
      if (!offer || offer.release !== request.params.id) throw new HttpError(404, `release ${request.params.id} is not offered to device ${device.id}`);
      const file = await releases.file(offer.release);
      if (!file) throw new HttpError(404, `no release ${request.params.id}`);
      const range = parseRange(request.headers.range, file.length);
      if (range === 'unsatisfiable') return reply.code(416).header('content-range', `bytes */${file.length}`).send({ error: `range "${request.headers.range}" is not within the ${file.length} bytes` });
      const { from, to } = range ?? { from: 0, to: file.length - 1 };
      if (range && to - from + 1 > MAX_RANGE) throw new HttpError(416, `at most ${MAX_RANGE} bytes per range request`);
      reply.header('accept-ranges', 'bytes').header('content-type', 'application/octet-stream').header('cache-control', 'no-store');
      if (range) reply.code(206).header('content-range', `bytes ${from}-${to}/${file.length}`);
      return reply.send(Buffer.from(file.buffer, file.byteOffset + from, to - from + 1));
    },
  );
};
