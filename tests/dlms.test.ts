// DLMS/COSEM on synthesised frames: transports, security modes, lengths and
// the positional push lists.

import { describe, expect, it } from 'vitest';
import { decodeAll } from './support/decode';
import {
  array, cosemDateTime, dataNotification, enumeration, gloCipher, hdlcFrames, i8, mbusFrames, obis, octets,
  scalerUnit, struct, u16, u32, visible, type Axdr,
} from '../simulator/telegrams/dlms';
import { fromHex } from '../src/codec/bytes';
import { isoUtc } from '../src/time/zone';

const KEY = fromHex('825DC0D167DEEB63F49DAB4F31A86CC7')!;
const AK = fromHex('00112233445566778899AABBCCDDEEFF')!;
const KFM = Uint8Array.from('KFMgP\x00\x08\x81', (c) => c.charCodeAt(0));
const WHEN = Date.UTC(2024, 0, 15, 11, 0, 0);
const CLOCK = cosemDateTime({ utcMs: WHEN, offset: 60 });

const reg = (o: Axdr, v: Axdr, scaler: number, unit: number): Axdr[] => [o, v, scalerUnit(scaler, unit)];

/** The flat {OBIS, value, {scaler, unit}} list an EVN Kaifa MA309 sends. */
function kaifaBody(energy: number): Axdr {
  return struct(
    octets(CLOCK),
    ...reg(obis(1, 0, 1, 8, 0), u32(energy), 0, 30),
    ...reg(obis(1, 0, 2, 8, 0), u32(0), 0, 30),
    ...reg(obis(1, 0, 1, 7, 0), u32(1055), 0, 27),
    ...reg(obis(1, 0, 32, 7, 0), u16(2345), -1, 35),
    ...reg(obis(1, 0, 31, 7, 0), u16(383), -2, 33),
    visible('181220002177'),
  );
}

const decode = (bytes: Uint8Array, key: Uint8Array | null = KEY, authKey: Uint8Array | null = null, transport?: 'auto' | 'mbus' | 'hdlc' | 'apdu') =>
  decodeAll({ protocol: 'dlms', key, authKey, zone: 'Europe/Vienna', transport }, bytes);

function kaifaApdu(fc: number, sc = 0x20, energy = 1340436): Uint8Array {
  return gloCipher(dataNotification(fc, CLOCK, kaifaBody(energy)), { systemTitle: KFM, frameCounter: fc, key: KEY, securityControl: sc, authKey: AK });
}

/** A notification of over 256 bytes, as Sagemcom T210-D and TINETZ Kaifa send. */
function longApdu(fc: number): Uint8Array {
  const body = struct(...(kaifaBody(1340436) as { items: Axdr[] }).items, obis(0, 0, 96, 13, 0), octets(new Uint8Array(200).fill(0x20)));
  return gloCipher(dataNotification(fc, CLOCK, body), { systemTitle: KFM, frameCounter: fc, key: KEY, securityControl: 0x20 });
}

describe('DLMS transports', () => {
  it('reassembles an APDU from wired M-Bus segments (Austrian Kaifa)', () => {
    const apdu = kaifaApdu(7);
    const frames = mbusFrames(apdu, { segment: 60 });
    expect(frames.filter((b, i) => b === 0x68 && frames[i + 3] === 0x68).length).toBeGreaterThan(2);
    const out = decode(frames, KEY, null, 'mbus');
    expect(out.errors).toEqual([]);
    const r = out.readings[0];
    expect(r.meterId).toBe('181220002177');
    expect(r.systemTitle).toBe('KFM6750000881');
    expect(r.frameCounter).toBe(7);
    expect(isoUtc(r.time!)).toBe('2024-01-15T11:00:00Z');
    expect(r.values['1-0:1.8.0']).toEqual({ value: 1340436, unit: 'Wh' });
    expect(r.values['1-0:32.7.0']).toEqual({ value: 234.5, unit: 'V' });
    expect(r.values['1-0:31.7.0']).toEqual({ value: 3.83, unit: 'A' });
    expect(r.security).toEqual({ encrypted: true, authenticated: false });
  });

  it('tolerates Sagemcom T210-D frames whose L is the length modulo 256', () => {
    const apdu = longApdu(8);
    expect(apdu.length).toBeGreaterThan(256);
    const frames = mbusFrames(apdu, { segment: 400, lengthModulo256: true });
    expect(frames[1]).toBe((apdu.length + 5) & 0xff);
    const out = decode(frames);
    expect(out.errors).toEqual([]);
    expect(out.readings[0].values['1-0:1.8.0']).toEqual({ value: 1340436, unit: 'Wh' });
  });

  it('reports a lost M-Bus segment and decodes the next APDU', () => {
    const first = mbusFrames(kaifaApdu(9), { segment: 100 });
    const second = mbusFrames(kaifaApdu(10, 0x20, 1340500), { segment: 100 });
    // Drop the first frame's middle segment: 68 L L 68 ... 16.
    const firstLength = first[1] + 6;
    const withoutMiddle = Uint8Array.from([...first.subarray(0, firstLength), ...first.subarray(2 * firstLength), ...second]);
    const out = decode(withoutMiddle);
    expect(out.readings.map((r) => r.values['1-0:1.8.0'])).toEqual([{ value: 1340500, unit: 'Wh' }]);
    expect(out.errors.map((e) => e.reason)).toContain('truncated');
  });

  it('reassembles segmented HDLC frames and strips the LLC header', () => {
    const apdu = dataNotification(0x40000000, null, array(
      struct(obis(1, 1, 0, 2, 129), visible('AIDON_V0001')),
      struct(obis(0, 0, 96, 1, 0), visible('7359992890497997')),
      struct(obis(1, 0, 1, 7, 0), u32(4027), scalerUnit(0, 27)),
      struct(obis(1, 0, 31, 7, 0), { t: 'i16', v: 168 }, scalerUnit(-1, 33)),
      struct(obis(1, 0, 1, 8, 0), u32(10955225), scalerUnit(1, 30)),
    ));
    const frames = hdlcFrames(apdu, { segment: 40 });
    expect(frames[1] & 0x08).toBe(0x08); // the first frame says more follow
    const out = decode(frames, null);
    expect(out.errors).toEqual([]);
    expect(out.readings[0].meterId).toBe('7359992890497997');
    expect(out.readings[0].values['1-0:1.8.0']).toEqual({ value: 109552250, unit: 'Wh' });
    expect(out.readings[0].values['1-0:31.7.0']).toEqual({ value: 16.8, unit: 'A' });
    expect(out.readings[0].values['1-1:0.2.129']).toEqual({ text: 'AIDON_V0001' });
  });

  it('finds a bare data-notification between garbage', () => {
    const apdu = dataNotification(1, CLOCK, kaifaBody(42));
    const out = decode(Uint8Array.from([0x00, 0x55, ...apdu, 0xaa]), null, null, 'apdu');
    expect(out.errors).toEqual([]);
    expect(out.readings[0].values['1-0:1.8.0']).toEqual({ value: 42, unit: 'Wh' });
  });
});

