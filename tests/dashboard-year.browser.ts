// The dashboard on a backend filled by a simulated year, as issue 8 asks:
// `smgw sim --meter dlms-mbus --from 2025-01-01T00:00:00Z --days 365
// --speed max --backend embedded` (about 8 minutes), then the household's PV
// generation meter for the same year and seed, `smgw sim --meter sml --site
// pv --backend URL --bundle FILE`, as a second device enrolled into the same
// household by the admin API (about 28 minutes more, measured on this 2-core machine:
// the SML meter sends every second), then the backend on the
// database they filled, and Chromium at phone and desktop size. Run with
// `npm run test:dashboard-year`; SMGW_YEAR_STATE=DIR keeps (and, when it
// already holds a finished run, reuses) the simulation's state directory;
// SMGW_YEAR_DAYS=N simulates N days instead of 365, SMGW_YEAR_FROM=ISO from
// another start (a quick run of the same steps, in summer say: the checks of
// December and June are left out when the year is not 2025 whole). Screenshots and the measured payloads: test-results/dashboard-year/.

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Page } from 'playwright-core';
import { startBackend, type RunningBackend } from '../backend/main';
import { HouseholdModel } from '../simulator/household';
import { fromLocal, toLocal } from '../src/time/zone';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'test-results', 'dashboard-year');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const nf = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const kwh = (v: number) => `${nf.format(v)} kWh`;

const FROM = process.env.SMGW_YEAR_FROM ?? '2025-01-01T00:00:00Z';
const DAYS = Number(process.env.SMGW_YEAR_DAYS ?? 365);
/** The whole year 2025: the checks of particular days (June, December) apply. */
const YEAR = DAYS === 365 && FROM === '2025-01-01T00:00:00Z';
/** Both runs' --seed (the simulator's default): the household model the oracle integrates. */
const SEED = 1;
const SMGW = join(__dirname, '..', 'bin', 'smgw.mjs');

let state: string;
let backend: RunningBackend;
let household: string;
let stranger: string;
let meterId: string;
let pvMeterId: string;
const dirs: string[] = [];

/** `smgw sim` as a child process, without blocking this process (a backend in it may be what the child delivers to). */
function sim(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [SMGW, 'sim', ...args], { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`smgw sim ${args.join(' ')}: exit ${code}`))));
  });
}

/**
 * The household's PV generation meter for the same period and seed: a second device, enrolled into the
 * household the first run created, delivering over TLS to the backend on the same database.
 */
async function simulatePv(admin: string, token: string): Promise<void> {
  const tls = await startBackend({ db: `sqlite:${join(state, 'backend.db')}`, port: 0, host: '127.0.0.1', data: join(state, 'pki'), adminToken: admin, tls: true, hostnames: ['127.0.0.1'], logger: false });
  try {
    const call = async (method: 'GET' | 'POST', url: string, auth: string, payload?: object) => {
      const res = await tls.app.inject({ method, url, headers: { authorization: `Bearer ${auth}` }, ...(payload ? { payload } : {}) });
      if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
      return res;
    };
    const grid = (await call('GET', '/api/v1/meters', token)).json().meters;
    expect(grid).toHaveLength(1);
    const bundle = join(state, 'pv-bundle.json');
    writeFileSync(bundle, (await call('POST', '/api/v1/admin/devices', admin, { householdId: grid[0].householdId })).body, { mode: 0o600 });
    await sim(['--meter', 'sml', '--site', 'pv', '--seed', String(SEED), '--from', FROM, '--days', String(DAYS), '--speed', 'max', '--backend', tls.url, '--bundle', bundle, '--state', join(state, 'pv')]);
    rmSync(bundle);
    const meters = (await call('GET', '/api/v1/meters', token)).json().meters as { id: string }[];
    const pv = meters.find((m) => m.id !== grid[0].id)!;
    await call('POST', `/api/v1/meters/${encodeURIComponent(pv.id)}/role`, token, { role: 'generation' });
    writeFileSync(join(state, 'pv-done'), pv.id + '\n');
  } finally {
    await tls.close();
  }
}

/** Energy of the household model over a local day, Wh, integrated second by second as the meters do: PV output, and what of it the household used itself. */
function modelDay(zone: string, date: string): { generation: number; selfConsumption: number } {
  const house = new HouseholdModel(SEED);
  const [y, m, d] = date.split('-').map(Number);
  const from = fromLocal(zone, y, m, d, 0, 0, 0);
  const l = toLocal(zone, from + 36 * 3600000);
  const to = fromLocal(zone, l.year, l.month, l.day, 0, 0, 0);
  let generation = 0;
  let selfConsumption = 0;
  for (let t = from; t < to; t += 1000) {
    const pv = house.pvPower(t);
    generation += pv / 3600;
    selfConsumption += Math.min(pv, house.load(t)) / 3600;
  }
  return { generation, selfConsumption };
}

