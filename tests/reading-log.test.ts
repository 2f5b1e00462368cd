// The reading log on a NOR flash with the ESP32's geometry: what goes in
// comes out after a reboot, it is compact, it wraps around counting what it
// erases, and nothing in the partition (foreign data, torn records) crashes
// it or makes it lose what it acknowledged.

import { describe, expect, it } from 'vitest';
import { NorFlash } from '../simulator/world/flash';
import { ReadingLog } from '../src/store/reading-log';
import { HEADER_SIZE } from '../src/store/format';
import type { Entry } from '../src/formats/entries';
import { QUARTER, T0, strip, workload } from './support/log';

const KB64 = 64 * 1024;
const DAY = 86400000;

function fill(log: ReadingLog, entries: Entry[]): number[] {
  return entries.map((e) => log.append(e));
}

describe('the reading log', () => {
  it('gives back after a reboot exactly what was appended, in order, with consecutive sequence numbers', () => {
    const flash = new NorFlash(KB64);
    const entries = workload(1000);
    const seqs = fill(new ReadingLog(flash), entries);
    expect(seqs).toEqual(entries.map((_, i) => i + 1));
    const log = new ReadingLog(flash);
    const back = log.read(1, 5000);
    expect(back.map((e) => e.seq)).toEqual(seqs);
    expect(back.map(strip)).toEqual(entries);
    expect(log.read(500, 3).map((e) => e.seq)).toEqual([500, 501, 502]);
    expect(log.stats()).toMatchObject({ entries: 1000, firstSeq: 1, lastSeq: 1000, cursor: 0, evicted: 0, lost: 0, badRecords: 0 });
  });

  it('keeps a quarter-hour reading of four registers in about a dozen bytes: 30 days and more fit in 64 KB', () => {
    const flash = new NorFlash(KB64);
    const log = new ReadingLog(flash);
    const entries = workload(2880 + 30).map((e) => (e.type === 'gap' ? { ...e, kind: 'taf7' as const } : e));
    fill(log, entries);
    const s = log.stats();
    expect(s.evicted).toBe(0);
    const perEntry = s.bytesUsed / s.entries;
    expect(perEntry).toBeLessThan(17);
    // 30 days take less than 15 of the 16 sectors: the newest 30 days survive the oldest sector's erasure.
    expect(s.liveSectors).toBeLessThanOrEqual(15);
  });

  it('in the 64 KB partition (the device\'s), full and wrapping: the newest 30 days stay complete, and what went is counted', () => {
    // What `smgw sim --days 35` proves end to end (npm run test:long), at the level that decides it: the log
    // on the device's partition fed TAF 7 and TAF 6 entries until it has erased its oldest sectors more than
    // once, nothing uploaded.
    const flash = new NorFlash(KB64);
    const log = new ReadingLog(flash);
    const entries = workload(80 * 97);
    fill(log, entries);
    const s = log.stats();
    expect(s.evicted).toBeGreaterThan(2 * 97 * 5);
    expect(s.firstSeq).toBe(s.evicted + 1);
    expect(s.lost).toBe(s.evicted);
    expect(s.lastSeq).toBe(entries.length);
    const held = new ReadingLog(flash).read(0, Number.MAX_SAFE_INTEGER);
    expect(held.map(strip)).toEqual(entries.slice(s.evicted));
    // Every entry of the newest 30 days is among them: the oldest one held is older than that.
    const end = entries[entries.length - 1].time;
    expect(held[0].time).toBeLessThan(end - 30 * DAY);
  });

  it('continues appending after a reboot where it stopped, with the deltas it had', () => {
    const flash = new NorFlash(KB64);
    const entries = workload(600);
    fill(new ReadingLog(flash), entries.slice(0, 300));
    const log = new ReadingLog(flash);
    expect(log.next).toBe(301);
    fill(log, entries.slice(300));
    expect(new ReadingLog(flash).read(1, 1000).map(strip)).toEqual(entries);
  });

  it('wraps around: erases the oldest sector, counts what it erased and what of that was never uploaded', () => {
    const flash = new NorFlash(16 * 1024); // 4 sectors
    const lines: string[] = [];
    const log = new ReadingLog(flash, (l) => lines.push(l));
    const entries = workload(3000);
    fill(log, entries.slice(0, 1000));
    log.ack(400);
    fill(log, entries.slice(1000));
    const s = log.stats();
    expect(s.evicted).toBeGreaterThan(1500);
    expect(s.firstSeq).toBe(s.evicted + 1);
    expect(s.lastSeq).toBe(3000);
    expect(s.lost).toBe(s.evicted - 400);
    expect(lines[1]).toMatch(/^reading log full: erased entries 1\.\.\d+ \(all uploaded\)$/);
    expect(lines.some((l) => /^reading log full: erased entries \d+\.\.\d+, \d+ of them not yet uploaded \(lost\)$/.test(l))).toBe(true);
    // What survives is the newest, intact.
    const back = new ReadingLog(flash).read(0, 5000);
    expect(back.map((e) => e.seq)).toEqual(Array.from({ length: 3000 - s.evicted }, (_, i) => s.evicted + 1 + i));
    expect(back.map(strip)).toEqual(entries.slice(s.evicted));
    // Erases are spread over every sector.
    expect(Math.max(...flash.erases) - Math.min(...flash.erases)).toBeLessThanOrEqual(1);
    expect(new ReadingLog(flash).stats()).toMatchObject({ evicted: s.evicted, lost: s.lost, cursor: 400 });
  });

  it('keeps the upload cursor across reboots and erasures, and never moves it back', () => {
    const flash = new NorFlash(16 * 1024);
    let log = new ReadingLog(flash);
    const entries = workload(4000);
    let acked = 0;
    for (let i = 0; i < entries.length; i++) {
      const seq = log.append(entries[i]);
      if (i % 97 === 0) {
        log.ack(seq - 3);
        acked = Math.max(acked, seq - 3);
        log.ack(seq - 50); // older: ignored
      }
      if (i % 401 === 0) log = new ReadingLog(flash);
      expect(log.cursor).toBe(acked);
    }
    expect(() => log.ack(log.next)).toThrow(RangeError);
    expect(new ReadingLog(flash).stats().lost).toBe(0);
  });

  it('opens a partition holding something else, and a blank one, without complaint, erasing only what it must', () => {
    const foreign = new NorFlash(KB64);
    for (let i = 0; i < foreign.image.length; i++) foreign.image[i] = (i * 7919) & 0xff;
    const log = new ReadingLog(foreign);
    expect(log.stats().entries).toBe(0);
    fill(log, workload(50));
    expect(foreign.erases[0]).toBe(1);
    expect(new ReadingLog(foreign).read(1, 100)).toHaveLength(50);
    const blank = new NorFlash(KB64);
    fill(new ReadingLog(blank), workload(50));
    expect(blank.erases.every((n) => n === 0)).toBe(true);
  });

  it('skips a record whose bits rotted, and keeps appending after it', () => {
    const flash = new NorFlash(KB64);
    const entries = workload(100);
    fill(new ReadingLog(flash), entries);
    // Clear a bit in the middle of the 11th record or so (NOR can only lose ones).
    const at = HEADER_SIZE + 200;
    expect(flash.image[at]).not.toBe(0);
    flash.image[at] &= flash.image[at] - 1;
    const log = new ReadingLog(flash);
    const s = log.stats();
    expect(s.badRecords).toBe(1);
    expect(log.read(1, 200).length).toBeGreaterThanOrEqual(98);
    const seq = log.append({ type: 'gap', kind: 'taf7', time: T0 + 1000 * QUARTER, last: T0 + 1000 * QUARTER, count: 1, reason: 'no-telegram' });
    expect(new ReadingLog(flash).read(seq, 1)[0]).toMatchObject({ type: 'gap', seq });
  });
});
