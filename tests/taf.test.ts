// The tariff use cases and the timekeeper, piece by piece, on the sim host's
// ports with readings placed at chosen instants: tolerance edges, nearest
// telegram, gaps and their reasons, restarts, corrections, readings on
// demand, the live ring, replay protection.

import { describe, expect, it } from 'vitest';
import { Scheduler } from '../simulator/world/scheduler';
import { SimClock } from '../hosts/sim/clock';
import { SimNetwork } from '../hosts/sim/network';
import { NetworkWorld, SIM_WIFI } from '../simulator/world/network';
import { NorFlash } from '../simulator/world/flash';
import { FileKeyValue } from '../hosts/sim/kv';
import { ReadingLog } from '../src/store/reading-log';
import { TafRecorder } from '../src/taf/recorder';
import { validTaf, type TafSettings } from '../src/taf/settings';
import { LiveRing } from '../src/taf/live';
import { Timekeeper } from '../src/time/timekeeper';
import { ReplayGuard } from '../src/meter/replay';
import { PLAIN, type Reading } from '../src/meter/reading';
import type { LogEntry } from '../src/formats/entries';
import { coverage } from './support/sim';

const T0 = Date.UTC(2025, 5, 2);
const S = 1000;
const MIN = 60 * S;
const QUARTER = 15 * MIN;

function reading(wh: number, extra: Reading['values'] = {}): Reading {
  return {
    protocol: 'dlms',
    meterId: 'KFM1200200032512',
    time: null,
    values: { '1-0:1.8.0': { value: wh, unit: 'Wh' }, '1-0:2.8.0': { value: 500, unit: 'Wh' }, '1-0:1.7.0': { value: 400, unit: 'W' }, ...extra },
    security: PLAIN,
  };
}

/** A recorder on the sim host's clock, network (SNTP answers 2 s after start) and flash. */
function rig(options: { taf?: Partial<TafSettings>; flash?: NorFlash; start?: number; zone?: string; network?: boolean } = {}) {
  const start = options.start ?? T0;
  const scheduler = new Scheduler(start, 'max');
  const world = new NetworkWorld(scheduler);
  const clock = new SimClock(scheduler);
  const network = new SimNetwork(world, scheduler);
  const lines: string[] = [];
  const time = new Timekeeper(clock, network, 'pool.ntp.org', (l) => lines.push(l));
  const flash = options.flash ?? new NorFlash(64 * 1024);
  const log = new ReadingLog(flash);
  const recorder = new TafRecorder(log, time, clock, validTaf(options.taf), options.zone ?? 'Europe/Berlin', (l) => lines.push(l));
  time.start();
  if (options.network !== false) network.connect(SIM_WIFI.ssid, SIM_WIFI.password);
  const at = (t: number, r: Reading) => scheduler.at(t, () => recorder.offer(r, clock.uptime()));
  const entries = (): LogEntry[] => log.read(0, 1e9);
  return { scheduler, world, clock, network, time, log, recorder, flash, lines, at, entries, run: (until: number) => scheduler.run(until) };
}

