// What the household dashboard needs, aggregated server-side at the
// resolution it shows: quarter-hours of a day or week, days or months of a
// year, and totals with their cost at the household's tariff. Everything is
// computed from the consumption series of backend/series.ts (register
// differences, gaps as null, nothing interpolated); this file only converts
// to kWh, sums, and prices.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { fromLocal, toLocal } from '../src/time/zone';
import type { SeriesPoint } from './series';

export const IMPORT = '1-0:1.8.0';
export const EXPORT = '1-0:2.8.0';

// ---- tariffs ----

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$|^24:00$/, 'a local time HH:MM');
const price = z.number().finite().min(0).max(100);

/** Prices in currency units per kWh; time-of-use periods are local wall-clock times, the first matching one wins, `importPrice` elsewhere. */
export const tariffSchema = z
  .object({
    kind: z.enum(['flat', 'tou']),
    currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR').default('EUR'),
    importPrice: price,
    exportPrice: price.default(0),
    periods: z
      .array(z.object({ from: hhmm, to: hhmm, price, name: z.string().min(1).max(40).optional() }).strict())
      .max(12)
      .default([]),
  })
  .strict()
  .refine((t) => t.kind === 'flat' || t.periods.length > 0, 'a time-of-use tariff needs at least one period')
  .refine((t) => t.periods.every((p) => p.from !== p.to), 'a period must not start where it ends');

export type Tariff = z.infer<typeof tariffSchema>;

/** A household that set nothing: a typical German flat rate and feed-in payment. */
export const DEFAULT_TARIFF: Tariff = { kind: 'flat', currency: 'EUR', importPrice: 0.32, exportPrice: 0.08, periods: [] };

const minutes = (s: string) => Number(s.slice(0, 2)) * 60 + Number(s.slice(3, 5));

/** The import price of the quarter-hour starting at `t` (local wall-clock time of its start). */
function importPriceAt(tariff: Tariff, zone: string, t: number): number {
  if (tariff.kind === 'flat') return tariff.importPrice;
  const l = toLocal(zone, t);
  const m = l.hour * 60 + l.minute;
  for (const p of tariff.periods) {
    const a = minutes(p.from);
    const b = minutes(p.to);
    // A period over midnight (22:00-06:00) wraps.
    if (a < b ? m >= a && m < b : m >= a || m < b) return p.price;
  }
  return tariff.importPrice;
}

// ---- series in kWh ----

function kWh(value: number | null, unit: string | null): number | null {
  if (value === null) return null;
  const v = unit === 'kWh' ? value : unit === 'MWh' ? value * 1000 : value / 1000;
  return Math.round(v * 1e6) / 1e6;
}

export interface Flow {
  /** Interval starts, Unix seconds (uPlot's x values). */
  t: number[];
  import: (number | null)[];
  export: (number | null)[];
}

/** A register's consumption series in kWh, whatever energy unit it came in. */
export function kWhSeries(s: { unit: string | null; series: SeriesPoint[] }): (number | null)[] {
  return s.series.map((p) => kWh(p.value, s.unit));
}

export function flow(imp: { unit: string | null; series: SeriesPoint[] }, exp: { unit: string | null; series: SeriesPoint[] }): Flow {
  return { t: imp.series.map((p) => Date.parse(p.from) / 1000), import: kWhSeries(imp), export: kWhSeries(exp) };
}

export interface Totals {
  importKWh: number;
  exportKWh: number;
  /** Quarter-hours (or days) without a value in either series: the totals leave them out. */
  missing: number;
  intervals: number;
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

export function totals(f: Flow): Totals {
  let i = 0;
  let e = 0;
  let missing = 0;
  for (let k = 0; k < f.t.length; k++) {
    const a = f.import[k];
    const b = f.export[k];
    if (a === null || b === null) missing++;
    if (a !== null) i += a;
    if (b !== null) e += b;
  }
  return { importKWh: round3(i), exportKWh: round3(e), missing, intervals: f.t.length };
}

/** Totals per local day of quarter-hours (the monthly report's rows). */
export function byDay(f: Flow, zone: string): (Totals & { date: string })[] {
  const out: (Totals & { date: string })[] = [];
  let k = 0;
  while (k < f.t.length) {
    const date = dateOf(zone, f.t[k] * 1000);
    const part: Flow = { t: [], import: [], export: [] };
    while (k < f.t.length && dateOf(zone, f.t[k] * 1000) === date) {
      part.t.push(f.t[k]);
      part.import.push(f.import[k]);
      part.export.push(f.export[k]);
      k++;
    }
    out.push({ date, ...totals(part) });
  }
  return out;
}

// ---- self-consumption, where a generation meter is present ----

/** Per interval, the sum of several series (the generation of more than one PV meter); null where any is null. */
export function sumSeries(series: (number | null)[][], length: number): (number | null)[] {
  return Array.from({ length }, (_, k) => {
    let v = 0;
    for (const s of series) {
      if (s[k] === null) return null;
      v += s[k]!;
    }
    return Math.round(v * 1e6) / 1e6;
  });
}

/**
 * What the household used of its own PV output per interval: generation
 * (the generation meters' 1-0:2.8.0) minus what the grid meter exported,
 * never below 0; null where either is unknown.
 */
export function selfConsumption(f: Flow, generation: (number | null)[]): (number | null)[] {
  return generation.map((g, k) => {
    const e = f.export[k];
    return g === null || e === null ? null : Math.round(Math.max(0, g - e) * 1e6) / 1e6;
  });
}

export interface GenerationTotals {
  /** Sum of the intervals' generation, kWh; gaps count as nothing. */
  generationKWh: number;
  /** Sum of the intervals' self-consumption, kWh (null without a grid meter's export to compare). */
  selfConsumptionKWh: number | null;
  /** Self-consumption / generation over the intervals where both are known (null when nothing was generated there). */
  selfConsumptionShare: number | null;
  /** Self-consumption / (self-consumption + import) over the intervals where all three are known: the share of use the PV covered. */
  autarkyShare: number | null;
  /** Intervals without a generation value. */
  missing: number;
}

const share = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 10000) / 10000 : null);

