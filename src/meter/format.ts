// The one JSON form of a reading, shared by `smgw decode` on every engine (so
// that V8 and XS print byte-identical lines) and by the uplink's debug views.

import { isoUtc } from '../time/zone';
import type { Reading } from './reading';
import { jsonText } from '../codec/json';

export function readingJson(r: Reading): string {
  const values: { [obis: string]: unknown } = {};
  for (const key in r.values) {
    const v = r.values[key] as { value?: number; unit?: string; time?: number; text?: string; hex?: string };
    if (v.value !== undefined) {
      values[key] = v.time === undefined ? { value: v.value, unit: v.unit } : { value: v.value, unit: v.unit, time: isoUtc(v.time) };
    } else if (v.text !== undefined) values[key] = { text: v.text };
    else values[key] = { hex: v.hex };
  }
  return jsonText({
    protocol: r.protocol,
    meterId: r.meterId,
    time: r.time === null ? null : isoUtc(r.time),
    values,
    security: { encrypted: r.security.encrypted, authenticated: r.security.authenticated },
  });
}
