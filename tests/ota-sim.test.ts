// Signed firmware updates in the simulator (docs/ota.md), the whole cycle as
// `smgw sim` runs it: the backend's admin publishes and rolls out a release,
// the device learns of it in its upload acknowledgement, downloads it in
// Range pieces over mutual TLS, checks it, writes the inactive slot, restarts
// into it, self-tests and marks it valid, or is refused / rolls back. The
// slots, otadata and the bootloader are simulator/world/ota-flash.ts's model on NOR flash,
// and a power cut can stop any erase or program of it byte by byte.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateReleaseKey } from '../cli/release';
import { startBackend } from '../backend/main';
import { buildSimApp, checkSimApp } from '../simulator/world/ota-flash';
import { SECTOR } from '../simulator/world/flash';
import { HEADER_LENGTH } from '../src/ota/image';
import { ChainVerifier } from '../src/formats/event-chain';
import { nodeCrypto } from '../hosts/node/crypto';
import { ReadingLog } from '../src/store/reading-log';
import { APP_SIZE, runUpdate, signedImage, updateEvents, type UpdateRun } from './support/ota';
import { CHUNK } from '../src/ota/updater';
import { boundariesFrom, coverage, HOUR, JUNE } from './support/sim';

const QUARTER = 15 * 60000;

/** The version each slot holds, and which slot the bootloader starts next. */
function slots(run: UpdateRun) {
  const ota = run.sim.world.ota;
  ota.flash.revive();
  const app = (slot: number) => checkSimApp((o, l) => ota.readSlot(slot, o, l), ota.slotSize)?.version ?? null;
  return { ota_0: app(0), ota_1: app(1), boots: ota.current()?.slot ?? 0, state: ota.current()?.state ?? 'undefined' };
}

/** Every quarter-hour of the run is in the reading log (a reading, or a gap saying why), once. */
function quarterHoursComplete(run: UpdateRun, until: number): void {
  run.sim.world.flash.revive();
  const entries = new ReadingLog(run.sim.world.flash).read(0, Number.MAX_SAFE_INTEGER);
  const covered = coverage(entries, 'taf7', QUARTER);
  const expected = boundariesFrom(JUNE + QUARTER, until, QUARTER);
  expect(expected.filter((t) => !covered.has(t))).toEqual([]);
}

function chainHolds(run: UpdateRun): void {
  const v = new ChainVerifier(nodeCrypto.sha256);
  for (const e of run.events) v.add(e);
  expect(v.status()).toMatchObject({ ok: true, events: run.events.length });
}

/** The settings as the device keeps them at the end, against what the run started with. */
function settingsOf(run: UpdateRun): string | undefined {
  return run.sim.world.kv.get('settings');
}

/** A refused update: the event says why, nothing changed in the slots, the device runs 0.2.0 from ota_0 throughout. */
function refusedWith(run: UpdateRun, reason: RegExp): void {
  const update = updateEvents(run);
  expect(update).toHaveLength(1);
  expect(update[0]).toMatch(reason);
  expect(update[0]).toMatch(/; 0\.2\.0 keeps running$/);
  expect(run.running).toBe('0.2.0');
  expect(run.report.boots.map((b) => b.cause)).toEqual(['power-on']);
  expect(slots(run)).toMatchObject({ ota_0: '0.2.0', boots: 0, state: 'undefined' });
  expect(run.sim.world.kv.get('otaJob')).toBeUndefined();
  expect(run.sim.world.kv.get('otaAt')).toBeUndefined();
  chainHolds(run);
}