async function api(path: string, token: string) {
  const started = performance.now();
  const res = await fetch(backend.url + path, { headers: { authorization: `Bearer ${token}` } });
  const body = await res.text();
  return { status: res.status, json: res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(body) : null, bytes: Buffer.byteLength(body), ms: performance.now() - started };
}

async function ready(page: Page, v: string) {
  await expect.poll(() => page.locator('#view').getAttribute('data-ready'), { timeout: 30000 }).toBe(v);
}

beforeAll(async () => {
  state = process.env.SMGW_YEAR_STATE ?? mkdtempSync(join(tmpdir(), 'smgw-year-'));
  if (!existsSync(join(state, 'pki', 'household-token'))) {
    execFileSync(process.execPath, [SMGW, 'sim', '--meter', 'dlms-mbus', '--seed', String(SEED), '--from', FROM, '--days', String(DAYS), '--speed', 'max', '--backend', 'embedded', '--state', state], { stdio: 'inherit' });
  }
  const admin = readFileSync(join(state, 'pki', 'admin-token'), 'utf8').trim();
  household = readFileSync(join(state, 'pki', 'household-token'), 'utf8').trim();
  if (!existsSync(join(state, 'pv-done'))) await simulatePv(admin, household);
  backend = await startBackend({ db: `sqlite:${join(state, 'backend.db')}`, port: 0, host: '127.0.0.1', data: join(state, 'pki'), adminToken: admin, tls: false, hostnames: ['127.0.0.1'], logger: false });
  const other = await fetch(backend.url + '/api/v1/admin/households', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Another household' }) });
  stranger = ((await other.json()) as { token: string }).token;
  const meters = (await api('/api/v1/meters', household)).json.meters as { id: string; role: string }[];
  expect(meters.map((m) => m.role).sort()).toEqual(['generation', 'grid']);
  meterId = meters.find((m) => m.role === 'grid')!.id;
  pvMeterId = meters.find((m) => m.role === 'generation')!.id;
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  console.log(`dashboard screenshots (a simulated year): ${SHOTS}`);
});

afterAll(async () => {
  await backend?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (!process.env.SMGW_YEAR_STATE && state) rmSync(state, { recursive: true, force: true });
});

describe('the dashboard on a simulated year', () => {
  it('serves each view aggregated: a year of days in a few KB, the month equal to its quarter-hours', async () => {
    const days = await api(`/api/v1/meters/${encodeURIComponent(meterId)}/history?step=1d`, household);
    const months = await api(`/api/v1/meters/${encodeURIComponent(meterId)}/history?step=1mo`, household);
    const week = await api(`/api/v1/meters/${encodeURIComponent(meterId)}/profile?days=7&date=2025-06-02`, household);
    const overview = await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview`, household);
    expect(days.json.t).toHaveLength(365);
    // A simulated year: (nearly) every day has a value, and the months add up to the days.
    expect(days.json.import.filter((v: number | null) => v !== null).length).toBeGreaterThan(YEAR ? 350 : DAYS - 2);
    if (YEAR) expect(months.json.import.filter((v: number | null) => v !== null).length).toBeGreaterThanOrEqual(10);
    expect(days.bytes).toBeLessThan(20000);
    expect(week.json.t).toHaveLength(672);
    // The PV meter of the same seed: each whole day's generation and self-consumption are what the household model
    // produced and used of it, integrated second by second (at local midnight the PV is dark: the registers stand
    // still while the readings are taken).
    const h = days.json;
    expect(h.generationMeters).toEqual([pvMeterId]);
    const known = h.t.map((_: number, i: number) => i).filter((i: number) => h.selfConsumption[i] !== null);
    expect(known.length).toBeGreaterThan(YEAR ? 350 : DAYS - 2);
    const sample = YEAR ? known.filter((_: number, k: number) => k % 30 === 0) : known;
    for (const i of sample) {
      const date = new Date(h.t[i] * 1000 + 12 * 3600000).toISOString().slice(0, 10);
      const want = modelDay(h.zone, date);
      // The PV meter counts 0.1 Wh, the grid meter whole Wh.
      expect(Math.abs(h.generation[i] - want.generation / 1000), date).toBeLessThan(0.0005);
      expect(Math.abs(h.selfConsumption[i] - want.selfConsumption / 1000), date).toBeLessThan(0.003);
    }
    const g = h.generationTotals;
    console.log(`PV: ${g.generationKWh} kWh generated, ${g.selfConsumptionKWh} kWh self-consumed (${(g.selfConsumptionShare * 100).toFixed(1)} %), autarky ${(g.autarkyShare * 100).toFixed(1)} %`);
    const rows = [
      ['history 1d (365 days)', days],
      ['history 1mo (12 months)', months],
      ['profile 7 days (672 quarter-hours)', week],
      ['overview', overview],
    ] as const;
    const report = rows.map(([name, r]) => `${name}: ${r.bytes} bytes, ${r.ms.toFixed(0)} ms`).join('\n');
    console.log(report);
    writeFileSync(join(SHOTS, 'payloads.txt'), report + '\n');
    if (YEAR) await checkDecember();
    expect((await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview`, stranger)).status).toBe(404);
  });

  async function checkDecember() {
    const december = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview?date=2025-12-31`, household)).json;
    expect(december.month.days).toHaveLength(31);
    let sum = 0;
    for (const d of december.month.days as { date: string }[]) {
      const p = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/profile?date=${d.date}`, household)).json;
      sum += p.import.reduce((s: number, v: number | null) => s + (v ?? 0), 0);
    }
    expect(Math.abs(december.month.importKWh - sum)).toBeLessThan(0.002);
    expect(december.month.importKWh).toBeGreaterThan(100);
  }

  for (const size of [
    { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true },
    { name: 'desktop', viewport: { width: 1280, height: 900 }, isMobile: false },
  ]) {
    it(`${size.name}: each view with the year's figures; another household cannot open the meter`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'smgw-chromium-'));
      dirs.push(dir);
      const context = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: [...ARGS], viewport: size.viewport, isMobile: size.isMobile, hasTouch: size.isMobile });
      const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${size.name}-${name}.png`), fullPage: true });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        await page.goto(backend.url + '/');
        await page.fill('#token', household);
        await page.click('#login-form button');
        await ready(page, 'overview');
        const o = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview`, household)).json;
        expect(await page.locator('[data-figure="month-import"]').textContent()).toBe(kwh(o.month.importKWh));
        if (YEAR) {
          // The newest reading is just past midnight on New Year's Day: December is the last whole month.
          await page.goto(`${backend.url}/#overview/${encodeURIComponent(meterId)}?date=2025-12-31`);
          await expect.poll(() => page.locator('#report tbody tr').count()).toBe(31);
          await ready(page, 'overview');
          const dec = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview?date=2025-12-31`, household)).json;
          expect(await page.locator('[data-figure="month-import"]').textContent()).toBe(kwh(dec.month.importKWh));
          await shot(page, '1-overview-december');
          await page.goto(`${backend.url}/#profile/${encodeURIComponent(meterId)}?date=2025-06-02&days=7`);
          await ready(page, 'profile');
          await shot(page, '2-profile-week');
        }
        await page.goto(`${backend.url}/#history/${encodeURIComponent(meterId)}?step=1d`);
        await ready(page, 'history');
        const h = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/history?step=1d`, household)).json;
        expect(await page.locator('[data-figure="history-import"]').textContent()).toBe(kwh(h.totals.importKWh));
        expect(await page.locator('[data-figure="history-self-consumption"]').textContent()).toBe(kwh(h.generationTotals.selfConsumptionKWh));
        expect(await page.locator('[data-figure="history-generation"]').textContent()).toBe(kwh(h.generationTotals.generationKWh));
        await shot(page, '3-history-days');
        await page.selectOption('#hi-step', '1mo');
        await expect.poll(() => page.locator('#months tbody tr').count()).toBe(12);
        await expect.poll(() => page.locator('#months thead th').allTextContents()).toContain('Self-consumed kWh');
        await shot(page, '4-history-months');
        // Live: the simulated year ended long ago, so no value is current and the view says why.
        await page.goto(`${backend.url}/#live/${encodeURIComponent(meterId)}`);
        await ready(page, 'live');
        expect(await page.locator('#live-status').textContent()).toMatch(/^No live values in the last 15 minutes/);
        expect(await page.locator('#chart').isVisible()).toBe(false);
        await shot(page, '4b-live-none');
        // The other household's token: the same address says 404.
        await page.click('#logout');
        await page.fill('#token', stranger);
        await page.click('#login-form button');
        await expect.poll(() => page.locator('#view').textContent()).toMatch(/No meter yet/);
        await page.goto(`${backend.url}/#overview/${encodeURIComponent(meterId)}`);
        await ready(page, 'error');
        expect(await page.locator('#error').textContent()).toMatch(/does not belong to your household \(HTTP 404\)/);
        await shot(page, '5-other-household');
      } finally {
        await context.close();
      }
    });
  }
});
