// The virtual meters `smgw sim --meter` offers.

import type { HouseholdModel, Site } from '../household';
import type { MeterState, VirtualMeter } from './meter';
import { SML_PV_SERIAL, SmlMeter } from './sml-meter';
import { D0Meter } from './d0-meter';
import { DsmrMeter } from './dsmr-meter';
import { AidonHdlcMeter, KaifaMbusMeter, WienerNetzeHdlcMeter } from './dlms-meters';
import { AmisMbusMeter } from './mbus-meters';
import type { Protocol } from '../../src/meter/reading';

export type MeterKind = 'sml' | 'd0' | 'dsmr' | 'dlms-mbus' | 'dlms-hdlc' | 'mbus-amis';
export const METER_KINDS: MeterKind[] = ['sml', 'd0', 'dsmr', 'dlms-mbus', 'dlms-hdlc', 'mbus-amis'];

/** The key the simulator's encrypted DLMS meters use when none is given (not a secret: a demo). */
export const DEMO_KEY = '36C66639E48A8CA4D6BC8B282A793BBB';

/** The protocol setting that reads a kind: the AMIS meter's EN 13757-3 frames too are read by the dlms setting (by their CI field). */
export function protocolOf(kind: MeterKind): Protocol {
  return kind === 'sml' ? 'sml' : kind === 'd0' ? 'd0' : kind === 'dsmr' ? 'dsmr' : 'dlms';
}

/** The key the meter encrypts with: given, the demo key for the Austrian M-Bus meters, or none. */
export function meterKey(kind: MeterKind, key: Uint8Array | null): Uint8Array | null {
  if (key) return key;
  return kind === 'dlms-mbus' || kind === 'mbus-amis' ? Uint8Array.from(Buffer.from(DEMO_KEY, 'hex')) : null;
}

/** The meter kinds that can sit at the PV inverter: a generation meter needs a meter id of its own. */
export const PV_METER_KINDS: MeterKind[] = ['sml'];

export function createMeter(kind: MeterKind, household: HouseholdModel, state: MeterState | null, start: number, key: Uint8Array | null, site: Site = 'grid'): VirtualMeter {
  if (site === 'pv') {
    if (!PV_METER_KINDS.includes(kind)) throw new Error(`a meter at the PV inverter is one of ${PV_METER_KINDS.join(', ')}, not ${kind}`);
    return new SmlMeter(household.at('pv'), state, start, SML_PV_SERIAL);
  }
  switch (kind) {
    case 'sml':
      return new SmlMeter(household, state, start);
    case 'd0':
      return new D0Meter(household, state, start);
    case 'dsmr':
      return new DsmrMeter(household, state, start);
    case 'dlms-mbus':
      return new KaifaMbusMeter(household, state, start, key);
    case 'dlms-hdlc':
      return key ? new WienerNetzeHdlcMeter(household, state, start, key) : new AidonHdlcMeter(household, state, start);
    case 'mbus-amis':
      return new AmisMbusMeter(household, state, start, key ?? Uint8Array.from(Buffer.from(DEMO_KEY, 'hex')));
  }
}
