// The backend's releases and rollouts (backend/releases.ts, docs/ota.md):
// uploads checked for structure and hash, rollouts to all devices, one
// household or a percentage, the offer in the ingest acknowledgement, the
// forced downgrade, and the device's Range download of what it is offered.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../backend/server';
import { Store } from '../backend/store';
import { Pki } from '../backend/pki';
import { bucketOf, FIRMWARE_CONTENT_TYPE } from '../backend/releases';
import { BatchWriter, BATCH_CONTENT_TYPE } from '../src/formats/batch';
import { GENESIS } from '../src/formats/event-chain';
import { HEADER_LENGTH } from '../src/ota/image';
import { signedImage } from './support/ota';

const ADMIN = 'admin-token-for-releases-test-0123456789';
let app: FastifyInstance;
let store: Store;
let dir: string;
const households: { id: string; token: string }[] = [];
const devices: { id: string; token: string; household: number }[] = [];

async function call(method: string, url: string, o: { token?: string; json?: unknown; raw?: Uint8Array; type?: string; headers?: { [k: string]: string } } = {}) {
  const headers: { [k: string]: string } = { ...(o.headers ?? {}) };
  if (o.token) headers.authorization = `Bearer ${o.token}`;
  if (o.raw) headers['content-type'] = o.type ?? FIRMWARE_CONTENT_TYPE;
  return app.inject({ method: method as 'GET', url, headers, ...(o.json !== undefined ? { payload: o.json as object } : o.raw ? { payload: Buffer.from(o.raw) } : {}) });
}

