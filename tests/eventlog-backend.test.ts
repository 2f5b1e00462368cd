// The backend verifies every device's event chain as batches arrive: within a
// batch and across batches (against the last verified event it keeps per
// device). A break (an event edited or removed on the device before upload)
// is recorded and reported with where and why; the batch is stored all the
// same, readings included. The data goes in as a gateway sends it: binary
// batches through POST /api/v1/ingest.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../backend/server';
import { newToken, Store } from '../backend/store';
import { Pki } from '../backend/pki';
import { BATCH_CONTENT_TYPE, BATCH_CONTENT_TYPE_V1, BatchWriter, decodeBatch } from '../src/formats/batch';
import type { LogEntry } from '../src/formats/entries';
import { eventsOf, logWithEvents } from './support/events';

const ADMIN = newToken();
let app: FastifyInstance;
let store: Store;
let householdId: string;
let householdToken: string;

async function newDevice(): Promise<{ id: string; token: string }> {
  const res = await app.inject({ method: 'POST', url: '/api/v1/admin/devices', headers: { authorization: `Bearer ${ADMIN}` }, payload: { householdId, auth: 'token' } });
  expect(res.statusCode, res.body).toBe(201);
  return { id: res.json().deviceId, token: res.json().token };
}

/** Sends entries as consecutive batches of at most 2 KB; the answers. */
async function deliver(device: { id: string; token: string }, entries: LogEntry[]): Promise<{ stored: number; events: number; chain: string; readings: number }[]> {
  const answers = [];
  let i = 0;
  while (i < entries.length) {
    const w = new BatchWriter(device.id, entries[i].seq);
    while (i < entries.length && w.add(entries[i])) i++;
    const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${device.token}`, 'content-type': BATCH_CONTENT_TYPE }, payload: Buffer.from(w.finish()) });
    expect(res.statusCode, res.body).toBe(200);
    answers.push(res.json());
  }
  return answers;
}

async function eventsOfDevice(id: string, query = '', token = ADMIN) {
  const res = await app.inject({ method: 'GET', url: `/api/v1/devices/${id}/events${query}`, headers: { authorization: `Bearer ${token}` } });
  return { status: res.statusCode, json: res.json() };
}

async function chainInListing(id: string) {
  const res = await app.inject({ method: 'GET', url: '/api/v1/admin/devices', headers: { authorization: `Bearer ${ADMIN}` } });
  return res.json().devices.find((d: { id: string }) => d.id === id).eventChain;
}

beforeAll(async () => {
  store = await Store.open('sqlite::memory:');
  const pki = await Pki.open(mkdtempSync(join(tmpdir(), 'smgw-eventlog-backend-')));
  app = await buildServer({ store, pki, publicUrl: () => 'https://backend.test', tls: false });
  await store.addCredential(ADMIN, { kind: 'admin', subject: null, name: 'admin' });
  const h = await app.inject({ method: 'POST', url: '/api/v1/admin/households', headers: { authorization: `Bearer ${ADMIN}` }, payload: { name: 'Musterhaus' } });
  householdId = h.json().household.id;
  householdToken = h.json().token;
});

afterAll(async () => {
  await app?.close();
  await store?.close();
});

describe('the backend verifies the event chain', () => {
  it('an intact log in several batches: chain ok, every event stored with its hash, served by kind and page', async () => {
    const device = await newDevice();
    const log = logWithEvents(400, 9);
    const answers = await deliver(device, log);
    expect(answers.length).toBeGreaterThan(1);
    expect(answers.every((a) => a.chain === 'ok')).toBe(true);
    const events = eventsOf(log);
    expect(answers.reduce((n, a) => n + a.events, 0)).toBe(events.length);
    const all = await eventsOfDevice(device.id);
    expect(all.status).toBe(200);
    expect(all.json.chain).toMatchObject({ status: 'ok', events: events.length, breaks: 0, firstBreak: null, last: { seq: events[events.length - 1].seq, number: events.length } });
    expect(all.json.events.map((e: { message: string }) => e.message)).toEqual(events.map((e) => e.message));
    expect(all.json.events[0].link).toBe('start');
    expect(all.json.events.slice(1).every((e: { link: string }) => e.link === 'ok')).toBe(true);
    // Each event's hash is what the next one carries.
    for (let i = 1; i < all.json.events.length; i++) expect(all.json.events[i].prev).toBe(all.json.events[i - 1].hash);
    const page = await eventsOfDevice(device.id, '?kind=boot,config&limit=3');
    expect(page.json.events).toHaveLength(3);
    expect(page.json.events.every((e: { kind: string }) => e.kind === 'boot' || e.kind === 'config')).toBe(true);
    const rest = await eventsOfDevice(device.id, `?kind=boot,config&from=${page.json.next}`);
    expect([...page.json.events, ...rest.json.events].map((e: { seq: number }) => e.seq)).toEqual(events.filter((e) => e.kind === 'boot' || e.kind === 'config').map((e) => e.seq));
    expect(await chainInListing(device.id)).toMatchObject({ status: 'ok', events: events.length });
    // The household that owns the device sees them; a bad query is refused.
    expect((await eventsOfDevice(device.id, '', householdToken)).status).toBe(200);
    expect((await eventsOfDevice(device.id, '?kind=everything')).status).toBe(400);
    expect((await eventsOfDevice('smgw-nobody')).status).toBe(404);
  });

  it('an event edited before upload: the batch is stored, the break recorded at that entry as edited', async () => {
    const device = await newDevice();
    const log = logWithEvents(200, 10);
    const victim = eventsOf(log)[4];
    const tampered = log.map((e) => (e === victim ? { ...victim, message: 'nothing happened' } : e));
    const answers = await deliver(device, tampered);
    expect(answers.some((a) => a.chain === 'broken')).toBe(true);
    // Nothing was lost: every reading and event is stored.
    expect(answers[answers.length - 1].stored).toBe(log.length);
    const { json } = await eventsOfDevice(device.id);
    expect(json.events).toHaveLength(eventsOf(log).length);
    expect(json.chain).toMatchObject({ status: 'broken', breaks: 1, firstBreak: { seq: victim.seq, reason: 'edited' } });
    expect(await chainInListing(device.id)).toMatchObject({ status: 'broken', firstBreak: { seq: victim.seq, reason: 'edited' } });
  });

  it('an event removed before upload (the log renumbered around it): recorded as removed at the event after it', async () => {
    const device = await newDevice();
    const log = logWithEvents(200, 10);
    const victim = eventsOf(log)[6];
    const without = log.filter((e) => e !== victim).map((e, i) => ({ ...e, seq: i + 1 }));
    await deliver(device, without);
    const { json } = await eventsOfDevice(device.id);
    const after = eventsOf(log)[7];
    expect(json.chain).toMatchObject({ status: 'broken', firstBreak: { seq: after.seq - 1, reason: 'removed' } });
    expect(json.chain.firstBreak.detail).toContain(`numbers ${victim.number}..${victim.number}`);
  });

  it('across two uploads: the second batch must link to the last event of the first', async () => {
    const log = logWithEvents(200, 10);
    const events = eventsOf(log);
    const cut = events[5].seq; // the first upload ends with event 6
    const first = log.filter((e) => e.seq <= cut);
    const second = log.filter((e) => e.seq > cut);

    // Intact: ok across the two.
    const good = await newDevice();
    expect((await deliver(good, first)).every((a) => a.chain === 'ok')).toBe(true);
    expect((await deliver(good, second)).every((a) => a.chain === 'ok')).toBe(true);
    expect((await eventsOfDevice(good.id)).json.chain).toMatchObject({ status: 'ok', events: events.length });

    // The first event of the second upload removed from the device's flash before it went out.
    const removed = await newDevice();
    await deliver(removed, first);
    const gone = events[6];
    await deliver(removed, second.filter((e) => e !== gone).map((e) => ({ ...e, seq: e.seq > gone.seq ? e.seq - 1 : e.seq })));
    expect((await eventsOfDevice(removed.id)).json.chain).toMatchObject({ status: 'broken', firstBreak: { reason: 'removed', seq: events[7].seq - 1 } });

    // The last uploaded event changed on the device afterwards, and the next event chained to the changed one:
    // the backend holds the original, so the link of the second upload does not match.
    const edited = await newDevice();
    await deliver(edited, first);
    const changed = { ...events[5], message: 'rewritten after upload' };
    const { eventHash } = await import('../src/formats/event-chain');
    const { nodeCrypto } = await import('../hosts/node/crypto');
    let prev = eventHash(changed, nodeCrypto.sha256);
    const rewritten = second.map((e) => {
      if (e.type !== 'event') return e;
      const ev = { ...e, prev };
      prev = eventHash(ev, nodeCrypto.sha256);
      return ev;
    });
    const answers = await deliver(edited, rewritten);
    expect(answers[0].chain).toBe('broken');
    expect((await eventsOfDevice(edited.id)).json.chain).toMatchObject({ status: 'broken', breaks: 1, firstBreak: { reason: 'edited', seq: events[5].seq } });
  });

  it('a batch sent again stores no event twice and does not break the chain', async () => {
    const device = await newDevice();
    const log = logWithEvents(100, 10);
    await deliver(device, log);
    const again = await deliver(device, log);
    expect(again.every((a) => a.events === 0)).toBe(true);
    expect((await eventsOfDevice(device.id)).json.chain).toMatchObject({ status: 'ok', events: eventsOf(log).length });
  });

  it('still accepts version 1 batches (firmware before the event log), and refuses events in them', async () => {
    const device = await newDevice();
    const log = logWithEvents(30, 1000); // no events
    const w = new BatchWriter(device.id, 1);
    for (const e of log) w.add(e);
    const v1 = Buffer.from(w.finish());
    v1[2] = 1;
    const crc = (await import('../src/codec/crc16')).crc16X25(v1, 0, v1.length - 2);
    v1[v1.length - 2] = crc & 0xff;
    v1[v1.length - 1] = crc >>> 8;
    const res = await app.inject({ method: 'POST', url: '/api/v1/ingest', headers: { authorization: `Bearer ${device.token}`, 'content-type': BATCH_CONTENT_TYPE_V1 }, payload: v1 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ stored: 30, readings: expect.any(Number), events: 0, chain: 'ok' });
    expect((await eventsOfDevice(device.id)).json.chain.status).toBe('none');

    const withEvents = logWithEvents(20, 5);
    const w2 = new BatchWriter(device.id, 1);
    for (const e of withEvents) w2.add(e);
    const b = Buffer.from(w2.finish());
    b[2] = 1;
    const crc2 = (await import('../src/codec/crc16')).crc16X25(b, 0, b.length - 2);
    b[b.length - 2] = crc2 & 0xff;
    b[b.length - 1] = crc2 >>> 8;
    expect(() => decodeBatch(new Uint8Array(b))).toThrow(/events need batch version 2/);
  });
});
