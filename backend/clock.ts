// The backend's time. Everything that records or checks a time takes it from
// a Clock given at start (the simulator's virtual clock, or the system's):
// the one place the system clock is read is here.

export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** A clock in whole ms (a simulation's clock has fractions; the database keeps BIGINT). */
export function wholeMs(clock: Clock): Clock {
  return () => Math.floor(clock());
}