describe('DLMS security', () => {
  it('verifies the tag of an authenticated frame when the authentication key is given', () => {
    const out = decode(kaifaApdu(11, 0x30), KEY, AK);
    expect(out.errors).toEqual([]);
    expect(out.readings[0].security).toEqual({ encrypted: true, authenticated: true });
  });

  it('decrypts a tagged frame with the encryption key alone', () => {
    const out = decode(kaifaApdu(12, 0x30), KEY, null);
    expect(out.readings[0].values['1-0:1.8.0']).toEqual({ value: 1340436, unit: 'Wh' });
    expect(out.readings[0].security.authenticated).toBe(false);
  });

  it('rejects a tag that does not verify, and a wrong authentication key', () => {
    const frame = kaifaApdu(13, 0x30);
    const tampered = frame.slice();
    tampered[40] ^= 0x01;
    expect(decode(tampered, KEY, AK).errors.map((e) => e.reason)).toEqual(['auth']);
    expect(decode(frame, KEY, KEY).errors.map((e) => e.reason)).toEqual(['auth']);
  });

  it('checks authentication-only frames (security control 0x10)', () => {
    const frame = kaifaApdu(14, 0x10);
    expect(decode(frame, KEY, AK).readings[0].security).toEqual({ encrypted: false, authenticated: true });
    const tampered = frame.slice();
    tampered[60] ^= 0x01;
    expect(decode(tampered, KEY, AK).errors.map((e) => e.reason)).toEqual(['auth']);
    expect(decode(frame, null, null).readings[0].security).toEqual({ encrypted: false, authenticated: false });
  });

  it('says when a key is missing and when the key is wrong', () => {
    expect(decode(kaifaApdu(15), null).errors.map((e) => e.reason)).toEqual(['key-missing']);
    const wrong = decode(kaifaApdu(15), AK);
    expect(wrong.errors.map((e) => e.reason)).toEqual(['wrong-key']);
    expect(wrong.errors[0].message).toBe('decryption produced no valid DLMS data: wrong key?');
  });

  it('rejects a ciphered frame with nothing inside (found by the fuzzer)', () => {
    const out = decode(fromHex('db0849534b69745cf6c905200000046b')!, KEY, null, 'apdu');
    expect(out.errors.map((e) => e.reason)).toEqual(['wrong-key']);
  });

  it('reads all three length forms of the ciphered frame', () => {
    const small = gloCipher(dataNotification(1, null, struct(obis(1, 0, 1, 8, 0), u32(5))), { systemTitle: KFM, frameCounter: 1, key: KEY, securityControl: 0x20 });
    const medium = gloCipher(dataNotification(1, null, struct(obis(1, 0, 1, 8, 0), u32(5), octets(new Uint8Array(120)))), { systemTitle: KFM, frameCounter: 1, key: KEY, securityControl: 0x20 });
    expect(small[10]).toBeLessThan(0x80);
    expect(medium[10]).toBe(0x81);
    expect(longApdu(1)[10]).toBe(0x82);
    for (const f of [small, medium, longApdu(1)]) expect(decode(f).readings).toHaveLength(1);
  });
});

