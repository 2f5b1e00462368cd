// The tariff use cases end to end, through the simulator: the firmware reads
// the virtual meter, keeps time by SNTP (or the meter's clock), and writes
// TAF 7 and TAF 6 readings to the simulated flash. What the log holds is
// checked against the meter log, the ground truth.

import { describe, expect, it } from 'vitest';
import { DAY, HOUR, JUNE, boundariesFrom, coverage, energyOf, logEntries, simulate, type SimRun } from './support/sim';
import type { MeterSample } from '../simulator/meters/meter';
import type { LogEntry, ReadingEntry } from '../src/formats/entries';

const QUARTER = 15 * 60000;
const MINUTE = 60000;

function samplesByTime(run: SimRun): Map<number, MeterSample> {
  return new Map(run.samples.map((s) => [s.time, s]));
}

function readings(entries: LogEntry[], kind: string): (ReadingEntry & { seq: number })[] {
  return entries.filter((e): e is ReadingEntry & { seq: number } => e.type === 'reading' && e.kind === kind);
}

/** The sample a reading was taken from: sent at most 2 s before the capture (`time + offset`), with the same values. */
function source(run: SimRun, r: ReadingEntry): MeterSample | undefined {
  const capture = r.time + r.offset * 1000;
  return run.samples.find((s) => s.time <= capture + 500 && s.time >= capture - 2500 && JSON.stringify(energyOf(s)) === JSON.stringify(r.values));
}

