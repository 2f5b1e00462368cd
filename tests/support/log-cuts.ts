// Power cuts at every step. A workload (appends with cursor advances, wrapping a
// 3-sector flash) runs once; before each program or erase step (one byte of NOR), the flash as a cut there would leave it is
// opened as at the next boot and checked:
//  - every entry whose append had returned is there, intact, with its
//    sequence number (unless the ring had erased it to make room);
//  - nothing appears twice, and nothing that was never appended appears;
//  - the cursor is at least the last acknowledgement that had returned.
// At every 16th cut point the device also carries on from the recovered
// flash (appending after whatever the cut left) and is checked again.

import { expect } from 'vitest';
import { NorFlash } from '../../simulator/world/flash';
import { ReadingLog } from '../../src/store/reading-log';
import type { Entry, LogEntry } from '../../src/formats/entries';
import { sameEntry, strip, workload } from './log';

const SIZE = 12 * 1024; // three sectors of the device's 4 KB


interface Model {
  /** Entries whose append returned, by sequence number. */
  returned: Map<number, Entry>;
  lastSeq: number;
  /** The last acknowledgement that returned. */
  acked: number;
  /** The entry being appended now, if any. */
  inFlight: Entry | null;
  ackInFlight: number;
}

function check(flash: NorFlash, model: Model, floors: number[]): LogEntry[] {
  const log = new ReadingLog(flash);
  const held = log.read(0, 1e9);
  // Contiguous, no duplicates.
  for (let i = 1; i < held.length; i++) if (held[i].seq !== held[i - 1].seq + 1) throw new Error(`sequence ${held[i - 1].seq} followed by ${held[i].seq}`);
  for (const e of held) {
    const want = e.seq <= model.lastSeq ? model.returned.get(e.seq) : e.seq === model.lastSeq + 1 ? model.inFlight : null;
    if (!want) throw new Error(`entry ${e.seq} was never appended`);
    if (!sameEntry(e, want)) throw new Error(`entry ${e.seq} differs: ${JSON.stringify(strip(e))} for ${JSON.stringify(want)}`);
  }
  const last = held.length ? held[held.length - 1].seq : 0;
  if (last < model.lastSeq) throw new Error(`appended entry ${model.lastSeq} is missing (newest held: ${last})`);
  // What is missing at the front must be what the ring erased: checked against the writer's own floor later.
  floors.push(held.length ? held[0].seq : model.lastSeq + 1);
  if (log.cursor < model.acked) throw new Error(`cursor ${log.cursor} went back from ${model.acked}`);
  if (log.cursor > Math.max(model.acked, model.ackInFlight)) throw new Error(`cursor ${log.cursor} ahead of any acknowledgement`);
  return held;
}

/** Cuts power before every step of `appends` appends and checks each; returns how many wrap-arounds the ring made. */
export function sweep(appends: number): number {
  const entries = workload(appends + 200, 3);
  const flash = new NorFlash(SIZE);
  const log = new ReadingLog(flash);
  const model: Model = { returned: new Map(), lastSeq: 0, acked: 0, inFlight: null, ackInFlight: 0 };
  let cuts = 0;
  let continued = 0;
  let floors: number[] = [];
  let evictions = 0;
  flash.beforeStep = (image) => {
    cuts++;
    const copy = flash.snapshot(image);
    check(copy, model, floors);
    if (cuts % 16 === 0) {
      // The device boots on what the cut left and carries on.
      continued++;
      const after = new ReadingLog(copy);
      const start = after.next;
      const more = entries.slice(appends, appends + 20);
      for (const e of more) after.append(e);
      after.ack(start + 5);
      const held = new ReadingLog(copy).read(0, 1e9);
      const tail = held.slice(held.length - more.length);
      expect(tail.map(strip)).toEqual(more);
      expect(tail[0].seq).toBe(start);
      expect(new ReadingLog(copy).cursor).toBe(start + 5);
    }
  };
  for (let i = 0; i < appends; i++) {
    const before = log.stats().evicted;
    model.inFlight = entries[i];
    floors = [];
    const seq = log.append(entries[i]);
    model.inFlight = null;
    expect(seq).toBe(model.lastSeq + 1);
    model.returned.set(seq, entries[i]);
    model.lastSeq = seq;
    const floor = log.stats().firstSeq;
    if (log.stats().evicted > before) evictions++;
    for (const f of floors) expect(f).toBeGreaterThanOrEqual(Math.min(floor, before + 1));
    for (const f of floors) expect(f).toBeLessThanOrEqual(floor);
    if (i % 37 === 36) {
      const to = seq - 20;
      model.ackInFlight = to;
      log.ack(to);
      model.acked = to;
    }
  }
  flash.beforeStep = null;
  const wraps = Math.floor((evictions + 3) / 3);
  console.log(`power-cut test: ${cuts} cut points tried, ${continued} of them continued after recovery, ${evictions} sector erasures (${wraps} wrap-arounds)`);
  // Every append programs a dozen bytes or more, each a cut point.
  expect(cuts).toBeGreaterThan(20 * appends);
  expect(continued).toBe(Math.floor(cuts / 16));
  return wraps;
}
