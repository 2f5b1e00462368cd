// Small HTTP helpers for the portal: responses, the query string, cookies and
// bounded JSON bodies, all without Node APIs (the same code runs on XS).

import type { HttpRequest, HttpResponse } from '../ports/http';
import { utf8Decode } from '../codec/utf8';
import { jsonText } from '../codec/json';

/** Largest JSON body the portal reads: an enrolment bundle (CA, certificate, RSA key in base64) is about 6 KB. */
const MAX_JSON_BODY = 8 * 1024;

/** A request the portal refuses, with the status and the words the page shows. */
export class HttpError extends Error {
  readonly status: number;
  readonly headers: { [name: string]: string };
  constructor(status: number, message: string, headers: { [name: string]: string } = {}) {
    super(message);
    this.status = status;
    this.headers = headers;
  }
}

const NO_STORE = { 'cache-control': 'no-store' };

export function json(status: number, body: unknown, headers: { [name: string]: string } = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...NO_STORE, ...headers }, body: jsonText(body) };
}

export function text(status: number, body: string, type = 'text/plain'): HttpResponse {
  return { status, headers: { 'content-type': type, ...NO_STORE }, body };
}

export function redirect(location: string): HttpResponse {
  return { status: 302, headers: { location, 'content-type': 'text/html', ...NO_STORE }, body: `<a href="${location}">Set up the gateway</a>` };
}

export function splitPath(raw: string): { path: string; query: string } {
  const q = raw.indexOf('?');
  return q < 0 ? { path: raw, query: '' } : { path: raw.slice(0, q), query: raw.slice(q + 1) };
}

export function queryParam(query: string, name: string): string | null {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/** A non-negative integer query parameter, or the fallback. */
export function numberParam(query: string, name: string, fallback: number): number {
  const v = queryParam(query, name);
  if (v === null || v === '') return fallback;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : fallback;
}

export function cookie(request: HttpRequest, name: string): string | null {
  const header = request.headers['cookie'];
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

/** The request's JSON object body. Throws HttpError 413 (too big), 415 (not JSON) or 400 (malformed). */
export function readJson(request: HttpRequest): { [key: string]: unknown } {
  const body = request.body;
  if (!body || body.length === 0) return {};
  if (body.length > MAX_JSON_BODY) throw new HttpError(413, `the request body is larger than ${MAX_JSON_BODY} bytes`);
  const type = request.headers['content-type'] ?? '';
  if (type.indexOf('application/json') !== 0) throw new HttpError(415, 'send the request as application/json');
  const textBody = utf8Decode(body);
  if (textBody === null) throw new HttpError(400, 'the request body is not UTF-8');
  let value: unknown;
  try {
    value = JSON.parse(textBody);
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value as { [key: string]: unknown };
}

export function stringField(body: { [key: string]: unknown }, name: string, max: number, required = true): string {
  const v = body[name];
  if (v === undefined || v === null || v === '') {
    if (required) throw new HttpError(400, `${name} is required`);
    return '';
  }
  if (typeof v !== 'string') throw new HttpError(400, `${name} must be text`);
  if (v.length > max) throw new HttpError(400, `${name} is longer than ${max} characters`);
  return v;
}
