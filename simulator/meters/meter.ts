// A virtual meter: it integrates the household's power into its registers and
// sends telegrams at its real cadence, byte for byte as a real meter of its
// kind does. What it sent (time and values, in canonical units, rounded as
// the meter rounds them) is the ground truth the firmware's readings are
// checked against.

import { HouseholdModel, integrate, NEW_REGISTERS, type Power, type Registers } from '../household';
import type { Connector, LineSettings } from '../../src/ports/serial';
import type { SerialLine } from '../world/serial-line';
import type { Scheduler } from '../world/scheduler';

export interface TruthValue {
  value: number;
  unit: string;
}

/** One telegram as the meter meant it: the meter log's line. */
export interface MeterSample {
  time: number;
  values: { [obis: string]: TruthValue };
}

export interface Telegram {
  bytes: Uint8Array;
  truth: MeterSample;
}

/** What a meter keeps across power cycles of the gateway (the meter itself never stops). */
export interface MeterState {
  registers: Registers;
  /** When the registers were last brought up to date. */
  at: number;
  /** DLMS frame counter. */
  frameCounter: number;
  /** Registers particular to a meter kind (DSMR's tariff registers, its gas meter). */
  extra: { [name: string]: number };
}

/** What a meter needs of the household: its power at an instant. */
export type HouseholdModelLike = Pick<HouseholdModel, 'power' | 'epoch'>;

/** Integration step: the registers follow power second by second, whatever the telegram cadence. */
const STEP = 1000;

export abstract class VirtualMeter {
  abstract readonly kind: string;
  abstract readonly connector: Connector;
  abstract readonly line: LineSettings;
  /** ms between telegrams. */
  abstract readonly cadence: number;
  readonly household: HouseholdModelLike;
  state: MeterState;

  constructor(household: HouseholdModelLike, state: MeterState | null, start: number) {
    this.household = household;
    this.state = state ?? { registers: { ...NEW_REGISTERS }, at: start, frameCounter: 0x1000, extra: {} };
  }

  /** Brings the registers to t and encodes the telegram sent at t. */
  emit(t: number): Telegram {
    const r = this.state.registers;
    let at = this.state.at;
    while (at < t) {
      const ms = Math.min(STEP, t - at);
      const p = this.household.power(at);
      integrate(r, p.p, p.q, ms);
      this.accumulate(at, p, ms);
      at += ms;
    }
    this.state.at = at;
    return this.encode(t, this.household.power(t));
  }

  /** The meter's end of the line, once it is wired (a meter that listens to the gateway keeps it). */
  connect(_line: SerialLine, _scheduler: Scheduler): void {}

  /** The telegram due at t, sent on the line; null when the meter sends none at t (an M-Bus master without a reader yet). */
  send(t: number, line: SerialLine): Telegram | null {
    const telegram = this.emit(t);
    line.transmit(telegram.bytes, t);
    return telegram;
  }

  /** Registers of the meter's own (tariffs, gas) follow the same steps. */
  protected accumulate(_t: number, _power: Power, _ms: number): void {}

  protected abstract encode(t: number, power: Power): Telegram;
}

/** Rounds to a meter's resolution the way it sends it: an integer in units of 10^exp. */
export function quantise(value: number, exp: number): number {
  return Math.round(value / 10 ** exp);
}

/** The canonical value of a raw integer with power of ten exp (exact, as the decoders compute it). */
export function canonical(raw: number, exp: number): number {
  return exp >= 0 ? raw * 10 ** exp : raw / 10 ** -exp;
}
