// DLMS/COSEM meters.
//  - dlms-mbus: a Kaifa MA309 on an Austrian customer interface (EVN): every
//    5 s a data-notification with a flat {OBIS, value, {scaler, unit}} list,
//    encrypted (security control 0x20) with the customer's key and a rising
//    frame counter, in two wired M-Bus long frames, 2400 8E1.
//  - dlms-hdlc with a key: an Iskraemeco AM550 at Wiener Netze: every 5 s the
//    positional list (clock, A+, A-, R+, R-, P+, P-, Q+, Q-), encrypted, in
//    HDLC, on the optical interface at 9600 8N1.
//  - dlms-hdlc without a key: an Aidon meter on a Nordic HAN port: every 10 s
//    an OBIS-tagged list in plain HDLC, 2400 8E1.

import {
  array, cosemDateTime, dataNotification, gloCipher, hdlcFrames, mbusFrames, obis, octets, scalerUnit, struct, u16, u32, visible, i16, type Axdr,
} from '../telegrams/dlms';
import type { Power } from '../household';
import { utcOffset, isSummerTime } from '../../src/time/zone';
import { canonical, quantise, VirtualMeter, type HouseholdModelLike, type MeterState, type Telegram, type TruthValue } from './meter';

const ZONE = 'Europe/Vienna';

function clock(t: number, withDeviation: boolean): number[] {
  return cosemDateTime({ utcMs: t - (t % 1000), offset: withDeviation ? utcOffset(ZONE, t) : null, localOffset: utcOffset(ZONE, t), dst: isSummerTime(ZONE, t) });
}

abstract class EncryptedMeter extends VirtualMeter {
  protected readonly key: Uint8Array | null;
  protected abstract readonly systemTitle: Uint8Array;

  constructor(household: HouseholdModelLike, state: MeterState | null, start: number, key: Uint8Array | null) {
    super(household, state, start);
    this.key = key;
  }

  protected cipher(apdu: Uint8Array): Uint8Array {
    if (!this.key) return apdu;
    this.state.frameCounter = (this.state.frameCounter + 1) >>> 0;
    return gloCipher(apdu, { systemTitle: this.systemTitle, frameCounter: this.state.frameCounter, key: this.key, securityControl: 0x20 });
  }
}

/** {OBIS, value, {scaler, unit}} with the truth it stands for. */
function register(values: { [k: string]: TruthValue }, key: string, code: number[], raw: number, scaler: number, unitCode: number, unit: string, wide = true): Axdr[] {
  values[key] = { value: canonical(raw, scaler), unit };
  return [obis(code[0], code[1], code[2], code[3], code[4]), wide ? u32(raw) : u16(raw), scalerUnit(scaler, unitCode)];
}

export class KaifaMbusMeter extends EncryptedMeter {
  readonly kind = 'dlms-mbus';
  readonly connector = 'mbus' as const;
  readonly line = { baud: 2400, dataBits: 8 as const, parity: 'even' as const, stopBits: 1 as const, inverted: false };
  readonly cadence = 5000;
  protected readonly systemTitle = Uint8Array.of(0x4b, 0x46, 0x4d, 0x67, 0x50, 0x00, 0x08, 0x81);

  protected encode(t: number, power: Power): Telegram {
    const r = this.state.registers;
    const values: { [k: string]: TruthValue } = {};
    const ph = power.phases;
    const body = struct(
      octets(clock(t, true)),
      ...register(values, '1-0:1.8.0', [1, 0, 1, 8, 0], quantise(r.importWh, 0), 0, 30, 'Wh'),
      ...register(values, '1-0:2.8.0', [1, 0, 2, 8, 0], quantise(r.exportWh, 0), 0, 30, 'Wh'),
      ...register(values, '1-0:1.7.0', [1, 0, 1, 7, 0], quantise(Math.max(power.p, 0), 0), 0, 27, 'W'),
      ...register(values, '1-0:2.7.0', [1, 0, 2, 7, 0], quantise(Math.max(-power.p, 0), 0), 0, 27, 'W'),
      ...register(values, '1-0:32.7.0', [1, 0, 32, 7, 0], quantise(ph[0].v, -1), -1, 35, 'V', false),
      ...register(values, '1-0:52.7.0', [1, 0, 52, 7, 0], quantise(ph[1].v, -1), -1, 35, 'V', false),
      ...register(values, '1-0:72.7.0', [1, 0, 72, 7, 0], quantise(ph[2].v, -1), -1, 35, 'V', false),
      ...register(values, '1-0:31.7.0', [1, 0, 31, 7, 0], quantise(ph[0].i, -2), -2, 33, 'A', false),
      ...register(values, '1-0:51.7.0', [1, 0, 51, 7, 0], quantise(ph[1].i, -2), -2, 33, 'A', false),
      ...register(values, '1-0:71.7.0', [1, 0, 71, 7, 0], quantise(ph[2].i, -2), -2, 33, 'A', false),
      obis(1, 0, 13, 7, 0), i16(950), scalerUnit(-3, 255),
      octets(new TextEncoder().encode('181220002177')),
    );
    const apdu = dataNotification(this.state.frameCounter + 1, clock(t, true), body);
    return { bytes: mbusFrames(this.cipher(apdu), { segment: 245 }), truth: { time: t, values } };
  }
}

