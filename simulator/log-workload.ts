// A reading-log workload for tests and the benchmark: quarter-hour readings
// of a household's four energy registers (A+, A-, R+, R-) as a Kaifa meter
// sends them (Wh and varh, integers), a daily reading at UTC midnight, now
// and then a gap or a reading without R-. Random but seeded; pure
// TypeScript, so that it runs inside XS too.

import { prng } from './world/random';
import type { Entry, ReadingEntry } from '../src/formats/entries';

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

/**
 * The workload of a PV generation meter behind the same household as a
 * `workload()` grid meter: quarter-hour readings of its A+ (the inverter's
 * standby, 1 Wh a quarter-hour while it produces nothing) and A- (generation)
 * over the same time. It generates at least what the grid meter exported
 * since the grid meter's last reading, and some more that the household used
 * itself; its own gaps now and then. So for any interval with readings of both
 * at its boundaries, generation >= export, as physics has it.
 */
export function generationWorkload(grid: Entry[], seed = 2, meterId = '1EMH0010434631'): Entry[] {
  const random = prng(seed);
  const exported = new Map<number, number>();
  for (const e of grid) if (e.type === 'reading' && e.kind === 'taf7' && e.values['1-0:2.8.0']) exported.set(e.time, e.values['1-0:2.8.0'].value);
  const last = Math.max(T0, ...exported.keys());
  const r = { a: 23456, b: 3456789 };
  let gridBefore: number | null = null;
  const out: Entry[] = [];
  for (let t = T0 + QUARTER; t <= last; t += QUARTER) {
    const e = exported.get(t);
    const fed = e !== undefined && gridBefore !== null ? e - gridBefore : 0;
    if (e !== undefined) gridBefore = e;
    const own = random() < 0.5 ? Math.floor(random() * 400) : 0;
    r.b += fed + own;
    if (fed + own === 0) r.a += 1;
    if (random() < 0.03) {
      out.push({ type: 'gap', kind: 'taf7', time: t, last: t, count: 1, reason: 'no-telegram' });
      continue;
    }
    const values: ReadingEntry['values'] = { '1-0:1.8.0': { value: r.a, unit: 'Wh' }, '1-0:2.8.0': { value: r.b, unit: 'Wh' } };
    out.push({ type: 'reading', kind: 'taf7', time: t, offset: 0, source: 'sntp', meterId, values });
    if (t % 86400000 === 0) out.push({ type: 'reading', kind: 'daily', time: t, offset: 0, source: 'sntp', meterId, values: { ...values } });
  }
  return out;
}
