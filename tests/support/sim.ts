// Runs the simulator in-process and collects what the meter sent and what
// the firmware read.

import { Simulation, type SimOptions, type SimReport } from '../../simulator/runner';
import type { MeterSample } from '../../simulator/meters/meter';
import { ReadingLog } from '../../src/store/reading-log';
import type { LogEntry, SeriesKind } from '../../src/formats/entries';

export interface SimRun {
  samples: MeterSample[];
  readings: { values: { [obis: string]: { value?: number; unit?: string } } }[];
  lines: string[];
  report: SimReport;
  sim: Simulation;
}

export const JUNE = Date.UTC(2025, 5, 2);
export const HOUR = 3600000;
export const DAY = 24 * HOUR;

export async function simulate(options: Partial<SimOptions> & Pick<SimOptions, 'meter'>): Promise<SimRun> {
  const sim = new Simulation({ seed: 7, from: JUNE, speed: 'max', faults: [], ...options });
  const samples: MeterSample[] = [];
  const lines: string[] = [];
  sim.onSample((s) => samples.push(s));
  sim.onReading((json) => lines.push(json));
  const report = await sim.run();
  return { samples, lines, readings: lines.map((l) => JSON.parse(l)), report, sim };
}

/** True when the reading carries every value the meter sent in the sample, exactly. */
export function matches(reading: SimRun['readings'][number], sample: MeterSample): boolean {
  for (const [obis, want] of Object.entries(sample.values)) {
    const got = reading.values[obis];
    if (!got || got.value !== want.value || got.unit !== want.unit) return false;
  }
  return true;
}

/** Index of the first mismatch between readings and samples (one each, in order), or -1. */
export function firstMismatch(run: SimRun): number {
  const n = Math.max(run.readings.length, run.samples.length);
  for (let i = 0; i < n; i++) {
    if (!run.readings[i] || !run.samples[i] || !matches(run.readings[i], run.samples[i])) return i;
  }
  return -1;
}

/** True when every reading equals one of the samples, in order: nothing read that the meter did not send. */
export function isSubsequence(run: SimRun): boolean {
  let s = 0;
  for (const r of run.readings) {
    while (s < run.samples.length && !matches(r, run.samples[s])) s++;
    if (s === run.samples.length) return false;
    s++;
  }
  return true;
}

/** What the device's reading log holds at the end of a run. */
export function logEntries(run: SimRun): LogEntry[] {
  run.sim.world.flash.revive();
  return new ReadingLog(run.sim.world.flash).read(0, Number.MAX_SAFE_INTEGER);
}

/**
 * Boundary -> what the log has for it ('reading' or the gap's reason), for
 * one series with a fixed step; throws when a boundary has two entries or
 * entries go back in time.
 */
export function coverage(entries: LogEntry[], kind: SeriesKind, step: number): Map<number, string> {
  const out = new Map<number, string>();
  let last = -Infinity;
  const put = (t: number, what: string) => {
    if (out.has(t)) throw new Error(`boundary ${new Date(t).toISOString()} has two entries`);
    if (t <= last) throw new Error(`boundary ${new Date(t).toISOString()} written after ${new Date(last).toISOString()}`);
    last = t;
    out.set(t, what);
  };
  for (const e of entries) {
    if (e.kind !== kind) continue;
    if (e.type === 'reading') put(e.time, 'reading');
    else {
      let n = 0;
      for (let t = e.time; t <= e.last; t += step, n++) put(t, e.reason);
      if (n !== e.count) throw new Error(`gap from ${new Date(e.time).toISOString()}: ${n} boundaries, count says ${e.count}`);
    }
  }
  return out;
}

/** Every boundary from `from` to `to` (inclusive) has exactly one entry. */
export function boundariesFrom(from: number, to: number, step: number): number[] {
  const out: number[] = [];
  for (let t = from; t <= to; t += step) out.push(t);
  return out;
}

/** The energy registers of a meter sample, as the log keeps them. */
export function energyOf(sample: MeterSample): { [obis: string]: { value: number; unit: string } } {
  const out: { [obis: string]: { value: number; unit: string } } = {};
  for (const [k, v] of Object.entries(sample.values)) if (/^1-\d+:(\d+)\.8\.\d+$/.test(k) && ['Wh', 'varh', 'VAh'].includes(v.unit)) out[k] = { value: v.value, unit: v.unit };
  return out;
}