describe('TAF 7: quarter-hour register readings', () => {
  it('dlms-mbus, a day: every quarter-hour has one reading, equal to what the meter sent at the boundary', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 1 });
    const entries = logEntries(run);
    const cover = coverage(entries, 'taf7', QUARTER);
    // The last boundary's window is still open when the run ends.
    const want = boundariesFrom(JUNE, JUNE + DAY - QUARTER, QUARTER);
    expect([...cover.keys()]).toEqual(want);
    expect([...cover.values()].every((v) => v === 'reading')).toBe(true);
    const sent = samplesByTime(run);
    for (const r of readings(entries, 'taf7')) {
      const truth = sent.get(r.time)!;
      expect(r.values, new Date(r.time).toISOString()).toEqual(energyOf(truth));
      expect(Object.keys(r.values)).toEqual(['1-0:1.8.0', '1-0:2.8.0']);
      // Two M-Bus frames at 2400 baud take a second on the line.
      expect(r.offset).toBe(1);
      expect(r.source).toBe('sntp');
    }
    // Besides the readings, the day's events: the boot, the firmware, the time from the meter's clock.
    expect(run.report.log).toMatchObject({ entries: 97 + 3, events: 3, chain: { ok: true }, evicted: 0, lost: 0, badRecords: 0, readings: { taf7: 96, daily: 1, demand: 0 } });
    expect(run.report.log.bytesPerReading).toBeLessThan(14);
  }, 60_000);

  for (const meter of ['sml', 'd0', 'dsmr', 'dlms-hdlc'] as const) {
    it(`${meter}, six hours: one reading per quarter-hour, equal to the telegram sent at the boundary`, async () => {
      const run = await simulate({ meter, days: 6 / 24 });
      const entries = logEntries(run);
      const cover = coverage(entries, 'taf7', QUARTER);
      expect([...cover.keys()]).toEqual(boundariesFrom(JUNE, JUNE + 6 * HOUR - QUARTER, QUARTER));
      expect([...cover.values()].every((v) => v === 'reading')).toBe(true);
      const sent = samplesByTime(run);
      for (const r of readings(entries, 'taf7')) {
        expect(r.values, `${meter} ${new Date(r.time).toISOString()}`).toEqual(energyOf(sent.get(r.time)!));
        expect(Object.keys(r.values).length).toBeGreaterThanOrEqual(2);
      }
    }, 60_000);
  }

  it('a silent meter: gaps exactly at the boundaries it was silent for, readings everywhere else', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 6 / 24, faults: ['meter-silent:2025-06-02T02:07:00Z/2025-06-02T03:37:00Z'] });
    const cover = coverage(logEntries(run), 'taf7', QUARTER);
    for (const [t, what] of cover) {
      const heard = run.samples.some((s) => Math.abs(s.time - t) <= 60000);
      expect(what, new Date(t).toISOString()).toBe(heard ? 'reading' : 'no-telegram');
    }
    expect([...cover.values()].filter((v) => v === 'no-telegram')).toHaveLength(6);
    expect(cover.size).toBe(24);
  }, 60_000);

  it('the system clock jumping by itself moves no reading: it is noticed, set back and checked with SNTP', async () => {
    for (const jump of ['+3600', '-1800']) {
      const lines: string[] = [];
      const run = await simulate({ meter: 'dlms-mbus', days: 6 / 24, faults: [`clock-jump:${jump}@2025-06-02T02:05:00Z`], log: (l) => lines.push(l) });
      const cover = coverage(logEntries(run), 'taf7', QUARTER);
      expect([...cover.keys()]).toEqual(boundariesFrom(JUNE, JUNE + 6 * HOUR - QUARTER, QUARTER));
      expect([...cover.values()].every((v) => v === 'reading')).toBe(true);
      expect(lines.some((l) => l.startsWith(`time: the system clock moved by ${jump} s by itself`))).toBe(true);
    }
  }, 60_000);

  it('SNTP corrections either way (a wrong server, then a right one): one entry per boundary, skipped ones marked clock-jump', async () => {
    const lines: string[] = [];
    // The device asks SNTP at boot and every 6 h: the 06:00 answer is 30 min ahead, the 12:00 one right again.
    const run = await simulate({ meter: 'dlms-mbus', days: 18 / 24, faults: ['sntp-skew:+1800@2025-06-02T05:00:00Z/2025-06-02T09:00:00Z'], log: (l) => lines.push(l) });
    expect(lines.filter((l) => l.startsWith('time: corrected by'))).toEqual(['time: corrected by +1800.0 s from SNTP', 'time: corrected by -1800.0 s from SNTP']);
    const cover = coverage(logEntries(run), 'taf7', QUARTER);
    expect([...cover.keys()]).toEqual(boundariesFrom(JUNE, JUNE + 18 * HOUR - QUARTER, QUARTER));
    const jumped = [...cover].filter(([, v]) => v === 'clock-jump').map(([t]) => new Date(t).toISOString());
    expect(jumped).toEqual(['2025-06-02T06:15:00.000Z', '2025-06-02T06:30:00.000Z']);
    expect([...cover.values()].filter((v) => v !== 'reading' && v !== 'clock-jump')).toEqual([]);
  }, 60_000);

  for (const spec of ['power-cut:every=5h', 'power-cut:every=5h,mid-write']) {
    it(`${spec}: one entry per boundary, every reading true; a boundary is lost only to a cut that hit it`, async () => {
      const run = await simulate({ meter: 'dlms-mbus', days: 2, faults: [spec] });
      const cuts = run.report.boots.filter((b) => b.cause === 'power-cut').map((b) => Date.parse(b.at));
      expect(cuts.length).toBeGreaterThanOrEqual(8);
      expect(run.report.crashes).toBe(0);
      const entries = logEntries(run);
      const cover = coverage(entries, 'taf7', QUARTER);
      expect([...cover.keys()]).toEqual(boundariesFrom(JUNE, JUNE + 2 * DAY - QUARTER, QUARTER));
      for (const [t, what] of cover) {
        if (what === 'reading') continue;
        // The device came back (3 s after the cut) too late for any telegram within the boundary's tolerance.
        expect(what, new Date(t).toISOString()).toBe('not-running');
        expect(cuts.some((boot) => boot > t - 30000 && boot < t + 70000), new Date(t).toISOString()).toBe(true);
      }
      for (const r of readings(entries, 'taf7')) expect(source(run, r), new Date(r.time).toISOString()).toBeDefined();
      const lost = [...cover.values()].filter((v) => v !== 'reading').length;
      if (!spec.includes('mid-write')) expect(lost).toBeLessThanOrEqual(1);
    }, 60_000);
  }
});

