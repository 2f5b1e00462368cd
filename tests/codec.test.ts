import { describe, expect, it } from 'vitest';
import { crc16Arc, crc16Kermit, crc16X25, crc16X25Register, crc16X25Within } from '../src/codec/crc16';
import { fromHex, latin1, portableLatin1, readInt, toHex } from '../src/codec/bytes';
import { installNodeText } from '../hosts/sim/text';
import { parseDecimal, scale } from '../src/codec/decimal';
import { normaliseObis, obisKey } from '../src/obis';
import { textUnit } from '../src/units';
import { fromLocal, isoUtc, toLocal, utcOffset } from '../src/time/zone';
import { cosemDateTime } from '../src/meter/dlms/cosem-time';
import { putUtf8, utf8, utf8Decode, utf8Encode } from '../src/codec/utf8';
import fc from 'fast-check';
import { jsonText } from '../src/codec/json';

const check = new TextEncoder().encode('123456789');

describe('CRC-16 variants (catalogue check values over "123456789")', () => {
  it('X-25 is 0x906E', () => expect(crc16X25(check, 0, 9)).toBe(0x906e));
  it('KERMIT is 0x2189', () => expect(crc16Kermit(check, 0, 9)).toBe(0x2189));
  it('ARC is 0xBB3D', () => expect(crc16Arc(check, 0, 9)).toBe(0xbb3d));

  it('X-25 of a range follows from the registers of one run through it, for every length up to 4 KB', () => {
    const b = Uint8Array.from({ length: 4200 }, (_, i) => (i * 151 + 7) & 0xff);
    expect(crc16X25Register(0xffff, check, 0, 9) ^ 0xffff).toBe(0x906e);
    for (let length = 0; length <= 4096; length += length < 64 ? 1 : 61) {
      const start = length % 97;
      const before = crc16X25Register(0xffff, b, 0, start);
      const after = crc16X25Register(before, b, start, start + length);
      expect(crc16X25Within(before, after, length), String(length)).toBe(crc16X25(b, start, start + length));
      expect(crc16X25Register(after, b, start + length, 4200) ^ 0xffff).toBe(crc16X25(b, 0, 4200));
    }
  });
});

describe('bytes', () => {
  it('round-trips hex, ignoring whitespace', () => {
    expect(toHex(fromHex('1b 1B\n01 0a')!)).toBe('1b1b010a');
    expect(fromHex('abc')).toBeNull();
    expect(fromHex('zz')).toBeNull();
  });
  it('reads signed and unsigned integers of any width up to 8 bytes', () => {
    expect(readInt(Uint8Array.of(0xfe, 0xcb, 0xfd), 0, 3, true)).toBe(-78851);
    expect(readInt(Uint8Array.of(0x8b, 0x28), 0, 2, true)).toBe(-29912);
    expect(readInt(Uint8Array.of(0x8b, 0x28), 0, 2, false)).toBe(35624);
    expect(readInt(Uint8Array.of(0xff, 0xff, 0xff), 0, 3, true)).toBe(-1);
    expect(readInt(Uint8Array.of(0, 0, 0, 1, 0, 0, 0, 0), 0, 8, false)).toBe(2 ** 32);
  });
  it('decodes long text in bounded pieces', () => {
    const long = new Uint8Array(1000).fill(0x41);
    expect(portableLatin1(long, 0, 1000)).toBe('A'.repeat(1000));
  });
  it("gives the Node host's native text decoding exactly the firmware's own result", () => {
    const all = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
    installNodeText();
    expect(latin1(all, 3, 500)).toBe(portableLatin1(all, 3, 500));
    expect([...portableLatin1(all, 0, 256)].map((c) => c.charCodeAt(0))).toEqual([...all.subarray(0, 256)]);
  });
});

describe('decimal scaling is exact', () => {
  it('divides by powers of ten', () => {
    expect(scale(2345, -1)).toBe(234.5);
    expect(scale(383, -2)).toBe(3.83);
    expect(scale(10955225, 1)).toBe(109552250);
  });
  it('parses meter decimals into canonical units', () => {
    expect(parseDecimal('000000.4392', 3)).toBe(439.2);
    expect(parseDecimal('00032549.5061662', 3)).toBe(32549506.1662);
    expect(parseDecimal('-12.5', 0)).toBe(-12.5);
    expect(parseDecimal('1,5', 0)).toBeNaN();
    expect(parseDecimal('', 0)).toBeNaN();
    expect(parseDecimal('1.2.3', 0)).toBeNaN();
  });
  it('maps unit text case-insensitively, keeping what it does not know', () => {
    expect(textUnit('kWh')).toEqual({ unit: 'Wh', exp: 3 });
    expect(textUnit('KVARH')).toEqual({ unit: 'varh', exp: 3 });
    expect(textUnit('deg')).toEqual({ unit: 'deg', exp: 0 });
    expect(textUnit('MW')).toEqual({ unit: 'MW', exp: 0 });
  });
});

describe('OBIS', () => {
  it('formats keys with F only when it is not 255', () => {
    expect(obisKey(1, 0, 1, 8, 0, 255)).toBe('1-0:1.8.0');
    expect(obisKey(1, 0, 96, 50, 1, 1)).toBe('1-0:96.50.1*1');
  });
  it('normalises the ways meters write codes', () => {
    expect(normaliseObis('1-0:1.8.0*255')).toBe('1-0:1.8.0');
    expect(normaliseObis('1.8.0')).toBe('1-0:1.8.0');
    expect(normaliseObis('1.8')).toBe('1-0:1.8.0');
    expect(normaliseObis('0-1:24.2.1')).toBe('0-1:24.2.1');
    expect(normaliseObis('1-0:1.8.0*96')).toBe('1-0:1.8.0*96');
    expect(normaliseObis('C.1.0')).toBe('1-0:C.1.0');
    expect(normaliseObis('F.F')).toBe('1-0:F.F.0');
    expect(normaliseObis('hello')).toBeNull();
    expect(normaliseObis('1-0:1.8.0*x')).toBeNull();
  });
});

