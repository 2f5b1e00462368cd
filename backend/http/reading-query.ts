// What the query API and the OMDP interfaces share about readings: the time
// range a query may ask for, the kinds it names, and the flags a reading
// carries.

import type { SeriesKind } from '../../src/formats/entries';
import { HttpError } from '../auth';
import type { StoredReading } from '../store';

/** The API's kinds as stored: taf6 are the daily and the on-demand readings. */
export const KINDS: { [k: string]: SeriesKind[] } = { taf7: ['taf7'], taf6: ['daily', 'demand'], daily: ['daily'], demand: ['demand'] };

/** A query's range in ms: `to` after `from`, at most 400 days. */
export function range(q: { from: string; to: string }): { from: number; to: number } {
  const from = Date.parse(q.from);
  const to = Date.parse(q.to);
  if (!(to > from)) throw new HttpError(400, '"to" must be after "from"');
  if (to - from > 400 * 86400000) throw new HttpError(400, 'at most 400 days per query');
  return { from, to };
}

export function flagsOf(r: StoredReading): string[] {
  const flags: string[] = [];
  if (r.kind === 'daily') flags.push('daily');
  if (r.kind === 'demand') flags.push('on-demand');
  if (r.source === 'meter') flags.push('timed-by-meter-clock');
  if (r.offset !== 0) flags.push(`capture-offset:${r.offset > 0 ? '+' : ''}${r.offset}s`);
  return flags;
}
