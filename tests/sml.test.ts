// SML decoding on synthesised files: the transport rules and the meter quirks
// the real captures do not all show.

import { describe, expect, it } from 'vitest';
import { decodeAll } from './support/decode';
import {
  closeResponse, dinServerId, getListResponse, int, message, octets, openResponse, smlFile, uint, type SmlEntry,
} from '../simulator/telegrams/sml';

const A_PLUS: SmlEntry['obis'] = [1, 0, 1, 8, 0, 255];
const POWER: SmlEntry['obis'] = [1, 0, 16, 7, 0, 255];
const ID: SmlEntry['obis'] = [1, 0, 96, 1, 0, 255];

function file(serverId: Uint8Array, entries: SmlEntry[], crc: 'x25' | 'kermit' = 'x25'): Uint8Array {
  return smlFile(
    [message(1, 0x0101, openResponse(serverId, Uint8Array.of(1, 2, 3))), message(2, 0x0701, getListResponse(serverId, entries, 12345)), message(3, 0x0201, closeResponse())],
    { crc },
  );
}

const decode = (bytes: Uint8Array) => decodeAll({ protocol: 'sml' }, bytes);

describe('SML', () => {
  const emh = dinServerId('EMH', 0, 10434630);

  it('reads registers with scaler and unit, and the DIN 43863-5 meter id', () => {
    const out = decode(file(emh, [
      { obis: ID, value: octets(emh) },
      { obis: A_PLUS, unit: 30, scaler: -1, value: uint(123456789, 8) },
      { obis: POWER, unit: 27, scaler: -1, value: int(-12345, 4) },
    ]));
    expect(out.errors).toEqual([]);
    const r = out.readings[0];
    expect(r.meterId).toBe('1EMH0010434630');
    expect(r.values['1-0:1.8.0']).toEqual({ value: 12345678.9, unit: 'Wh' });
    expect(r.values['1-0:16.7.0']).toEqual({ value: -1234.5, unit: 'W' });
    expect(r.values['1-0:96.1.0']).toEqual({ hex: '0a01454d4800009f3846' });
    expect(r.time).toBeNull(); // a second index is a counter, not a clock
  });

  it('reads integers of odd widths with sign extension', () => {
    const out = decode(file(emh, [
      { obis: [1, 0, 2, 8, 0, 255], unit: 30, scaler: 0, value: uint(0x0102_0304_05, 5) },
      { obis: POWER, unit: 27, scaler: -2, value: int(-78851, 3) },
    ]));
    expect(out.readings[0].values['1-0:2.8.0']).toEqual({ value: 0x0102030405, unit: 'Wh' });
    expect(out.readings[0].values['1-0:16.7.0']).toEqual({ value: -788.51, unit: 'W' });
  });

  it('accepts a meter without PIN: kWh resolution, no power', () => {
    const out = decode(file(emh, [{ obis: A_PLUS, unit: 30, scaler: 3, value: uint(9534, 4) }]));
    expect(out.readings[0].values).toEqual({ '1-0:1.8.0': { value: 9534000, unit: 'Wh' } });
  });

  it('un-escapes a payload that contains 1b1b1b1b', () => {
    // A 4-byte octet string of 1b's, placed so that it lands on a 4-byte boundary or not: both must survive.
    for (let pad = 0; pad < 4; pad++) {
      const text = 'x'.repeat(pad);
      const out = decode(file(emh, [
        { obis: [1, 0, 96, 50, 1, 1], value: octets(text) },
        { obis: [1, 0, 96, 50, 4, 1], value: octets(Uint8Array.of(0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b, 0x1b)) },
        { obis: A_PLUS, unit: 30, scaler: 0, value: uint(7, 4) },
      ]));
      expect(out.errors).toEqual([]);
      expect(out.readings[0].values['1-0:96.50.4*1']).toEqual({ hex: '1b1b1b1b1b1b1b1b' });
      expect(out.readings[0].values['1-0:1.8.0']).toEqual({ value: 7, unit: 'Wh' });
    }
  });

  it('accepts the CRC-16/KERMIT that some Holley DTZ541 firmware sends', () => {
    const holley = dinServerId('HLY', 2, 12345678);
    const out = decode(file(holley, [{ obis: A_PLUS, unit: 30, scaler: -1, value: uint(42, 4) }], 'kermit'));
    expect(out.errors).toEqual([]);
    expect(out.readings[0].meterId).toBe('1HLY0212345678');
  });

  it('rejects a CRC that is neither X-25 nor KERMIT', () => {
    const bytes = file(emh, [{ obis: A_PLUS, unit: 30, scaler: -1, value: uint(42, 4) }]);
    bytes[bytes.length - 1] ^= 0x40;
    expect(decode(bytes).errors.map((e) => e.reason)).toEqual(['crc']);
  });

  it('reads many entries (multi-byte list lengths)', () => {
    const entries: SmlEntry[] = [];
    for (let k = 1; k <= 20; k++) entries.push({ obis: [1, 0, 1, 8, k, 255], unit: 30, scaler: 0, value: uint(k, 2) });
    const out = decode(file(emh, entries));
    expect(Object.keys(out.readings[0].values)).toHaveLength(20);
    expect(out.readings[0].values['1-0:1.8.20']).toEqual({ value: 20, unit: 'Wh' });
  });

  describe('DZG power sign (DVS74 below serial 60,000,000)', () => {
    it('re-reads 16.7.0 as unsigned for an affected serial: 356.24 W, not -299.12 W', () => {
      const dzg = dinServerId('DZG', 0, 42082910);
      const out = decode(file(dzg, [{ obis: ID, value: octets(dzg) }, { obis: POWER, unit: 27, scaler: -2, value: int(-29912, 2) }]));
      expect(out.readings[0].values['1-0:16.7.0']).toEqual({ value: 356.24, unit: 'W' });
      expect(out.readings[0].meterId).toBe('1DZG0042082910');
    });
    it('keeps genuine negative power on other DZG meters (a generator meter)', () => {
      const dzg = dinServerId('DZG', 0, 60694611);
      const out = decode(file(dzg, [{ obis: POWER, unit: 27, scaler: -2, value: int(-10550, 2) }]));
      expect(out.readings[0].values['1-0:16.7.0']).toEqual({ value: -105.5, unit: 'W' });
    });
    it('keeps wide negative values on an affected meter: they are sign-extended', () => {
      const dzg = dinServerId('DZG', 0, 45000000);
      const out = decode(file(dzg, [{ obis: POWER, unit: 27, scaler: -2, value: int(-78851, 3) }]));
      expect(out.readings[0].values['1-0:16.7.0']).toEqual({ value: -788.51, unit: 'W' });
    });
  });

  it('rejects a file without a GetList response', () => {
    const bytes = smlFile([message(1, 0x0101, openResponse(emh, Uint8Array.of(1))), message(2, 0x0201, closeResponse())]);
    expect(decode(bytes).errors.map((e) => e.reason)).toEqual(['structure']);
  });

  it('finds files among garbage and reports a file cut by a new start', () => {
    const good = file(emh, [{ obis: A_PLUS, unit: 30, scaler: 0, value: uint(5, 4) }]);
    const cut = good.subarray(0, 40);
    const stream = Uint8Array.from([0x00, 0x1b, 0x42, ...cut, ...good, 0x1b, 0x1b]);
    const out = decode(stream);
    expect(out.readings).toHaveLength(1);
    expect(out.errors.map((e) => e.reason)).toEqual(['truncated']);
  });
});