describe('TAF 7 boundaries', () => {
  it('takes the telegram nearest the boundary within the tolerance, the earlier one on a tie, and keeps its offset', async () => {
    const r = rig();
    const b = T0 + QUARTER;
    r.at(T0 + 5 * S, reading(1000));
    r.at(b - 10 * S, reading(1010));
    r.at(b + 5 * S, reading(1020)); // nearest
    r.at(b + 20 * S, reading(1030));
    r.at(b + 2 * QUARTER - 5 * S, reading(1040)); // tie: earlier wins
    r.at(b + 2 * QUARTER + 5 * S, reading(1050));
    r.at(b + 4 * QUARTER + 30 * S, reading(1060)); // exactly at the edge: in
    r.at(b + 5 * QUARTER + 31 * S, reading(1070)); // past the edge: out
    r.at(b + 6 * QUARTER - 31 * S, reading(1080)); // before the window: out
    await r.run(b + 7 * QUARTER);
    const got = r.entries().map((e) => (e.type === 'reading' ? [new Date(e.time).toISOString().slice(11, 16), e.values['1-0:1.8.0'].value, e.offset] : e.type === 'gap' ? [new Date(e.time).toISOString().slice(11, 16), e.reason, e.count] : [e.type]));
    expect(got).toEqual([
      ['00:00', 1000, 5],
      ['00:15', 1020, 5],
      ['00:30', 'no-telegram', 1],
      ['00:45', 1040, -5],
      ['01:00', 'no-telegram', 1],
      ['01:15', 1060, 30],
      ['01:30', 'no-telegram', 1],
      ['01:45', 'no-telegram', 1],
    ]);
  });

  it('a silent meter: each boundary is closed by the timer as its window ends, as a gap', async () => {
    const r = rig();
    r.at(T0 + S, reading(1000));
    await r.run(T0 + 2 * 3600 * S);
    const cover = coverage(r.entries(), 'taf7', QUARTER);
    expect(cover.size).toBe(8);
    expect([...cover.values()].slice(1).every((v) => v === 'no-telegram')).toBe(true);
  });

  it('other periods: 5 minutes with 10 s tolerance, and hourly', async () => {
    for (const [period, tolerance, count] of [[5, 10, 13], [60, 30, 1]]) {
      const r = rig({ taf: { period, tolerance } });
      for (let t = T0 + S; t < T0 + 3600 * S; t += 3 * S) r.at(t, reading(1000 + t / 1e6));
      await r.run(T0 + 3600 * S + 20 * S);
      const cover = coverage(r.entries(), 'taf7', period * MIN);
      expect(cover.size, `${period} min`).toBe(count);
      expect([...cover.values()].every((v) => v === 'reading')).toBe(true);
    }
  });

  it('settings out of range fall back to the defaults', () => {
    expect(validTaf({ period: 7, tolerance: 10, live: 0 })).toEqual({ period: 15, tolerance: 10, live: 1 });
    expect(validTaf({ period: 1, tolerance: 45, live: 61 })).toEqual({ period: 1, tolerance: 30, live: 1 });
    expect(validTaf({ period: 60, tolerance: 600, live: 60 })).toEqual({ period: 60, tolerance: 600, live: 60 });
    expect(validTaf({ period: 2.5 as number })).toEqual({ period: 15, tolerance: 30, live: 1 });
  });

  it('after a restart a series continues after its newest boundary: the downtime is one not-running gap, nothing twice', async () => {
    const flash = new NorFlash(64 * 1024);
    const first = rig({ flash });
    for (let t = T0; t < T0 + 3600 * S; t += 5 * S) first.at(t, reading(1000 + t / 1e5));
    await first.run(T0 + 3600 * S - 3 * S);
    // Five hours dark, then the same flash boots again.
    const later = T0 + 6 * 3600 * S;
    const second = rig({ flash, start: later });
    for (let t = later; t < later + 3600 * S; t += 5 * S) second.at(t, reading(2000 + t / 1e5));
    await second.run(later + 3600 * S);
    const entries = second.entries();
    const cover = coverage(entries, 'taf7', QUARTER);
    expect([...cover.keys()]).toEqual(Array.from({ length: 28 }, (_, i) => T0 + i * QUARTER));
    const gaps = entries.filter((e) => e.type === 'gap');
    expect(gaps).toMatchObject([{ kind: 'taf7', reason: 'not-running', count: 20, time: T0 + 4 * QUARTER, last: later - QUARTER }]);
  });

  it('SNTP moving the time forward marks the boundaries it skipped; back, it writes none twice', async () => {
    const r = rig();
    for (let t = T0 + S; t < T0 + 4 * 3600 * S; t += 5 * S) r.at(t, reading(1000 + t / 1e5));
    // The server is 40 minutes ahead from 01:00 to 02:00; the device asks at 01:10 and 02:10.
    r.world.addSntpSkew(40 * MIN, T0 + 3600 * S, T0 + 2 * 3600 * S);
    r.scheduler.at(T0 + 70 * MIN, () => r.time.sync());
    r.scheduler.at(T0 + 130 * MIN, () => r.time.sync());
    await r.run(T0 + 4 * 3600 * S);
    expect(r.lines.filter((l) => l.startsWith('time: corrected'))).toEqual(['time: corrected by +2400.0 s from SNTP', 'time: corrected by -2400.0 s from SNTP']);
    const cover = coverage(r.entries(), 'taf7', QUARTER);
    expect([...cover.keys()]).toEqual(Array.from({ length: 16 }, (_, i) => T0 + i * QUARTER));
    expect([...cover].filter(([, v]) => v !== 'reading').map(([t, v]) => [new Date(t).toISOString().slice(11, 16), v])).toEqual([
      ['01:15', 'clock-jump'],
      ['01:30', 'clock-jump'],
      ['01:45', 'clock-jump'],
    ]);
  });
});

describe('TAF 6', () => {
  it('a reading on demand is taken from the next telegram; without the time, or without a meter, it says why', async () => {
    const r = rig({ network: false });
    const results: (string | LogEntry)[] = [];
    const ask = () => r.recorder.readNow((error, entry) => results.push(error ? error.message : entry!));
    r.scheduler.at(T0 + 10 * S, ask);
    r.scheduler.at(T0 + 20 * S, () => r.network.connect(SIM_WIFI.ssid, SIM_WIFI.password));
    r.scheduler.at(T0 + 30 * S, ask);
    r.at(T0 + 33 * S, reading(4242));
    r.scheduler.at(T0 + 40 * S, ask);
    await r.run(T0 + 120 * S);
    expect(results[0]).toBe('the time is not known yet: a reading on demand needs it');
    expect(results[1]).toMatchObject({ type: 'reading', kind: 'demand', time: T0 + 33 * S, values: { '1-0:1.8.0': { value: 4242, unit: 'Wh' } } });
    expect(results[2]).toBe('no telegram from the meter within 30 s');
    expect(r.entries().filter((e) => e.kind === 'demand')).toHaveLength(1);
  });
});

