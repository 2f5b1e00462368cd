// A household's electricity, minute by minute of a simulated year: base load,
// morning and cooking peaks, evening lighting, a heat pump that works harder
// in winter, an electric car charged some evenings, and a PV system whose
// midday output follows the season and the weather. Power is a pure function
// of time and the seed (so a run can stop and continue anywhere); energy is
// what the meter integrates from it.


export interface Household {
  /** kWp of PV on the roof (0: none). */
  pv: number;
  heatPump: boolean;
  ev: boolean;
}

const DEFAULT_HOUSEHOLD: Household = { pv: 6, heatPump: true, ev: true };

/**
 * Where a meter sits: at the grid connection (it sees consumption net of the
 * PV system behind it), or at the PV inverter (a generation meter,
 * "Erzeugungszähler": it sees what the PV system delivers).
 */
export type Site = 'grid' | 'pv';
export const SITES: Site[] = ['grid', 'pv'];

/** What the inverter draws while it does not feed in (night, a panel without sun), W. */
export const INVERTER_STANDBY_W = 4;

/** What the meter measures at an instant. */
export interface Power {
  /** Active power, W: positive import, negative export. */
  p: number;
  /** Reactive power, var: positive inductive. */
  q: number;
  /** Per-phase active power (W, signed), voltage (V) and current (A). */
  phases: { p: number; v: number; i: number }[];
}

const DAY = 86400000;
const HOUR = 3600000;

/** A smooth deterministic hash of (seed, key) to [0, 1). */
function hash01(seed: number, key: number): number {
  let h = (seed ^ Math.imul(key | 0, 0x9e3779b1) ^ Math.imul((key / 4294967296) | 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Central European local hour of day (winter time is enough for a load profile). */
function localHour(t: number): number {
  return (((t + HOUR) % DAY) + DAY) % DAY / HOUR;
}

/** 0 at midsummer, 1 at midwinter. */
function winterness(t: number): number {
  const dayOfYear = ((t / DAY) % 365.25 + 365.25) % 365.25;
  // Day 172 is 21 June: the cosine is 1 there, so the sign before it must be minus.
  return (1 - Math.cos((2 * Math.PI * (dayOfYear - 172)) / 365.25)) / 2;
}

function bump(hour: number, centre: number, width: number): number {
  const d = (hour - centre) / width;
  return Math.exp(-d * d);
}

export class HouseholdModel {
  private readonly seed: number;
  readonly house: Household;
  /** When the meters were installed: their second counters start here. */
  readonly epoch: number;

  constructor(seed: number, house: Household = DEFAULT_HOUSEHOLD, epoch = Date.UTC(2024, 0, 1)) {
    this.seed = seed >>> 0;
    this.house = house;
    this.epoch = epoch;
  }

  /** Per-day random factors: weather (0 overcast .. 1 clear), EV charging tonight, cooking intensity. */
  private day(t: number): { clear: number; ev: boolean; cooking: number } {
    const day = Math.floor((t + HOUR) / DAY);
    return {
      clear: hash01(this.seed, day * 3 + 1),
      ev: this.house.ev && hash01(this.seed, day * 3 + 2) < 0.35,
      cooking: 0.6 + 0.8 * hash01(this.seed, day * 3 + 3),
    };
  }

  /** PV output in W at t. */
  pvPower(t: number): number {
    if (this.house.pv <= 0) return 0;
    const hour = localHour(t);
    const w = winterness(t);
    const halfDay = 4.2 + 3.3 * (1 - w); // hours either side of solar noon
    const x = (hour - 12.5) / halfDay;
    if (x <= -1 || x >= 1) return 0;
    const day = this.day(t);
    const sun = Math.cos((x * Math.PI) / 2) ** 1.5;
    // Clouds pass: a slow flicker on overcast days.
    const cloud = 1 - (1 - day.clear) * (0.5 + 0.5 * hash01(this.seed, Math.floor(t / 120000)));
    return this.house.pv * 1000 * sun * (0.35 + 0.55 * (1 - w)) * cloud;
  }

  /** Household consumption in W at t. */
  load(t: number): number {
    const hour = localHour(t);
    const w = winterness(t);
    const day = this.day(t);
    const minute = Math.floor(t / 60000);
    let watts = 160 + 60 * hash01(this.seed, minute); // fridge, standby, router
    watts += 1800 * bump(hour, 7.1, 0.35) * (hash01(this.seed, minute * 7) < 0.5 ? 1 : 0.2); // kettle, coffee
    watts += 2200 * day.cooking * (bump(hour, 12.2, 0.45) + bump(hour, 18.6, 0.55)) * (hash01(this.seed, minute * 11) < 0.7 ? 1 : 0.3);
    watts += (250 + 250 * w) * bump(hour, 20.5, 2.2); // lighting, TV
    if (this.house.heatPump) {
      // Cycles of 20 minutes, duty rising with cold.
      const duty = 0.15 + 0.65 * w;
      const cycle = Math.floor(t / 1200000);
      if (hash01(this.seed, cycle * 5) < duty) watts += 1200 + 1400 * w;
    }
    if (day.ev && hour >= 19 && hour < 22.5) watts += 7400;
    return watts;
  }

  /** What the meter sees at t. */
  power(t: number): Power {
    const load = this.load(t);
    const p = load - this.pvPower(t);
    const q = 0.25 * load + 40;
    // The load sits unevenly on the phases; PV feeds all three evenly.
    const share = [0.45, 0.3, 0.25];
    const pv = this.pvPower(t);
    const second = Math.floor(t / 1000);
    const phases = share.map((s, k) => {
      const pk = load * s - pv / 3;
      const v = 229 + 4 * hash01(this.seed, second * 3 + k) + (pk < 0 ? 2 : 0);
      return { p: pk, v, i: Math.abs(pk) / v / 0.95 };
    });
    return { p, q, phases };
  }

  /**
   * What a generation meter at the PV inverter sees at t: the PV output as
   * export (negative p), and the inverter's standby draw as import while it
   * produces nothing. Its export is exactly pvPower, the PV part of power().
   */
  generation(t: number): Power {
    const pv = this.pvPower(t);
    const p = pv > 0 ? -pv : INVERTER_STANDBY_W;
    const second = Math.floor(t / 1000);
    const phases = [0, 1, 2].map((k) => {
      const pk = p / 3;
      const v = 229 + 4 * hash01(this.seed, second * 3 + k) + (pk < 0 ? 2 : 0);
      return { p: pk, v, i: Math.abs(pk) / v };
    });
    return { p, q: 0, phases };
  }

  /** The household as a meter at `site` sees it: power and the installation epoch. */
  at(site: Site): Pick<HouseholdModel, 'power' | 'epoch'> {
    return site === 'grid' ? this : { power: (t) => this.generation(t), epoch: this.epoch };
  }
}

/** The meter's energy registers, integrated from power: Wh and varh. */
export interface Registers {
  importWh: number;
  exportWh: number;
  reactiveImport: number;
  reactiveExport: number;
}

export const NEW_REGISTERS: Registers = { importWh: 1250000, exportWh: 380000, reactiveImport: 220000, reactiveExport: 41000 };

/** Adds `ms` of constant power `p` (W) and `q` (var) to the registers. */
export function integrate(r: Registers, p: number, q: number, ms: number): void {
  const h = ms / HOUR;
  if (p >= 0) r.importWh += p * h;
  else r.exportWh -= p * h;
  if (q >= 0) r.reactiveImport += q * h;
  else r.reactiveExport -= q * h;
}
