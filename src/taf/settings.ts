// The tariff use cases' settings, as the portal sets them.

export interface TafSettings {
  /** TAF 7 period in minutes: a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60). */
  period: number;
  /** Seconds a telegram may be from the boundary; at most half the period. */
  tolerance: number;
  /** TAF 14: seconds between live values (1..60). */
  live: number;
}

export const DEFAULT_TAF: TafSettings = { period: 15, tolerance: 30, live: 1 };

/** Settings as given, or the defaults for what is out of range. */
export function validTaf(t: Partial<TafSettings> | undefined): TafSettings {
  const period = t?.period !== undefined && Number.isInteger(t.period) && t.period >= 1 && t.period <= 60 && 60 % t.period === 0 ? t.period : DEFAULT_TAF.period;
  const tolerance = t?.tolerance !== undefined && Number.isInteger(t.tolerance) && t.tolerance >= 1 && t.tolerance <= period * 30 ? t.tolerance : Math.min(DEFAULT_TAF.tolerance, period * 30);
  const live = t?.live !== undefined && Number.isInteger(t.live) && t.live >= 1 && t.live <= 60 ? t.live : DEFAULT_TAF.live;
  return { period, tolerance, live };
}