describe('TAF 6: the daily reading at local midnight', () => {
  it('at midnight in Vienna (22:00 UTC in summer), one per day, equal to the meter', async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 3 });
    const daily = readings(logEntries(run), 'daily');
    expect(daily.map((r) => new Date(r.time).toISOString())).toEqual(['2025-06-02T22:00:00.000Z', '2025-06-03T22:00:00.000Z', '2025-06-04T22:00:00.000Z']);
    const sent = samplesByTime(run);
    for (const r of daily) expect(r.values).toEqual(energyOf(sent.get(r.time)!));
  }, 60_000);

  it('across the spring DST change in Berlin: the 23-hour day has 92 quarter-hours and one daily reading', async () => {
    // From half an hour before the short day's local midnight to half an hour after its end.
    const from = Date.UTC(2025, 2, 29, 22, 30);
    const run = await simulate({ meter: 'sml', from, days: 24 / 24 });
    const entries = logEntries(run);
    expect(readings(entries, 'daily').map((r) => new Date(r.time).toISOString())).toEqual(['2025-03-29T23:00:00.000Z', '2025-03-30T22:00:00.000Z']);
    const day = readings(entries, 'taf7').filter((r) => r.time >= Date.UTC(2025, 2, 29, 23) && r.time < Date.UTC(2025, 2, 30, 22));
    expect(day).toHaveLength(92);
  }, 60_000);
});

describe('time before SNTP', () => {
  it('an SML meter (no clock) with the network down at boot: telegrams wait, and the boundaries are filled once SNTP answers', async () => {
    const lines: string[] = [];
    const run = await simulate({ meter: 'sml', days: 3 / 24, faults: ['outage:2025-06-02T00:00:00Z/2025-06-02T00:50:00Z'], log: (l) => lines.push(l) });
    const entries = logEntries(run);
    const cover = coverage(entries, 'taf7', QUARTER);
    expect([...cover.keys()]).toEqual(boundariesFrom(JUNE, JUNE + 3 * HOUR - QUARTER, QUARTER));
    expect([...cover.values()].every((v) => v === 'reading')).toBe(true);
    for (const r of readings(entries, 'taf7')) {
      expect(source(run, r), new Date(r.time).toISOString()).toBeDefined();
      // While waiting, one telegram per 15 s is kept: the nearest is at most 8 s away.
      expect(Math.abs(r.offset)).toBeLessThanOrEqual(8);
    }
    expect(lines.some((l) => /^readings: \d+ telegram\(s\) that waited for the time placed$/.test(l))).toBe(true);
  }, 60_000);

  it('waiting is bounded: after two hours without time the oldest boundaries become no-time gaps', async () => {
    const run = await simulate({ meter: 'sml', days: 4 / 24, faults: ['outage:2025-06-02T00:00:00Z/2025-06-02T02:30:00Z'] });
    const cover = coverage(logEntries(run), 'taf7', QUARTER);
    expect([...cover.keys()]).toEqual(boundariesFrom(JUNE, JUNE + 4 * HOUR - QUARTER, QUARTER));
    const noTime = [...cover].filter(([, v]) => v === 'no-time').map(([t]) => t);
    expect(noTime.length).toBeGreaterThanOrEqual(4);
    // The gaps are the oldest boundaries; everything after them is a reading.
    expect(noTime).toEqual(boundariesFrom(JUNE, noTime[noTime.length - 1], QUARTER));
    expect([...cover.values()].filter((v) => v !== 'no-time').every((v) => v === 'reading')).toBe(true);
  }, 60_000);

  it("a DLMS meter's clock times the readings while SNTP is out of reach", async () => {
    const run = await simulate({ meter: 'dlms-mbus', days: 3 / 24, faults: ['outage:2025-06-02T00:00:00Z/2025-06-02T01:10:00Z'] });
    const taf7 = readings(logEntries(run), 'taf7');
    expect(taf7.map((r) => r.time)).toEqual(boundariesFrom(JUNE, JUNE + 3 * HOUR - QUARTER, QUARTER));
    expect(taf7.filter((r) => r.source === 'meter').map((r) => new Date(r.time).toISOString())).toEqual([
      '2025-06-02T00:00:00.000Z', '2025-06-02T00:15:00.000Z', '2025-06-02T00:30:00.000Z', '2025-06-02T00:45:00.000Z', '2025-06-02T01:00:00.000Z',
    ]);
    const sent = samplesByTime(run);
    for (const r of taf7) expect(r.values).toEqual(energyOf(sent.get(r.time)!));
  }, 60_000);
});

