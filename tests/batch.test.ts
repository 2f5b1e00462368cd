// The upload batch: a day's readings in 2 KB, exactly what the log held, and
// every malformed batch refused with a reason (never an exception of another
// kind, never a crash).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchError, BatchWriter, decodeBatch, MAX_BATCH } from '../src/formats/batch';
import type { LogEntry } from '../src/formats/entries';
import { sameEntry, workload } from './support/log';

function entries(n: number, first = 1): LogEntry[] {
  return workload(n).map((e, i) => ({ ...e, seq: first + i }) as LogEntry);
}

describe('the upload batch', () => {
  it("holds a day's 96 quarter-hour readings of four registers and the daily reading in under 2 KB, and gives them back", () => {
    const day = entries(200, 41).filter((e) => e.type === 'reading').slice(0, 97).map((e, i) => ({ ...e, seq: 41 + i }));
    const w = new BatchWriter('smgw-3f9a1c', 41);
    for (const e of day) expect(w.add(e)).toBe(true);
    const bytes = w.finish();
    expect(bytes.length).toBeLessThan(MAX_BATCH);
    expect(bytes.length).toBeLessThan(1600);
    const back = decodeBatch(bytes);
    expect(back.deviceId).toBe('smgw-3f9a1c');
    expect(back.firstSeq).toBe(41);
    expect(back.entries.map((e) => e.seq)).toEqual(day.map((e) => e.seq));
    back.entries.forEach((e, i) => expect(sameEntry(e, day[i]), String(e.seq)).toBe(true));
  });

  it('says when it is full, and what it holds then is whole', () => {
    const all = entries(2000);
    const w = new BatchWriter('dev', 1);
    let n = 0;
    while (w.add(all[n])) n++;
    expect(n).toBeGreaterThan(120);
    const bytes = w.finish();
    expect(bytes.length).toBeLessThanOrEqual(MAX_BATCH);
    expect(decodeBatch(bytes).entries).toHaveLength(n);
    expect(() => new BatchWriter('dev', 1).add(all[3])).toThrow(/does not follow/);
  });

  it('refuses every corruption with a BatchError', () => {
    const w = new BatchWriter('dev-1', 7);
    for (const e of entries(60, 7)) w.add(e);
    const good = w.finish().slice();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: good.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
        const bad = good.slice();
        bad[at] ^= flip;
        expect(() => decodeBatch(bad)).toThrow(BatchError);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (junk) => {
        try {
          decodeBatch(junk);
        } catch (e) {
          expect(e).toBeInstanceOf(BatchError);
        }
      }),
    );
    for (const cut of [0, 5, 12, good.length - 1]) expect(() => decodeBatch(good.subarray(0, cut))).toThrow(BatchError);
  });
});