export function generationTotals(f: Flow, generation: (number | null)[], own: (number | null)[] | null): GenerationTotals {
  let g = 0;
  let sc = 0;
  let gBoth = 0;
  let scAll = 0;
  let impAll = 0;
  let missing = 0;
  generation.forEach((v, k) => {
    if (v === null) return void missing++;
    g += v;
    const s = own?.[k] ?? null;
    if (s === null) return;
    sc += s;
    gBoth += v;
    const i = f.import[k];
    if (i === null) return;
    scAll += s;
    impAll += i;
  });
  return own
    ? { generationKWh: round3(g), selfConsumptionKWh: round3(sc), selfConsumptionShare: share(sc, gBoth), autarkyShare: share(scAll, scAll + impAll), missing }
    : { generationKWh: round3(g), selfConsumptionKWh: null, selfConsumptionShare: null, autarkyShare: null, missing };
}

export interface Cost {
  currency: string;
  /** What the import cost, at the price of each quarter-hour. */
  import: number;
  /** What the export earned. */
  export: number;
  net: number;
}

/** Cost of quarter-hours at a tariff: each quarter-hour's import at its price, export at the feed-in price. */
export function cost(f: Flow, tariff: Tariff, zone: string): Cost {
  let a = 0;
  let b = 0;
  for (let k = 0; k < f.t.length; k++) {
    const i = f.import[k];
    const e = f.export[k];
    if (i !== null) a += i * importPriceAt(tariff, zone, f.t[k] * 1000);
    if (e !== null) b += e * tariff.exportPrice;
  }
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return { currency: tariff.currency, import: r2(a), export: r2(b), net: r2(a - b) };
}

// ---- local calendar ----

/** "2025-03-14" as local midnight of that day in the zone, or null when it is not a date. */
export function localDay(zone: string, date: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || y < 2000 || y > 2100) return null;
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCMonth() !== mo - 1) return null;
  return fromLocal(zone, y, mo, d, 0, 0, 0);
}

export function dateOf(zone: string, t: number): string {
  const l = toLocal(zone, t);
  return `${l.year}-${String(l.month).padStart(2, '0')}-${String(l.day).padStart(2, '0')}`;
}

/** Local midnight `days` after the local day of `t` (negative: before). */
export function addDays(zone: string, t: number, days: number): number {
  const l = toLocal(zone, t);
  return fromLocal(zone, l.year, l.month, l.day + days, 0, 0, 0);
}

/** Local midnight of the first of the month `months` after the month of `t`. */
export function addMonths(zone: string, t: number, months: number): number {
  const l = toLocal(zone, t);
  // Date.UTC inside fromLocal carries month 13 and month 0 over.
  return fromLocal(zone, l.year, l.month + months, 1, 0, 0, 0);
}

// ---- the web app's files ----

/** The files the dashboard serves, read once: its own and uPlot's, nothing from elsewhere at runtime. */
export function dashboardFiles(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  const root = packageRoot();
  if (!root) return files;
  const types: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
  const add = (name: string, path: string) => {
    if (existsSync(path)) files.set(name, { type: types[name.split('.').pop()!] ?? 'application/octet-stream', body: readFileSync(path) });
  };
  for (const name of ['index.html', 'app.js', 'style.css']) add(name, join(root, 'backend', 'dashboard', name));
  for (const name of ['uPlot.iife.min.js', 'uPlot.min.css']) add(name, join(root, 'node_modules', 'uplot', 'dist', name));
  return files;
}