export class WienerNetzeHdlcMeter extends EncryptedMeter {
  readonly kind = 'dlms-hdlc';
  readonly connector = 'optical' as const;
  readonly line = { baud: 9600, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const, inverted: false };
  readonly cadence = 5000;
  protected readonly systemTitle = Uint8Array.of(0x49, 0x53, 0x4b, 0x69, 0x74, 0xa8, 0xd8, 0x99);

  protected encode(t: number, power: Power): Telegram {
    const r = this.state.registers;
    const raw = [
      quantise(r.importWh, 0), quantise(r.exportWh, 0), quantise(r.reactiveImport, 0), quantise(r.reactiveExport, 0),
      quantise(Math.max(power.p, 0), 0), quantise(Math.max(-power.p, 0), 0), quantise(Math.max(power.q, 0), 0), quantise(Math.max(-power.q, 0), 0),
    ];
    const keys = ['1-0:1.8.0', '1-0:2.8.0', '1-0:3.8.0', '1-0:4.8.0', '1-0:1.7.0', '1-0:2.7.0', '1-0:3.7.0', '1-0:4.7.0'];
    const units = ['Wh', 'Wh', 'varh', 'varh', 'W', 'W', 'var', 'var'];
    const values: { [k: string]: TruthValue } = {};
    keys.forEach((k, i) => (values[k] = { value: raw[i], unit: units[i] }));
    const apdu = dataNotification(this.state.frameCounter + 1, clock(t, false), struct(octets(clock(t, false)), ...raw.map(u32)));
    return { bytes: hdlcFrames(this.cipher(apdu), { destination: [0xcf], source: [0x02, 0x23] }), truth: { time: t, values } };
  }
}

export class AidonHdlcMeter extends VirtualMeter {
  readonly kind = 'dlms-hdlc';
  readonly connector = 'mbus' as const;
  readonly line = { baud: 2400, dataBits: 8 as const, parity: 'even' as const, stopBits: 1 as const, inverted: false };
  readonly cadence = 10000;

  protected encode(t: number, power: Power): Telegram {
    const r = this.state.registers;
    const values: { [k: string]: TruthValue } = {};
    const ph = power.phases;
    const entry = (key: string, code: number[], raw: number, scaler: number, unitCode: number, unit: string, wide = true) =>
      struct(...register(values, key, code, raw, scaler, unitCode, unit, wide));
    const body = array(
      struct(obis(1, 1, 0, 2, 129), visible('AIDON_V0001')),
      struct(obis(0, 0, 96, 1, 0), visible('7359992890497997')),
      entry('1-0:1.7.0', [1, 0, 1, 7, 0], quantise(Math.max(power.p, 0), 0), 0, 27, 'W'),
      entry('1-0:2.7.0', [1, 0, 2, 7, 0], quantise(Math.max(-power.p, 0), 0), 0, 27, 'W'),
      entry('1-0:31.7.0', [1, 0, 31, 7, 0], quantise(ph[0].i, -1), -1, 33, 'A', false),
      entry('1-0:32.7.0', [1, 0, 32, 7, 0], quantise(ph[0].v, -1), -1, 35, 'V', false),
      struct(obis(0, 0, 1, 0, 0), octets(clock(t, false))),
      entry('1-0:1.8.0', [1, 0, 1, 8, 0], quantise(r.importWh, 1), 1, 30, 'Wh'),
      entry('1-0:2.8.0', [1, 0, 2, 8, 0], quantise(r.exportWh, 1), 1, 30, 'Wh'),
    );
    const apdu = dataNotification(0x40000000, null, body);
    return { bytes: hdlcFrames(apdu, { destination: [0x41], source: [0x08, 0x83], control: 0x13 }), truth: { time: t, values } };
  }
}
