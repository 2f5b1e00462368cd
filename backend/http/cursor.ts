// OMDP page cursors, signed with the server key: a caller cannot edit one to
// page through a narrower slice than it was allowed.

import { createHmac, timingSafeEqual } from 'node:crypto';
import { HttpError } from '../auth';

export interface ReadingKey {
  time: number;
  meterId: string;
  kind: string;
}

function sign(key: string, text: string): string {
  return createHmac('sha256', key).update(text).digest('base64url');
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function encodeCursor(key: string, k: ReadingKey): string {
  const payload = Buffer.from(JSON.stringify(k)).toString('base64url');
  return `${payload}.${sign(key, payload)}`;
}

/** The key a cursor names; a 400 for anything this server did not issue. */
export function decodeCursor(key: string, c: string): ReadingKey {
  const [payload, signature] = c.split('.');
  if (payload && signature && safeEqual(sign(key, payload), signature)) {
    try {
      const k = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { time: unknown; meterId: unknown; kind: unknown };
      if (typeof k.time === 'number' && typeof k.meterId === 'string' && typeof k.kind === 'string') return k as ReadingKey;
    } catch {
      // fall through
    }
  }
  throw new HttpError(400, 'page.cursor is not a cursor this server issued');
}
