// The dashboard's aggregated queries (overview, load profile, history,
// tariff) on a backend filled with 75 days of the simulator's workload per
// household, checked against register differences computed here from what
// went in, and against each other: the month's total is the sum of the
// quarter-hours the profile route gives. The first household's PV meter:
// generation and self-consumption in its grid meter's history.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filledBackend, type FilledBackend, type FilledHousehold } from './support/dashboard';
import { freshDatabase, pgReachable, PG_ADMIN_URL } from './support/pg';

const pg = await pgReachable();

const QUARTER = 900000;
const DAY = 86400000;
let B: FilledBackend;
let A: FilledHousehold;
let N: FilledHousehold;

async function get(url: string, token?: string) {
  return B.app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} });
}

/** Register values of the household's quarter-hour readings, by time. */
function registers(h: FilledHousehold, obis: string): Map<number, number> {
  const m = new Map<number, number>();
  for (const r of h.readings) if (r.kind === 'taf7' && r.values[obis]) m.set(r.time, r.values[obis].value);
  return m;
}

/** kWh of [t, t + step) from register differences, null where a boundary has no reading. */
function delta(reg: Map<number, number>, t: number, step: number): number | null {
  const a = reg.get(t);
  const b = reg.get(t + step);
  return a === undefined || b === undefined ? null : (b - a) / 1000;
}

/** Local midnight in Berlin in winter (UTC+1): the oracle for the dates used below. */
const berlinWinter = (y: number, m: number, d: number) => Date.UTC(y, m - 1, d) - 3600000;
const close = (a: number, b: number) => expect(Math.abs(a - b), `${a} vs ${b}`).toBeLessThan(1e-6);

beforeAll(async () => {
  B = await filledBackend(75);
  [A, N] = B.households;
});

afterAll(async () => {
  await B?.close();
});

