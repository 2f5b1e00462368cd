// A new user sets the gateway up with a phone: Chromium (Debian's, driven by
// playwright-core) at a phone's viewport, against the simulated device in
// real time with its portal on a real port and an embedded backend, as
// `npm start` runs it. The user gets an enrolment bundle for the simulator's
// household from the backend's admin API, goes through the whole wizard
// (password, Wi-Fi from the scan list, the meter found by auto-detect, its
// key, the bundle, the TAF settings), is logged in again by the page after
// the restart, reads now and uploads now; the backend's query API then holds
// the readings, and the household's token opens its dashboard. Screenshots
// of every page go to test-results/portal/.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { freePort } from './support/free-port';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromium, type Page } from 'playwright-core';
import type { Simulation, StartInfo } from '../simulator/runner';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = join(__dirname, '..', 'test-results', 'portal');
const PASSWORD = 'my-own-portal-pw';


/** A request to the backend over HTTPS, checked against its CA, as its admin or household. */
function backend(url: string, ca: string, token: string, method: string, path: string, body?: object): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const r = request(new URL(path, url), { method, ca, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    r.on('error', reject);
    r.end(body ? JSON.stringify(body) : undefined);
  });
}

describe('setting the gateway up with a phone', () => {
  it('goes through the whole setup in Chromium; the device then reads and uploads with the settings entered', async () => {
    const { Simulation } = await import('../simulator/runner');
    const { meterKey } = await import('../simulator/meters/index');
    rmSync(SHOTS, { recursive: true, force: true });
    mkdirSync(SHOTS, { recursive: true });
    console.log(`portal screenshots: ${SHOTS}`);
    const state = mkdtempSync(join(tmpdir(), 'smgw-portal-'));
    const port = await freePort();
    const lines: string[] = [];
    let started: (info: StartInfo) => void = () => undefined;
    const ready = new Promise<StartInfo>((r) => (started = r));
    const sim: Simulation = new Simulation({
      meter: 'dlms-mbus', seed: 11, state, speed: 1, days: 1, portalPort: port, faults: [], backend: 'embedded',
      log: (l) => lines.push(l), onStart: (info) => started(info),
    });
    const running = sim.run();
    const browserDir = mkdtempSync(join(tmpdir(), 'smgw-chromium-'));
    const context = await chromium.launchPersistentContext(browserDir, {
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 390, height: 844 },
      isMobile: true,
      hasTouch: true,
      // The dashboard's certificate is from the backend's own CA (.smgw-sim/pki/ca.pem), which this browser profile does not hold.
      ignoreHTTPSErrors: true,
    });
    let shot = 0;
    const snap = async (page: Page, name: string) => {
      await page.screenshot({ path: join(SHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`), fullPage: true });
    };
    try {
      const info = await ready;
      const url = info.backend!;
      const pki = join(info.backendDir!, 'pki');
      const ca = readFileSync(join(pki, 'ca.pem'), 'utf8');
      const admin = readFileSync(join(pki, 'admin-token'), 'utf8').trim();
      // The backend's admin enrols the device in the household the simulator keeps (the command it prints); the answer is the bundle.
      const householdToken = readFileSync(join(pki, 'household-token'), 'utf8').trim();
      expect(info.householdId).toMatch(/^hh-/);
      const enrolled = await backend(url, ca, admin, 'POST', '/api/v1/admin/devices', { householdId: info.householdId });
      expect(enrolled.status).toBe(201);
      const bundle = JSON.stringify(enrolled.json);

      const page = context.pages()[0] ?? (await context.newPage());
      const base = `http://127.0.0.1:${port}`;
      // The phone's captive-portal check: redirected to the setup page.
      const probe = await page.request.get(`${base}/generate_204`, { maxRedirects: 0 });
      expect(probe.status()).toBe(302);
      expect(probe.headers().location).toBe('http://192.168.4.1/#setup');
      await page.goto(`${base}/#setup`);

      // Log in with the initial password.
      await page.waitForSelector('#v-login:not([hidden])');
      await snap(page, 'login');
      await page.fill('#login-password', 'smgw-lite-setup');
      await page.click('#f-login button');

      // 1: the admin password and the access point's.
      await page.waitForSelector('#s-password.on');
      await snap(page, 'setup-password');
      await page.fill('#s-password [name=password]', PASSWORD);
      await page.fill('#s-password [name=apPassword]', 'my-own-ap-pw');
      await page.click('#s-password button');

      // 2: Wi-Fi from the scan list.
      await page.waitForSelector('#s-wifi.on');
      await page.click('#scan');
      await page.waitForSelector('#networks li:has-text("Home")', { timeout: 15000 });
      await page.click('#networks li:has-text("Home")');
      await page.fill('#wifi-password', 'correct horse battery');
      await snap(page, 'setup-wifi');
      await page.click('#s-wifi > button:last-of-type');

      // 3: the meter. The form's defaults (SML on the IR head) have never been seen: not saved without saying so.
      await page.waitForSelector('#s-meter.on');
      const save = page.locator('#s-meter > button:last-of-type');
      await save.click();
      await page.waitForSelector('#msg:has-text("no telegram has been seen with SML (IR) on the IR/P1 connector")');
      expect(await save.textContent()).toBe('Save anyway');
      expect(await page.isVisible('#s-meter.on')).toBe(true);
      await snap(page, 'setup-meter-unseen');
      // Auto-detect: Save waits while it listens, then the meter it found is saved as it is.
      await page.click('#detect');
      await page.waitForSelector('#detect-state:has-text("Save waits")');
      expect(await save.isDisabled()).toBe(true);
      expect(await page.textContent('#detect')).toBe('Stop auto-detect');
      await snap(page, 'setup-meter-detecting');
      await page.waitForSelector('#detect-state:has-text("found")', { timeout: 60000 });
      expect(await save.isDisabled()).toBe(false);
      expect(await save.textContent()).toBe('Save and continue');
      expect(await page.textContent('#detect-state')).toMatch(/found DLMS\/COSEM on the M-Bus connector, 2400 8E1: encrypted/);
      expect(await page.inputValue('#m-protocol')).toBe('dlms');
      expect(await page.inputValue('#m-baud')).toBe('2400');
      expect(await page.inputValue('#m-parity')).toBe('even');
      await snap(page, 'setup-meter');
      await page.click('#s-meter > button:last-of-type');

      // 4: the key, write-only.
      await page.waitForSelector('#s-keys.on');
      const key = Buffer.from(meterKey('dlms-mbus', null)!).toString('hex').toUpperCase();
      await page.fill('#k-key', key);
      await snap(page, 'setup-keys');
      await page.click('#s-keys button');

      // 5: the bundle.
      await page.waitForSelector('#s-backend.on');
      expect(await page.textContent('#key-set')).toBe('set');
      expect(await page.inputValue('#k-key')).toBe('');
      await page.fill('#bundle', bundle);
      await snap(page, 'setup-backend');
      await page.click('#s-backend > button:not([type=button])');

      // 6: TAF 7 every minute (readings soon), TAF 14 every 2 s, Vienna.
      await page.waitForSelector('#s-taf.on');
      await page.selectOption('#t-period', '1');
      await page.fill('#t-live', '2');
      await page.selectOption('#t-zone', 'Europe/Vienna');
      await snap(page, 'setup-taf');
      await page.click('#s-taf button');

      // 7: no MQTT.
      await page.waitForSelector('#s-mqtt.on');
      await snap(page, 'setup-mqtt');
      await page.click('#s-mqtt > button');

      // 8: the summary, then finish: the device restarts.
      await page.waitForSelector('#s-finish.on');
      await page.waitForSelector('#summary dd');
      expect(await page.textContent('#summary')).toContain('Europe/Vienna');
      await snap(page, 'setup-finish');
      // The login form must not come up on the way: the page logs in again by itself, as it says.
      await page.evaluate(`window.loginShown = false;
        new MutationObserver(() => { if (!document.getElementById('v-login').hidden) window.loginShown = true; }).observe(document.getElementById('v-login'), { attributes: true });`);
      await page.click('#s-finish button');
      await page.waitForSelector('#v-restart:not([hidden])');
      expect(await page.textContent('#restart-text')).toBe('The gateway is restarting with the new settings. This page logs in again by itself when it is back.');
      await snap(page, 'restarting');

      // Back, and logged in again without a password typed; the initial password no longer works.
      await page.waitForSelector('#v-status:not([hidden])', { timeout: 30000 });
      expect(await page.evaluate('window.loginShown')).toBe(false);
      expect(sim.device.boots.map((b) => b.cause)).toEqual(['power-on', 'restart']);
      const refused = await page.request.post(`${base}/api/login`, { data: { password: 'smgw-lite-setup' } });
      expect(refused.status()).toBe(401);
      await page.waitForSelector('#diag:has-text("reading normally")', { timeout: 30000 });
      await page.waitForSelector('#live td', { timeout: 15000 });
      const firstLive = await page.textContent('#live-time');
      // The live values update without a reload.
      await expect.poll(() => page.textContent('#live-time'), { timeout: 15000, interval: 500 }).not.toBe(firstLive);
      // No heap line in the simulator: the Node host's memory says nothing about the device's.
      expect(await page.textContent('#facts')).toContain('Uptime');
      expect((await page.textContent('#facts'))!.toLowerCase()).not.toContain('heap');
      await snap(page, 'status');

      // Actions: read now (TAF 6), then upload now.
      await page.click('nav a[href="#actions"]');
      await page.click('#a-read');
      await page.waitForSelector('#r-read:has-text("stored")', { timeout: 30000 });
      await page.click('#a-upload');
      await page.waitForSelector('#r-upload:has-text("delivered")', { timeout: 20000 });
      await snap(page, 'actions');

      // The backend has the readings, delivered with the bundle's credentials: "delivered" means the backend
      // answered the upload, which it does once the readings are stored.
      const meters = (await backend(url, ca, admin, 'GET', '/api/v1/meters')).json.meters;
      expect(meters).toHaveLength(1);
      const from = new Date(Date.now() - 3600000).toISOString().replace(/\.\d+/, '');
      const to = new Date(Date.now() + 3600000).toISOString().replace(/\.\d+/, '');
      const readings = await backend(url, ca, admin, 'GET', `/api/v1/meters/${encodeURIComponent(meters[0].id)}/readings?from=${from}&to=${to}&kind=taf6`);
      expect(readings.status).toBe(200);
      expect(readings.json.readings.length).toBeGreaterThanOrEqual(1);
      expect(readings.json.readings[0].flags).toContain('on-demand');
      expect(Object.keys(readings.json.readings[0].values)).toContain('1-0:1.8.0');

      // The household's dashboard, in one step: the token from the file the simulator printed.
      const dash = await context.newPage();
      await dash.goto(`${url}/`);
      await dash.waitForSelector('#login:not([hidden])');
      await dash.fill('#token', householdToken);
      await dash.click('#login-form button');
      await expect.poll(() => dash.locator('#view').getAttribute('data-ready'), { timeout: 20000 }).toBe('overview');
      expect(await dash.locator('#meter option').allTextContents()).toEqual([expect.stringContaining(meters[0].id)]);
      await snap(dash, 'dashboard');
      await dash.close();

      // Setup again (the wizard keeps what is set; an empty password field keeps the stored one): the Wi-Fi saved once more.
      await page.click('nav a[href="#setup"]');
      await page.waitForSelector('#s-wifi.on');
      expect(await page.inputValue('#wifi-ssid')).toBe('Home');
      expect(await page.textContent('#wifi-set')).toContain('A password is set');
      await snap(page, 'setup-again');
      await page.click('#s-wifi > button:last-of-type');
      await page.waitForSelector('#s-meter.on');

      // The event log from flash, its hash chain checked: the boots, and configuration changes from before the restart too.
      await page.click('nav a[href="#events"]');
      await page.waitForSelector('#ev li');
      await page.waitForSelector('#ev-chain:has-text("Hash chain intact")');
      await snap(page, 'events');
      await page.selectOption('#ev-kind', 'boot');
      await page.waitForSelector('#ev li:has-text("restart requested (setup finished in the portal)")');
      await page.selectOption('#ev-kind', 'config');
      await page.waitForSelector('#ev li:has-text("config: Wi-Fi network")');
      await snap(page, 'events-config');
      await page.click('nav a[href="#status"]');
      await page.waitForSelector('#banner:not([hidden])');
      await snap(page, 'status-restart-needed');

      // Nothing secret in the device's console.
      for (const secret of [key, key.toLowerCase(), PASSWORD, 'my-own-ap-pw', 'correct horse battery']) expect(lines.join('\n')).not.toContain(secret);
    } finally {
      await context.close();
      sim.scheduler.stop();
      await running;
      rmSync(browserDir, { recursive: true, force: true });
      rmSync(state, { recursive: true, force: true });
    }
  }, 300_000);
});
