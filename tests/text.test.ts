// DSMR P1 and IEC 62056-21 on synthesised telegrams: the variants the real
// captures do not all show.

import { describe, expect, it } from 'vitest';
import { decodeAll } from './support/decode';
import { d0Telegram, dsmrTelegram } from '../simulator/telegrams/text';
import { gloCipher } from '../simulator/telegrams/dlms';
import { isoUtc } from '../src/time/zone';
import { fromHex } from '../src/codec/bytes';

const dsmr = (bytes: Uint8Array, key?: Uint8Array, authKey?: Uint8Array) => decodeAll({ protocol: 'dsmr', key, authKey }, bytes);

const NL = [
  '1-3:0.2.8(50)',
  '0-0:1.0.0(240115093000W)',
  '0-0:96.1.1(4530303434303036393033333132393137)',
  '1-0:1.8.1(000156.167*kWh)',
  '1-0:1.8.2(000071.546*kWh)',
  '0-0:96.14.0(0002)',
  '1-0:1.7.0(00.519*kW)',
  '0-0:96.7.21(00009)',
  '1-0:99.97.0(1)(0-0:96.7.19)(170609063239S)(0000000267*s)',
  '0-0:96.13.0()',
  '1-0:32.7.0(234.8*V)',
  '0-1:24.1.0(003)',
  '0-1:96.1.0(4730303339303031373633333738373137)',
  '0-1:24.2.1(240115091500W)(00212.529*m3)',
];

describe('DSMR P1', () => {
  it('reads a DSMR 5 telegram: registers, ids as text, gas with its own capture time', () => {
    const out = dsmr(dsmrTelegram('ISK5\\2M550T-1012', NL));
    expect(out.errors).toEqual([]);
    const r = out.readings[0];
    expect(r.meterId).toBe('E0044006903312917');
    expect(isoUtc(r.time!)).toBe('2024-01-15T08:30:00Z');
    expect(r.values['1-0:1.8.1']).toEqual({ value: 156167, unit: 'Wh' });
    expect(r.values['1-0:1.7.0']).toEqual({ value: 519, unit: 'W' });
    expect(r.values['0-0:96.14.0']).toEqual({ value: 2, unit: '' });
    expect(r.values['0-0:96.7.21']).toEqual({ value: 9, unit: '' });
    expect(r.values['0-0:96.13.0']).toEqual({ text: '' });
    expect(r.values['1-3:0.2.8']).toEqual({ text: '50' });
    expect(r.values['0-1:96.1.0']).toEqual({ text: 'G0039001763378717' });
    expect(r.values['0-1:24.2.1']).toEqual({ value: 212.529, unit: 'm3', time: Date.UTC(2024, 0, 15, 8, 15) });
    expect(r.values['1-0:99.97.0']).toBeUndefined();
  });

  it('accepts a CRC written with fewer than four digits', () => {
    // Find lines whose CRC has a leading zero, so that the short form differs.
    let lines = NL;
    for (let k = 0; k < 200; k++) {
      const full = new TextDecoder().decode(dsmrTelegram('KFM5KAIFA-METER', lines));
      if (/!0[0-9A-F]{3}\r\n$/.test(full)) break;
      lines = [...NL, `1-0:32.32.0(${String(k).padStart(5, '0')})`];
    }
    const short = dsmrTelegram('KFM5KAIFA-METER', lines, { crc: 'short' });
    expect(new TextDecoder().decode(short)).toMatch(/![0-9A-F]{1,3}\r\n$/);
    expect(dsmr(short).errors).toEqual([]);
  });

  it('reads DSMR 2.2: no CRC, gas on a continuation line', () => {
    const out = dsmr(dsmrTelegram('ISk5\\2ME382-1003', ['0-0:96.1.1(4B384547303034303436333935353037)', '1-0:1.8.1(00185.000*kWh)', '0-1:24.3.0(090212160000)(00)(60)(1)(0-1:24.2.1)(m3)', '(00001.001)'], { crc: 'none' }));
    expect(out.errors).toEqual([]);
    expect(out.readings[0].values['0-1:24.2.1']).toEqual({ value: 1.001, unit: 'm3', time: Date.UTC(2009, 1, 12, 15, 0) });
  });

  it('breaks out the Belgian capacity-tariff history by month', () => {
    const out = dsmr(dsmrTelegram('FLU5\\253769484_A', [
      '1-0:1.4.0(02.351*kW)',
      '1-0:1.6.0(200509134558S)(02.589*kW)',
      '0-0:98.1.0(2)(1-0:1.6.0)(1-0:1.6.0)(200501000000S)(200423192538S)(03.695*kW)(200401000000S)(200305122139W)(05.980*kW)',
    ]));
    const v = out.readings[0].values;
    expect(v['1-0:1.6.0']).toEqual({ value: 2589, unit: 'W', time: Date.UTC(2020, 4, 9, 11, 45, 58) });
    expect(v['1-0:1.6.0*101']).toEqual({ value: 3695, unit: 'W', time: Date.UTC(2020, 3, 23, 17, 25, 38) });
    expect(v['1-0:1.6.0*102']).toEqual({ value: 5980, unit: 'W', time: Date.UTC(2020, 2, 5, 11, 21, 39) });
    expect(v['0-0:98.1.0']).toEqual({ value: 5980, unit: 'W', time: Date.UTC(2020, 2, 5, 11, 21, 39) });
  });

  it('gives no time for placeholder timestamps', () => {
    const out = dsmr(dsmrTelegram('X', ['0-0:1.0.0(632525252525W)', '1-0:1.8.0(1*kWh)']));
    expect(out.readings[0].time).toBeNull();
  });

  it('rejects malformed lines and CRC lines', () => {
    expect(dsmr(dsmrTelegram('X', ['1-0:1.8.0(1*kWh'])).errors.map((e) => e.reason)).toEqual(['structure']);
    const bad = new TextEncoder().encode('/X\r\n\r\n1-0:1.8.0(1*kWh)\r\n!12G4\r\n');
    expect(dsmr(bad).errors.map((e) => e.reason)).toEqual(['framing']);
  });

  describe('encrypted P1 (general-glo-ciphering around the telegram)', () => {
    const key = fromHex('000102030405060708090a0b0c0d0e0f')!;
    const ak = fromHex('d0d1d2d3d4d5d6d7d8d9dadbdcdddedf')!;
    const st = Uint8Array.from('SAGgp\x01\xbdT', (c) => c.charCodeAt(0));
    const plain = dsmrTelegram('Lux5\\253663629_D', NL);

    it('decrypts a tagged frame (82 NNNN length) and verifies the tag with the authentication key', () => {
      const frame = gloCipher(plain, { systemTitle: st, frameCounter: 0x1234, key, securityControl: 0x30, authKey: ak });
      expect(frame[10]).toBe(0x82);
      const out = dsmr(frame, key, ak);
      expect(out.errors).toEqual([]);
      expect(out.readings[0].security).toEqual({ encrypted: true, authenticated: true });
      expect(out.readings[0].frameCounter).toBe(0x1234);
      expect(out.readings[0].systemTitle).toBe('SAG6770' + '01BD54');
    });

    it('rejects a frame whose tag does not verify', () => {
      const frame = gloCipher(plain, { systemTitle: st, frameCounter: 1, key, securityControl: 0x30, authKey: ak });
      frame[frame.length - 1] ^= 1;
      expect(dsmr(frame, key, ak).errors.map((e) => e.reason)).toEqual(['auth']);
      // Without the authentication key the tag cannot be checked, and the telegram's own CRC still holds.
      expect(dsmr(frame, key).readings).toHaveLength(1);
    });

    it('says that a key is needed, and that a wrong key is wrong', () => {
      const frame = gloCipher(plain, { systemTitle: st, frameCounter: 1, key, securityControl: 0x20 });
      expect(dsmr(frame).errors.map((e) => e.reason)).toEqual(['key-missing']);
      expect(dsmr(frame, ak).errors.map((e) => e.reason)).toEqual(['wrong-key']);
      expect(dsmr(frame, ak).errors[0].message).toMatch(/wrong key\?/);
    });
  });
});

