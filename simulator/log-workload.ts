// A reading-log workload for tests and the benchmark: quarter-hour readings
// of a household's four energy registers (A+, A-, R+, R-) as a Kaifa meter
// sends them (Wh and varh, integers), a daily reading at UTC midnight, now
// and then a gap or a reading without R-. Random but seeded; pure
// TypeScript, so that it runs inside XS too.

import { prng } from './world/random';
import type { Entry, ReadingEntry } from '../src/store/entries';

export const QUARTER = 900000;
export const T0 = Date.UTC(2025, 0, 1);

export function workload(count: number, seed = 1): Entry[] {
  const random = prng(seed);
  const r = { a: 12345678, b: 2345678, c: 345678, d: 45678 };
  const out: Entry[] = [];
  let t = T0;
  while (out.length < count) {
    t += QUARTER;
    const pick = random();
    if (pick < 0.03) {
      const n = 1 + Math.floor(random() * 8);
      out.push({ type: 'gap', kind: 'taf7', time: t, last: t + (n - 1) * QUARTER, count: n, reason: random() < 0.5 ? 'no-telegram' : 'not-running' });
      t += (n - 1) * QUARTER;
      continue;
    }
    r.a += Math.floor(random() * 2000);
    r.b += random() < 0.4 ? Math.floor(random() * 1500) : 0;
    r.c += Math.floor(random() * 300);
    r.d += Math.floor(random() * 100);
    const values: ReadingEntry['values'] = {
      '1-0:1.8.0': { value: r.a, unit: 'Wh' },
      '1-0:2.8.0': { value: r.b, unit: 'Wh' },
      '1-0:3.8.0': { value: r.c, unit: 'varh' },
      '1-0:4.8.0': { value: r.d, unit: 'varh' },
    };
    if (pick > 0.99) delete values['1-0:4.8.0'];
    const offset = Math.round(random() * 6) - 1;
    out.push({ type: 'reading', kind: 'taf7', time: t, offset, source: 'sntp', meterId: '1KFM0200204884', values });
    if (t % 86400000 === 0) out.push({ type: 'reading', kind: 'daily', time: t, offset, source: 'sntp', meterId: '1KFM0200204884', values: { ...values } });
  }
  return out;
}
