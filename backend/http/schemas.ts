// The zod schemas several routes share: request times, the times and zones
// responses carry, and the error body every refusal has. Route schemas are
// the one description of the API: fastify validates requests and serializes
// responses with them, and /openapi.json is generated from them.

import { z } from 'zod';
import { isKnownZone } from '../../src/time/zone';

// With Z or an offset: Date.parse reads a time without one in the server process's own zone.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A time in a request: ISO 8601 with Z or an offset. */
export const queryTime = z
  .string()
  .refine((s) => ISO_TIME.test(s) && !Number.isNaN(Date.parse(s)), 'an ISO 8601 time with Z or an offset (2025-06-02T00:00:00Z)')
  .meta({ format: 'date-time', pattern: ISO_TIME.source, description: 'ISO 8601 with Z or an offset.', examples: ['2025-01-01T00:00:00Z', '2025-01-01T00:00:00+01:00'] });

/** A time in a response: UTC. */
export const utcTime = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/)
  .meta({ format: 'date-time', description: 'UTC, ISO 8601.' });

/** A time zone a request may name. */
export const knownZone = z.string().refine(isKnownZone, 'a supported time zone').meta({ description: 'A supported time zone (EU summer-time rule), such as Europe/Berlin or UTC.' });
/** The zone a response names (a household's). */
export const zone = z.string().meta({ description: "The household's time zone." });

/** Milliseconds since the epoch. */
export const epochMs = z.number().int().meta({ description: 'ms since the epoch.' });

/** The readings' kinds as the API names them: taf7 quarter-hours, taf6 daily and on-demand readings. */
export const apiKind = z.enum(['taf7', 'taf6']);

export const flags = z.array(z.string()).meta({
  description: '`daily`, `on-demand` (TAF 6 readings); `timed-by-meter-clock` (taken before SNTP time was available); `capture-offset:+Ns` (the telegram was captured N seconds after the boundary).',
});

/** The body of every 4xx and 5xx answer. */
export const errorBody = z.object({ error: z.string().meta({ description: 'What is wrong.' }), details: z.unknown().optional() }).strict();

const REFUSALS = {
  400: 'Invalid input: malformed JSON, a missing, unknown or invalid field, an invalid time, `to` not after `from`, more than 400 days.',
  401: 'No credential, a malformed Authorization header, or an unknown token or certificate.',
  403: "The caller's role may not do this, or its device is revoked.",
  404: 'Not found, or not visible to the caller.',
  409: 'Conflicts with what is stored.',
  410: 'No longer available.',
  413: 'A body larger than the route takes.',
  415: 'A body of a content type this operation does not take.',
  416: 'The range is not within the file, or longer than 64 KB.',
  422: 'Well-formed but implausible.',
} as const;
type Refusal = keyof typeof REFUSALS;

/** The error answers of a route, by status, as response schemas (each is `{ error }`). */
export function refusals<C extends Refusal>(...codes: C[]): { [K in C]: typeof errorBody } {
  return Object.fromEntries(codes.map((c) => [c, errorBody.describe(REFUSALS[c])])) as { [K in C]: typeof errorBody };
}

/** A response that is not JSON (CSV, HTML, NDJSON, binary): described, not serialized (handlers send strings, buffers or streams). */
export function content(description: string, types: { [type: string]: z.ZodType }) {
  return { description, content: Object.fromEntries(Object.entries(types).map(([t, schema]) => [t, { schema }])) };
}

export const text = z.string();
export const binary = z.string().meta({ format: 'binary' });

/** `{ meterId }` in the path. */
export const meterParams = z.object({ meterId: z.string() }).strict();
/** `{ householdId }` in the path. */
export const householdParams = z.object({ householdId: z.string() }).strict();
/** `{ id }` in the path. */
export const idParams = z.object({ id: z.string() }).strict();