describe('load profile', () => {
  it('gives a local day as 96 quarter-hours of import and export in kWh, gaps as null, equal to the register differences', async () => {
    const res = await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-10`, A.token);
    expect(res.statusCode, res.body).toBe(200);
    const p = res.json();
    expect(p).toMatchObject({ meterId: A.meterId, zone: 'Europe/Berlin', date: '2025-02-10', days: 1, step: '15m', unit: 'kWh', from: '2025-02-09T23:00:00Z' });
    expect(p.t).toHaveLength(96);
    const imp = registers(A, '1-0:1.8.0');
    const exp = registers(A, '1-0:2.8.0');
    const start = berlinWinter(2025, 2, 10);
    let gaps = 0;
    for (let i = 0; i < 96; i++) {
      const t = start + i * QUARTER;
      expect(p.t[i]).toBe(t / 1000);
      const want = delta(imp, t, QUARTER);
      if (want === null) {
        expect(p.import[i]).toBeNull();
        gaps++;
      } else close(p.import[i], want);
      const wantE = delta(exp, t, QUARTER);
      if (wantE === null) expect(p.export[i]).toBeNull();
      else close(p.export[i], wantE);
    }
    expect(p.totals.missing).toBe(gaps);
    close(p.totals.importKWh, p.import.reduce((s: number, v: number | null) => s + (v ?? 0), 0));
    // A week: 672 quarter-hours, a few KB, not thousands of raw readings.
    const week = await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-10&days=7`, A.token);
    expect(week.json().t).toHaveLength(672);
    expect(week.body.length).toBeLessThan(40000);
    const csv = await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-10&format=csv`, A.token);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    expect(csv.body.split('\r\n')[0]).toBe('from,1-0:1.8.0 (kWh),1-0:2.8.0 (kWh)');
    expect(csv.body.trim().split('\r\n')).toHaveLength(97);
  });
});

describe('overview', () => {
  it("this month's import and export equal the sum of the profile's quarter-hours; last week's day equals that day's profile", async () => {
    const res = await get(`/api/v1/meters/${A.meterId}/overview?date=2025-02-20`, A.token);
    expect(res.statusCode, res.body).toBe(200);
    const o = res.json();
    expect(o.date).toBe('2025-02-20');
    expect(o.month.from).toBe('2025-01-31T23:00:00Z');
    expect(o.month.to).toBe('2025-02-20T23:00:00Z');
    let imp = 0;
    let exp = 0;
    let missing = 0;
    for (let d = 1; d <= 20; d++) {
      const p = (await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-${String(d).padStart(2, '0')}`, A.token)).json();
      imp += p.totals.importKWh;
      exp += p.totals.exportKWh;
      missing += p.totals.missing;
    }
    expect(Math.abs(o.month.importKWh - imp)).toBeLessThan(0.002);
    expect(Math.abs(o.month.exportKWh - exp)).toBeLessThan(0.002);
    expect(o.month.missing).toBe(missing);
    expect(o.month.importKWh).toBeGreaterThan(100);
    // The report's rows: each day of the month so far, summing to the month.
    expect(o.month.days.map((d: { date: string }) => d.date)).toEqual(Array.from({ length: 20 }, (_, i) => `2025-02-${String(i + 1).padStart(2, '0')}`));
    expect(Math.abs(o.month.days.reduce((s: number, d: { importKWh: number }) => s + d.importKWh, 0) - o.month.importKWh)).toBeLessThan(0.002);
    expect(o.today.days).toBeUndefined();
    const feb13 = (await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-13`, A.token)).json();
    expect(o.sameDayLastWeek.importKWh).toBe(feb13.totals.importKWh);
    expect(o.sameDayLastWeek.from).toBe('2025-02-12T23:00:00Z');
    // The same 20 days of January; nothing a year before (no data): every quarter-hour missing.
    expect(o.lastMonth.from).toBe('2024-12-31T23:00:00Z');
    expect(o.lastMonth.to).toBe('2025-01-20T23:00:00Z');
    expect(o.lastYear).toMatchObject({ from: '2024-01-31T23:00:00Z', importKWh: 0, exportKWh: 0 });
    expect(o.lastYear.missing).toBe(o.lastYear.intervals);
    // Without a date: the day of the newest reading, up to it.
    const latest = Math.max(...A.readings.filter((r) => r.kind === 'taf7').map((r) => r.time));
    const now = (await get(`/api/v1/meters/${A.meterId}/overview`, A.token)).json();
    expect(now.latestReading).toBe(new Date(latest).toISOString().replace('.000Z', 'Z'));
    expect(now.today.to).toBe(now.latestReading);
    expect(Date.parse(now.sameDayLastWeek.to) - Date.parse(now.sameDayLastWeek.from)).toBe(Date.parse(now.today.to) - Date.parse(now.today.from));
  });

  it('prices each quarter-hour at the household tariff: flat by default, time-of-use once set', async () => {
    const before = await get(`/api/v1/households/${A.id}/tariff`, A.token);
    expect(before.json()).toMatchObject({ stored: false, tariff: { kind: 'flat' } });
    const flat = (await get(`/api/v1/meters/${A.meterId}/overview?date=2025-02-10`, A.token)).json();
    close(flat.today.cost.import, Math.round(flat.today.importKWh * before.json().tariff.importPrice * 100) / 100);
    const tou = { kind: 'tou', currency: 'EUR', importPrice: 0.3, exportPrice: 0.08, periods: [{ from: '22:00', to: '06:00', price: 0.2, name: 'night' }] };
    const set = await B.app.inject({ method: 'POST', url: `/api/v1/households/${A.id}/tariff`, headers: { authorization: `Bearer ${A.token}` }, payload: tou });
    expect(set.statusCode, set.body).toBe(200);
    expect((await get(`/api/v1/households/${A.id}/tariff`, B.admin)).json()).toEqual({ householdId: A.id, tariff: tou, stored: true });
    const o = (await get(`/api/v1/meters/${A.meterId}/overview?date=2025-02-10`, A.token)).json();
    // The oracle: Berlin in February is UTC+1; 22:00-06:00 local at 0.20, else 0.30.
    const p = (await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-10`, A.token)).json();
    let want = 0;
    let credit = 0;
    p.t.forEach((t: number, i: number) => {
      const hour = new Date(t * 1000 + 3600000).getUTCHours();
      want += (p.import[i] ?? 0) * (hour >= 22 || hour < 6 ? 0.2 : 0.3);
      credit += (p.export[i] ?? 0) * 0.08;
    });
    close(o.today.cost.import, Math.round(want * 100) / 100);
    close(o.today.cost.export, Math.round(credit * 100) / 100);
    expect(o.today.cost.currency).toBe('EUR');
    expect(o.tariff).toEqual(tou);
  });

  it('refuses a bad tariff with a 400 that says why, and another household its tariff (404)', async () => {
    const bad = [
      { kind: 'tou', importPrice: 0.3 },
      { kind: 'flat', importPrice: -1 },
      { kind: 'flat', importPrice: 0.3, periods: [{ from: '25:00', to: '06:00', price: 0.1 }] },
      { kind: 'flat', importPrice: 0.3, extra: 1 },
      'flat',
    ];
    for (const body of bad) {
      const res = await B.app.inject({ method: 'POST', url: `/api/v1/households/${A.id}/tariff`, headers: { authorization: `Bearer ${A.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().error).toMatch(/^invalid tariff/);
    }
    expect((await get(`/api/v1/households/${A.id}/tariff`, N.token)).statusCode).toBe(404);
    const res = await B.app.inject({ method: 'POST', url: `/api/v1/households/${A.id}/tariff`, headers: { authorization: `Bearer ${N.token}` }, payload: { kind: 'flat', importPrice: 1 } });
    expect(res.statusCode).toBe(404);
    expect((await get(`/api/v1/households/${A.id}/tariff`, A.token)).json().tariff.kind).toBe('tou');
  });
});

describe('history', () => {
  it('gives 365 days and 12 months from register differences at local midnight; a gap-free day equals the sum of its quarter-hours', async () => {
    const res = await get(`/api/v1/meters/${A.meterId}/history?step=1d&date=2025-03-10`, A.token);
    expect(res.statusCode, res.body).toBe(200);
    const h = res.json();
    expect(h.t).toHaveLength(365);
    expect(res.body.length).toBeLessThan(20000);
    const imp = registers(A, '1-0:1.8.0');
    let compared = 0;
    for (let d = 1; d <= 28; d++) {
      const start = berlinWinter(2025, 2, d);
      const i = h.t.indexOf(start / 1000);
      expect(i).toBeGreaterThan(0);
      const want = delta(imp, start, DAY);
      if (want === null) expect(h.import[i]).toBeNull();
      else close(h.import[i], want);
      const p = (await get(`/api/v1/meters/${A.meterId}/profile?date=2025-02-${String(d).padStart(2, '0')}`, A.token)).json();
      if (p.totals.missing === 0) {
        expect(Math.abs(h.import[i] - p.totals.importKWh)).toBeLessThan(0.001);
        compared++;
      }
    }
    expect(compared).toBeGreaterThan(0); // the workload leaves a gap in most days
    // Days before the data: gaps.
    expect(h.import[0]).toBeNull();
    const m = (await get(`/api/v1/meters/${A.meterId}/history?step=1mo&date=2025-03-10`, A.token)).json();
    expect(m.t).toHaveLength(12);
    expect(m.t[11]).toBe(berlinWinter(2025, 3, 1) / 1000);
    const feb = m.t.indexOf(berlinWinter(2025, 2, 1) / 1000);
    const want = delta(imp, berlinWinter(2025, 2, 1), berlinWinter(2025, 3, 1) - berlinWinter(2025, 2, 1));
    if (want === null) expect(m.import[feb]).toBeNull();
    else close(m.import[feb], want);
    expect(m.import[feb - 1]).toBeNull(); // January starts before the first reading
  });
});

describe('self-consumption', () => {
  /** Days of February at local midnight: [start, index in the history]. */
  const february = (h: { t: number[] }) => Array.from({ length: 28 }, (_, k) => berlinWinter(2025, 2, k + 1)).map((start) => [start, h.t.indexOf(start / 1000)] as const);

  it("a grid meter's history gets the household's PV generation and self-consumption = generation - export, per day and month, from register differences", async () => {
    const pv = A.generation!;
    const res = await get(`/api/v1/meters/${A.meterId}/history?step=1d&date=2025-03-10`, A.token);
    expect(res.statusCode, res.body).toBe(200);
    const h = res.json();
    expect(h).toMatchObject({ role: 'grid', generationMeters: [pv.meterId] });
    expect(h.generation).toHaveLength(365);
    expect(h.selfConsumption).toHaveLength(365);
    // The oracle: the PV meter's and the grid meter's registers as delivered.
    const gen = new Map<number, number>();
    for (const r of pv.readings) if (r.kind === 'taf7') gen.set(r.time, r.values['1-0:2.8.0'].value);
    const exp = registers(A, '1-0:2.8.0');
    let known = 0;
    let used = 0;
    for (const [start, i] of february(h)) {
      expect(i).toBeGreaterThan(0);
      const g = delta(gen, start, DAY);
      const e = delta(exp, start, DAY);
      if (g === null) expect(h.generation[i]).toBeNull();
      else close(h.generation[i], g);
      if (g === null || e === null) expect(h.selfConsumption[i]).toBeNull();
      else {
        close(h.selfConsumption[i], Math.max(0, g - e));
        // The PV meter generated at least what the grid meter exported.
        expect(g).toBeGreaterThanOrEqual(e);
        known++;
        if (g - e > 0) used++;
      }
    }
    expect(known).toBeGreaterThan(5);
    expect(used).toBeGreaterThan(5);
    expect(h.generation[0]).toBeNull(); // before the data
    // Totals: sums of the known days; the shares over the days where all is known.
    let g = 0;
    let sc = 0;
    let gBoth = 0;
    let scAll = 0;
    let imp = 0;
    h.t.forEach((_: number, i: number) => {
      if (h.generation[i] !== null) g += h.generation[i];
      if (h.selfConsumption[i] === null) return;
      sc += h.selfConsumption[i];
      gBoth += h.generation[i];
      if (h.import[i] === null) return;
      scAll += h.selfConsumption[i];
      imp += h.import[i];
    });
    const t = h.generationTotals;
    expect(Math.abs(t.generationKWh - g)).toBeLessThan(0.001);
    expect(Math.abs(t.selfConsumptionKWh - sc)).toBeLessThan(0.001);
    expect(Math.abs(t.selfConsumptionShare - sc / gBoth)).toBeLessThan(0.0001);
    expect(Math.abs(t.autarkyShare - scAll / (scAll + imp))).toBeLessThan(0.0001);
    expect(t.selfConsumptionShare).toBeGreaterThan(0);
    expect(t.selfConsumptionShare).toBeLessThan(1);
    console.log(`self-consumption, the year to 2025-03-10 (75 days of data): generated ${t.generationKWh} kWh, self-consumed ${t.selfConsumptionKWh} kWh (${(t.selfConsumptionShare * 100).toFixed(1)} %), autarky ${(t.autarkyShare * 100).toFixed(1)} %`);
    // Months: February's generation is the register difference between its first midnights.
    const m = (await get(`/api/v1/meters/${A.meterId}/history?step=1mo&date=2025-03-10`, A.token)).json();
    const feb = m.t.indexOf(berlinWinter(2025, 2, 1) / 1000);
    const span = berlinWinter(2025, 3, 1) - berlinWinter(2025, 2, 1);
    const gm = delta(gen, berlinWinter(2025, 2, 1), span);
    const em = delta(exp, berlinWinter(2025, 2, 1), span);
    if (gm === null) expect(m.generation[feb]).toBeNull();
    else close(m.generation[feb], gm);
    if (gm === null || em === null) expect(m.selfConsumption[feb]).toBeNull();
    else close(m.selfConsumption[feb], Math.max(0, gm - em));
    // CSV: the extra columns.
    const csv = await get(`/api/v1/meters/${A.meterId}/history?step=1d&date=2025-03-10&format=csv`, A.token);
    const lines = csv.body.trim().split('\r\n');
    expect(lines[0]).toBe('from,1-0:1.8.0 (kWh),1-0:2.8.0 (kWh),generation (kWh),self-consumption (kWh)');
    const [, i] = february(h).find(([, k]) => h.selfConsumption[k] !== null)!;
    expect(lines[i + 1].split(',').slice(3).map(Number)).toEqual([h.generation[i], h.selfConsumption[i]]);
  });

  it('the generation meter opened itself shows its generation; a household without one gets no such fields', async () => {
    const pv = A.generation!;
    const own = (await get(`/api/v1/meters/${pv.meterId}/history?step=1d&date=2025-03-10`, A.token)).json();
    expect(own).toMatchObject({ role: 'generation', generationMeters: [pv.meterId] });
    expect(own.generation).toEqual(own.export);
    expect(own.selfConsumption).toBeUndefined();
    expect(own.generationTotals).toMatchObject({ generationKWh: own.totals.exportKWh, selfConsumptionKWh: null, selfConsumptionShare: null, autarkyShare: null });
    const n = (await get(`/api/v1/meters/${N.meterId}/history?step=1d`, N.token)).json();
    expect(n.role).toBe('grid');
    for (const k of ['generation', 'selfConsumption', 'generationTotals', 'generationMeters']) expect(n[k], k).toBeUndefined();
    expect((await get(`/api/v1/meters/${N.meterId}/history?step=1d&format=csv`, N.token)).body.split('\r\n')[0]).toBe('from,1-0:1.8.0 (kWh),1-0:2.8.0 (kWh)');
  });

  it("a meter's role: listed with the meters, set by its household or the admin; another household 404, a bad role 400", async () => {
    const pv = A.generation!;
    const listed = (await get('/api/v1/meters', A.token)).json().meters.map((m: { id: string; role: string }) => [m.id, m.role]);
    expect(listed).toEqual([[A.meterId, 'grid'], [pv.meterId, 'generation']]);
    const post = (meterId: string, token: string | null, body: unknown) =>
      B.app.inject({ method: 'POST', url: `/api/v1/meters/${meterId}/role`, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    const stranger = await post(pv.meterId, N.token, { role: 'grid' });
    expect(stranger.statusCode).toBe(404);
    expect(stranger.json().error).toBe(`no meter ${pv.meterId}`);
    expect((await post(pv.meterId, null, { role: 'grid' })).statusCode).toBe(401);
    for (const body of [{ role: 'solar' }, {}, { role: 'grid', extra: 1 }, 'generation']) {
      const bad = await post(pv.meterId, A.token, body);
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.json().error).toMatch(/^invalid role/);
    }
    expect((await get('/api/v1/meters', A.token)).json().meters[1].role).toBe('generation');
    // The admin says it is a grid meter after all: the grid meter's history has no generation any more; then back.
    const admin = await post(pv.meterId, B.admin, { role: 'grid' });
    expect(admin.statusCode, admin.body).toBe(200);
    expect(admin.json()).toEqual({ meterId: pv.meterId, role: 'grid' });
    expect((await get(`/api/v1/meters/${A.meterId}/history?step=1d&date=2025-03-10`, A.token)).json().generation).toBeUndefined();
    const back = await post(pv.meterId, A.token, { role: 'generation' });
    expect(back.json()).toEqual({ meterId: pv.meterId, role: 'generation' });
    expect((await get(`/api/v1/meters/${A.meterId}/history?step=1d&date=2025-03-10`, A.token)).json().generationMeters).toEqual([pv.meterId]);
  });
});

describe('self-consumption on PostgreSQL', () => {
  if (!pg) {
    console.log(`PostgreSQL is not reachable at ${PG_ADMIN_URL}: the self-consumption history is not compared on it here`);
    return;
  }
  it('gives the same history, roles and meter list as SQLite', async () => {
    const db = await freshDatabase();
    const [lite, post] = [await filledBackend(20), await filledBackend(20, db.url)];
    try {
      const [a, b] = [lite.households[0], post.households[0]];
      const ask = async (F: FilledBackend, url: string, token: string) => (await F.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } })).json();
      for (const step of ['1d', '1mo']) {
        const h = await ask(post, `/api/v1/meters/${b.meterId}/history?step=${step}&date=2025-01-20`, b.token);
        // (January's month starts before the data: only the days have values.)
        if (step === '1d') expect(h.generation.filter((v: number | null) => v !== null).length).toBeGreaterThan(10);
        expect(h.generationMeters).toEqual([b.generation!.meterId]);
        expect(h).toEqual(await ask(lite, `/api/v1/meters/${a.meterId}/history?step=${step}&date=2025-01-20`, a.token));
      }
      const roles = (F: FilledBackend, token: string) => ask(F, '/api/v1/meters', token).then((r) => r.meters.map((m: { id: string; role: string }) => [m.id, m.role]));
      expect(await roles(post, b.token)).toEqual(await roles(lite, a.token));
    } finally {
      await lite.close();
      await post.close();
      await db.drop();
    }
  });
});

describe('alerts', () => {
  it('evaluates the stored thresholds over the last seven days: overnight base load, quarter-hour peak, no data', async () => {
    const none = (await get(`/api/v1/meters/${A.meterId}/alerts?date=2025-02-16`, A.token)).json();
    expect(none.alerts).toEqual([]);
    expect((await get(`/api/v1/households/${A.id}/alert-settings`, A.token)).json()).toEqual({ householdId: A.id, settings: { baseLoadW: null, peakKW: null, noDataHours: null }, stored: false });
    const settings = { baseLoadW: 100, peakKW: 7.5, noDataHours: 1 };
    const set = await B.app.inject({ method: 'POST', url: `/api/v1/households/${A.id}/alert-settings`, headers: { authorization: `Bearer ${A.token}` }, payload: settings });
    expect(set.statusCode, set.body).toBe(200);
    const res = await get(`/api/v1/meters/${A.meterId}/alerts?date=2025-02-16`, A.token);
    expect(res.statusCode, res.body).toBe(200);
    const a = res.json();
    expect(a).toMatchObject({ from: '2025-02-09T23:00:00Z', to: '2025-02-16T23:00:00Z', settings });
    // The oracle, from the registers: quarter-hours of 2025-02-10..16 (Berlin, UTC+1).
    const imp = registers(A, '1-0:1.8.0');
    const start = berlinWinter(2025, 2, 10);
    const peaks = new Map<string, number>();
    const nights = new Map<string, { min: number; n: number }>();
    let run = 0;
    let runs = 0;
    for (let t = start; t < start + 7 * DAY; t += QUARTER) {
      const v = delta(imp, t, QUARTER);
      const date = new Date(t + 3600000).toISOString().slice(0, 10);
      if (v === null) {
        run++;
        continue;
      }
      if (run >= 4) runs++;
      run = 0;
      const kw = Math.round(v * 4 * 1000) / 1000;
      if (kw > 7.5) peaks.set(date, Math.max(peaks.get(date) ?? 0, kw));
      if (new Date(t + 3600000).getUTCHours() < 5) {
        const n = nights.get(date) ?? { min: Infinity, n: 0 };
        nights.set(date, { min: Math.min(n.min, Math.round(v * 4000)), n: n.n + 1 });
      }
    }
    const got = (kind: string) => a.alerts.filter((x: { kind: string }) => x.kind === kind);
    expect(got('peak').map((x: { value: number }) => x.value)).toEqual([...peaks.values()]);
    expect(got('base-load').map((x: { value: number }) => x.value)).toEqual([...nights.values()].filter((n) => n.n >= 8 && n.min > 100).map((n) => n.min));
    expect(got('base-load').length).toBeGreaterThan(0);
    // Runs of gaps of an hour or more inside the week (those reaching past the last reading are the ongoing one's).
    expect(got('no-data').filter((x: { message: string }) => !x.message.startsWith('No reading since')).length).toBe(runs + (run >= 4 ? 1 : 0));
    // The backend's clock is now (2026): the newest reading (March 2025) is long ago.
    expect(got('no-data').some((x: { message: string }) => x.message.startsWith('No reading since'))).toBe(true);
    for (const body of [{ peakKW: 0 }, { baseLoadW: 1.5 }, { noDataHours: 'x' }, { other: 1 }]) {
      const bad = await B.app.inject({ method: 'POST', url: `/api/v1/households/${A.id}/alert-settings`, headers: { authorization: `Bearer ${A.token}` }, payload: body });
      expect(bad.statusCode, JSON.stringify(body)).toBe(400);
      expect(bad.json().error).toMatch(/^invalid alert settings/);
    }
    expect((await get(`/api/v1/meters/${A.meterId}/alerts`, N.token)).statusCode).toBe(404);
    expect((await get(`/api/v1/households/${A.id}/alert-settings`, N.token)).statusCode).toBe(404);
  });
});

describe('payloads', () => {
  it('are aggregated at the resolution shown: a year of days and a week of quarter-hours in a few KB', async () => {
    const sizes: Record<string, number> = {};
    for (const [name, path, limit] of [
      ['overview', 'overview?date=2025-02-20', 12000],
      ['profile day', 'profile?date=2025-02-10', 6000],
      ['profile week', 'profile?date=2025-02-10&days=7', 40000],
      ['history 365 days', 'history?step=1d&date=2025-03-10', 20000],
      ['history 12 months', 'history?step=1mo&date=2025-03-10', 2000],
    ] as const) {
      const res = await get(`/api/v1/meters/${A.meterId}/${path}`, A.token);
      expect(res.statusCode).toBe(200);
      sizes[name] = res.body.length;
      expect(res.body.length, name).toBeLessThan(limit);
    }
    console.log('dashboard payloads (bytes):', JSON.stringify(sizes));
  });
});

describe('access and bad input', () => {
  it("a household cannot read another household's meter (404); no token 401; bad parameters 400", async () => {
    for (const path of ['overview', 'profile', 'history?step=1d']) {
      const res = await get(`/api/v1/meters/${A.meterId}/${path}`, N.token);
      expect(res.statusCode, path).toBe(404);
      expect(res.json().error).toBe(`no meter ${A.meterId}`);
      expect((await get(`/api/v1/meters/${A.meterId}/${path}`)).statusCode).toBe(401);
      expect((await get(`/api/v1/meters/${A.meterId}/${path}`, B.admin)).statusCode).toBe(200);
    }
    const bad = ['overview?date=2025-02-30', 'overview?date=yesterday', 'profile?days=3', 'profile?date=2025-13-01', 'history', 'history?step=1h', 'overview?x=1'];
    for (const q of bad) {
      const res = await get(`/api/v1/meters/${A.meterId}/${q}`, A.token);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().error).toMatch(/^invalid query/);
    }
  });

  it('serves the web app and uPlot from the backend itself, with a content security policy', async () => {
    const page = await get('/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    for (const f of ['app.js', 'style.css', 'uPlot.iife.min.js', 'uPlot.min.css']) expect((await get(`/dashboard/${f}`)).statusCode, f).toBe(200);
    expect((await get('/dashboard/..%2Fserver.ts')).statusCode).toBe(404);
    expect((await get('/dashboard/nothing.js')).statusCode).toBe(404);
  });
});
