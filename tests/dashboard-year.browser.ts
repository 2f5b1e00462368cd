// The dashboard on a backend filled by a simulated year, as issue 8 asks:
// `smgw sim --meter dlms-mbus --from 2025-01-01T00:00:00Z --days 365
// --speed max --backend embedded` (about 12 minutes), then the backend on the
// database it filled, and Chromium at phone and desktop size. Run with
// `npm run test:dashboard-year`; SMGW_YEAR_STATE=DIR keeps (and, when it
// already holds a finished run, reuses) the simulation's state directory.
// Screenshots and the measured payloads: test-results/dashboard-year/.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Page } from 'playwright-core';
import { startBackend, type RunningBackend } from '../backend/main';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'test-results', 'dashboard-year');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const nf = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const kwh = (v: number) => `${nf.format(v)} kWh`;

let state: string;
let backend: RunningBackend;
let household: string;
let stranger: string;
let meterId: string;
const dirs: string[] = [];

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
    execFileSync(process.execPath, [join(__dirname, '..', 'bin', 'smgw.mjs'), 'sim', '--meter', 'dlms-mbus', '--from', '2025-01-01T00:00:00Z', '--days', '365', '--speed', 'max', '--backend', 'embedded', '--state', state], { stdio: 'inherit' });
  }
  const admin = readFileSync(join(state, 'pki', 'admin-token'), 'utf8').trim();
  household = readFileSync(join(state, 'pki', 'household-token'), 'utf8').trim();
  backend = await startBackend({ db: `sqlite:${join(state, 'backend.db')}`, port: 0, host: '127.0.0.1', data: join(state, 'pki'), adminToken: admin, tls: false, hostnames: ['127.0.0.1'], logger: false });
  const other = await fetch(backend.url + '/api/v1/admin/households', { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'Another household' }) });
  stranger = ((await other.json()) as { token: string }).token;
  const meters = (await api('/api/v1/meters', household)).json.meters;
  expect(meters).toHaveLength(1);
  meterId = meters[0].id;
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
    expect(days.json.import.filter((v: number | null) => v !== null).length).toBeGreaterThan(350);
    expect(months.json.import.filter((v: number | null) => v !== null).length).toBeGreaterThanOrEqual(10);
    expect(days.bytes).toBeLessThan(20000);
    expect(week.json.t).toHaveLength(672);
    const rows = [
      ['history 1d (365 days)', days],
      ['history 1mo (12 months)', months],
      ['profile 7 days (672 quarter-hours)', week],
      ['overview', overview],
    ] as const;
    const report = rows.map(([name, r]) => `${name}: ${r.bytes} bytes, ${r.ms.toFixed(0)} ms`).join('\n');
    console.log(report);
    writeFileSync(join(SHOTS, 'payloads.txt'), report + '\n');
    const december = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview?date=2025-12-31`, household)).json;
    expect(december.month.days).toHaveLength(31);
    let sum = 0;
    for (const d of december.month.days as { date: string }[]) {
      const p = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/profile?date=${d.date}`, household)).json;
      sum += p.import.reduce((s: number, v: number | null) => s + (v ?? 0), 0);
    }
    expect(Math.abs(december.month.importKWh - sum)).toBeLessThan(0.002);
    expect(december.month.importKWh).toBeGreaterThan(100);
    expect((await api(`/api/v1/meters/${encodeURIComponent(meterId)}/overview`, stranger)).status).toBe(404);
  });

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
        await page.goto(`${backend.url}/#history/${encodeURIComponent(meterId)}?step=1d`);
        await ready(page, 'history');
        const h = (await api(`/api/v1/meters/${encodeURIComponent(meterId)}/history?step=1d`, household)).json;
        expect(await page.locator('[data-figure="history-import"]').textContent()).toBe(kwh(h.totals.importKWh));
        await shot(page, '3-history-days');
        await page.selectOption('#hi-step', '1mo');
        await expect.poll(() => page.locator('#months tbody tr').count()).toBe(12);
        await shot(page, '4-history-months');
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
