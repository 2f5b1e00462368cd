// The portal's local update (src/portal/update.ts): the owner uploads a signed
// image file and the page sends it in pieces; the same checks as an update
// from the backend decide, and the device restarts into it only when they pass.

import { describe, expect, it } from 'vitest';
import { Simulation, SIM_ADMIN_PASSWORD } from '../simulator/runner';
import { checkSimApp } from '../simulator/world/ota-flash';
import { ReadingLog } from '../src/store/reading-log';
import type { EventEntry } from '../src/formats/entries';
import { HEADER_LENGTH } from '../src/ota/image';
import { RELEASE_KEYS, signedImage } from './support/ota';
import { PortalClient, type PortalAnswer } from './support/portal';
import { JUNE } from './support/sim';

const MINUTE = 60000;

interface Upload {
  begin: PortalAnswer;
  pieces: PortalAnswer[];
  finish: PortalAnswer | null;
}

/** A provisioned device without a backend; ten minutes in, the owner uploads `file` in the portal as the page does. */
async function uploadInPortal(file: Uint8Array, alter?: (piece: Uint8Array, at: number) => void) {
  const sim = new Simulation({ meter: 'dlms-mbus', seed: 5, from: JUNE, until: JUNE + 40 * MINUTE, speed: 'max', faults: [], setup: 'provisioned', backend: 'none', releaseKeys: RELEASE_KEYS });
  const c = new PortalClient(sim);
  const upload: Upload = { begin: null as unknown as PortalAnswer, pieces: [], finish: null };
  const errors: unknown[] = [];
  let settingsBefore: string | undefined;
  sim.scheduler.at(JUNE + 10 * MINUTE, async () => {
    try {
      settingsBefore = sim.world.kv.get('settings');
      await c.login(SIM_ADMIN_PASSWORD);
      upload.begin = await c.call('POST', '/api/firmware/begin', file.slice(0, HEADER_LENGTH));
      if (upload.begin.status !== 200) return;
      const piece = upload.begin.json().piece as number;
      for (let at = 0; at < upload.begin.json().size; at += piece) {
        const bytes = file.slice(HEADER_LENGTH + at, HEADER_LENGTH + Math.min(at + piece, file.length - HEADER_LENGTH));
        alter?.(bytes, at);
        const r = await c.call('POST', `/api/firmware/piece?offset=${at}`, bytes);
        upload.pieces.push(r);
        if (r.status !== 200) return;
      }
      upload.finish = await c.call('POST', '/api/firmware/finish');
    } catch (e) {
      errors.push(e);
    }
  });
  await sim.run();
  sim.world.flash.revive();
  const events = new ReadingLog(sim.world.flash).read(0, Number.MAX_SAFE_INTEGER).filter((e): e is EventEntry & { seq: number } => e.type === 'event');
  const ota = sim.world.ota;
  ota.flash.revive();
  const inSlot = (slot: number) => checkSimApp((o, l) => ota.readSlot(slot, o, l), ota.slotSize)?.version ?? null;
  return {
    sim,
    errors,
    upload,
    update: events.filter((e) => e.kind === 'update').map((e) => e.message),
    running: sim.device.boot!.booted.app.version,
    slots: { ota_0: inSlot(0), ota_1: inSlot(1), boots: ota.current()?.slot ?? 0 },
    settingsSurvived: sim.world.kv.get('settings') === settingsBefore,
  };
}

