// Helpers for reading-log tests: the workload (simulator/log-workload.ts),
// and comparing what comes back with what went in.

import type { Entry, LogEntry } from '../../src/formats/entries';

export { QUARTER, T0, workload } from '../../simulator/log-workload';

/** An entry without its sequence number, to compare with what was appended. */
export function strip(e: LogEntry): Entry {
  const { seq: _seq, ...rest } = e;
  return rest as Entry;
}

/** Field-by-field equality of two entries (a deep-equal matcher is too slow for 60,000 checks). */
export function sameEntry(a: Entry, b: Entry): boolean {
  if (a.type !== b.type || a.kind !== b.kind || a.time !== b.time) return false;
  if (a.type === 'gap') return b.type === 'gap' && a.last === b.last && a.count === b.count && a.reason === b.reason;
  if (a.type === 'event') {
    return b.type === 'event' && a.uptime === b.uptime && a.number === b.number && a.message === b.message && a.prev.length === b.prev.length && a.prev.every((x, i) => x === b.prev[i]);
  }
  if (b.type !== 'reading' || a.offset !== b.offset || a.source !== b.source || a.meterId !== b.meterId) return false;
  const ka = Object.keys(a.values);
  if (ka.length !== Object.keys(b.values).length) return false;
  for (const k of ka) {
    const x = a.values[k];
    const y = b.values[k];
    if (!y || x.value !== y.value || x.unit !== y.unit) return false;
  }
  return true;
}
