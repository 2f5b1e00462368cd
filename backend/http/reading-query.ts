// What the query API and the OMDP interfaces share about readings: the time
// range a query may ask for and the kinds it names. (A reading's flags are the
// device's MQTT payload's, flagsOf in src/mqtt/omdp.ts.)

import type { SeriesKind } from '../../src/formats/entries';
import { HttpError } from '../auth';

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
