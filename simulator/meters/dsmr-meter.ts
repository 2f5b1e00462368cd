// A Dutch DSMR 5.0 meter on P1 (115200 8N1, inverted): every second A+ and A-
// per tariff in kWh with three decimals, import and export power, voltages,
// currents and per-phase power, and a gas meter on M-Bus channel 1 whose
// value is captured every five minutes.

import { dsmrTelegram, dsmrTimestamp } from '../telegrams/text';
import { integrate } from '../household';
import type { Power } from '../household';
import { isSummerTime } from '../../src/time/zone';
import { canonical, quantise, VirtualMeter, type Telegram } from './meter';

const HOUR = 3600000;

/** Dutch tariff 1 (low): nights 23:00-07:00 and weekends; tariff 2 (normal) otherwise. */
function lowTariff(t: number): boolean {
  const local = new Date(t + (isSummerTime('Europe/Amsterdam', t) ? 2 : 1) * HOUR);
  const day = local.getUTCDay();
  const hour = local.getUTCHours();
  return day === 0 || day === 6 || hour >= 23 || hour < 7;
}

const kwh = (raw: number, width = 6) => String(Math.floor(raw / 1000)).padStart(width, '0') + '.' + String(raw % 1000).padStart(3, '0');
const hex = (s: string) => Array.from(s, (c) => c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')).join('');

const EQUIPMENT = hex('E0044006903312917');
const GAS_EQUIPMENT = hex('G0039001763378717');

export class DsmrMeter extends VirtualMeter {
  readonly kind = 'dsmr';
  readonly connector = 'optical' as const;
  readonly line = { baud: 115200, dataBits: 8 as const, parity: 'none' as const, stopBits: 1 as const, inverted: true };
  readonly cadence = 1000;

  protected accumulate(t: number, power: Power, ms: number): void {
    const x = this.state.extra;
    const tariff = lowTariff(t) ? 1 : 2;
    const r = { importWh: x['import' + tariff] ?? 600000, exportWh: x['export' + tariff] ?? 190000, reactiveImport: 0, reactiveExport: 0 };
    integrate(r, power.p, power.q, ms);
    x['import' + tariff] = r.importWh;
    x['export' + tariff] = r.exportWh;
    // Gas for hot water and cooking: a little all day, more in the morning and evening.
    const hour = ((t + HOUR) % (24 * HOUR)) / HOUR;
    const rate = 0.02 + (hour >= 6 && hour < 9 ? 0.25 : 0) + (hour >= 18 && hour < 21 ? 0.15 : 0); // m3/h
    x.gas = (x.gas ?? 4123.456) + (rate * ms) / HOUR;
  }

  protected encode(t: number, power: Power): Telegram {
    const x = this.state.extra;
    const importT1 = quantise(x.import1 ?? 600000, 0);
    const importT2 = quantise(x.import2 ?? 600000, 0);
    const exportT1 = quantise(x.export1 ?? 190000, 0);
    const exportT2 = quantise(x.export2 ?? 190000, 0);
    const importW = quantise(Math.max(power.p, 0), 0);
    const exportW = quantise(Math.max(-power.p, 0), 0);
    // The gas meter reports over M-Bus every five minutes: the value captured at the last boundary.
    const gasAt = Math.floor(t / 300000) * 300000;
    if (x.gasCapture !== gasAt) {
      x.gasCapture = gasAt;
      x.gasCaptured = x.gas ?? 4123.456;
    }
    const gas = Math.round(x.gasCaptured * 1000);
    const summer = isSummerTime('Europe/Amsterdam', t);
    const volts = power.phases.map((ph) => quantise(ph.v, -1));
    const amps = power.phases.map((ph) => Math.round(ph.i));
    const phaseImport = power.phases.map((ph) => quantise(Math.max(ph.p, 0), 0));
    const phaseExport = power.phases.map((ph) => quantise(Math.max(-ph.p, 0), 0));
    const lines = [
      '1-3:0.2.8(50)',
      `0-0:1.0.0(${dsmrTimestamp(t - (t % 1000), summer)})`,
      `0-0:96.1.1(${EQUIPMENT})`,
      `1-0:1.8.1(${kwh(importT1)}*kWh)`,
      `1-0:1.8.2(${kwh(importT2)}*kWh)`,
      `1-0:2.8.1(${kwh(exportT1)}*kWh)`,
      `1-0:2.8.2(${kwh(exportT2)}*kWh)`,
      `0-0:96.14.0(000${lowTariff(t) ? 1 : 2})`,
      `1-0:1.7.0(${kwh(importW, 2)}*kW)`,
      `1-0:2.7.0(${kwh(exportW, 2)}*kW)`,
      '0-0:96.7.21(00005)',
      '0-0:96.7.9(00002)',
      '1-0:99.97.0(0)(0-0:96.7.19)',
      '1-0:32.32.0(00000)',
      '1-0:52.32.0(00000)',
      '1-0:72.32.0(00000)',
      '0-0:96.13.0()',
      ...volts.map((v, k) => `1-0:${[32, 52, 72][k]}.7.0(${String(Math.floor(v / 10)).padStart(3, '0')}.${v % 10}*V)`),
      ...amps.map((a, k) => `1-0:${[31, 51, 71][k]}.7.0(${String(a).padStart(3, '0')}*A)`),
      ...phaseImport.map((w, k) => `1-0:${[21, 41, 61][k]}.7.0(${kwh(w, 2)}*kW)`),
      ...phaseExport.map((w, k) => `1-0:${[22, 42, 62][k]}.7.0(${kwh(w, 2)}*kW)`),
      '0-1:24.1.0(003)',
      `0-1:96.1.0(${GAS_EQUIPMENT})`,
      `0-1:24.2.1(${dsmrTimestamp(gasAt, isSummerTime('Europe/Amsterdam', gasAt))})(${String(Math.floor(gas / 1000)).padStart(5, '0')}.${String(gas % 1000).padStart(3, '0')}*m3)`,
    ];
    const values: Telegram['truth']['values'] = {
      '1-0:1.8.1': { value: importT1, unit: 'Wh' },
      '1-0:1.8.2': { value: importT2, unit: 'Wh' },
      '1-0:2.8.1': { value: exportT1, unit: 'Wh' },
      '1-0:2.8.2': { value: exportT2, unit: 'Wh' },
      '1-0:1.7.0': { value: importW, unit: 'W' },
      '1-0:2.7.0': { value: exportW, unit: 'W' },
      '0-1:24.2.1': { value: canonical(gas, -3), unit: 'm3' },
    };
    volts.forEach((v, k) => (values[`1-0:${[32, 52, 72][k]}.7.0`] = { value: canonical(v, -1), unit: 'V' }));
    amps.forEach((a, k) => (values[`1-0:${[31, 51, 71][k]}.7.0`] = { value: a, unit: 'A' }));
    return { bytes: dsmrTelegram('ISK5\\2M550T-1012', lines), truth: { time: t, values } };
  }
}
