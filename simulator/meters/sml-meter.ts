// An EMH eHZ-style SML meter on the optical interface: every second an SML
// file with the server id, A+ and A- at 0.1 Wh, and power total and per phase.
// The same meter serves as the generation meter at a PV inverter (another
// serial number: a meter id of its own).

import { closeResponse, dinServerId, getListResponse, int, message, octets, openResponse, smlFile, uint, type SmlEntry } from '../telegrams/sml';
import type { Power } from '../household';
import { canonical, quantise, VirtualMeter, type HouseholdModelLike, type MeterState, type Telegram } from './meter';

/** The serial numbers of the simulated grid meter and of the generation meter at the PV inverter. */
const SML_GRID_SERIAL = 10434630;
export const SML_PV_SERIAL = 10434631;

export class SmlMeter extends VirtualMeter {
  readonly kind = 'sml';
  readonly connector = 'optical' as const;
  readonly line = { baud: 9600, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const, inverted: false };
  readonly cadence = 1000;
  readonly serverId: Uint8Array;
  private transaction = 0;

  constructor(household: HouseholdModelLike, state: MeterState | null, start: number, serial = SML_GRID_SERIAL) {
    super(household, state, start);
    this.serverId = dinServerId('EMH', 0, serial);
  }

  protected encode(t: number, power: Power): Telegram {
    const r = this.state.registers;
    const aPlus = quantise(r.importWh, -1);
    const aMinus = quantise(r.exportWh, -1);
    const p = Math.round(power.p);
    const phases = power.phases.map((x) => Math.round(x.p));
    const entries: SmlEntry[] = [
      { obis: [1, 0, 96, 1, 0, 255], value: octets(this.serverId) },
      { obis: [1, 0, 1, 8, 0, 255], status: 0x1c0104, unit: 30, scaler: -1, value: uint(aPlus, 8) },
      { obis: [1, 0, 2, 8, 0, 255], status: 0x1c0104, unit: 30, scaler: -1, value: uint(aMinus, 8) },
      { obis: [1, 0, 16, 7, 0, 255], unit: 27, scaler: 0, value: int(p, 4) },
      { obis: [1, 0, 36, 7, 0, 255], unit: 27, scaler: 0, value: int(phases[0], 4) },
      { obis: [1, 0, 56, 7, 0, 255], unit: 27, scaler: 0, value: int(phases[1], 4) },
      { obis: [1, 0, 76, 7, 0, 255], unit: 27, scaler: 0, value: int(phases[2], 4) },
    ];
    const id = this.transaction;
    this.transaction = (this.transaction + 3) & 0xffff;
    const secIndex = Math.floor((t - this.household.epoch) / 1000) >>> 0;
    const bytes = smlFile([
      message(id, 0x0101, openResponse(this.serverId, Uint8Array.of(id >> 8, id & 0xff))),
      message(id + 1, 0x0701, getListResponse(this.serverId, entries, secIndex)),
      message(id + 2, 0x0201, closeResponse()),
    ]);
    return {
      bytes,
      truth: {
        time: t,
        values: {
          '1-0:1.8.0': { value: canonical(aPlus, -1), unit: 'Wh' },
          '1-0:2.8.0': { value: canonical(aMinus, -1), unit: 'Wh' },
          '1-0:16.7.0': { value: p, unit: 'W' },
          '1-0:36.7.0': { value: phases[0], unit: 'W' },
          '1-0:56.7.0': { value: phases[1], unit: 'W' },
          '1-0:76.7.0': { value: phases[2], unit: 'W' },
        },
      },
    };
  }
}