describe('positional push lists (no OBIS codes)', () => {
  const u = u32;
  const plain = (body: Axdr, time: number[] | null = null) => decode(dataNotification(1, time, body), null);

  it('maps the Wiener Netze list', () => {
    const r = plain(struct(octets(CLOCK), u(137323), u(0), u(96027), u(1216), u(250), u(0), u(10), u(0))).readings[0];
    expect(r.values).toEqual({
      '1-0:1.8.0': { value: 137323, unit: 'Wh' }, '1-0:2.8.0': { value: 0, unit: 'Wh' },
      '1-0:3.8.0': { value: 96027, unit: 'varh' }, '1-0:4.8.0': { value: 1216, unit: 'varh' },
      '1-0:1.7.0': { value: 250, unit: 'W' }, '1-0:2.7.0': { value: 0, unit: 'W' },
      '1-0:3.7.0': { value: 10, unit: 'var' }, '1-0:4.7.0': { value: 0, unit: 'var' },
    });
    expect(r.time).toBe(WHEN);
  });

  it('maps the Austrian 0-6:25.9.0 list with its local date and time', () => {
    const r = plain(struct(obis(0, 6, 25, 9, 0), octets(new TextEncoder().encode('1121378381199')), octets([0x15, 0x0b, 0x11, 0x00]), octets([0x07, 0xe8, 0x05, 0x07, 0x02]), u(14370048), u(420837), u(1455864), u(2293936), u(9), u(0), octets([]), octets([]))).readings[0];
    expect(r.meterId).toBe('1121378381199');
    expect(r.values['1-0:1.8.0']).toEqual({ value: 14370048, unit: 'Wh' });
    expect(r.values['1-0:1.7.0']).toEqual({ value: 9, unit: 'W' });
    expect(isoUtc(r.time!)).toBe('2024-05-07T19:11:17Z');
  });

  it('maps the Netz Burgenland list', () => {
    const r = plain(struct(u16(236), u16(237), u16(236), u16(0), u16(4), u16(26), u(29), u(0), u(31358606), u(7619), u16(400), u16(53), u16(295), octets(new TextEncoder().encode('30137181')))).readings[0];
    expect(r.meterId).toBe('30137181');
    expect(r.values['1-0:51.7.0']).toEqual({ value: 0.04, unit: 'A' });
    expect(r.values['1-0:1.8.0']).toEqual({ value: 31358606, unit: 'Wh' });
    expect(Object.keys(r.values)).toHaveLength(10);
  });

  it('maps Kaifa KFM_001 list 3 (3-phase): mA and 0.1 V', () => {
    const r = plain(struct(visible('KFM_001'), visible('6970631403275928'), visible('MA304H3E'), u(4097), u(0), u(195), u(0), u(12056), u(5754), u(13412), u(2392), u(0), u(2397), octets(CLOCK), u(1000), u(2000), u(3000), u(4000))).readings[0];
    expect(r.meterId).toBe('6970631403275928');
    expect(r.values['1-0:31.7.0']).toEqual({ value: 12.056, unit: 'A' });
    expect(r.values['1-0:72.7.0']).toEqual({ value: 239.7, unit: 'V' });
    expect(r.values['1-0:4.8.0']).toEqual({ value: 4000, unit: 'varh' });
    expect(r.time).toBe(WHEN);
  });

  it('scales Kamstrup_V0001 values that come without scalers', () => {
    const r = plain(struct(visible('Kamstrup_V0001'), obis(1, 1, 0, 0, 5), visible('5706567282299475'), obis(1, 1, 1, 7, 0), u(1225), obis(1, 1, 31, 7, 0), u(180), obis(1, 1, 32, 7, 0), u16(236), obis(1, 1, 1, 8, 0), u(123456))).readings[0];
    expect(r.meterId).toBe('5706567282299475');
    expect(r.values['1-1:1.7.0']).toEqual({ value: 1225, unit: 'W' });
    expect(r.values['1-1:31.7.0']).toEqual({ value: 1.8, unit: 'A' });
    expect(r.values['1-1:32.7.0']).toEqual({ value: 236, unit: 'V' });
    expect(r.values['1-1:1.8.0']).toEqual({ value: 1234560, unit: 'Wh' });
  });

  it('asks for a report on a positional list it does not know', () => {
    const out = plain(struct(u(1), u(2), u(3), u(4), u(5)));
    expect(out.errors.map((e) => e.reason)).toEqual(['structure']);
    expect(out.errors[0].message).toMatch(/unknown DLMS push list/);
  });

  it('keeps nested values out of the registers', () => {
    const r = plain(struct(obis(1, 0, 99, 1, 0), array(struct(u(1), u(2))), obis(1, 0, 1, 8, 0), u(7), scalerUnit(0, 30), i8(0), enumeration(1))).readings[0];
    expect(r.values['1-0:1.8.0']).toEqual({ value: 7, unit: 'Wh' });
    expect(r.values['1-0:99.1.0']).toBeUndefined();
  });
});
