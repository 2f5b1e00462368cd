// Weeks of telegrams through the simulator: `smgw sim --days 35` on the device's partition. npm test proves
// the retention on the log itself (tests/reading-log.test.ts) and the eviction end to end on a shorter run
// with a finer period (tests/taf-sim.test.ts); this is the same at the real rate, over the real span.

import { describe, expect, it } from 'vitest';
import { DAY, HOUR, JUNE, boundariesFrom, coverage, logEntries, simulate } from '../support/sim';
import type { LogEntry, ReadingEntry } from '../../src/formats/entries';

const QUARTER = 15 * 60000;

function readings(entries: LogEntry[], kind: string): (ReadingEntry & { seq: number })[] {
  return entries.filter((e): e is ReadingEntry & { seq: number } => e.type === 'reading' && e.kind === kind);
}

describe('the log over weeks', () => {
  it('35 days of dlms-mbus (smgw sim --days 35): the newest 30 days are complete, and the report counts what was evicted', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 35 });
    const entries = logEntries(run);
    const end = JUNE + 35 * DAY;
    const cover = coverage(entries, 'taf7', QUARTER);
    for (const t of boundariesFrom(end - 30 * DAY, end - QUARTER, QUARTER)) expect(cover.get(t), new Date(t).toISOString()).toBe('reading');
    const daily = readings(entries, 'daily').map((r) => r.time);
    for (let d = 1; d <= 30; d++) expect(daily).toContain(JUNE + (35 - d) * DAY - 2 * HOUR);
    const log = run.report.log;
    expect(log.evicted).toBe(log.firstSeq - 1);
    expect(log.lost).toBe(log.evicted);
    expect(log.lastSeq).toBe(entries[entries.length - 1].seq);
  }, 600_000);
});