describe('the timekeeper', () => {
  it("takes the meter's clock before SNTP, then SNTP, and notices a system clock that moves by itself", async () => {
    const scheduler = new Scheduler(T0, 'max');
    const world = new NetworkWorld(scheduler);
    world.addOutage(T0, T0 + 10 * MIN);
    const clock = new SimClock(scheduler);
    const network = new SimNetwork(world, scheduler);
    const lines: string[] = [];
    const time = new Timekeeper(clock, network, 'ntp', (l) => lines.push(l));
    time.start();
    network.connect(SIM_WIFI.ssid, SIM_WIFI.password);
    expect(time.synced).toBe(false);
    // The meter's clock is 1.5 s slow: adopted, then SNTP corrects it silently (drift, under 2 s).
    scheduler.at(T0 + 5 * S, () => time.meterClock(T0 + 3500, clock.uptime()));
    scheduler.at(T0 + 6 * S, () => expect([time.source, time.now()]).toEqual(['meter', T0 + 4500]));
    scheduler.at(T0 + 20 * MIN, () => clock.jump(-90 * S));
    await scheduler.run(T0 + 30 * MIN);
    expect(time.source).toBe('sntp');
    expect(time.now()).toBe(T0 + 30 * MIN);
    expect(clock.now()).toBe(T0 + 30 * MIN);
    expect(lines).toEqual([
      "time: 2025-06-02T00:00:03Z from the meter's clock",
      'time: the system clock moved by -90 s by itself; set back, checking with SNTP',
    ]);
  });
});

describe('TAF 14 live values', () => {
  it('keeps one value per interval of net power, per-phase power, voltage and current, in a bounded ring', () => {
    const ring = new LiveRing(2, 4);
    const values = (p: number): Reading['values'] => ({
      '1-0:1.7.0': { value: p, unit: 'W' },
      '1-0:2.7.0': { value: 0, unit: 'W' },
      '1-0:21.7.0': { value: p / 2, unit: 'W' },
      '1-0:32.7.0': { value: 230.1, unit: 'V' },
      '1-0:31.7.0': { value: 1.25, unit: 'A' },
    });
    for (let i = 0; i < 10; i++) ring.offer({ ...reading(0), values: values(100 * i) }, i * 1000 + 3);
    const got = ring.recent();
    // One per 2 s (0, 2, 4, ... s), the newest four.
    expect(got.map((v) => v.at)).toEqual([2003, 4003, 6003, 8003]);
    expect(got[3].values).toEqual({ p: 800, p1: 400, u1: Math.fround(230.1), i1: 1.25 });
    const sml = new LiveRing(1);
    sml.offer({ ...reading(0), values: { '1-0:16.7.0': { value: -356.24, unit: 'W' }, '1-0:36.7.0': { value: -100, unit: 'W' } } }, 0);
    expect(sml.recent()[0].values).toEqual({ p: Math.fround(-356.24), p1: -100 });
    // DSMR meters send power in kW: the ring keeps W, as for every other meter.
    const dsmr = new LiveRing(1);
    dsmr.offer({ ...reading(0), values: { '1-0:1.7.0': { value: 1.193, unit: 'kW' }, '1-0:2.7.0': { value: 0, unit: 'kW' }, '1-0:22.7.0': { value: 0.25, unit: 'kW' } } }, 0);
    expect(dsmr.recent()[0].values).toEqual({ p: Math.fround(1193), p1: -250 });
  });
});

describe('replay protection', () => {
  it('refuses a frame counter that does not increase, per system title, also after a restart', () => {
    const kv = new FileKeyValue();
    const guard = new ReplayGuard(kv);
    expect(guard.check('KFM', 10)).toBeNull();
    expect(guard.check('KFM', 11)).toBeNull();
    expect(guard.check('OTHER', 3)).toBeNull();
    expect(guard.check('KFM', 11)).toMatch(/frame counter 11 of system title KFM is not above the last one seen \(11\)/);
    expect(guard.check('KFM', 7)).toMatch(/not above/);
    guard.save();
    const after = new ReplayGuard(kv);
    expect(after.check('KFM', 11)).toMatch(/not above/);
    expect(after.check('OTHER', 4)).toBeNull();
    kv.set('frameCounters', '{broken');
    expect(new ReplayGuard(kv).check('KFM', 1)).toBeNull();
  });
});
