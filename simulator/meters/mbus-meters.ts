// Wired M-Bus meters with the EN 13757-3 application layer.
//  - mbus-amis: a Siemens AMIS TD-3511 at Netz Oberösterreich: every second
//    a SND_UD (CI 0x5B, long header, manufacturer SAM) with its nine records
//    (clock, A+, A-, R+ and R- of tariff 1, P+, P-, Q+, Q-, and the debit
//    register), encrypted with OMS security mode 5 (AES-128-CBC) under the
//    customer's key, the access number rising by one per frame; 9600 8E1 on
//    the M-Bus customer interface.
// As the real meter, it searches for its reader with SND_NKE first and waits
// for the gateway's E5 after each frame, repeating a frame that gets none
// (mbus-master.ts): a gateway that does not answer gets no readings.

import type { Power } from '../household';
import { isSummerTime, toLocal } from '../../src/time/zone';
import { dateTimeI, encodeRecords, mbusApplicationFrame, TD3511, type MbusRecord } from '../telegrams/mbus';
import { quantise, VirtualMeter, type HouseholdModelLike, type MeterState, type Telegram, type TruthValue } from './meter';
import { MbusMaster } from './mbus-master';
import type { SerialLine } from '../world/serial-line';
import type { Scheduler } from '../world/scheduler';

const ZONE = 'Europe/Vienna';

export class AmisMbusMeter extends VirtualMeter {
  readonly kind = 'mbus-amis';
  readonly connector = 'mbus' as const;
  readonly line = { baud: 9600, dataBits: 8 as const, parity: 'even' as const, stopBits: 1 as const, inverted: false };
  readonly cadence = 1000;
  private readonly key: Uint8Array;
  /** The link layer, once the meter is wired to a line. */
  link: MbusMaster | null = null;

  constructor(household: HouseholdModelLike, state: MeterState | null, start: number, key: Uint8Array) {
    super(household, state, start);
    this.key = key;
  }

  connect(line: SerialLine, scheduler: Scheduler): void {
    this.link = new MbusMaster(line, scheduler);
  }

  /** A new frame only when a reader has answered the search and the last frame was acknowledged (or given up). */
  send(t: number, line: SerialLine): Telegram | null {
    if (!this.link) return super.send(t, line);
    if (!this.link.ready(t)) return null;
    const telegram = this.emit(t);
    this.link.sendData(telegram.bytes, t);
    return telegram;
  }

  protected encode(t: number, power: Power): Telegram {
    const r = this.state.registers;
    const values: { [k: string]: TruthValue } = {};
    const records: MbusRecord[] = [];
    const put = (field: keyof typeof TD3511, key: string | null, raw: number, unit: string) => {
      records.push({ ...TD3511[field], dib: [...TD3511[field].dib], vib: [...TD3511[field].vib], value: raw });
      if (key) values[key] = { value: raw, unit };
    };
    put('importWh', '1-0:1.8.0', quantise(r.importWh, 0), 'Wh');
    put('exportWh', '1-0:2.8.0', quantise(r.exportWh, 0), 'Wh');
    put('reactiveImportVarh', '1-0:3.8.1', quantise(r.reactiveImport, 0), 'varh');
    put('reactiveExportVarh', '1-0:4.8.1', quantise(r.reactiveExport, 0), 'varh');
    put('importW', '1-0:1.7.0', quantise(Math.max(power.p, 0), 0), 'W');
    put('exportW', '1-0:2.7.0', quantise(Math.max(-power.p, 0), 0), 'W');
    put('reactiveImportVar', '1-0:3.7.0', quantise(Math.max(power.q, 0), 0), 'var');
    put('reactiveExportVar', '1-0:4.7.0', quantise(Math.max(-power.q, 0), 0), 'var');
    put('debitWh', '1-0:1.128.0', 0, 'Wh');
    const second = t - (t % 1000);
    const clock = [...TD3511.time.dib, ...TD3511.time.vib, ...dateTimeI({ ...toLocal(ZONE, second), summer: isSummerTime(ZONE, second) })];
    this.state.frameCounter = (this.state.frameCounter + 1) >>> 0;
    const access = this.state.frameCounter & 0xff;
    const bytes = mbusApplicationFrame(
      { id: '00000000', manufacturer: 'SAM', version: 0x01, medium: 0x0e, access },
      [...clock, ...encodeRecords(records)],
      { key: this.key, control: access & 1 ? 0x73 : 0x53 },
    );
    return { bytes, truth: { time: second, values } };
  }
}
