// Wired M-Bus with the EN 13757-3 application layer and OMS security mode 5:
// the public Siemens AMIS TD-3511 captures (tests/vectors/mbus-oms.json, with
// their sources), their derived negatives, the dlms setting's detection by CI,
// and frames from the repository's own encoder for what the captures do not show.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatAll, decodeAll } from './support/decode';
import { fromHex, toHex } from '../src/codec/bytes';
import { isoUtc } from '../src/time/zone';
import { nodeCrypto } from '../hosts/node/crypto';
import { dateTimeI, encodeRecords, mbusApplicationFrame, TD3511 } from '../simulator/telegrams/mbus';
import { checksum } from '../src/meter/mbus/link';
import type { TelegramProtocol } from '../src/meter/reading';

interface MbusVector {
  id: string;
  protocol: TelegramProtocol;
  hex: string;
  key: string;
  expect: { values: Record<string, { value: number; unit: string }> };
  expectError: string | null;
  reference?: { plaintext?: string; iv?: string };
}

const VECTORS = JSON.parse(readFileSync(new URL('./vectors/mbus-oms.json', import.meta.url), 'utf8')) as MbusVector[];
const vector = (id: string) => VECTORS.find((v) => v.id === id)!;
const bytes = (v: MbusVector) => fromHex(v.hex)!;
const decode = (input: Uint8Array, key: string | null, protocol: TelegramProtocol = 'mbus') =>
  decodeAll({ protocol, key: key ? fromHex(key) : null, zone: 'Europe/Vienna' }, input);

/** Recomputes the checksum of the one long frame in b (after an edit). */
function reseal(b: Uint8Array): Uint8Array {
  const out = b.slice();
  out[out.length - 2] = checksum(out, 4, out.length - 2);
  return out;
}

describe('the public AMIS captures', () => {
  for (const v of VECTORS.filter((x) => !x.expectError)) {
    it(`decodes ${v.id} to the records its source states, with --protocol mbus and with the dlms setting`, () => {
      for (const protocol of ['mbus', 'dlms'] as const) {
        const out = decode(bytes(v), v.key, protocol);
        expect(out.errors.map((e) => e.message)).toEqual([]);
        const r = out.readings[0];
        expect(r.protocol).toBe('mbus');
        expect(r.security).toEqual({ encrypted: true, authenticated: false });
        for (const [obis, want] of Object.entries(v.expect.values)) expect(r.values[obis], obis).toEqual(want);
      }
    });
  }

  for (const v of VECTORS.filter((x) => x.expectError)) {
    it(`rejects ${v.id} with a reason, and no reading`, () => {
      const out = decode(bytes(v), v.key);
      expect(out.readings).toEqual([]);
      expect(out.errors.length).toBeGreaterThan(0);
      const expected = v.id.endsWith('~wrongkey') ? 'wrong-key' : v.id.endsWith('~flip') ? 'crc' : 'truncated';
      for (const e of out.errors) expect(e.reason).toBe(expected);
    });
  }

  it('decrypts the Automatica frame to the plaintext its test states, with the IV it states', () => {
    const v = vector('at-netzooe-siemens-td3511-automatica');
    const f = bytes(v);
    const iv = Uint8Array.from([f[11], f[12], ...f.subarray(7, 11), f[13], f[14], ...new Array(8).fill(f[15])]);
    expect(toHex(iv).toUpperCase()).toBe(v.reference!.iv);
    const plain = nodeCrypto.importKey(fromHex(v.key)!).cbcDecrypt(iv, f.subarray(19, 99));
    expect(toHex(plain).toUpperCase()).toBe(v.reference!.plaintext);
    // Its clock: 2018-04-16 12:34:02 in summer time.
    expect(isoUtc(decode(f, v.key).readings[0].time!)).toBe('2018-04-16T10:34:02Z');
  });

  it('reads both vzlogger frames: 1.8.0, 2.8.0, 1.7.0 and 2.7.0 of each, the second at 23:36:03 local, as its test says', () => {
    const v = vector('at-netzooe-siemens-td3511-vzlogger');
    const out = decode(bytes(v), v.key);
    expect(out.errors).toEqual([]);
    expect(out.readings).toHaveLength(2);
    const four = out.readings.flatMap((r) => ['1-0:1.8.0', '1-0:2.8.0', '1-0:1.7.0', '1-0:2.7.0'].filter((k) => r.values[k] !== undefined));
    expect(four).toHaveLength(8);
    expect(isoUtc(out.readings[1].time!)).toBe('2015-06-20T21:36:03Z');
  });

  it('says a key is needed, and skips the SND_NKE and E5 between frames', () => {
    const v = vector('at-netzooe-siemens-td3511-automatica');
    expect(decode(bytes(v), null).errors.map((e) => e.reason)).toEqual(['key-missing']);
    const stream = concatAll([Uint8Array.of(0x10, 0x40, 0xf0, 0x30, 0x16, 0xe5), bytes(v), Uint8Array.of(0xe5), bytes(v)]);
    const out = decode(stream, v.key);
    expect(out.errors).toEqual([]);
    expect(out.readings).toHaveLength(2);
  });

  it('a flipped first block under a resealed checksum fails the 2F 2F check: wrong-key, no reading', () => {
    const v = vector('at-netzooe-siemens-td3511-automatica');
    const bad = bytes(v);
    bad[25] ^= 0x01; // ciphertext block 1
    expect(decode(reseal(bad), v.key).errors.map((e) => e.reason)).toEqual(['wrong-key']);
  });
});