describe('the log over weeks', () => {
  it('a full partition (1-minute periods for 6 days): the oldest sectors go, the rest stays complete, every loss is counted', async () => {
    // More readings than 15 days at 3 minutes or 90 at 15 (a minute's deltas take fewer bytes), in 6 days of
    // telegrams: the partition fills and wraps the same way (35 days at the real period: npm run test:long).
    const lines: string[] = [];
    const run = await simulate({ meter: 'dlms-mbus', days: 6, taf: { period: 1, tolerance: 30 }, log: (l) => lines.push(l) });
    const entries = logEntries(run);
    const log = run.report.log;
    expect(log.evicted).toBeGreaterThan(1000);
    expect(log.firstSeq).toBe(log.evicted + 1);
    expect(log.lost).toBe(log.evicted); // nothing was uploaded
    expect(entries[0].seq).toBe(log.firstSeq);
    const step = MINUTE;
    const cover = coverage(entries, 'taf7', step);
    const first = Math.min(...cover.keys());
    expect([...cover.keys()]).toEqual(boundariesFrom(first, JUNE + 6 * DAY - step, step));
    expect([...cover.values()].every((v) => v === 'reading')).toBe(true);
    // Held: at least 15 of the 16 sectors' worth, more than 4 days at this period.
    expect(JUNE + 6 * DAY - first).toBeGreaterThan(4 * DAY);
    expect(lines.filter((l) => l.startsWith('reading log full: erased entries')).length).toBe(run.sim.world.flash.erases.reduce((a, b) => a + b, 0));
    const erases = run.report.flash.erasesPerSector;
    expect(Math.max(...erases) - Math.min(...erases)).toBeLessThanOrEqual(1);
  }, 120_000);
});

describe('TAF 6 on demand and TAF 14 live values, over the device HTTP API', () => {
  it('a reading on demand comes from the next telegram and is in the log; live values follow the meter', async () => {
    const { Simulation } = await import('../simulator/runner');
    const sim = new Simulation({ meter: 'dlms-mbus', seed: 7, from: JUNE, days: 1 / 24, speed: 'max', faults: [] });
    const samples: MeterSample[] = [];
    sim.onSample((s) => samples.push(s));
    const { PortalClient } = await import('./support/portal');
    const { SIM_ADMIN_PASSWORD } = await import('../simulator/runner');
    const portal = new PortalClient(sim);
    const call = async (method: string, path: string) => {
      const r = await portal.call(method, path);
      return { status: r.status, body: r.json() };
    };
    const answers: { status: number; body: any }[] = [];
    // The API is behind the portal's login.
    sim.scheduler.at(JUNE + 20 * MINUTE + 1000, () => portal.login(SIM_ADMIN_PASSWORD));
    sim.scheduler.at(JUNE + 20 * MINUTE + 2000, async () => void answers.push(await call('POST', '/api/readings/demand')));
    sim.scheduler.at(JUNE + 20 * MINUTE + 9000, async () => void answers.push(await call('GET', '/api/readings/demand')));
    sim.scheduler.at(JUNE + 30 * MINUTE + 2000, async () => void answers.push(await call('GET', '/api/live?max=5')));
    sim.scheduler.at(JUNE + 30 * MINUTE + 2100, async () => void answers.push(await call('GET', '/api/readings?from=2&limit=2')));
    await sim.run();
    expect(answers[0]).toEqual({ status: 202, body: { state: 'pending' } });
    expect(answers[1].status).toBe(200);
    const entry = answers[1].body.entry;
    expect(answers[1].body.state).toBe('done');
    expect(entry).toMatchObject({ type: 'reading', kind: 'demand', time: '2025-06-02T00:20:06Z', offset: 0, source: 'sntp' });
    const sent = samples.find((s) => s.time === JUNE + 20 * MINUTE + 5000)!;
    expect(entry.values).toEqual(energyOf(sent));
    // The 5 newest live values, one per telegram (every 5 s), the newest from 00:30:00.
    const live = answers[2].body as { time: string; values: { [k: string]: number } }[];
    expect(live).toHaveLength(5);
    expect(live[4].time).toMatch(/^2025-06-02T00:30:01/);
    const last = samples.find((s) => s.time === JUNE + 30 * MINUTE)!;
    expect(live[4].values.p).toBe(Math.fround(last.values['1-0:1.7.0'].value - last.values['1-0:2.7.0'].value));
    expect(answers[3].body.entries.map((e: { seq: number }) => e.seq)).toEqual([2, 3]);
  }, 60_000);
});
