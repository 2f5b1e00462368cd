// The tamper-evident event log on the device: events go to flash as records
// of the reading log, each chained to the one before by its SHA-256 hash. An
// event edited or removed in the flash bytes (with the record CRC made good
// again, as someone tampering would) is found by the chain; events survive a
// reboot and the chain continues across it; floods are bounded.

import { describe, expect, it } from 'vitest';
import { NorFlash, SECTOR } from '../simulator/world/flash';
import { FileKeyValue } from '../hosts/sim/kv';
import { nodeCrypto } from '../hosts/node/crypto';
import { ReadingLog } from '../src/store/reading-log';
import { HEADER_SIZE } from '../src/store/format';
import { RecordType } from '../src/formats/record';
import { EVENT_KINDS, type EventKind } from '../src/formats/entries';
import { EventLog } from '../src/events';
import { crc16X25 } from '../src/codec/crc16';
import { RejectionDigest } from '../src/rejections';
import { T0, workload } from './support/log';

const KB64 = 64 * 1024;
const sha256 = nodeCrypto.sha256;
const HOUR = 3600000;

/** A device's log with events among its readings: every 7th entry is an event. */
function deviceWithEvents(flash = new NorFlash(KB64), kv = new FileKeyValue()): { log: ReadingLog; events: EventLog; messages: string[] } {
  const log = new ReadingLog(flash);
  const events = new EventLog(sha256, kv);
  events.attach(log);
  const messages: string[] = [];
  const readings = workload(300);
  readings.forEach((e, i) => {
    log.append(e);
    if (i % 7 === 3) {
      const message = `event ${i}: ${EVENT_KINDS[i % EVENT_KINDS.length]} happened (Grüße, 温度)`;
      messages.push(message);
      // A new hour each time: the kind's flash budget is never the limit here.
      events.add({ uptime: i * HOUR, time: e.time, kind: EVENT_KINDS[i % EVENT_KINDS.length], message });
    }
  });
  return { log, events, messages };
}

/** Where each record of type `type` starts in the flash image: [offset, length]. */
function records(flash: NorFlash, type: number): [number, number][] {
  const out: [number, number][] = [];
  for (let base = 0; base < flash.size; base += SECTOR) {
    const b = flash.image;
    if (b[base] !== 0x53 || b[base + 1] !== 0x4c) continue;
    let at = base + HEADER_SIZE;
    while (at < base + SECTOR && b[at] !== 0xff) {
      if (b[at + 1] === type) out.push([at, b[at]]);
      at += b[at];
    }
  }
  return out;
}

/** Rewrites a sector's bytes as someone with a flash programmer would: erase, then program the new image. */
function rewriteSector(flash: NorFlash, base: number, bytes: Uint8Array): void {
  flash.erase(base / SECTOR);
  flash.write(base, bytes);
}

/** Makes the record's CRC good again after its bytes were changed. */
function fixCrc(b: Uint8Array, at: number): void {
  const len = b[at];
  const crc = crc16X25(b, at, at + len - 2);
  b[at + len - 2] = crc & 0xff;
  b[at + len - 1] = crc >>> 8;
}

