// The simulated household follows the seasons the right way round: PV feeds
// in at a June midday, the heat pump makes a December day the larger import.

import { describe, expect, it } from 'vitest';
import { HouseholdModel } from '../simulator/household';

const MINUTE = 60000;

/** Energy (Wh) of `power` over [from, from + minutes). */
function energy(power: (t: number) => number, from: number, minutes: number): number {
  let wh = 0;
  for (let m = 0; m < minutes; m++) wh += power(from + m * MINUTE) / 60;
  return wh;
}

describe('the simulated household', () => {
  const house = new HouseholdModel(7);
  it('exports at midday in June and imports at midday in December', () => {
    const june = Date.parse('2025-06-15T10:00:00Z');
    const december = Date.parse('2025-12-15T10:00:00Z');
    expect(energy((t) => house.pvPower(t), june, 120)).toBeGreaterThan(2 * energy((t) => house.pvPower(t), december, 120));
    expect(energy((t) => house.power(t).p, june, 120)).toBeLessThan(0);
    expect(energy((t) => house.power(t).p, december, 120)).toBeGreaterThan(0);
  });
  it('uses more energy over a winter day than over a summer day (the heat pump)', () => {
    const day = 1440;
    expect(energy((t) => house.load(t), Date.parse('2025-01-15T00:00:00Z'), day)).toBeGreaterThan(1.5 * energy((t) => house.load(t), Date.parse('2025-07-15T00:00:00Z'), day));
  });
});
