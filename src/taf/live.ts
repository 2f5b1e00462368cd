// TAF 14: high-frequency live values in a bounded RAM ring, for the portal's
// live view and the uplink's live channel: active power in W (net, and per
// phase), per-phase voltage (V) and current (A), every N seconds. Nothing of
// it goes to flash.

import type { Reading } from '../meter/reading';
import { LIVE_CHANNELS, type LiveChannel } from '../formats/live';

/**
 * Where each channel comes from: a signed (net) register, or import minus
 * export. DLMS meters send 1.7.0/2.7.0, SML meters 16.7.0 (and per phase
 * 36/56/76.7.0), DSMR 1.7.0/2.7.0 and 21/22.7.0 ...
 */
const SOURCES: readonly [net: string | null, imp: string | null, exp: string | null][] = [
  ['1-0:16.7.0', '1-0:1.7.0', '1-0:2.7.0'],
  ['1-0:36.7.0', '1-0:21.7.0', '1-0:22.7.0'],
  ['1-0:56.7.0', '1-0:41.7.0', '1-0:42.7.0'],
  ['1-0:76.7.0', '1-0:61.7.0', '1-0:62.7.0'],
  ['1-0:32.7.0', null, null],
  ['1-0:52.7.0', null, null],
  ['1-0:72.7.0', null, null],
  ['1-0:31.7.0', null, null],
  ['1-0:51.7.0', null, null],
  ['1-0:71.7.0', null, null],
];

const WIDTH = LIVE_CHANNELS.length;
/** Telegrams arrive with some jitter: one up to half a second early still counts for its slot. */
const SLACK_MS = 500;

export interface LiveValue {
  /** Uptime (ms) the telegram arrived at. */
  at: number;
  values: { [c in LiveChannel]?: number };
}

type ValueMap = Reading['values'];

/** The register's value in W, V or A: DSMR meters send power in kW, the others in W. */
function valueOf(values: ValueMap, key: string | null): number | undefined {
  if (key === null) return undefined;
  const v = values[key] as { value?: number; unit?: string | null } | undefined;
  if (v?.value === undefined) return undefined;
  return v.unit === 'kW' ? v.value * 1000 : v.value;
}

export class LiveRing {
  /** Seconds between kept values. */
  readonly interval: number;
  readonly capacity: number;
  private readonly at: Float64Array;
  private readonly data: Float32Array;
  private head = 0;
  count = 0;
  private lastAt = -Infinity;

  constructor(intervalSeconds: number, capacity = 60) {
    this.interval = intervalSeconds;
    this.capacity = capacity;
    this.at = new Float64Array(capacity);
    this.data = new Float32Array(capacity * WIDTH);
  }

  offer(reading: Reading, uptime: number): void {
    if (uptime - this.lastAt < this.interval * 1000 - SLACK_MS) return;
    const values = reading.values;
    const row = this.head * WIDTH;
    let any = false;
    for (let c = 0; c < WIDTH; c++) {
      const [net, imp, exp] = SOURCES[c];
      let v = valueOf(values, net);
      if (v === undefined) {
        const i = valueOf(values, imp);
        const e = valueOf(values, exp);
        if (i !== undefined || e !== undefined) v = (i ?? 0) - (e ?? 0);
      }
      this.data[row + c] = v === undefined ? NaN : v;
      if (v !== undefined) any = true;
    }
    if (!any) return;
    this.lastAt = uptime;
    this.at[this.head] = uptime;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The newest values, oldest first; at most `max`. */
  recent(max = this.capacity): LiveValue[] {
    const n = Math.min(max, this.count);
    const out: LiveValue[] = [];
    for (let k = n; k > 0; k--) {
      const slot = (this.head - k + this.capacity) % this.capacity;
      const values: LiveValue['values'] = {};
      for (let c = 0; c < WIDTH; c++) {
        const v = this.data[slot * WIDTH + c];
        if (!Number.isNaN(v)) values[LIVE_CHANNELS[c]] = v;
      }
      out.push({ at: this.at[slot], values });
    }
    return out;
  }
}