describe('a genuine update', () => {
  it('is downloaded, verified, written to ota_1, booted, self-tested, marked valid and shown in the backend\'s device view; log and settings survive', async () => {
    const run = await runUpdate({ file: signedImage({ version: '0.3.0' }) });
    expect(run.published?.status).toBe(201);
    expect(updateEvents(run)).toEqual([
      expect.stringMatching(/^update 0\.3\.0 \(sim, 20480 B, key [0-9a-f]{16}\) offered: signature ok; downloading into ota_1$/),
      'update 0.3.0: 20480 B in ota_1, SHA-256 verified; ota_1 boots next: restarting',
      'update to 0.3.0: first boot from ota_1 (was 0.2.0); self-test running',
      'firmware 0.3.0: self-test passed (meter decoded, event log whole, backend reached); ota_1 marked valid',
    ]);
    expect(run.running).toBe('0.3.0');
    expect(run.report.boots.map((b) => b.cause)).toEqual(['power-on', 'restart']);
    expect(slots(run)).toEqual({ ota_0: '0.2.0', ota_1: '0.3.0', boots: 1, state: 'valid' });
    // The firmware event of the new image, and the boot's reason.
    const messages = run.events.map((e) => e.message);
    expect(messages).toContain('firmware changed from 0.2.0 to 0.3.0');
    expect(messages).toContain('boot: restart requested (update to 0.3.0)');
    chainHolds(run);
    quarterHoursComplete(run, JUNE + 3 * HOUR - 15 * 60000);
    expect(settingsOf(run)).toBe(run.settingsBefore);
    expect(run.settingsBefore).toMatch(/"deviceId":"smgw-/);

    // The backend's device view: the firmware the device reports now, and its newest update event.
    const backend = await startBackend({ db: `sqlite:${join(run.state, 'backend.db')}`, port: 0, host: '127.0.0.1', data: join(run.state, 'pki'), tls: true, hostnames: ['localhost', '127.0.0.1'], logger: false });
    try {
      const admin = { authorization: `Bearer ${readFileSync(join(run.state, 'pki', 'admin-token'), 'utf8').trim()}` };
      const devices = (await backend.app.inject({ method: 'GET', url: '/api/v1/admin/devices', headers: admin })).json().devices;
      expect(devices).toHaveLength(1);
      expect(devices[0].firmware).toBe('0.3.0');
      expect(devices[0].update.message).toBe('firmware 0.3.0: self-test passed (meter decoded, event log whole, backend reached); ota_1 marked valid');
      expect(devices[0].eventChain.status).toBe('ok');
      const events = (await backend.app.inject({ method: 'GET', url: `/api/v1/devices/${devices[0].id}/events?kind=update`, headers: admin })).json().events;
      expect(events.map((e: { message: string }) => e.message)).toEqual(updateEvents(run));
      // Running 0.3.0, the device is offered nothing more.
      const releases = (await backend.app.inject({ method: 'GET', url: '/api/v1/admin/releases', headers: admin })).json();
      expect(releases.releases.map((r: { version: string }) => r.version)).toEqual(['0.3.0']);
      expect(releases.rollouts[0]).toMatchObject({ target: { all: true }, downgrade: false });
    } finally {
      await backend.close();
    }
  }, 120_000);
});

describe('an image that must not run is refused before anything changes', () => {
  it('tampered: the image changed and its hash in the header with it (the signature no longer holds)', async () => {
    const file = signedImage({ version: '0.3.0' });
    file[HEADER_LENGTH + 1000] ^= 0xff;
    const { createHash } = await import('node:crypto');
    file.set(createHash('sha256').update(file.subarray(HEADER_LENGTH)).digest(), 40);
    const run = await runUpdate({ file });
    refusedWith(run, /^update 0\.3\.0 refused: the signature does not verify under key [0-9a-f]{16}: altered or not signed by it/);
  }, 120_000);

  it('signed by another key than the firmware knows', async () => {
    const run = await runUpdate({ file: signedImage({ version: '0.3.0' }, { key: generateReleaseKey() }) });
    refusedWith(run, /^update 0\.3\.0 refused: signed by key [0-9a-f]{16}, unknown to this firmware/);
  }, 120_000);

  it('for other hardware', async () => {
    const run = await runUpdate({ file: signedImage({ version: '0.3.0' }, { hardware: 'esp32' }) });
    refusedWith(run, /^update 0\.3\.0 refused: it is for esp32, this device is sim/);
  }, 120_000);

  it('an older version: not offered by the backend unless its admin forces the downgrade (then installed, and the event says so)', async () => {
    const older = signedImage({ version: '0.1.0' });
    const notForced = await runUpdate({ file: older });
    expect(notForced.published?.status).toBe(201);
    expect(updateEvents(notForced)).toEqual([]);
    expect(notForced.running).toBe('0.2.0');
    expect(slots(notForced)).toMatchObject({ ota_0: '0.2.0', ota_1: null, boots: 0 });

    const forced = await runUpdate({ file: older, downgrade: true });
    expect(updateEvents(forced)[0]).toMatch(/^update 0\.1\.0 \(sim, 20480 B, key [0-9a-f]{16}\) offered, downgrade from 0\.2\.0 forced by the backend's admin: signature ok/);
    expect(forced.running).toBe('0.1.0');
    expect(updateEvents(forced).at(-1)).toBe('firmware 0.1.0: self-test passed (meter decoded, event log whole, backend reached); ota_1 marked valid');
  }, 120_000);

  it('altered after the backend accepted it (the backend taken over): written, read back, the hash differs, not booted', async () => {
    const run = await runUpdate({
      file: signedImage({ version: '0.3.0' }),
      alterStored: (image) => {
        image[HEADER_LENGTH + 5000] ^= 0x01;
        return image;
      },
    });
    const update = updateEvents(run);
    expect(update).toHaveLength(2);
    expect(update[0]).toMatch(/offered: signature ok; downloading into ota_1$/);
    expect(update[1]).toMatch(/^update 0\.3\.0 refused: what ota_1 holds has SHA-256 [0-9a-f]{12}\.\.\., signed [0-9a-f]{12}\.\.\.: altered; 0\.2\.0 keeps running$/);
    expect(run.running).toBe('0.2.0');
    expect(run.report.boots).toHaveLength(1);
    // The bad image is in ota_1 (it does not check), the boot slot never moved.
    expect(slots(run)).toMatchObject({ ota_0: '0.2.0', ota_1: null, boots: 0, state: 'undefined' });
  }, 120_000);

  it('the backend refuses an upload that is not a signed image, or whose image does not match its header', async () => {
    const notSigned = await runUpdate({ file: buildSimApp({ version: '0.3.0' }, APP_SIZE), hours: 1 });
    expect(notSigned.published).toMatchObject({ status: 400, body: { error: expect.stringMatching(/^not a signed smgw-lite image/) } });
    const file = signedImage({ version: '0.3.0' });
    file[HEADER_LENGTH + 7] ^= 1;
    const altered = await runUpdate({ file, hours: 1 });
    expect(altered.published).toMatchObject({ status: 400, body: { error: 'the image does not have the SHA-256 its header gives: it was altered after signing' } });
    expect(updateEvents(altered)).toEqual([]);
  }, 120_000);
});

describe('a new image that fails its self-test', () => {
  it('is rolled back after ten minutes, the old image runs again and the release is not tried again', async () => {
    const run = await runUpdate({ file: signedImage({ version: '0.3.0', defect: 'meter' }) });
    expect(updateEvents(run)).toEqual([
      expect.stringMatching(/offered: signature ok; downloading into ota_1$/),
      'update 0.3.0: 20480 B in ota_1, SHA-256 verified; ota_1 boots next: restarting',
      'update to 0.3.0: first boot from ota_1 (was 0.2.0); self-test running',
      'firmware 0.3.0: self-test failed after 10 min (no meter reading): rolling back to the previous image',
    ]);
    expect(run.running).toBe('0.2.0');
    expect(run.report.boots.map((b) => b.cause)).toEqual(['power-on', 'restart', 'restart']);
    expect(slots(run)).toEqual({ ota_0: '0.2.0', ota_1: '0.3.0', boots: 0, state: 'valid' });
    expect(run.events.map((e) => e.message)).toContain('boot: restart requested (rollback of 0.3.0 (self-test failed))');
    chainHolds(run);
    quarterHoursComplete(run, JUNE + 3 * HOUR - 15 * 60000);
  }, 120_000);
});

describe('power cuts during an update', () => {
  // The OTA flash's program/erase steps in an update of a 5-sector image: erasing ota_1 (5 x 4096), writing it
  // (20480), otadata "new" (erase 4096 + 16), the bootloader's "pending-verify" (4096 + 16), "valid" (4096 + 16).
  const ERASE = 5 * SECTOR;
  const WRITE = ERASE + APP_SIZE;
  const NEW = WRITE + SECTOR + 16;
  const PENDING = NEW + SECTOR + 16;
  const VALID = PENDING + SECTOR + 16;
  const cuts = [
    0, 1, ERASE / 2, ERASE - 1, // erasing the slot
    ERASE, ERASE + 100, ERASE + CHUNK - 1, ERASE + CHUNK, ERASE + CHUNK + 1, ERASE + 3 * CHUNK + 7, WRITE - 1, // writing it, piece by piece
    WRITE, WRITE + SECTOR - 1, WRITE + SECTOR, WRITE + SECTOR + 8, NEW - 1, // otadata: the new image boots next
    NEW, NEW + SECTOR + 3, PENDING - 1, // the bootloader: pending-verify
    PENDING, PENDING + SECTOR / 2, VALID - 1, // the self-test marks it valid
  ];

  it.each(cuts)('cut at OTA flash step %i: the device boots the old or the new image, never neither, and ends on one that is valid', async (step) => {
    const run = await runUpdate({ file: signedImage({ version: '0.3.0' }), hours: 4, atPublish: (sim) => sim.world.ota.flash.cutAfter(step) });
    expect(run.sim.device.crashes).toEqual([]);
    const causes = run.report.boots.map((b) => b.cause);
    expect(causes).toContain('power-cut');
    expect(['0.2.0', '0.3.0']).toContain(run.running);
    const s = slots(run);
    // What boots next is what ran last, and it checks.
    expect(s[s.boots === 0 ? 'ota_0' : 'ota_1']).toBe(run.running);
    expect(s.state === 'valid' || s.state === 'undefined').toBe(true);
    const update = updateEvents(run);
    if (step < NEW) {
      // Cut before the boot slot switched: the download went on after the restart and the update completed.
      expect(run.running).toBe('0.3.0');
      // It goes on after what the last piece saved before the cut: nothing (erasing, first piece), 16 KB, or all of it.
      const resumedAt = step >= WRITE ? 20480 : step >= ERASE ? Math.floor((step - ERASE) / CHUNK) * CHUNK : 0;
      expect(update).toContain(`update 0.3.0: after a restart the download goes on at byte ${resumedAt} of 20480`);
      expect(update.at(-1)).toBe('firmware 0.3.0: self-test passed (meter decoded, event log whole, backend reached); ota_1 marked valid');
    } else if (step < PENDING) {
      // Cut while otadata was written: either it holds (the new image boots) or it does not (the old one runs on).
      expect(update.at(-1)).toMatch(/^firmware 0\.3\.0: self-test passed|^update 0\.3\.0: 20480 B in ota_1/);
    } else {
      // Cut after the new image's first boot began and before it was marked valid: the bootloader rolls back.
      expect(run.running).toBe('0.2.0');
      expect(update.at(-1)).toBe('update to 0.3.0 rolled back: 0.2.0 runs from ota_0 again (the new image was not marked valid before a restart)');
    }
    chainHolds(run);
    expect(settingsOf(run)).toBe(run.settingsBefore);
  }, 120_000);
});

describe('inside the XS engine', () => {
  it('the firmware on XS (crypto over the bridge, as the native module on the device) applies a genuine update and refuses a tampered one', async () => {
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    const run = await runUpdate({ file: signedImage({ version: '0.3.0' }), sim: { engine: xsEngine(), engineName: 'xs' } });
    expect(run.sim.device.crashes).toEqual([]);
    expect(updateEvents(run).at(-1)).toBe('firmware 0.3.0: self-test passed (meter decoded, event log whole, backend reached); ota_1 marked valid');
    expect(run.running).toBe('0.3.0');
    expect(slots(run)).toEqual({ ota_0: '0.2.0', ota_1: '0.3.0', boots: 1, state: 'valid' });

    const tampered = signedImage({ version: '0.3.0' });
    tampered[100] ^= 1; // in the signed header: the signature no longer holds
    const refused = await runUpdate({ file: tampered, sim: { engine: xsEngine(), engineName: 'xs' } });
    refusedWith(refused, /^update 0\.3\.0 refused: the signature does not verify under key [0-9a-f]{16}/);
  }, 180_000);
});

describe('an outage in the middle of a download', () => {
  it('the download stops after the first piece, waits, and goes on at its end in the same boot once the Wi-Fi is back', async () => {
    const run = await runUpdate({
      file: signedImage({ version: '0.3.0' }),
      atPublish: (sim) => {
        const flash = sim.world.ota.flash;
        const lastOfFirstPiece = flash.steps + 5 * SECTOR + CHUNK - 1;
        flash.beforeStep = () => {
          if (flash.steps !== lastOfFirstPiece) return;
          flash.beforeStep = null;
          // The home network goes away for 10 minutes: the station drops now and joins again after it.
          sim.world.network.addOutage(sim.scheduler.now, sim.scheduler.now + 10 * 60000);
          sim.device.boot!.network.connect('Home', 'correct horse battery');
        };
      },
    });
    expect(updateEvents(run)).toEqual([
      expect.stringMatching(/offered: signature ok; downloading into ota_1$/),
      expect.stringMatching(new RegExp(`^update 0\\.3\\.0: download interrupted at byte ${CHUNK} \\(network down: no route to https://127\\.0\\.0\\.1:\\d+\\); it goes on later$`)),
      'update 0.3.0: 20480 B in ota_1, SHA-256 verified; ota_1 boots next: restarting',
      'update to 0.3.0: first boot from ota_1 (was 0.2.0); self-test running',
      'firmware 0.3.0: self-test passed (meter decoded, event log whole, backend reached); ota_1 marked valid',
    ]);
    // No power cut and no restart but the update's own.
    expect(run.report.boots.map((b) => b.cause)).toEqual(['power-on', 'restart']);
    expect(run.running).toBe('0.3.0');
    chainHolds(run);
  }, 120_000);
});