describe('EN 13757-3 frames from the encoder', () => {
  const KEY = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i);
  const header = { id: '12345678', manufacturer: 'SAM', version: 1, medium: 2, access: 0x42 };
  const clock = [...TD3511.time.dib, ...TD3511.time.vib, ...dateTimeI({ year: 2025, month: 1, day: 15, hour: 12, minute: 0, second: 5, summer: false })];
  const records = [
    ...clock,
    ...encodeRecords([
      { ...TD3511.importWh, dib: [...TD3511.importWh.dib], vib: [...TD3511.importWh.vib], value: 1234567 },
      { ...TD3511.exportW, dib: [...TD3511.exportW.dib], vib: [...TD3511.exportW.vib], value: 321 },
      { ...TD3511.debitWh, dib: [...TD3511.debitWh.dib], vib: [...TD3511.debitWh.vib], value: -5000 },
    ]),
  ];

  it('reads the records of an encrypted TD-3511 frame, its local clock and its identification number', () => {
    const out = decode(mbusApplicationFrame(header, records, { key: KEY }), toHex(KEY));
    expect(out.errors).toEqual([]);
    const r = out.readings[0];
    expect(r.meterId).toBe('12345678');
    expect(isoUtc(r.time!)).toBe('2025-01-15T11:00:05Z');
    expect(r.values).toEqual({
      '1-0:1.8.0': { value: 1234567, unit: 'Wh' },
      '1-0:2.7.0': { value: 321, unit: 'W' },
      '1-0:1.128.0': { value: -5000, unit: 'Wh' },
    });
  });

  it('reads an unencrypted RSP_UD (CI 0x72, mode 0), scales and tariffs included', () => {
    const plain = encodeRecords([
      { dib: [0x04], vib: [0x05], value: 42 }, // 10^2 Wh
      { dib: [0x84, 0x20], vib: [0x03], value: 7 }, // tariff 2
      { dib: [0x02], vib: [0xfd, 0x48], value: 2301 }, // 0.1 V
      { dib: [0x02], vib: [0xfd, 0x59], value: 1520 }, // 0.001 A
      { dib: [0x44], vib: [0x03], value: 99 }, // storage 1: a past value, not mapped
    ]);
    const out = decode(mbusApplicationFrame(header, plain, { ci: 0x72, control: 0x08, address: 0x01 }), null);
    expect(out.errors).toEqual([]);
    expect(out.readings[0].security).toEqual({ encrypted: false, authenticated: false });
    expect(out.readings[0].values).toEqual({
      '1-0:1.8.0': { value: 4200, unit: 'Wh' },
      '1-0:1.8.2': { value: 7, unit: 'Wh' },
      '1-0:32.7.0': { value: 230.1, unit: 'V' },
      '1-0:31.7.0': { value: 1.52, unit: 'A' },
    });
  });

  it('refuses what it cannot read, with the reason: other security modes, DLMS CIs, encrypted short headers', () => {
    const frame = mbusApplicationFrame(header, records, { key: KEY });
    const mode7 = frame.slice();
    mode7[18] = 0x07; // configuration word, high byte: mode 7
    expect(decode(reseal(mode7), toHex(KEY)).errors.map((e) => e.message)).toEqual([expect.stringMatching(/security mode 7/)]);
    const dlms = frame.slice();
    dlms[6] = 0x00;
    expect(decode(reseal(dlms), toHex(KEY)).errors.map((e) => e.message)).toEqual([expect.stringMatching(/carries DLMS: use the dlms protocol/)]);
    const short = Uint8Array.from([0x68, 0x09, 0x09, 0x68, 0x08, 0x01, 0x7a, 0x01, 0x00, 0x50, 0x05, 0x2f, 0x2f, 0, 0x16]);
    expect(decode(reseal(short), toHex(KEY)).errors.map((e) => e.reason)).toEqual(['unsupported']);
  });

  it('a record that runs past the frame is a structure error, never a fault', () => {
    const frame = mbusApplicationFrame(header, [0x04, 0x03, 0x01, 0x02], { ci: 0x72 });
    expect(decode(frame, null).errors.map((e) => e.reason)).toEqual(['structure']);
  });

  it('the dlms setting reads DLMS segments and EN 13757-3 frames on the same line', () => {
    const v = vector('at-netzooe-siemens-td3511-automatica');
    const kaifa = JSON.parse(readFileSync(new URL('../../shared/vectors/public.json', import.meta.url), 'utf8')).find((x: { id: string }) => x.id === 'at-evn-kaifa-ma309-capture');
    const stream = concatAll([fromHex(kaifa.hex)!, bytes(v)]);
    // Two keys cannot be configured: the Kaifa frames decrypt, the AMIS one says the key is wrong.
    const out = decode(stream, kaifa.key, 'dlms');
    expect(out.readings.map((r) => r.protocol)).toEqual(['dlms']);
    expect(out.errors.map((e) => e.reason)).toEqual(['wrong-key']);
  });
});
