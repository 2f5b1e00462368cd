// An OMDP reading's id: its key (meter, kind, time) as base64url, so that
// DELETE /v1/meterReadings can name the reading.

import type { SeriesKind } from '../../src/formats/entries';

export function readingId(r: { meterId: string; kind: string; time: number }): string {
  return Buffer.from(`${r.meterId}|${r.kind}|${r.time}`).toString('base64url');
}

export function parseReadingId(id: string): { meterId: string; kind: SeriesKind; time: number } | null {
  // From the right: a meter id may itself hold "|".
  const m = /^(.+)\|(taf7|daily|demand)\|(\d+)$/s.exec(Buffer.from(id, 'base64url').toString('utf8'));
  if (!m) return null;
  return { meterId: m[1], kind: m[2] as SeriesKind, time: Number(m[3]) };
}
