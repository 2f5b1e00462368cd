// An EasyMeter Q3D-style IEC 62056-21 mode D meter on the optical interface
// (9600 7E1): every second A+ and A- in kWh with seven decimals, power total
// and per phase in W with two.

import { d0Telegram } from '../telegrams/text';
import type { Power } from '../household';
import { canonical, quantise, VirtualMeter, type Telegram } from './meter';

function decimal(raw: number, decimals: number, width: number): string {
  const sign = raw < 0 ? '-' : '';
  const digits = String(Math.abs(raw)).padStart(decimals + 1, '0');
  return sign + (digits.slice(0, -decimals).padStart(width, '0') + '.' + digits.slice(-decimals));
}

export class D0Meter extends VirtualMeter {
  readonly kind = 'd0';
  readonly connector = 'optical' as const;
  readonly line = { baud: 9600, dataBits: 7 as const, parity: 'even' as const, stopBits: 1 as const, inverted: false };
  readonly cadence = 1000;

  protected encode(t: number, power: Power): Telegram {
    const r = this.state.registers;
    const aPlus = quantise(r.importWh, -4); // kWh with 7 decimals: 0.0001 Wh
    const aMinus = quantise(r.exportWh, -4);
    const p = quantise(power.p, -2);
    const phases = power.phases.map((x) => quantise(x.p, -2));
    const lines = [
      '1-0:0.0.0*255(1336001560)',
      `1-0:1.8.0*255(${decimal(aPlus, 7, 8)}*kWh)`,
      `1-0:2.8.0*255(${decimal(aMinus, 7, 8)}*kWh)`,
      `1-0:21.7.0*255(${decimal(phases[0], 2, 6)}*W)`,
      `1-0:41.7.0*255(${decimal(phases[1], 2, 6)}*W)`,
      `1-0:61.7.0*255(${decimal(phases[2], 2, 6)}*W)`,
      `1-0:1.7.0*255(${decimal(p, 2, 6)}*W)`,
      '1-0:96.5.5*255(80)',
      '0-0:96.1.255*255(1ESY1336001560)',
    ];
    return {
      bytes: d0Telegram('ESY5Q3DA1004 V3.04', lines),
      truth: {
        time: t,
        values: {
          '1-0:1.8.0': { value: canonical(aPlus, -4), unit: 'Wh' },
          '1-0:2.8.0': { value: canonical(aMinus, -4), unit: 'Wh' },
          '1-0:21.7.0': { value: canonical(phases[0], -2), unit: 'W' },
          '1-0:41.7.0': { value: canonical(phases[1], -2), unit: 'W' },
          '1-0:61.7.0': { value: canonical(phases[2], -2), unit: 'W' },
          '1-0:1.7.0': { value: canonical(p, -2), unit: 'W' },
        },
      },
    };
  }
}
