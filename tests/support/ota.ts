// Firmware updates in the simulator: a release key of the test's own (the
// simulated firmware is built with it), signed images of simulated firmware
// (simulator/world/ota-flash.ts), and a run in which the embedded backend's admin
// publishes a release and rolls it out, and the device delivers (and so
// learns of it) an hour into the run.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { Simulation, type SimOptions, type SimReport } from '../../simulator/runner';
import { buildSimApp, type SimApp } from '../../simulator/world/ota-flash';
import { generateReleaseKey, releaseKeyEntry, signImage } from '../../cli/release';
import { parseVersion } from '../../src/ota/image';
import type { ReleaseKey } from '../../src/ota/release-keys';
import { ReadingLog } from '../../src/store/reading-log';
import type { EventEntry } from '../../src/formats/entries';
import { FIRMWARE_CONTENT_TYPE } from '../../backend/releases';
import { JUNE, HOUR } from './sim';

export const RELEASE_KEY: KeyObject = generateReleaseKey();
export const RELEASE_KEYS: ReleaseKey[] = [releaseKeyEntry(RELEASE_KEY, 'the tests\' release key')];
/** Simulated app images are this large: five flash sectors. */
export const APP_SIZE = 20 * 1024;

export function signedImage(app: SimApp, o: { key?: KeyObject; hardware?: string; version?: string } = {}): Uint8Array {
  return signImage(buildSimApp(app, APP_SIZE), { key: o.key ?? RELEASE_KEY, version: parseVersion(o.version ?? app.version)!, hardware: o.hardware ?? 'sim', signedAt: 1750000000 });
}

export interface UpdateRun {
  sim: Simulation;
  report: SimReport;
  state: string;
  /** Every line the device wrote to its console. */
  lines: string[];
  /** The events in the device's flash at the end. */
  events: (EventEntry & { seq: number })[];
  /** The version the last boot ran. */
  running: string;
  /** The device's settings when the release was published. */
  settingsBefore: string | undefined;
  /** What publishing the release answered (201, or the backend's refusal). */
  published: { status: number; body: { id?: string; error?: string } } | null;
}

export interface UpdateOptions {
  /** The signed file the admin uploads. */
  file: Uint8Array;
  downgrade?: boolean;
  hours?: number;
  /** Changes the stored image after the backend accepted it (a backend taken over, or a flash that went bad). */
  alterStored?: (image: Buffer) => Buffer;
  /** Called as the admin publishes (a power-cut point on world.ota.flash). */
  atPublish?: (sim: Simulation) => void;
  sim?: Partial<SimOptions>;
}

/** A device on 0.2.0 with an embedded backend; after 30 min the admin publishes `file` to all devices; after an hour the device delivers. */
export async function runUpdate(o: UpdateOptions): Promise<UpdateRun> {
  const state = mkdtempSync(join(tmpdir(), 'smgw-ota-'));
  const lines: string[] = [];
  const sim = new Simulation({ meter: 'dlms-mbus', seed: 7, from: JUNE, until: JUNE + (o.hours ?? 3) * HOUR, speed: 'max', faults: [], backend: 'embedded', state, releaseKeys: RELEASE_KEYS, log: (l) => lines.push(l), ...o.sim });
  let published: UpdateRun['published'] = null;
  const publish = async () => {
    const admin = { authorization: `Bearer ${readFileSync(join(state, 'pki', 'admin-token'), 'utf8').trim()}` };
    const app = sim.backend!.app;
    const r = await app.inject({ method: 'POST', url: '/api/v1/admin/releases', headers: { ...admin, 'content-type': FIRMWARE_CONTENT_TYPE }, payload: Buffer.from(o.file) });
    published = { status: r.statusCode, body: r.json() };
    if (r.statusCode !== 201) return;
    const id = r.json().id as string;
    if (o.alterStored) {
      const rows = await sim.backend!.store.db.all<{ image: Buffer }>('SELECT image FROM releases WHERE id = ?', [id]);
      await sim.backend!.store.db.run('UPDATE releases SET image = ? WHERE id = ?', [o.alterStored(Buffer.from(rows[0].image)), id]);
    }
    const rollout = await app.inject({ method: 'POST', url: '/api/v1/admin/rollouts', headers: admin, payload: { releaseId: id, target: 'all', downgrade: o.downgrade ?? false } });
    if (rollout.statusCode !== 201) throw new Error('rollout refused: ' + rollout.body);
  };
  let settings: string | undefined;
  sim.scheduler.at(JUNE + HOUR / 2, () => {
    // The settings as they are once the device is enrolled: an update must leave them so.
    settings = sim.world.kv.get('settings');
    o.atPublish?.(sim);
    void sim.scheduler.track(publish());
  });
  sim.scheduler.at(JUNE + HOUR, () => void sim.device.firmware?.uploadNow());
  const report = await sim.run();
  sim.world.flash.revive();
  const events = new ReadingLog(sim.world.flash).read(0, Number.MAX_SAFE_INTEGER).filter((e): e is EventEntry & { seq: number } => e.type === 'event');
  const running = sim.device.boot?.booted.app.version ?? '(none)';
  return { sim, report, state, lines, events, running, published, settingsBefore: settings };
}

export const updateEvents = (run: UpdateRun) => run.events.filter((e) => e.kind === 'update').map((e) => e.message);
