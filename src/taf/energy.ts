// The registers a TAF reading keeps: the electricity energy registers of a
// telegram (A+ 1.8.x, A- 2.8.x, R+ 3.8.x, R- 4.8.x, the quadrants 5..8.8.x,
// apparent energy 9/10.8.x), totals before tariff registers, at most eight.
// Power, voltages and the rest are TAF 14's.

import type { Reading } from '../meter/reading';
import { MAX_REGISTERS, type StoredValue } from '../formats/entries';

/** Which registers a snapshot holds, in order: shared by every snapshot of the same telegram shape. */
export interface Layout {
  readonly keys: readonly string[];
  readonly units: readonly string[];
}

export interface EnergySnapshot {
  layout: Layout;
  values: Float64Array;
  meterId: string | null;
}

const ENERGY_UNIT: { [unit: string]: true } = { Wh: true, varh: true, VAh: true };
const ENERGY_OBIS = /^1-\d+:(\d+)\.8\.(\d+)$/;
const NOT_ENERGY = -1;

export class EnergyRegisters {
  /** OBIS key -> 0 (total), 1 (tariff) or -1; computed once per key a meter sends. */
  private readonly rank = new Map<string, number>();
  private layout: Layout | null = null;
  private readonly keys: string[] = [];
  private readonly ranks: number[] = [];

  private rankOf(key: string): number {
    let r = this.rank.get(key);
    if (r === undefined) {
      const m = ENERGY_OBIS.exec(key);
      const c = m ? Number(m[1]) : 0;
      r = m && c >= 1 && c <= 10 ? (m[2] === '0' ? 0 : 1) : NOT_ENERGY;
      if (this.rank.size < 256) this.rank.set(key, r);
    }
    return r;
  }

  /** The energy registers of a reading, or null when it has none. */
  snapshot(reading: Reading): EnergySnapshot | null {
    const keys = this.keys;
    const ranks = this.ranks;
    keys.length = 0;
    ranks.length = 0;
    const values = reading.values;
    for (const key in values) {
      const r = this.rankOf(key);
      if (r === NOT_ENERGY) continue;
      const v = values[key] as { value?: number; unit?: string };
      if (v.value === undefined || !ENERGY_UNIT[v.unit!]) continue;
      keys.push(key);
      ranks.push(r);
    }
    if (!keys.length) return null;
    // Totals first, each group in the telegram's order; then at most eight.
    const order: string[] = [];
    for (let pass = 0; pass < 2; pass++) for (let i = 0; i < keys.length && order.length < MAX_REGISTERS; i++) if (ranks[i] === pass) order.push(keys[i]);
    const layout = this.layoutFor(order, reading);
    const out = new Float64Array(order.length);
    for (let i = 0; i < order.length; i++) out[i] = (values[order[i]] as { value: number }).value;
    return { layout, values: out, meterId: reading.meterId };
  }

  private layoutFor(order: string[], reading: Reading): Layout {
    const current = this.layout;
    if (current && current.keys.length === order.length) {
      let same = true;
      for (let i = 0; i < order.length && same; i++) same = current.keys[i] === order[i] && current.units[i] === (reading.values[order[i]] as { unit: string }).unit;
      if (same) return current;
    }
    this.layout = { keys: order, units: order.map((k) => (reading.values[k] as { unit: string }).unit) };
    return this.layout;
  }
}

/** The stored form of a snapshot's values. */
export function storedValues(s: EnergySnapshot): { [obis: string]: StoredValue } {
  const out: { [obis: string]: StoredValue } = {};
  const { keys, units } = s.layout;
  for (let i = 0; i < keys.length; i++) out[keys[i]] = { value: s.values[i], unit: units[i] };
  return out;
}
