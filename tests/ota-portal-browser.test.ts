// The portal's local update in Chromium: the owner logs in, chooses a signed
// image file on the Actions page and presses "Update firmware"; the page sends
// it in pieces, the device checks it, restarts into it and marks it valid
// after its self-test. A file signed for other hardware is refused on the page
// with the device's reason. Real time, the device's portal on a real port.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chromium } from 'playwright-core';
import { freePort } from './support/free-port';
import { RELEASE_KEYS, signedImage } from './support/ota';

describe('the portal\'s firmware update in a browser', () => {
  it('uploads a signed image from the Actions page; the device restarts into it; a wrong one is refused with its reason', async () => {
    const { Simulation, SIM_ADMIN_PASSWORD } = await import('../simulator/runner');
    const port = await freePort();
    const lines: string[] = [];
    const sim = new Simulation({ meter: 'dlms-mbus', seed: 11, speed: 1, days: 1, portalPort: port, setup: 'provisioned', backend: 'none', faults: [], releaseKeys: RELEASE_KEYS, log: (l) => lines.push(l) });
    const running = sim.run();
    const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'smgw-chromium-')), {
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    try {
      const page = await context.newPage();
      await expect.poll(async () => (await page.goto(`http://127.0.0.1:${port}/#actions`).catch(() => null))?.status() ?? 0, { timeout: 20000 }).toBe(200);
      await page.fill('#login-password', SIM_ADMIN_PASSWORD);
      await page.click('#f-login button');
      await page.goto(`http://127.0.0.1:${port}/#actions`);
      await page.waitForSelector('#a-fw', { state: 'visible' });

      await page.setInputFiles('#fw-file', { name: 'smgw-0.3.0-esp32.fw', mimeType: 'application/octet-stream', buffer: Buffer.from(signedImage({ version: '0.3.0' }, { hardware: 'esp32' })) });
      await page.click('#a-fw');
      await expect.poll(() => page.textContent('#r-fw'), { timeout: 20000 }).toBe('it is for esp32, this device is sim');
      expect(sim.device.boot!.booted.app.version).toBe('0.2.0');

      await page.setInputFiles('#fw-file', { name: 'smgw-0.3.0-sim.fw', mimeType: 'application/octet-stream', buffer: Buffer.from(signedImage({ version: '0.3.0' })) });
      await page.click('#a-fw');
      await expect.poll(() => page.textContent('#r-fw'), { timeout: 20000 }).toBe('0.3.0 verified: restarting into it');
      // The device restarts into it and, once a meter reading is decoded, marks it valid.
      await expect.poll(() => lines.some((l) => /^firmware 0\.3\.0: self-test passed/.test(l)), { timeout: 60000, interval: 500 }).toBe(true);
      expect(sim.device.boot!.booted.app.version).toBe('0.3.0');
      expect(sim.world.ota.current()).toMatchObject({ slot: 1, state: 'valid' });
    } finally {
      await context.close();
      sim.scheduler.stop();
      await running;
    }
  }, 120_000);
});