/** What a device is offered, as it asks while reporting `firmware`. */
async function offer(d: { token: string }, firmware = '0.2.0') {
  const r = await call('GET', '/api/v1/firmware', { token: d.token, headers: { 'smgw-firmware': firmware } });
  expect(r.statusCode, r.body).toBe(200);
  return r.json().update as { release: string; version: string; size: number; downgrade: boolean } | null;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smgw-releases-'));
  store = await Store.open('sqlite::memory:');
  app = await buildServer({ store, pki: await Pki.open(dir), publicUrl: () => 'https://backend.test', tls: false });
  await store.addCredential(ADMIN, { kind: 'admin', subject: null, name: 'release-admin' });
  for (const name of ['A', 'B']) {
    const h = await call('POST', '/api/v1/admin/households', { token: ADMIN, json: { name } });
    households.push({ id: h.json().household.id, token: h.json().token });
  }
  for (let i = 0; i < 40; i++) {
    const household = i === 0 ? 0 : 1;
    const d = await call('POST', '/api/v1/admin/devices', { token: ADMIN, json: { householdId: households[household].id, auth: 'token' } });
    devices.push({ id: d.json().deviceId, token: d.json().token, household });
  }
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('releases', () => {
  const file = signedImage({ version: '0.3.0' }, { hardware: 'esp32' });
  let release: string;

  it('the admin uploads a signed image once; not a household, not twice, not one whose image does not match its header', async () => {
    const r = await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: file });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ version: '0.3.0', hardware: 'esp32', size: file.length - HEADER_LENGTH, keyId: expect.stringMatching(/^[0-9a-f]{16}$/) });
    release = r.json().id;
    expect((await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: file })).json()).toEqual({ error: `this image is release ${release} already` });
    expect((await call('POST', '/api/v1/admin/releases', { token: households[0].token, raw: file })).statusCode).toBe(403);
    const altered = file.slice();
    altered[HEADER_LENGTH + 3] ^= 1;
    expect((await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: altered })).json()).toEqual({ error: 'the image does not have the SHA-256 its header gives: it was altered after signing' });
    expect((await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: file.subarray(0, 300) })).json()).toEqual({ error: `the header says ${file.length - HEADER_LENGTH} image bytes, the file has 108` });
    expect((await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: file, type: 'application/json' })).statusCode).toBe(400);
  });

  it('nothing is offered before a rollout; a household rollout reaches that household\'s device only', async () => {
    expect(await offer(devices[0])).toBeNull();
    const r = await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: release, target: { householdId: households[0].id } } });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ releaseId: release, target: { householdId: households[0].id }, downgrade: false, by: 'release-admin' });
    expect(await offer(devices[0])).toEqual({ release, version: '0.3.0', size: file.length - HEADER_LENGTH, downgrade: false });
    expect(await offer(devices[1])).toBeNull();
    // Running it, or something newer, the device is offered nothing.
    expect(await offer(devices[0], '0.3.0')).toBeNull();
    expect(await offer(devices[0], '0.4.1')).toBeNull();
  });

  it('the offer rides on the ingest acknowledgement', async () => {
    const w = new BatchWriter(devices[0].id, 1);
    w.add({ seq: 1, type: 'event', kind: 'boot', time: 0, uptime: 0, number: 1, prev: GENESIS, message: 'boot: power-on or reset (no restart was requested)' });
    const r = await call('POST', '/api/v1/ingest', { token: devices[0].token, raw: w.finish(), type: BATCH_CONTENT_TYPE, headers: { 'smgw-firmware': '0.2.0', 'smgw-backlog': '0' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json()).toMatchObject({ stored: 1, update: { release, version: '0.3.0', downgrade: false } });
  });

  it('a percentage reaches the devices whose bucket is below it, and widening it keeps them', async () => {
    const ten = await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: release, target: { percent: 25 } } });
    expect(ten.statusCode, ten.body).toBe(201);
    const offered = async () => {
      const out: string[] = [];
      for (const d of devices) if (await offer(d)) out.push(d.id);
      return out;
    };
    const at25 = await offered();
    // (Household A's device is reached by the household rollout before it, whatever its bucket.)
    expect(at25).toEqual(devices.filter((d) => d.household === 0 || bucketOf(d.id, release) < 25).map((d) => d.id));
    await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: release, target: { percent: 60 } } });
    const at60 = await offered();
    expect(at60).toEqual(devices.filter((d) => d.household === 0 || bucketOf(d.id, release) < 60).map((d) => d.id));
    for (const id of at25) expect(at60).toContain(id);
    const all = (await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: release, target: 'all' } })).json();
    expect(await offered()).toHaveLength(40);
    expect((await call('POST', `/api/v1/admin/rollouts/${all.id}/stop`, { token: ADMIN })).json()).toEqual({ stopped: all.id });
    expect(await offered()).toEqual(at60);
  });

  it('the buckets spread devices evenly: of 1000 fixed ids, a quarter below 25, and each release draws them anew', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => `smgw-${i.toString(16).padStart(12, '0')}`);
    const below = (release: string, percent: number) => ids.filter((id) => bucketOf(id, release) < percent);
    expect(below('fw-a', 25).length).toBeGreaterThan(220);
    expect(below('fw-a', 25).length).toBeLessThan(280);
    expect(below('fw-a', 100)).toHaveLength(1000);
    const overlap = below('fw-a', 25).filter((id) => below('fw-b', 25).includes(id)).length;
    expect(overlap).toBeLessThan(100);
  });

    it('an older release is offered only when the admin forced the downgrade, and the rollout records it', async () => {
    const older = (await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: signedImage({ version: '0.1.0' }, { hardware: 'esp32' }) })).json();
    const plain = (await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: older.id, target: 'all' } })).json();
    expect(await offer(devices[5])).toBeNull();
    await call('POST', `/api/v1/admin/rollouts/${plain.id}/stop`, { token: ADMIN });
    const forced = (await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: older.id, target: 'all', downgrade: true } })).json();
    expect(forced).toMatchObject({ downgrade: true, by: 'release-admin' });
    expect(await offer(devices[5])).toMatchObject({ release: older.id, version: '0.1.0', downgrade: true });
    const listed = (await call('GET', '/api/v1/admin/releases', { token: ADMIN })).json();
    expect(listed.rollouts.find((r: { id: string }) => r.id === forced.id)).toMatchObject({ downgrade: true, stoppedAt: null });
    await call('POST', `/api/v1/admin/rollouts/${forced.id}/stop`, { token: ADMIN });
  });

  it('a device downloads what it is offered in Range pieces; other ranges, releases and callers are refused', async () => {
    const d = devices[0];
    const url = `/api/v1/firmware/${release}`;
    const head = await call('GET', url, { token: d.token, headers: { range: 'bytes=0-191' } });
    expect(head.statusCode).toBe(206);
    expect(head.headers['content-range']).toBe(`bytes 0-191/${file.length}`);
    expect(new Uint8Array(head.rawPayload)).toEqual(file.subarray(0, 192));
    const tail = await call('GET', url, { token: d.token, headers: { range: `bytes=${file.length - 100}-` } });
    expect(new Uint8Array(tail.rawPayload)).toEqual(file.subarray(file.length - 100));
    const whole = await call('GET', url, { token: d.token });
    expect(whole.statusCode).toBe(200);
    expect(new Uint8Array(whole.rawPayload)).toEqual(file);
    expect((await call('GET', url, { token: d.token, headers: { range: `bytes=${file.length}-` } })).statusCode).toBe(416);
    // A range past the end is cut at it.
    const clamped = await call('GET', url, { token: d.token, headers: { range: 'bytes=0-70000' } });
    expect(clamped.headers['content-range']).toBe(`bytes 0-${file.length - 1}/${file.length}`);
    expect((await call('GET', url, { token: d.token, headers: { range: 'items=0-5' } })).statusCode).toBe(416);
    // A device not offered it (household B's, outside the 60 %), the admin, no credential.
    const outside = devices.find((x) => x.household === 1 && bucketOf(x.id, release) >= 60)!;
    expect((await call('GET', url, { token: outside.token, headers: { range: 'bytes=0-191' } })).statusCode).toBe(404);
    expect((await call('GET', url, { token: ADMIN })).statusCode).toBe(403);
    expect((await call('GET', url)).statusCode).toBe(401);
  });

  it('more than 64 KB in one range request is refused', async () => {
    const { signImage } = await import('../cli/release');
    const { buildSimApp } = await import('../simulator/world/ota-flash');
    const { RELEASE_KEY } = await import('./support/ota');
    const big = signImage(buildSimApp({ version: '0.5.0' }, 100 * 1024), { key: RELEASE_KEY, version: { major: 0, minor: 5, patch: 0 }, hardware: 'esp32' });
    const r = (await call('POST', '/api/v1/admin/releases', { token: ADMIN, raw: big })).json();
    await call('POST', '/api/v1/admin/rollouts', { token: ADMIN, json: { releaseId: r.id, target: { householdId: households[0].id } } });
    const url = `/api/v1/firmware/${r.id}`;
    expect((await call('GET', url, { token: devices[0].token, headers: { range: 'bytes=0-70000' } })).json()).toEqual({ error: 'at most 65536 bytes per range request' });
    expect((await call('GET', url, { token: devices[0].token, headers: { range: 'bytes=65536-131071' } })).statusCode).toBe(206);
  });

  it('the admin\'s device list has each device\'s newest update event (none yet)', async () => {
    const list = (await call('GET', '/api/v1/admin/devices', { token: ADMIN })).json().devices;
    expect(list).toHaveLength(40);
    expect(list.every((x: { update: unknown }) => x.update === null)).toBe(true);
  });
});
