// The 400 of a request that does not fit its route's schema, in the words
// the API has always used: "invalid WHAT: path: reason; ...".

import type { FastifySchemaValidationError } from 'fastify';
import { HttpError } from '../auth';

type Formatter = (errors: FastifySchemaValidationError[], dataVar: string) => Error;

/** "invalid WHAT: path: reason; ..." as the 400 of a request that does not fit its schema (body: `body`, query string: "query"). */
export function invalid(body: string): Formatter {
  return (errors, dataVar) => {
    const what = dataVar === 'body' ? body : dataVar === 'querystring' ? 'query' : dataVar;
    const reasons = errors.map((e) => `${(e.instancePath ?? '').split('/').filter(Boolean).join('.') || what}: ${e.message}`);
    return new HttpError(400, `invalid ${what}: ${reasons.join('; ')}`);
  };
}
