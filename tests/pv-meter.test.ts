// The generation meter at the PV inverter (`smgw sim --site pv`): its
// export register is the integral of the household's PV output, the same PV
// the grid meter of the same seed sees behind it; so the grid meter can never
// export more than the PV meter counted as generated. And the firmware reads
// it as any SML meter, under a meter id of its own.

import { describe, expect, it } from 'vitest';
import { HouseholdModel, INVERTER_STANDBY_W } from '../simulator/household';
import { createMeter } from '../simulator/meters/index';
import { logEntries, simulate, JUNE, HOUR } from './support/sim';

const SECOND = 1000;
const QUARTER = 900000;
const DAY = 86400000;

/** The registers of the grid and the PV meter of one seed at the quarter-hours of [from, from + days). */
function quarterHours(seed: number, from: number, days: number) {
  const house = new HouseholdModel(seed);
  const grid = createMeter('sml', house, null, from, null);
  const pv = createMeter('sml', house, null, from, null, 'pv');
  const out: { t: number; grid: { [obis: string]: number }; pv: { [obis: string]: number } }[] = [];
  for (let t = from; t <= from + days * DAY; t += QUARTER) {
    const value = (m: typeof grid) => Object.fromEntries(Object.entries(m.emit(t).truth.values).map(([k, v]) => [k, v.value]));
    out.push({ t, grid: value(grid), pv: value(pv) });
  }
  return { house, out };
}

describe('the PV generation meter', () => {
  it("counts the day's PV output on 1-0:2.8.0 (the integral of pvPower) and the inverter's standby on 1-0:1.8.0", () => {
    const from = Date.UTC(2025, 5, 15);
    const { house, out } = quarterHours(7, from, 1);
    let pvWh = 0;
    let standbyWh = 0;
    for (let t = from; t < from + DAY; t += SECOND) {
      const p = house.pvPower(t);
      pvWh += p / 3600;
      if (p <= 0) standbyWh += INVERTER_STANDBY_W / 3600;
    }
    const first = out[0].pv;
    const last = out[out.length - 1].pv;
    // The registers are sent at 0.1 Wh.
    expect(Math.abs(last['1-0:2.8.0'] - first['1-0:2.8.0'] - pvWh)).toBeLessThanOrEqual(0.1);
    expect(Math.abs(last['1-0:1.8.0'] - first['1-0:1.8.0'] - standbyWh)).toBeLessThanOrEqual(0.1);
    // A June day of 6 kWp: tens of kWh; at night the inverter draws its standby and feeds in nothing.
    expect(pvWh).toBeGreaterThan(10000);
    expect(standbyWh).toBeGreaterThan(INVERTER_STANDBY_W * 6);
    expect(out[4].pv['1-0:16.7.0']).toBe(INVERTER_STANDBY_W); // 01:00 UTC
    expect(out[48].pv['1-0:16.7.0']).toBeLessThan(0); // 12:00 UTC: feeding in
    console.log(`PV meter, seed 7, 2025-06-15: generation ${(pvWh / 1000).toFixed(2)} kWh, standby ${standbyWh.toFixed(1)} Wh`);
  });

  it('the grid meter of the same seed never exports more than the PV meter generated, in any quarter-hour of a year', () => {
    for (const seed of [1, 7]) {
      // A day a week over a year: every season, both weathers.
      let generated = 0;
      let exported = 0;
      for (let week = 0; week < 52; week++) {
        const from = Date.UTC(2025, 0, 1) + week * 7 * DAY;
        const { out } = quarterHours(seed, from, 1);
        for (let i = 1; i < out.length; i++) {
          const gen = out[i].pv['1-0:2.8.0'] - out[i - 1].pv['1-0:2.8.0'];
          const exp = out[i].grid['1-0:2.8.0'] - out[i - 1].grid['1-0:2.8.0'];
          // Both registers at 0.1 Wh: the difference may round either way by one digit each.
          expect(exp, `seed ${seed} ${new Date(out[i - 1].t).toISOString()}`).toBeLessThanOrEqual(gen + 0.2);
          generated += gen;
          exported += exp;
        }
      }
      expect(exported).toBeGreaterThan(0);
      expect(exported).toBeLessThan(generated);
      console.log(`seed ${seed}, 52 days: generated ${(generated / 1000).toFixed(1)} kWh, exported ${(exported / 1000).toFixed(1)} kWh, self-consumed ${(100 * (1 - exported / generated)).toFixed(0)} %`);
    }
  });

  it('is read by the firmware like any SML meter, under a meter id other than the grid meter', async () => {
    const pv = await simulate({ meter: 'sml', site: 'pv', from: JUNE + 10 * HOUR, days: 1 / 24 });
    const grid = await simulate({ meter: 'sml', from: JUNE + 10 * HOUR, days: 1 / 24 });
    expect(pv.report.site).toBe('pv');
    expect(pv.report.telegrams.decoded).toBe(pv.samples.length);
    expect(pv.samples.length).toBe(3600);
    const ids = (run: typeof pv) => new Set(logEntries(run).flatMap((e) => (e.type === 'reading' ? [e.meterId] : [])));
    const pvIds = [...ids(pv)];
    const gridIds = [...ids(grid)];
    expect(pvIds).toHaveLength(1);
    expect(gridIds).toHaveLength(1);
    expect(pvIds[0]).not.toBe(gridIds[0]);
    // Every decoded reading carries what the meter sent: the generation register rising, power negative (feeding in).
    for (let i = 0; i < pv.samples.length; i++) expect(pv.readings[i].values['1-0:2.8.0'].value).toBe(pv.samples[i].values['1-0:2.8.0'].value);
    expect(pv.samples[pv.samples.length - 1].values['1-0:2.8.0'].value).toBeGreaterThan(pv.samples[0].values['1-0:2.8.0'].value);
    expect(pv.samples.every((s) => s.values['1-0:16.7.0'].value < 0)).toBe(true);
  }, 60_000);
});