/** The directory holding backend/dashboard/, from this module (backend/ in tests, dist/ or dist/chunks/ when built). */
function packageRoot(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, 'backend', 'dashboard', 'index.html'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

// ---- alerts ----

/** A household's thresholds; null: that alert is off. */
export const alertSettingsSchema = z
  .object({
    /** Overnight (00:00-05:00 local) base load: the night's lowest quarter-hour, as average power, above this many W. */
    baseLoadW: z.number().int().min(1).max(100000).nullable().default(null),
    /** A quarter-hour's import, as average power, above this many kW. */
    peakKW: z.number().finite().min(0.1).max(1000).nullable().default(null),
    /** No reading for this many hours (a run of gaps, or since the newest reading). */
    noDataHours: z.number().int().min(1).max(720).nullable().default(null),
  })
  .strict();

export type AlertSettings = z.infer<typeof alertSettingsSchema>;
export const NO_ALERTS: AlertSettings = { baseLoadW: null, peakKW: null, noDataHours: null };

export interface Alert {
  kind: 'base-load' | 'peak' | 'no-data';
  from: string;
  to: string;
  /** W (base load), kW (peak), hours (no data). */
  value: number;
  threshold: number;
  message: string;
}

const isoOf = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The alerts quarter-hours of import raise, oldest first; `now` is the time the "since the newest reading" check is made at. */
export function evaluateAlerts(f: Flow, zone: string, s: AlertSettings, latest: number | null, now: number): Alert[] {
  const out: Alert[] = [];
  const Q = 900;
  if (s.baseLoadW !== null) {
    const nights = new Map<string, { min: number; at: number; n: number; start: number }>();
    f.t.forEach((t, i) => {
      const v = f.import[i];
      if (v === null || toLocal(zone, t * 1000).hour >= 5) return;
      const date = dateOf(zone, t * 1000);
      const w = Math.round(v * 4000);
      const n = nights.get(date) ?? { min: Infinity, at: t, n: 0, start: t };
      n.n++;
      if (w < n.min) Object.assign(n, { min: w, at: t });
      nights.set(date, n);
    });
    for (const [date, n] of nights) {
      // Two hours of readings at least: a night mostly missing says nothing.
      if (n.n >= 8 && n.min > s.baseLoadW) out.push({ kind: 'base-load', from: isoOf(n.start * 1000), to: isoOf(addDays(zone, n.start * 1000, 0) + 5 * 3600000), value: n.min, threshold: s.baseLoadW, message: `Night of ${date}: the base load never fell below ${n.min} W (threshold ${s.baseLoadW} W)` });
    }
  }
  if (s.peakKW !== null) {
    const days = new Map<string, { kw: number; at: number }>();
    f.t.forEach((t, i) => {
      const v = f.import[i];
      if (v === null) return;
      const kw = Math.round(v * 4 * 1000) / 1000;
      if (kw <= s.peakKW!) return;
      const date = dateOf(zone, t * 1000);
      const d = days.get(date);
      if (!d || kw > d.kw) days.set(date, { kw, at: t });
    });
    for (const [date, d] of days) out.push({ kind: 'peak', from: isoOf(d.at * 1000), to: isoOf((d.at + Q) * 1000), value: d.kw, threshold: s.peakKW, message: `${date}: a quarter-hour peak of ${d.kw} kW (threshold ${s.peakKW} kW)` });
  }
  if (s.noDataHours !== null) {
    const need = s.noDataHours * 4;
    let run = -1;
    const close = (end: number) => {
      if (run >= 0 && end - run >= need) {
        const hours = ((end - run) * Q) / 3600;
        out.push({ kind: 'no-data', from: isoOf(f.t[run] * 1000), to: isoOf((f.t[run] + (end - run) * Q) * 1000), value: hours, threshold: s.noDataHours!, message: `No readings for ${hours} h from ${isoOf(f.t[run] * 1000)}` });
      }
      run = -1;
    };
    // Quarter-hours after the newest reading are not gaps yet: the check since the newest reading covers them.
    const last = latest === null ? -1 : f.t.findIndex((t) => t * 1000 >= latest);
    const end = last < 0 ? f.t.length : last;
    for (let i = 0; i < end; i++) {
      if (f.import[i] === null) {
        if (run < 0) run = i;
      } else close(i);
    }
    close(end);
    if (latest !== null && now - latest > s.noDataHours * 3600000) {
      const hours = Math.floor((now - latest) / 3600000);
      out.push({ kind: 'no-data', from: isoOf(latest), to: isoOf(now), value: hours, threshold: s.noDataHours, message: `No reading since ${isoOf(latest)} (${hours} h)` });
    }
  }
  return out.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
}
