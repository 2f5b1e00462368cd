// Where the readings of a series belong: TAF 7 at every period boundary
// (aligned to the hour, in UTC, which for the supported zones is aligned to
// the local hour as well), TAF 6's billing reading at every local midnight
// (23- and 25-hour days at the DST changes).

import { fromLocal, toLocal } from '../time/zone';

export interface Boundaries {
  /** The first boundary after t. */
  after(t: number): number;
  /** The last boundary before t. */
  before(t: number): number;
}

export function periodBoundaries(periodMs: number): Boundaries {
  return {
    after: (t) => Math.floor(t / periodMs) * periodMs + periodMs,
    before: (t) => Math.ceil(t / periodMs) * periodMs - periodMs,
  };
}

export function midnightBoundaries(zone: string): Boundaries {
  const midnightOf = (t: number, days: number) => {
    const l = toLocal(zone, t);
    return fromLocal(zone, l.year, l.month, l.day + days, 0, 0, 0);
  };
  return {
    // The next local day's midnight is always after t; the current day's is at or before it.
    after: (t) => midnightOf(t, 1),
    before: (t) => {
      const m = midnightOf(t, 0);
      return m < t ? m : midnightOf(t - 1, 0);
    },
  };
}