describe('the event log on the device', () => {
  it('stores events among the readings, reads them back by kind with paging, and the chain verifies', () => {
    const { log, events, messages } = deviceWithEvents();
    const all = events.read({ limit: 50 });
    expect(all.events.map((e) => e.message)).toEqual(messages.slice(0, 43));
    expect(all.events.map((e) => e.number)).toEqual(messages.slice(0, 43).map((_, i) => i + 1));
    // The pages join up: nothing twice, nothing left out.
    const pages = [];
    let from: number | null = 0;
    while (from !== null) {
      const page = events.read({ from, limit: 10 });
      pages.push(...page.events);
      from = page.next;
    }
    expect(pages.map((e) => e.message)).toEqual(messages);
    const security = events.read({ kinds: ['security', 'boot'] as EventKind[] });
    expect(security.events.length).toBeGreaterThan(0);
    expect(security.events.every((e) => e.kind === 'security' || e.kind === 'boot')).toBe(true);
    expect(events.verify()).toMatchObject({ ok: true, events: messages.length, break: null, first: { number: 1 }, last: { number: messages.length } });
    // The RAM ring: the newest 32, oldest first, with their place in the chain.
    const ring = events.list();
    expect(ring).toHaveLength(32);
    expect(ring[31]).toMatchObject({ message: messages[messages.length - 1], number: messages.length });
    expect(ring[31].hash).toMatch(/^[0-9a-f]{64}$/);
    expect(log.stats().entries).toBe(300 + messages.length);
  });

  it('after a reboot, the events are there and the chain continues from the newest', () => {
    const flash = new NorFlash(KB64);
    const kv = new FileKeyValue();
    const { messages } = deviceWithEvents(flash, kv);
    const log = new ReadingLog(flash);
    const events = new EventLog(sha256, kv);
    events.add({ uptime: 0, time: null, kind: 'boot', message: 'boot: before the log opened' });
    events.attach(log);
    events.add({ uptime: 1000, time: T0, kind: 'config', message: 'Wi-Fi network changed to "Musterhaus"' });
    const back = events.read({ from: 0, limit: 50 });
    expect(back.next).toBeNull();
    expect(back.events.map((e) => e.message)).toEqual([...messages, 'boot: before the log opened', 'Wi-Fi network changed to "Musterhaus"']);
    expect(back.events[back.events.length - 2].time).toBeNull();
    expect(back.events[back.events.length - 1].time).toBe(T0);
    expect(events.verify()).toMatchObject({ ok: true, events: messages.length + 2 });
  });

  it('finds an edited event in the flash bytes (its CRC made good again): the chain breaks at that entry', () => {
    const flash = new NorFlash(KB64);
    const { events, messages } = deviceWithEvents(flash);
    const victim = records(flash, RecordType.Event)[10];
    const image = flash.image.slice();
    const [at, len] = victim;
    // "happened" -> "happeneD" in the message (UTF-8, the payload's last bytes).
    const word = Buffer.from('happened');
    const i = Buffer.from(image.subarray(at, at + len)).indexOf(word);
    expect(i).toBeGreaterThan(0);
    image[at + i + 7] = 0x44;
    fixCrc(image, at);
    const base = at - (at % SECTOR);
    const seqOfVictim = events.read({ limit: 50 }).events[10].seq;
    rewriteSector(flash, base, image.subarray(base, base + SECTOR));

    const reopened = new EventLog(sha256);
    reopened.attach(new ReadingLog(flash));
    const read = reopened.read({ limit: 50 }).events;
    expect(read[10].message).toBe(messages[10].replace('happened', 'happeneD'));
    const status = reopened.verify();
    expect(status.ok).toBe(false);
    expect(status.break).toMatchObject({ seq: seqOfVictim, reason: 'edited' });
    expect(status.events).toBe(messages.length);
  });

  it('finds a removed event in the flash bytes (the sector rewritten without it)', () => {
    const flash = new NorFlash(KB64);
    const { events, messages } = deviceWithEvents(flash);
    const [at, len] = records(flash, RecordType.Event)[5];
    const before = events.read({ limit: 50 }).events;
    const base = at - (at % SECTOR);
    const sector = flash.image.slice(base, base + SECTOR);
    const cut = at - base;
    const without = new Uint8Array(SECTOR).fill(0xff);
    without.set(sector.subarray(0, cut), 0);
    without.set(sector.subarray(cut + len), cut);
    rewriteSector(flash, base, without);

    const reopened = new EventLog(sha256);
    reopened.attach(new ReadingLog(flash));
    const read = reopened.read({ limit: 50 }).events;
    expect(read.map((e) => e.message)).toEqual(messages.filter((_, i) => i !== 5).slice(0, 50));
    const status = reopened.verify();
    expect(status.ok).toBe(false);
    // The event after the removed one no longer follows its predecessor: events 6 is missing.
    expect(status.break).toMatchObject({ reason: 'removed', seq: before[6].seq - 1 });
    expect(status.break!.detail).toContain('numbers 6..6');
  });

  it('finds an event whose bytes were changed without fixing the CRC (the record is dropped as damaged: removed)', () => {
    const flash = new NorFlash(KB64);
    deviceWithEvents(flash);
    const [at] = records(flash, RecordType.Event)[20];
    const base = at - (at % SECTOR);
    const sector = flash.image.slice(base, base + SECTOR);
    sector[at - base + 12] ^= 0x01;
    rewriteSector(flash, base, sector);
    const reopened = new EventLog(sha256);
    const log = new ReadingLog(flash);
    reopened.attach(log);
    expect(log.stats().badRecords).toBe(1);
    expect(reopened.verify()).toMatchObject({ ok: false, break: { reason: 'removed' } });
  });

  it('continues the chain from the head saved in the key-value store when the flash lost its newest events', () => {
    const flash = new NorFlash(KB64);
    const kv = new FileKeyValue();
    const { messages } = deviceWithEvents(flash, kv);
    // The newest sector is erased (truncation before upload): the key-value store still knows the chain's head.
    const events = records(flash, RecordType.Event);
    const [at] = events[events.length - 1];
    flash.erase(Math.floor(at / SECTOR));
    const log = new ReadingLog(flash);
    const reopened = new EventLog(sha256, kv);
    reopened.attach(log);
    const status = reopened.verify();
    expect(status.ok).toBe(false);
    expect(status.break!.reason).toBe('removed');
    const notice = reopened.list().find((e) => e.kind === 'store')!;
    expect(notice.message).toMatch(new RegExp(`are missing from flash \\(the chain head was saved at ${messages.length}\\)`));
  });

  it('bounds what a repeating fault writes: a burst, then one event an hour per kind, and says how many were not stored', () => {
    const log = new ReadingLog(new NorFlash(KB64));
    const events = new EventLog(sha256);
    events.attach(log);
    // 10,000 SNTP failures in ten hours.
    for (let i = 0; i < 10000; i++) events.add({ uptime: i * 3600, time: null, kind: 'time', message: `time: SNTP server did not answer (${i})` });
    const stored = events.read({ limit: 50 }).events;
    expect(stored.length).toBeLessThanOrEqual(8 + 10);
    expect(stored.length).toBeGreaterThanOrEqual(8 + 9);
    expect(stored[8].message).toMatch(/\(\d+ earlier time event\(s\) not stored: rate limit\)$/);
    expect(events.verify().ok).toBe(true);
    // Other kinds have budgets of their own.
    events.add({ uptime: 36000000, time: null, kind: 'config', message: 'config: meter key set' });
    expect(events.read({ kinds: ['config'] }).events).toHaveLength(1);
  });

  it('an event whose append erases the oldest sector: the erasure is an event too, numbered after it, and the chain holds', () => {
    // Two 4 KB sectors: the ring wraps every few hundred entries.
    const flash = new NorFlash(2 * SECTOR);
    const events = new EventLog(sha256);
    let n = 0;
    let inEvent = false;
    let erasedByEvent = false;
    const log = new ReadingLog(flash, (line) => {
      if (inEvent) erasedByEvent = true;
      events.add({ uptime: n * HOUR, time: null, kind: 'store', message: line });
    });
    events.attach(log);
    for (const e of workload(3000)) {
      log.append(e);
      if (++n % 5 === 0) {
        inEvent = true;
        events.add({ uptime: n * HOUR, time: e.time, kind: 'config', message: `config change ${n}` });
        inEvent = false;
        if (erasedByEvent) break;
      }
    }
    expect(erasedByEvent).toBe(true);
    const newest = events.list().slice(-2);
    expect(newest[0]).toMatchObject({ kind: 'config', message: `config change ${n}` });
    expect(newest[1].kind).toBe('store');
    expect(newest[1].message).toMatch(/^reading log full: erased entries/);
    expect(newest[1].number).toBe(newest[0].number + 1);
    const status = events.verify();
    expect(status).toMatchObject({ ok: true, break: null, last: { number: newest[1].number } });
  });

  it('sums decode errors up by class, and keeps security rejections apart', () => {
    const digest = new RejectionDigest();
    expect(digest.take({}, 0, 'hour')).toEqual({ decode: null, security: null });
    expect(digest.take({ crc: 120, framing: 3, replay: 2 }, 7, 'hour')).toEqual({
      decode: 'decode errors in the last hour: crc 120, framing 3, uart 7',
      security: 'frames rejected in the last hour: replay 2',
    });
    expect(digest.take({ crc: 121, framing: 3, replay: 2, auth: 1 }, 7, 'hour')).toEqual({
      decode: 'decode errors in the last hour: crc 1',
      security: 'frames rejected in the last hour: auth 1',
    });
    expect(digest.take({ crc: 121, framing: 3, replay: 2, auth: 1 }, 7, 'hour')).toEqual({ decode: null, security: null });
  });

  it('an event record is small: a typical message with its 32-byte hash takes under 100 bytes of flash', () => {
    const flash = new NorFlash(KB64);
    const log = new ReadingLog(flash);
    const events = new EventLog(sha256);
    events.attach(log);
    const message = 'decode errors in the last hour: crc 120, framing 3';
    events.add({ uptime: 7200000, time: T0, kind: 'decode', message });
    const [[, len]] = records(flash, RecordType.Event);
    // 4 framing (length, type, CRC) + kind, flags, time (4), uptime (2), number (1) + 32 hash + the text.
    expect(len).toBe(4 + 1 + 1 + 4 + 2 + 1 + 32 + message.length);
    expect(len).toBeLessThan(100);
  });
});
