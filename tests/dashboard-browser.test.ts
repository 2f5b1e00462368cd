// The household dashboard in Chromium (Debian's, through playwright-core),
// at phone and desktop size, on a backend filled with 75 days of the
// simulator's workload delivered as gateways deliver it (and a PV meter's,
// for self-consumption). The figures on the
// page are checked against the API: the month's total is the sum of the
// quarter-hours the profile route gives. A household cannot open another
// household's meter. Screenshots of every view go to
// test-results/dashboard/ (the path is printed).

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { filledBackend, type FilledBackend } from './support/dashboard';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'test-results', 'dashboard');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SIZES = [
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  { name: 'desktop', viewport: { width: 1280, height: 900 }, isMobile: false, hasTouch: false },
] as const;

let B: FilledBackend;
let url: string;
const dirs: string[] = [];
const nf = new Intl.NumberFormat('en-GB', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const kwh = (v: number) => `${nf.format(v)} kWh`;

async function api(path: string, token: string) {
  const res = await B.app.inject({ method: 'GET', url: path, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, json: res.headers['content-type']?.toString().startsWith('application/json') ? res.json() : null };
}

async function browser(size: (typeof SIZES)[number]): Promise<BrowserContext> {
  const dir = mkdtempSync(join(tmpdir(), 'smgw-chromium-'));
  dirs.push(dir);
  return chromium.launchPersistentContext(dir, { executablePath: CHROMIUM, args: [...ARGS], viewport: size.viewport, isMobile: size.isMobile, hasTouch: size.hasTouch, acceptDownloads: true });
}

async function ready(page: Page, viewName: string): Promise<void> {
  await expect.poll(() => page.locator('#view').getAttribute('data-ready'), { timeout: 20000 }).toBe(viewName);
}

/** Pushes a live value a second for the household's device, as its gateway would while the Live view is open. */
function livePusher(h: FilledBackend['households'][number]): { sent: number[]; stop(): void } {
  const sent: number[] = [];
  let i = 0;
  const push = async () => {
    const p = Math.round(1500 + 400 * Math.sin(i++ / 3));
    const phase = (n: number) => ({ [`p${n}`]: Math.round(p / 3 + n * 10), [`u${n}`]: 229.5 + n / 10, [`i${n}`]: Math.round(((p / 3 + n * 10) / 230) * 100) / 100 });
    const res = await B.app.inject({ method: 'POST', url: '/api/v1/live', headers: { authorization: `Bearer ${h.deviceToken}` }, payload: { deviceId: h.deviceId, meterId: h.meterId, interval: 1, values: [{ time: Date.now(), p, ...phase(1), ...phase(2), ...phase(3) }] } });
    if (res.statusCode !== 200) throw new Error(`live push: ${res.statusCode} ${res.body}`);
    sent.push(p);
  };
  void push();
  const timer = setInterval(() => void push(), 1000);
  return { sent, stop: () => clearInterval(timer) };
}

const text = async (page: Page, figure: string) => (await page.locator(`[data-figure="${figure}"]`).first().textContent())?.trim();

beforeAll(async () => {
  B = await filledBackend(75);
  const address = await B.app.listen({ port: 0, host: '127.0.0.1' });
  url = address;
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  console.log(`dashboard screenshots: ${SHOTS}`);
});

afterAll(async () => {
  await B?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the household dashboard in Chromium', () => {
  for (const size of SIZES) {
    it(`${size.name}: logs in with the household token, shows each view with the API's figures, refuses another household's meter`, async () => {
      const [A, N] = B.households;
      const context = await browser(size);
      const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${size.name}-${name}.png`), fullPage: true });
      try {
        const page = context.pages()[0] ?? (await context.newPage());
        const failed: string[] = [];
        page.on('requestfailed', (r) => failed.push(r.url()));
        page.on('pageerror', (e) => failed.push(String(e)));
        await page.goto(url + '/');
        await expect.poll(() => page.locator('#login').isVisible()).toBe(true);
        await shot(page, '0-login');

        // A wrong token: refused, said so.
        await page.fill('#token', 'x'.repeat(43));
        await page.click('#login-form button');
        await expect.poll(() => page.locator('#login-error').textContent()).toMatch(/not accepted/);

        await page.fill('#token', A.token);
        await page.click('#login-form button');
        await ready(page, 'overview');
        // The token is in this tab's sessionStorage only, never in the address.
        expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('smgw-token'))).toBe(A.token);
        expect(await page.evaluate(() => (globalThis as unknown as { localStorage: { length: number } }).localStorage.length)).toBe(0);
        expect(page.url()).not.toContain(A.token);
        expect(await page.locator('nav a[data-view="devices"]').isVisible()).toBe(false);

        // Overview: the month's import is the sum of the quarter-hours the profile route gives for each day of it.
        const o = (await api(`/api/v1/meters/${A.meterId}/overview`, A.token)).json;
        let sumImport = 0;
        let sumExport = 0;
        for (const d of o.month.days as { date: string }[]) {
          const p = (await api(`/api/v1/meters/${A.meterId}/profile?date=${d.date}`, A.token)).json;
          sumImport += p.import.reduce((s: number, v: number | null) => s + (v ?? 0), 0);
          sumExport += p.export.reduce((s: number, v: number | null) => s + (v ?? 0), 0);
        }
        expect(o.month.days.length).toBeGreaterThan(10);
        expect(await text(page, 'month-import')).toBe(kwh(sumImport));
        expect(await text(page, 'month-export')).toBe(kwh(sumExport));
        expect(await text(page, 'report-import')).toBe(nf.format(sumImport));
        expect(await text(page, 'today-import')).toBe(kwh(o.today.importKWh));
        expect(await page.locator('#report tbody tr').count()).toBe(o.month.days.length);
        expect(await page.locator('#alert-list').textContent()).toMatch(/No thresholds set/);
        await shot(page, '1-overview');

        // Alerts: a threshold set in the app, evaluated by the backend, listed on the page as the API lists them.
        await page.fill('#alert-form [name=peakKW]', '7.5');
        await page.click('#alert-form button');
        await expect.poll(() => page.locator('#alert-list li[data-kind]').count()).toBeGreaterThan(0);
        const alerts = (await api(`/api/v1/meters/${A.meterId}/alerts?date=${o.date}`, A.token)).json;
        expect(alerts.settings).toEqual({ baseLoadW: null, peakKW: 7.5, noDataHours: null });
        expect(await page.locator('#alert-list li').allTextContents()).toEqual(alerts.alerts.map((x: { message: string }) => x.message));
        await page.locator('#alerts').screenshot({ path: join(SHOTS, `${size.name}-1b-alerts.png`) });
        // Off again for the next size.
        await page.fill('#alert-form [name=peakKW]', '');
        await page.click('#alert-form button');
        await expect.poll(() => page.locator('#alert-list').textContent()).toMatch(/No thresholds set/);

        // The printed monthly report: no navigation, no forms, the report's table.
        await page.emulateMedia({ media: 'print' });
        expect(await page.locator('header.bar').isVisible()).toBe(false);
        expect(await page.locator('#tariff').isVisible()).toBe(false);
        expect(await page.locator('#report table').isVisible()).toBe(true);
        await shot(page, '2-overview-print');
        await page.emulateMedia({ media: 'screen' });

        // CSV export, through the API with the token.
        const [download] = await Promise.all([page.waitForEvent('download'), page.click('#report a[data-csv]')]);
        const csv = readFileSync((await download.path())!, 'utf8');
        // (This household has a PV meter: generation and self-consumption are columns too.)
        expect(csv.split('\r\n')[0]).toBe('from,1-0:1.8.0 (kWh),1-0:2.8.0 (kWh),generation (kWh),self-consumption (kWh)');
        expect(csv.trim().split('\r\n')).toHaveLength(366);

        // Load profile of a day: bars, the day's totals as the API gives them; a week; zoom by dragging.
        await page.goto(`${url}/#profile/${encodeURIComponent(A.meterId)}?date=2025-02-10&days=1`);
        await ready(page, 'profile');
        const day = (await api(`/api/v1/meters/${A.meterId}/profile?date=2025-02-10`, A.token)).json;
        expect(await text(page, 'profile-import')).toBe(kwh(day.totals.importKWh));
        expect(await page.locator('#chart canvas').count()).toBe(1);
        expect(await page.locator('#chart .u-legend').textContent()).toMatch(/Import.*Export/s);
        await shot(page, '3-profile-day');
        await page.selectOption('#pf-days', '7');
        await ready(page, 'profile');
        await expect.poll(() => page.locator('#view h2').first().textContent()).toMatch(/2025-02-10 to 2025-02-16/);
        const week = (await api(`/api/v1/meters/${A.meterId}/profile?date=2025-02-10&days=7`, A.token)).json;
        expect(await text(page, 'profile-import')).toBe(kwh(week.totals.importKWh));
        await shot(page, '4-profile-week');
        const axis = () => text(page, 'range');
        const before = await axis();
        expect(before).toBe('Showing 10 Feb 00:00 – 17 Feb 00:00');
        const over = (await page.locator('#chart .u-over').boundingBox())!;
        await page.mouse.move(over.x + over.width * 0.3, over.y + over.height / 2);
        await page.mouse.down();
        await page.mouse.move(over.x + over.width * 0.4, over.y + over.height / 2, { steps: 5 });
        await page.mouse.up();
        await expect.poll(axis).not.toBe(before);
        expect(await axis()).toMatch(/^Showing 1[23] Feb \d\d:\d\d – 1[234] Feb \d\d:\d\d$/);
        await shot(page, '5-profile-zoomed');

        // History: a year of days, then twelve months.
        await page.goto(`${url}/#history/${encodeURIComponent(A.meterId)}?step=1d`);
        await ready(page, 'history');
        const days = (await api(`/api/v1/meters/${A.meterId}/history?step=1d`, A.token)).json;
        expect(await text(page, 'history-import')).toBe(kwh(days.totals.importKWh));
        // The household's PV meter: generation and self-consumption, as the API computes them.
        expect(await text(page, 'history-generation')).toBe(kwh(days.generationTotals.generationKWh));
        expect(await text(page, 'history-self-consumption')).toBe(kwh(days.generationTotals.selfConsumptionKWh));
        expect(await text(page, 'history-self-consumption-share')).toBe(`${(days.generationTotals.selfConsumptionShare * 100).toFixed(1)} %`);
        expect(await page.locator('#chart .u-legend').textContent()).toMatch(/Import.*Export.*Generation.*Self-consumption/s);
        expect(await page.locator('#hi-role').inputValue()).toBe('grid');
        await shot(page, '6-history-days');
        await page.selectOption('#hi-step', '1mo');
        await ready(page, 'history');
        await expect.poll(() => page.locator('#months tbody tr').count()).toBe(12);
        const months = (await api(`/api/v1/meters/${A.meterId}/history?step=1mo`, A.token)).json;
        expect(await text(page, 'history-import')).toBe(kwh(months.totals.importKWh));
        const last = months.t.length - 1;
        expect(await page.locator('#months thead th').allTextContents()).toEqual(['Month', 'Import kWh', 'Export kWh', 'Generation kWh', 'Self-consumed kWh', 'Share']);
        expect((await page.locator('#months tbody tr').nth(last).locator('td').allTextContents()).slice(3, 5)).toEqual([months.generation[last], months.selfConsumption[last]].map((v) => (v === null ? '–' : nf.format(v))));
        await shot(page, '7-history-months');

        // The PV meter's own history; its role set in the app (to the grid connection and back).
        const pv = A.generation!.meterId;
        await page.goto(`${url}/#history/${encodeURIComponent(pv)}?step=1d`);
        await ready(page, 'history');
        expect(await page.locator('#hi-role').inputValue()).toBe('generation');
        const own = (await api(`/api/v1/meters/${pv}/history?step=1d`, A.token)).json;
        expect(await text(page, 'history-generation')).toBe(kwh(own.generationTotals.generationKWh));
        const role = async () => (await api('/api/v1/meters', A.token)).json.meters.find((m: { id: string }) => m.id === pv).role;
        await page.selectOption('#hi-role', 'grid');
        await expect.poll(role).toBe('grid');
        await expect.poll(() => page.locator('[data-figure="history-generation"]').count()).toBe(0);
        await page.selectOption('#hi-role', 'generation');
        await expect.poll(role).toBe('generation');
        await expect.poll(() => page.locator('[data-figure="history-generation"]').count()).toBe(1);

        // Live: values a device pushes arrive on the page as they come, and the overview shows the newest as "now".
        await page.goto(`${url}/#live/${encodeURIComponent(A.meterId)}`);
        await ready(page, 'live');
        const points = async () => Number(await page.locator('#view').getAttribute('data-points'));
        // Nothing pushed in the last 15 minutes (on the first size): the page says why, and draws no empty chart.
        if ((await points()) === 0) {
          expect(await page.locator('#live-status').textContent()).toMatch(/^No live values in the last 15 minutes/);
          expect(await page.locator('#chart').isVisible()).toBe(false);
        }
        const pusher = livePusher(A);
        try {
          await expect.poll(points, { timeout: 15000 }).toBeGreaterThan(0);
          const seen = await points();
          await expect.poll(points, { timeout: 15000 }).toBeGreaterThan(seen + 2);
          expect(await page.locator('#chart').isVisible()).toBe(true);
          // Net power and the three phases the meter sends, each a line with its legend entry.
          await expect.poll(() => page.locator('#chart .u-legend .u-series:not(.u-off) .u-label').allTextContents()).toEqual(['Time', 'Net', 'L1', 'L2', 'L3']);
          // The figure is the newest value the API holds (the page polls every 2 s: one of the last two).
          const shown = Number(await page.locator('[data-figure="live-power"]').getAttribute('data-watts'));
          const held = (await api(`/api/v1/meters/${A.meterId}/live`, A.token)).json.values.map((v: { p: number }) => v.p);
          expect(held.slice(-3)).toContain(shown);
          expect(await page.locator('[data-figure="live-power"]').textContent()).toBe(`importing ${Math.round(shown).toLocaleString('en-GB')} W`);
          expect(await page.locator('#phases tbody tr').count()).toBe(3);
          expect(await page.locator('#chart canvas').count()).toBe(1);
          await shot(page, '8-live');
          await page.goto(`${url}/#overview/${encodeURIComponent(A.meterId)}`);
          await ready(page, 'overview');
          const current = Number(await page.locator('[data-figure="current-power"]').getAttribute('data-watts'));
          expect(held.concat(pusher.sent)).toContain(current);
        } finally {
          pusher.stop();
        }

        // Another household's meter: the API says 404, and so does the page.
        expect((await api(`/api/v1/meters/${N.meterId}/overview`, A.token)).status).toBe(404);
        await page.goto(`${url}/#overview/${encodeURIComponent(N.meterId)}`);
        await ready(page, 'error');
        expect(await page.locator('#error').textContent()).toBe(`Not available: no meter ${N.meterId}. This meter does not exist or does not belong to your household (HTTP 404).`);
        expect(await page.locator('#meter option').allTextContents()).toEqual([A.meterId, A.generation!.meterId]);
        await shot(page, '9-other-household');

        // Nothing was loaded from elsewhere, nothing failed.
        expect(failed).toEqual([]);
      } finally {
        await context.close();
      }
    });
  }

  it('the admin sees every meter, and the devices: enrols one and revokes it', async () => {
    const context = await browser(SIZES[1]);
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      await page.goto(url + '/');
      await page.fill('#token', B.admin);
      await page.click('#login-form button');
      await ready(page, 'overview');
      expect((await page.locator('#meter option').allTextContents()).sort()).toEqual(B.households.flatMap((h) => [h.meterId, ...(h.generation ? [h.generation.meterId] : [])]).sort());
      // Devices: each with its last upload and event-log chain; enrol one, revoke it.
      await page.click('nav a[data-view="devices"]');
      await ready(page, 'devices');
      const listed = (await api('/api/v1/admin/devices', B.admin)).json.devices as { id: string; lastSeq: number; eventChain: { status: string } }[];
      expect(await page.locator('#devices tbody tr').count()).toBe(listed.length);
      for (const d of listed) expect(await page.locator(`tr[data-device="${d.id}"] td[data-col="stored"]`).textContent()).toBe(String(d.lastSeq));
      // Firmware and backlog as the device said them (here: with a live push); '–' for one that has said nothing.
      const [A, N] = B.households;
      expect(await page.locator(`tr[data-device="${N.deviceId}"] td[data-col="firmware"]`).textContent()).toBe('–');
      const pushed = await B.app.inject({ method: 'POST', url: '/api/v1/live', headers: { authorization: `Bearer ${A.deviceToken}`, 'smgw-firmware': '0.2.0', 'smgw-backlog': '42' }, payload: { deviceId: A.deviceId, meterId: A.meterId, interval: 1, values: [{ time: Date.now(), p: 321 }] } });
      expect(pushed.statusCode).toBe(200);
      await page.reload();
      await ready(page, 'devices');
      expect(await page.locator(`tr[data-device="${A.deviceId}"] td[data-col="firmware"]`).textContent()).toBe('0.2.0');
      expect(await page.locator(`tr[data-device="${A.deviceId}"] td[data-col="backlog"]`).textContent()).toBe('42');
      await page.screenshot({ path: join(SHOTS, 'desktop-10-devices.png'), fullPage: true });
      const [bundle] = await Promise.all([page.waitForEvent('download'), page.click('#enrol button')]);
      const enrolled = JSON.parse(readFileSync((await bundle.path())!, 'utf8'));
      expect(enrolled.certificate).toBeTruthy();
      await expect.poll(() => page.locator(`tr[data-device="${enrolled.deviceId}"]`).count()).toBe(1);
      page.once('dialog', (d) => d.accept());
      await page.click(`button[data-revoke="${enrolled.deviceId}"]`);
      await expect.poll(() => page.locator(`tr[data-device="${enrolled.deviceId}"] td[data-col="state"]`).textContent()).toMatch(/^revoked/);
      const after = (await api('/api/v1/admin/devices', B.admin)).json.devices.find((d: { id: string }) => d.id === enrolled.deviceId);
      expect(after.revokedAt).not.toBeNull();
    } finally {
      await context.close();
    }
  });
});