describe('IEC 62056-21', () => {
  const d0 = (bytes: Uint8Array) => decodeAll({ protocol: 'd0', zone: 'Europe/Berlin' }, bytes);
  const LINES = ['0.0.0(1EBZ0100507409)', '1.8.0(000123.4567*kWh)', '2.8.0*255(000001.2*kWh)', '16.7.0(000211.26*W)', '0.9.1(142530)', '0.9.2(1240615)', 'F.F(00000000)'];

  it('reads mode D push with short OBIS codes and the meter clock', () => {
    const out = d0(d0Telegram('EBZ5DD32R06ETA_107', LINES));
    expect(out.errors).toEqual([]);
    const r = out.readings[0];
    expect(r.meterId).toBe('1EBZ0100507409');
    expect(r.values['1-0:1.8.0']).toEqual({ value: 123456.7, unit: 'Wh' });
    expect(r.values['1-0:2.8.0']).toEqual({ value: 1200, unit: 'Wh' });
    expect(r.values['1-0:16.7.0']).toEqual({ value: 211.26, unit: 'W' });
    expect(r.values['1-0:F.F.0']).toEqual({ text: '00000000' });
    expect(isoUtc(r.time!)).toBe('2024-06-15T12:25:30Z');
  });

  it('checks the BCC of a mode C readout', () => {
    const good = d0Telegram('ISk5MT174-0001', LINES, 'C');
    expect(d0(good).readings).toHaveLength(1);
    const bad = good.slice();
    bad[bad.length - 5] ^= 0x01;
    expect(d0(bad).errors.map((e) => e.reason)).toEqual(['crc']);
  });

  it('finds telegrams between garbage and reports one cut short', () => {
    const t = d0Telegram('LOG5LK13BE803049', LINES);
    const stream = Uint8Array.from([0xff, 0x20, ...t.subarray(0, 30), 0x0a, ...t, 0x00]);
    const out = d0(stream);
    expect(out.readings).toHaveLength(1);
    expect(out.errors.map((e) => e.reason)).toEqual(['truncated']);
  });
});
