// The one JSON form of a log entry: `smgw log` prints it, the uplink sends it.
// Times are ISO 8601 UTC; values in canonical units (Wh, varh, VAh).

import { isoUtc } from '../time/zone';
import { toHex } from '../codec/bytes';
import type { LogEntry } from '../formats/entries';

export function entryJson(e: LogEntry): object {
  if (e.type === 'event') {
    return {
      seq: e.seq, type: 'event', kind: e.kind, time: e.time > 0 ? isoUtc(e.time) : null, uptime: e.uptime / 1000,
      number: e.number, prev: toHex(e.prev), message: e.message,
    };
  }
  if (e.type === 'gap') {
    return { seq: e.seq, type: 'gap', kind: e.kind, from: isoUtc(e.time), to: isoUtc(e.last), count: e.count, reason: e.reason };
  }
  return { seq: e.seq, type: 'reading', kind: e.kind, time: isoUtc(e.time), offset: e.offset, source: e.source, meterId: e.meterId, values: e.values };
}
