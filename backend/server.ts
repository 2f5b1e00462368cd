// The backend's HTTP API (fastify): device ingest over mutual TLS, the admin's
// registry and enrolment, the query API with CSV export, the household
// dashboard, and the Open Meter Data Platform interfaces. The routes live in
// plugins by resource (backend/routes/), each given only the part of the
// store it uses and declaring who may call each route. Their zod schemas are
// the one description of the API: fastify validates requests and serializes
// responses with them, and /openapi.json is generated from them.
//
// Bad input never costs more than a 4xx with a reason: bodies are bounded,
// every field is validated (the route schemas for JSON, the batch decoder and
// validate.ts for batches), and no handler trusts what it has not checked.

import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BATCH_CONTENT_TYPE, BATCH_CONTENT_TYPE_V1 } from '../src/formats/batch';
import { HttpError, type Caller } from './auth';
import { systemClock, wholeMs } from './clock';
import { invalid } from './http/validation';
import type { Pki } from './pki';
import { migrateReleases, Releases } from './releases';
import { dashboardRoutes } from './routes/dashboard';
import { householdRoutes } from './routes/households';
import { ingestRoutes } from './routes/ingest';
import { liveRoutes } from './routes/live';
import { meterRoutes } from './routes/meters';
import { omdpRoutes } from './routes/omdp';
import { releaseRoutes } from './routes/releases';
import { MeterConflict, type Store } from './store';

export interface ServerOptions {
  store: Store;
  pki: Pki;
  /** The address devices and clients reach this backend at (for enrolment bundles and download links); known once it listens. */
  publicUrl: () => string;
  /** false: plain HTTP behind a proxy that terminates TLS (devices use tokens). */
  tls: boolean;
  logger?: boolean;
  /** The time readings are checked against (the simulator's virtual clock; the system's otherwise). */
  now?: () => number;
}

/** Strict-Transport-Security on every HTTPS response: one year. */
const HSTS = 'max-age=31536000';
/** Largest request body: a batch is 2 KB; JSON requests are small. */
const BODY_LIMIT = 64 * 1024;

const DESCRIPTION = `The backend smgw-lite gateways deliver their readings to, and the API to read them back.

Roles: \`admin\` (registry, enrolment, every meter), \`household\` (its own meters only), \`research\` (third party: OMDP readings only, under the privacy rule), \`device\` (ingest only). Each operation lists the roles it admits in \`x-roles\`; any other role gets 403.

Authentication: people and programs send \`Authorization: Bearer TOKEN\`. Devices present their client certificate (mutual TLS), or, where a proxy terminates TLS, their device token as a bearer token.

Times: request times are ISO 8601 with \`Z\` or an offset (\`2025-01-01T00:00:00Z\`); ranges are \`from\` <= t < \`to\`, \`to\` after \`from\`, at most 400 days. Times in responses are UTC (\`...Z\`), except OMDP \`readingTime\`, which is the household's local time with its UTC offset.

Privacy: a \`research\` query must cover at least 20 readings of at least 5 households, or it is refused with 403; research callers see pseudonymous meter ids (\`p-\` and 16 hex digits), never the real ones, and name meters by these pseudonyms in \`meterIds\`.

Errors: every 4xx and 5xx response is \`{"error": "reason"}\`. Bad input is a 400 with the reason; JSON bodies and query strings are validated strictly (unknown fields are refused).`;

export async function buildServer(o: ServerOptions): Promise<FastifyInstance> {
  const { store, pki } = o;
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: o.logger ? { redact: ['req.headers.authorization'] } : false,
    // Routes name what a bad body is (invalid('tariff')); this is the rest (query strings, parameters).
    schemaErrorFormatter: invalid('body'),
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
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const clock = wholeMs(o.now ?? systemClock);
  const serverKey = await store.secret('server-key');

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
    // Among them an answer that does not fit its route's response schema (the serializer refuses it).
    app.log.error(error);
    return reply.code(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split('?')[0]}` }));
  app.decorateRequest('caller', null as unknown as Caller);

  // The document of every route registered after this, from the routes' own schemas.
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'smgw-lite backend', version: '1', description: DESCRIPTION },
      tags: [
        { name: 'service', description: 'Health and this document.' },
        { name: 'devices', description: 'Delivery of readings by gateways, and their firmware updates.' },
        { name: 'admin', description: 'Registry, enrolment, releases.' },
        { name: 'query', description: 'Readings and consumption series of one meter, as JSON or CSV; device event logs.' },
        { name: 'omdp', description: 'Open Meter Data Platform interfaces.' },
        { name: 'dashboard', description: "The household dashboard's aggregated queries and its web app." },
      ],
      components: {
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'A token of the admin, a household, a research user, or (behind a TLS-terminating proxy) a device.' },
          // OpenAPI 3.1's mutual TLS scheme (the types know only 3.0's).
          deviceCertificate: { type: 'mutualTLS', description: "The device's client certificate, issued by the backend's CA at enrolment (CN = the device id)." } as unknown as { type: 'http'; scheme: string },
        },
      },
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  // The same document to read in a browser (its own routes are left out of the document).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  const typed = app.withTypeProvider<ZodTypeProvider>();
  // The process that answered (several share the port when scaled out).
  typed.get(
    '/health',
    { schema: { tags: ['service'], operationId: 'health', summary: 'Liveness', security: [], response: { 200: z.object({ ok: z.literal(true), pid: z.number().int().meta({ description: 'The process that answered (several share the port when the backend is scaled out).' }) }).strict() } } },
    async () => ({ ok: true as const, pid: process.pid }),
  );
  typed.get(
    '/openapi.json',
    {
      schema: {
        tags: ['service'],
        operationId: 'openapi',
        summary: 'This document (OpenAPI 3.1), generated from the route schemas',
        security: [],
        response: { 200: z.looseObject({ openapi: z.string(), info: z.looseObject({}), paths: z.looseObject({}) }).meta({ description: 'An OpenAPI 3.1 document.' }) },
      },
    },
    async (_request, reply) => reply.type('application/json').send(app.swagger() as unknown as { openapi: string; info: { [k: string]: unknown }; paths: { [k: string]: unknown } }),
  );

  // Firmware releases, rollouts and the devices' downloads (backend/releases.ts, docs/ota.md).
  await migrateReleases(store.db);
  const releases = new Releases(store.db);

  await app.register(ingestRoutes, { registry: store, readings: store, live: store, offerFor: (device, firmware) => releases.offerFor(device, firmware), clock });
  await app.register(householdRoutes, { registry: store, eventLog: store, settings: store, lastUpdateEvents: () => releases.lastUpdateEvents(), pki, publicUrl: o.publicUrl });
  await app.register(meterRoutes, { registry: store, readings: store, settings: store, live: store, clock });
  await app.register(liveRoutes, { registry: store, live: store, clock });
  await app.register(omdpRoutes, { registry: store, readings: store, bulkLinks: store, serverKey, pki, publicUrl: o.publicUrl, clock });
  await app.register(releaseRoutes, { registry: store, releases, clock });
  await app.register(dashboardRoutes);
  return app;
}