describe('a local update in the portal', () => {
  it('a genuine image: checked, written in 4 KB pieces, restarted into, self-tested without a backend, marked valid', async () => {
    const r = await uploadInPortal(signedImage({ version: '0.3.0' }));
    expect(r.errors).toEqual([]);
    expect(r.upload.begin.json()).toMatchObject({ version: '0.3.0', hardware: 'sim', size: 20480, piece: 4096 });
    expect(r.upload.pieces.map((p) => p.json().at)).toEqual([4096, 8192, 12288, 16384, 20480]);
    expect(r.upload.finish?.status).toBe(202);
    expect(r.upload.finish?.json()).toEqual({ version: '0.3.0', restarting: true });
    expect(r.update).toEqual([
      expect.stringMatching(/^update 0\.3\.0 \(sim, 20480 B, key [0-9a-f]{16}\) uploaded in the portal: signature ok; writing ota_1$/),
      'update 0.3.0: 20480 B in ota_1, SHA-256 verified; ota_1 boots next: restarting',
      'update to 0.3.0: first boot from ota_1 (was 0.2.0); self-test running',
      'firmware 0.3.0: self-test passed (meter decoded, event log whole); ota_1 marked valid',
    ]);
    expect(r.running).toBe('0.3.0');
    expect(r.slots).toEqual({ ota_0: '0.2.0', ota_1: '0.3.0', boots: 1 });
    expect(r.settingsSurvived).toBe(true);
  }, 120_000);

  it('refuses an older version, other hardware and a foreign key at the header, before writing anything', async () => {
    const { generateReleaseKey } = await import('../cli/release');
    const cases: [Uint8Array, RegExp][] = [
      [signedImage({ version: '0.1.0' }), /^older than 0\.2\.0 \(running\); only the backend's admin can force a downgrade$/],
      [signedImage({ version: '0.3.0' }, { hardware: 'esp32' }), /^it is for esp32, this device is sim$/],
      [signedImage({ version: '0.3.0' }, { key: generateReleaseKey() }), /^signed by key [0-9a-f]{16}, unknown to this firmware$/],
    ];
    for (const [file, reason] of cases) {
      const r = await uploadInPortal(file);
      expect(r.upload.begin.status).toBe(422);
      expect(r.upload.begin.json().error).toMatch(reason);
      expect(r.update).toHaveLength(1);
      expect(r.update[0]).toMatch(/^update from the portal refused: .*; 0\.2\.0 keeps running$/);
      expect(r.running).toBe('0.2.0');
      expect(r.slots).toEqual({ ota_0: '0.2.0', ota_1: null, boots: 0 });
    }
  }, 120_000);

  it('a piece altered on its way: the slot\'s hash differs from the signed one, refused at the end, the running image untouched', async () => {
    const r = await uploadInPortal(signedImage({ version: '0.3.0' }), (piece, at) => {
      if (at === 8192) piece[100] ^= 0x40;
    });
    expect(r.upload.pieces.every((p) => p.status === 200)).toBe(true);
    expect(r.upload.finish?.status).toBe(422);
    expect(r.upload.finish?.json().error).toMatch(/^what ota_1 holds has SHA-256 [0-9a-f]{12}\.\.\., signed [0-9a-f]{12}\.\.\.: altered$/);
    expect(r.update.at(-1)).toMatch(/^update 0\.3\.0 from the portal refused: what ota_1 holds has SHA-256 .*; 0\.2\.0 keeps running$/);
    expect(r.running).toBe('0.2.0');
    expect(r.sim.device.boots).toHaveLength(1);
    expect(r.slots.boots).toBe(0);
  }, 120_000);

  it('pieces out of order are refused; without the CSRF token nothing is accepted', async () => {
    const sim = new Simulation({ meter: 'dlms-mbus', seed: 5, from: JUNE, until: JUNE + 15 * MINUTE, speed: 'max', faults: [], setup: 'provisioned', backend: 'none', releaseKeys: RELEASE_KEYS });
    const c = new PortalClient(sim);
    const file = signedImage({ version: '0.3.0' });
    const seen: { [k: string]: PortalAnswer } = {};
    sim.scheduler.at(JUNE + 10 * MINUTE, async () => {
      await c.login(SIM_ADMIN_PASSWORD);
      seen.noCsrf = await c.call('POST', '/api/firmware/begin', file.slice(0, HEADER_LENGTH), { 'x-csrf-token': '' });
      seen.short = await c.call('POST', '/api/firmware/begin', file.slice(0, 100));
      seen.begin = await c.call('POST', '/api/firmware/begin', file.slice(0, HEADER_LENGTH));
      seen.again = await c.call('POST', '/api/firmware/begin', file.slice(0, HEADER_LENGTH));
      seen.skip = await c.call('POST', '/api/firmware/piece?offset=4096', file.slice(HEADER_LENGTH + 4096, HEADER_LENGTH + 8192));
      seen.early = await c.call('POST', '/api/firmware/finish');
    });
    await sim.run();
    expect(seen.noCsrf.status).toBe(403);
    expect(seen.short.status).toBe(400);
    expect(seen.begin.status).toBe(200);
    expect(seen.again.json()).toEqual({ error: 'an update is already under way' });
    expect(seen.skip.json()).toEqual({ error: 'expected the piece at byte 0, got 4096' });
    expect(seen.early.json()).toEqual({ error: 'only 0 of 20480 bytes arrived' });
    expect(sim.device.boots).toHaveLength(1);
  }, 120_000);
});
