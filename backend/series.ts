// Consumption per interval from register differences: the register at the
// interval's end minus the register at its start, both readings the device
// took at those boundaries. A boundary without a reading makes its intervals
// gaps (with the reason the device gave, when it gave one): nothing is
// interpolated.

import { fromLocal, isoUtc, toLocal } from '../src/time/zone';
import type { StoredGap, StoredReading } from './store';

export type Step = '15m' | '1h' | '1d' | '1mo';
export const STEPS: readonly Step[] = ['15m', '1h', '1d', '1mo'];
export const MAX_INTERVALS = 10000;

export interface SeriesPoint {
  from: string;
  to: string;
  value: number | null;
  flags: string[];
}

/** Interval boundaries from `from` to `to`: quarter-hours and hours in UTC (whole-hour zones), days and months at local midnight. */
export function boundaries(from: number, to: number, step: Step, zone: string): number[] {
  const out: number[] = [];
  if (step === '15m' || step === '1h') {
    const ms = step === '15m' ? 900000 : 3600000;
    // One boundary more than MAX_INTERVALS intervals need: enough to tell that a range has too many.
    for (let t = Math.ceil(from / ms) * ms; t <= to && out.length <= MAX_INTERVALS + 1; t += ms) out.push(t);
    return out;
  }
  const l = toLocal(zone, from);
  let y = l.year;
  let m = l.month;
  let d = l.day;
  let t = fromLocal(zone, y, m, d, 0, 0, 0);
  if (step === '1mo') {
    d = 1;
    t = fromLocal(zone, y, m, 1, 0, 0, 0);
  }
  if (t < from) {
    if (step === '1d') d++;
    else m++;
  }
  for (;;) {
    t = fromLocal(zone, y, m, d, 0, 0, 0);
    if (t > to || out.length > MAX_INTERVALS + 1) break;
    out.push(t);
    if (step === '1d') d++;
    else m++;
    // Date.UTC inside fromLocal carries day 32 and month 13 over.
  }
  return out;
}

/**
 * The series of `obis` over the boundaries: registers from the readings (the
 * first reading at each boundary wins: a daily one before a quarter-hour one,
 * as the caller orders them).
 */
export function consumption(points: number[], readings: StoredReading[], gaps: StoredGap[], obis: string, stepMs: number | null): { unit: string | null; series: SeriesPoint[] } {
  const register = new Map<number, number>();
  let unit: string | null = null;
  for (const r of readings) {
    const v = r.values[obis];
    if (!v || register.has(r.time)) continue;
    register.set(r.time, v.value);
    unit ??= v.unit;
  }
  const reasonAt = (t: number): string | null => {
    for (const g of gaps) {
      if (t < g.first || t > g.last) continue;
      // A gap with a fixed step covers only its own boundaries; a daily one every midnight in its span.
      if (stepMs === null || g.count === 1 || (t - g.first) % Math.max(1, Math.round((g.last - g.first) / (g.count - 1))) === 0) return g.reason;
    }
    return null;
  };
  const series: SeriesPoint[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = register.get(points[i]);
    const b = register.get(points[i + 1]);
    const flags: string[] = [];
    if (a === undefined || b === undefined) {
      flags.push('gap');
      for (const t of [points[i], points[i + 1]]) {
        if (register.has(t)) continue;
        flags.push(`${isoUtc(t)}: ${reasonAt(t) ?? 'no reading'}`);
      }
    }
    const value = a === undefined || b === undefined ? null : round(b - a);
    if (value !== null && value < 0) flags.push('register went back');
    series.push({ from: isoUtc(points[i]), to: isoUtc(points[i + 1]), value, flags });
  }
  return { unit, series };
}

/** Differences of decimals without binary noise (12345.6 - 12340.1 = 5.5, not 5.500000000001). */
function round(v: number): number {
  return Math.round(v * 1e6) / 1e6;
}