describe('time zones with the EU summer-time rule', () => {
  it('switches at 01:00 UTC on the last Sundays of March and October', () => {
    expect(utcOffset('Europe/Berlin', Date.UTC(2024, 2, 31, 0, 59))).toBe(60);
    expect(utcOffset('Europe/Berlin', Date.UTC(2024, 2, 31, 1, 0))).toBe(120);
    expect(utcOffset('Europe/Vienna', Date.UTC(2024, 9, 27, 0, 59))).toBe(120);
    expect(utcOffset('Europe/Vienna', Date.UTC(2024, 9, 27, 1, 0))).toBe(60);
    expect(utcOffset('Europe/Helsinki', Date.UTC(2024, 6, 1))).toBe(180);
  });
  it('reads local wall-clock times, resolving the repeated hour with a hint', () => {
    expect(isoUtc(fromLocal('Europe/Berlin', 2024, 1, 15, 12, 0, 0))).toBe('2024-01-15T11:00:00Z');
    expect(isoUtc(fromLocal('Europe/Berlin', 2024, 7, 15, 12, 0, 0))).toBe('2024-07-15T10:00:00Z');
    expect(isoUtc(fromLocal('Europe/Berlin', 2024, 10, 27, 2, 30, 0, 0, true))).toBe('2024-10-27T00:30:00Z');
    expect(isoUtc(fromLocal('Europe/Berlin', 2024, 10, 27, 2, 30, 0, 0, false))).toBe('2024-10-27T01:30:00Z');
    // 02:30 on the spring day does not exist: read as standard time.
    expect(isoUtc(fromLocal('Europe/Berlin', 2024, 3, 31, 2, 30, 0))).toBe('2024-03-31T01:30:00Z');
  });
  it('gives local calendar fields', () => {
    const t = toLocal('Europe/Vienna', Date.UTC(2024, 11, 31, 23, 30));
    expect([t.year, t.month, t.day, t.hour, t.minute, t.weekday]).toEqual([2025, 1, 1, 0, 30, 3]);
  });
});

describe('COSEM date-time', () => {
  const dt = (hex: string) => cosemDateTime(fromHex(hex)!, 0, 'Europe/Vienna');
  it('applies the deviation (UTC = local + deviation)', () => {
    expect(isoUtc(dt('07e6020405102b1400ffc400')!)).toBe('2022-02-04T15:43:20Z');
    expect(isoUtc(dt('07e50713010f2e2300ff8880')!)).toBe('2021-07-19T13:46:35Z');
  });
  it('reads an unspecified deviation as local time in the zone', () => {
    expect(isoUtc(dt('07e50b0303043839ff800000')!)).toBe('2021-11-03T03:56:57Z');
  });
  it('names no instant for unspecified or invalid clocks', () => {
    expect(dt('ffffffffffffffffff800000')).toBeNull();
    expect(dt('07e6020405102b1400ffc401')).toBeNull();
  });
  it('rejects out-of-range fields', () => {
    expect(() => dt('07e60d0405102b1400ffc400')).toThrow(/date-time/);
    expect(() => dt('07e6020405102b14008054')).toThrow();
    expect(() => dt('07e6020405102b1400ffc454')).toThrow(/date-time/);
    expect(() => dt('07e6020405102b14000f0000')).toThrow(/date-time/);
  });
});

describe('UTF-8 without TextEncoder', () => {
  it('encodes and decodes every string as Node does', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const bytes = utf8Encode(text);
        expect(bytes).toEqual(new Uint8Array(Buffer.from(text, 'utf8')));
        expect(utf8Decode(bytes)).toBe(text);
        expect(utf8(bytes, 0, bytes.length)).toBe(text);
      }),
    );
  });
  it('never splits a character at the limit', () => {
    const out = new Uint8Array(8);
    expect(putUtf8('aé€😀', out, 0, 5)).toBe(3);
    expect(utf8(out, 0, 3)).toBe('aé');
    expect(putUtf8('€😀', out, 2, 6)).toBe(5);
    expect(putUtf8('😀', out, 0, 3)).toBe(0);
  });
  it('refuses malformed input when strict, and replaces it otherwise, without throwing', () => {
    for (const hex of ['80', 'c0af', 'e080af', 'eda080', 'f4908080', 'f8888080', 'e282', 'c3']) {
      const b = fromHex(hex)!;
      expect(utf8Decode(b), hex).toBeNull();
      expect(utf8(b, 0, b.length), hex).toContain('\ufffd');
    }
  });
});

describe('jsonText (JSON that never hands XS a preloaded object)', () => {
  it('is JSON.stringify for any JSON value: nesting, arrays, null, unicode', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => jsonText(v) === JSON.stringify(v)), { numRuns: 500 });
  });
  it('leaves out what JSON.stringify leaves out, and uses toJSON', () => {
    const v = { a: undefined, f: () => 1, d: new Date(Date.UTC(2026, 11, 4)), list: [undefined, 1], nested: { frozen: Object.freeze({ x: [1, { y: 2 }] }) } };
    expect(jsonText(v)).toBe(JSON.stringify(v));
  });
});
