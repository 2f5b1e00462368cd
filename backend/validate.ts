// Checks of what a batch says, beyond its format: a well-formed batch can
// still carry nonsense (a reading from 1970, a value of 1e300), and none of
// it is stored.

import type { LogEntry } from '../src/formats/entries';

const EARLIEST = Date.UTC(2000, 0, 1);
/** Device clocks may be ahead a little; more is an error. */
const FUTURE_MS = 2 * 86400000;
const OBIS = /^\d{1,3}-\d{1,3}:\d{1,3}\.\d{1,3}\.\d{1,3}(\*\d{1,3})?$/;
const UNITS = new Set(['Wh', 'varh', 'VAh']);

/** The first problem with an entry, or null. */
export function problemWith(e: LogEntry, now: number): string | null {
  // Events are audit records: stored as they came (an implausible time is stored as unknown), never a reason to refuse readings.
  if (e.type === 'event') return null;
  if (!(e.time >= EARLIEST && e.time <= now + FUTURE_MS)) return `entry ${e.seq}: time ${new Date(e.time).toISOString()} is outside 2000 .. now`;
  if (e.type === 'gap') {
    if (e.last < e.time || e.last > now + FUTURE_MS) return `entry ${e.seq}: gap ends before it starts or in the future`;
    if (e.count < 1 || e.count > 1_000_000) return `entry ${e.seq}: gap of ${e.count} boundaries`;
    return null;
  }
  if (Math.abs(e.offset) > 3600) return `entry ${e.seq}: capture offset ${e.offset} s`;
  if (e.meterId !== null && !/^[\x21-\x7e]{1,32}$/.test(e.meterId)) return `entry ${e.seq}: meter id is not printable`;
  const keys = Object.keys(e.values);
  if (!keys.length) return `entry ${e.seq}: a reading without values`;
  for (const k of keys) {
    const v = e.values[k];
    if (!OBIS.test(k)) return `entry ${e.seq}: "${k}" is not an OBIS code`;
    if (!Number.isFinite(v.value) || Math.abs(v.value) > 1e15) return `entry ${e.seq}: ${k} = ${v.value}`;
    if (!UNITS.has(v.unit)) return `entry ${e.seq}: ${k} in ${v.unit}, not an energy unit`;
  }
  return null;
}
