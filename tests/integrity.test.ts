// Every integrity check a frame carries is verified on every path by which a
// frame is accepted. Each case sends a good telegram, the same telegram with
// one byte flipped (or its check otherwise broken), and the good one again:
// the broken one is rejected with its reason and a message that says what
// happened, nothing is a decoder fault, and both good ones decode to the same
// values. Real captures from the shared vectors where one exists for the
// path; the repository's own encoders (simulator/telegrams) where none does.

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concatAll, decodeAll } from './support/decode';
import { bytesOf, keyOf, vectors, type Vector } from './support/vectors';
import { resealSml } from './support/mutate';
import type { DecoderOptions } from '../src/meter/decoder';
import type { RejectReason } from '../src/meter/errors';
import { crc16Kermit } from '../src/codec/crc16';
import { fromHex } from '../src/codec/bytes';
import {
  cosemDateTime, dataNotification, gloCipher, hdlcFrames, mbusFrames, obis, octets, scalerUnit, struct, u16, u32, visible,
} from '../simulator/telegrams/dlms';
import { dinServerId, getListResponse, message, openResponse, closeResponse, smlFile, uint } from '../simulator/telegrams/sml';
import { d0Telegram, dsmrTelegram } from '../simulator/telegrams/text';

type Options = Omit<DecoderOptions, 'crypto'>;

const vector = (id: string): Vector => {
  const v = vectors().find((x) => x.id === id);
  if (!v) throw new Error('no vector ' + id);
  return v;
};
const optionsOf = (v: Vector): Options => ({ protocol: v.protocol, key: keyOf(v.key), authKey: keyOf(v.authKey), zone: 'Europe/Vienna' });

function flipped(bytes: Uint8Array, at: number, mask = 0x01): Uint8Array {
  const out = bytes.slice();
  out[at < 0 ? out.length + at : at] ^= mask;
  return out;
}

/**
 * good, bad, good: `reasons` are the rejections, in order (a lost M-Bus
 * segment also costs the APDU it belonged to), the first matching `message`.
 */
function rejectsAndRecovers(options: Options, good: Uint8Array, bad: Uint8Array, reasons: RejectReason[], message: RegExp): void {
  // The flipped telegram alone first: no reading, the reason, never a fault.
  const alone = decodeAll(options, bad);
  expect(alone.readings).toEqual([]);
  expect(alone.errors.length).toBeGreaterThan(0);
  expect(alone.errors[0].reason).toBe(reasons[0]);
  for (const e of alone.errors) expect(e.reason).not.toBe('internal');

  const out = decodeAll(options, concatAll([good, bad, good]));
  expect(out.errors.map((e) => e.reason)).toEqual(reasons);
  expect(out.errors[0].message).toMatch(message);
  expect(out.readings).toHaveLength(2);
  expect(Object.keys(out.readings[0].values).length).toBeGreaterThan(0);
  expect(out.readings[1].values).toEqual(out.readings[0].values);
}

describe('wired M-Bus long frames (DLMS over EN 13757-2)', () => {
  // EVN Kaifa MA309: two frames, CI 0x00 (segment 0) and 0x11 (segment 1, last); encryption only (no tag):
  // the link layer's checksum is all that stands between a flipped byte and wrong digits.
  const v = vector('at-evn-kaifa-ma309-capture');
  const good = bytesOf(v);
  const firstLength = good[1] + 6;

  it('a flipped byte in the first segment fails its checksum; the second segment, alone, is out of sequence', () => {
    rejectsAndRecovers(optionsOf(v), good, flipped(good, 100), ['crc', 'truncated'], /M-Bus checksum mismatch/);
  });

  it('a flipped byte in the last segment fails its checksum; the APDU it ends is reported incomplete', () => {
    rejectsAndRecovers(optionsOf(v), good, flipped(good, firstLength + 12), ['crc', 'truncated'], /M-Bus checksum mismatch/);
  });

  it('a flipped checksum and a flipped stop byte are rejected', () => {
    rejectsAndRecovers(optionsOf(v), good, flipped(good, firstLength - 2), ['crc', 'truncated'], /M-Bus checksum mismatch/);
    rejectsAndRecovers(optionsOf(v), good, flipped(good, -1, 0x80), ['crc', 'truncated'], /M-Bus checksum mismatch/);
  });

  it('holds for every M-Bus capture in the shared vectors, with a flip in each frame', () => {
    for (const m of vectors().filter((x) => !x.expectError && x.hex.startsWith('68'))) {
      const bytes = bytesOf(m);
      for (let at = 0, k = 0; at < bytes.length; at += bytes[at + 1] + 6, k++) {
        const bad = flipped(bytes, at + 9 + k * 7, 0x10);
        const out = decodeAll(optionsOf(m), concatAll([bytes, bad, bytes]));
        expect(out.errors[0].reason, m.id).toBe('crc');
        expect(out.errors.every((e) => e.reason === 'crc' || e.reason === 'truncated'), m.id).toBe(true);
        expect(out.readings, m.id).toHaveLength(2);
      }
    }
  });

  describe('Sagemcom T210-D frames whose L is the length modulo 256 (found by trying L + 256)', () => {
    const KEY = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
    const clock = cosemDateTime({ utcMs: Date.UTC(2024, 0, 15, 11, 0, 0), offset: 60 });
    const body = struct(
      octets(clock), obis(1, 0, 1, 8, 0), u32(1340436), scalerUnit(0, 30),
      obis(1, 0, 32, 7, 0), u16(2345), scalerUnit(-1, 35), obis(0, 0, 96, 13, 0), octets(new Uint8Array(240).fill(0x20)), visible('181220002177'),
    );
    const apdu = gloCipher(dataNotification(9, clock, body), { systemTitle: Uint8Array.from('SAGgP\x00\x08\x81', (c) => c.charCodeAt(0)), frameCounter: 9, key: KEY, securityControl: 0x20 });
    const good = mbusFrames(apdu, { segment: 400, lengthModulo256: true });
    const options: Options = { protocol: 'dlms', key: KEY, zone: 'Europe/Vienna' };

    it('the frame is one frame over 255 bytes', () => {
      expect(good.length).toBeGreaterThan(262);
      expect(good[1]).toBe((apdu.length + 5) & 0xff);
      expect(decodeAll(options, good).readings[0].values['1-0:1.8.0']).toEqual({ value: 1340436, unit: 'Wh' });
    });

    it('still verifies checksum and stop byte: a flipped ciphertext byte is rejected, not decrypted to wrong digits', () => {
      rejectsAndRecovers(options, good, flipped(good, 200), ['crc'], /M-Bus checksum mismatch/);
      rejectsAndRecovers(options, good, flipped(good, good.length - 2), ['crc'], /M-Bus checksum mismatch/);
      rejectsAndRecovers(options, good, flipped(good, good.length - 1, 0x02), ['crc'], /M-Bus checksum mismatch/);
    });
  });
});

describe('wired M-Bus long frames with the EN 13757-3 application layer (OMS mode 5: no tag, the checksum is all)', () => {
  const amis = (JSON.parse(readFileSync(new URL('./vectors/mbus-oms.json', import.meta.url), 'utf8')) as { id: string; hex: string; key: string }[])
    .find((x) => x.id === 'at-netzooe-siemens-td3511-automatica')!;
  const good = fromHex(amis.hex)!;

  for (const protocol of ['mbus', 'dlms'] as const) {
    it(`${protocol}: a flipped ciphertext byte, checksum or stop byte is rejected, not decrypted to wrong digits`, () => {
      const options: Options = { protocol, key: fromHex(amis.key), zone: 'Europe/Vienna' };
      rejectsAndRecovers(options, good, flipped(good, 60), ['crc'], /M-Bus checksum mismatch/);
      rejectsAndRecovers(options, good, flipped(good, -2), ['crc'], /M-Bus checksum mismatch/);
      rejectsAndRecovers(options, good, flipped(good, -1, 0x40), ['crc'], /M-Bus checksum mismatch/);
    });
  }
});

describe('HDLC (IEC 62056-46): HCS and FCS', () => {
  const v = vector('at-wienernetze-lg-e450');
  const good = bytesOf(v);

  it('a flipped information byte fails the FCS', () => {
    rejectsAndRecovers(optionsOf(v), good, flipped(good, 40), ['crc'], /HDLC frame check sequence mismatch/);
  });

  it('a flipped header byte fails the HCS, and the APDU inside is not taken as a bare frame', () => {
    // Byte 4 is the destination address, under the HCS; the information field (DB ...) is intact.
    rejectsAndRecovers(optionsOf(v), good, flipped(good, 4, 0x02), ['crc'], /HDLC header check sequence mismatch/);
    rejectsAndRecovers({ ...optionsOf(v), transport: 'hdlc' }, good, flipped(good, 4, 0x02), ['crc'], /HDLC header check sequence mismatch/);
  });

  it('holds for every HDLC capture in the shared vectors, header and information', () => {
    for (const h of vectors().filter((x) => !x.expectError && x.hex.startsWith('7e'))) {
      const bytes = bytesOf(h);
      for (const [at, message] of [[4, /header check/], [bytes.length - 10, /frame check/]] as const) {
        const out = decodeAll(optionsOf(h), concatAll([bytes, flipped(bytes, at, 0x04), bytes]));
        expect(out.errors.map((e) => e.reason), h.id).toEqual(['crc']);
        expect(out.errors[0].message, h.id).toMatch(message);
        expect(out.readings, h.id).toHaveLength(2);
      }
    }
  });

  it('segmented frames: a flip in either segment is rejected, and the next APDU decodes', () => {
    const apdu = dataNotification(0x40000000, null, struct(obis(0, 0, 96, 1, 0), visible('7359992890497997'), obis(1, 0, 1, 8, 0), u32(10955225), scalerUnit(1, 30)));
    const frames = hdlcFrames(apdu, { segment: 24 });
    const second = frames.indexOf(0x7e, 1) + 1;
    const last = frames.lastIndexOf(0x7e, frames.length - 2) + 1;
    expect(frames[1] & 0x08).toBe(0x08);
    expect(last).toBeGreaterThan(second);
    const options: Options = { protocol: 'dlms', transport: 'hdlc' };
    // An earlier segment lost: the later ones, without an LLC header, are the rest of its APDU and are dropped too.
    rejectsAndRecovers(options, frames, flipped(frames, 16), ['crc', 'truncated'], /HDLC frame check sequence mismatch/);
    rejectsAndRecovers(options, frames, flipped(frames, second + 14), ['crc', 'truncated'], /HDLC frame check sequence mismatch/);
    rejectsAndRecovers(options, frames, flipped(frames, last + 12), ['crc'], /HDLC frame check sequence mismatch/);
  });
});

describe('SML: transport CRC, message CRCs and the Holley KERMIT variant', () => {
  const v = vector('sml-vzlogger-emh-ehz');
  const good = bytesOf(v);
  const sml: Options = { protocol: 'sml' };

  it('a flipped byte fails the transport CRC', () => {
    rejectsAndRecovers(sml, good, flipped(good, 60), ['crc'], /SML CRC mismatch/);
    rejectsAndRecovers(sml, good, flipped(good, -1), ['crc'], /SML CRC mismatch/);
  });

  it('a flipped byte under a resealed transport CRC fails its message CRC', () => {
    // Byte 10 is in the first message's transaction id: the structure stays valid, only the message CRC can tell.
    rejectsAndRecovers(sml, good, resealSml(flipped(good, 10)), ['crc'], /SML CRC mismatch/);
  });

  it('every SML capture in the shared vectors carries message CRCs that verify, and fails with one byte flipped', () => {
    for (const s of vectors().filter((x) => x.category === 'sml' && !x.expectError)) {
      const bytes = bytesOf(s);
      expect(decodeAll(sml, bytes).errors, s.id).toEqual([]);
      const out = decodeAll(sml, concatAll([bytes, resealSml(flipped(bytes, 10)), bytes]));
      expect(out.errors.map((e) => e.reason), s.id).toEqual(['crc']);
      expect(out.readings, s.id).toHaveLength(2);
    }
  });

  const entries = [{ obis: [1, 0, 1, 8, 0, 255] as [number, number, number, number, number, number], unit: 30, scaler: -1, value: uint(42, 4) }];
  const fileOf = (serverId: Uint8Array, crc: 'x25' | 'kermit') =>
    smlFile([message(1, 0x0101, openResponse(serverId, Uint8Array.of(1, 2, 3))), message(2, 0x0701, getListResponse(serverId, entries, 1)), message(3, 0x0201, closeResponse())], { crc });

  it('KERMIT is accepted from a Holley meter only, and a flipped byte fails it there too', () => {
    const holley = fileOf(dinServerId('HLY', 2, 12345678), 'kermit');
    expect(decodeAll(sml, holley).errors).toEqual([]);
    rejectsAndRecovers(sml, holley, flipped(holley, 40), ['crc'], /SML CRC mismatch/);
    const emh = fileOf(dinServerId('EMH', 0, 10434630), 'kermit');
    expect(decodeAll(sml, emh).errors.map((e) => e.reason)).toEqual(['crc']);
  });

  it('a Holley file with KERMIT in the other byte order is accepted, as before', () => {
    const holley = fileOf(dinServerId('HLY', 2, 12345678), 'kermit');
    const n = holley.length;
    const crc = crc16Kermit(holley, 0, n - 2);
    holley[n - 2] = crc >> 8;
    holley[n - 1] = crc & 0xff;
    expect(decodeAll(sml, holley).errors).toEqual([]);
  });
});

describe('DSMR P1: CRC-16/ARC', () => {
  const v = vector('dsmr-iskra-mt382-v50-dsmrparser');
  const good = bytesOf(v);
  const text = new TextDecoder().decode(good);
  const dsmr: Options = { protocol: 'dsmr', zone: 'Europe/Amsterdam' };

  it('a flipped digit in a data line fails the CRC', () => {
    const at = text.indexOf('1-0:1.8.1(') + 12;
    rejectsAndRecovers(dsmr, good, flipped(good, at), ['crc'], /DSMR CRC mismatch/);
  });

  it('a flipped CRC digit fails the CRC', () => {
    rejectsAndRecovers(dsmr, good, flipped(good, text.lastIndexOf('!') + 2), ['crc'], /DSMR CRC mismatch/);
  });

  it('a DSMR 5 telegram whose CRC was lost on the line is rejected, not accepted unchecked', () => {
    const bang = text.lastIndexOf('!');
    // The first CRC digit turned into a line feed: the end line is "!" LF, the digits trail as noise.
    const bad = good.slice();
    bad[bang + 1] = 0x0a;
    rejectsAndRecovers(dsmr, good, bad, ['crc'], /without its CRC/);
  });

  it('DSMR 2.2 (no version line) still needs no CRC', () => {
    const t = dsmrTelegram('ISk5\\2MT382-1004', ['0-0:96.1.1(4B413650303035303139)', '1-0:1.8.1(00123.456*kWh)'], { crc: 'none' });
    expect(decodeAll(dsmr, t).errors).toEqual([]);
    const v4 = dsmrTelegram('ISk5\\2MT382-1004', ['1-3:0.2.8(40)', '1-0:1.8.1(00123.456*kWh)'], { crc: 'none' });
    expect(decodeAll(dsmr, v4).errors.map((e) => e.reason)).toEqual(['crc']);
  });

  it('holds for every plain DSMR capture in the shared vectors', () => {
    for (const d of vectors().filter((x) => x.category === 'dsmr_p1' && !x.expectError)) {
      const bytes = bytesOf(d);
      const out = decodeAll(optionsOf(d), concatAll([bytes, flipped(bytes, Math.floor(bytes.length / 2), 0x02), bytes]));
      expect(out.errors.map((e) => e.reason), d.id).toEqual(['crc']);
      expect(out.readings, d.id).toHaveLength(2);
    }
  });

  it('encrypted P1 without a tag check: the telegram inside must pass its CRC', () => {
    const e = vector('p1enc-steiermark-sagemcom-t210dr-shrdzm');
    const bytes = bytesOf(e);
    const options = { ...optionsOf(e), authKey: null };
    const out = decodeAll(options, concatAll([bytes, flipped(bytes, 100), bytes]));
    expect(out.errors.map((x) => x.reason)).toEqual(['wrong-key']);
    expect(out.readings).toHaveLength(2);
  });
});

describe('IEC 62056-21 mode C: BCC', () => {
  const LINES = ['0.0.0(1EBZ0100507409)', '1.8.0(000123.4567*kWh)', '2.8.0*255(000001.2*kWh)', '16.7.0(000211.26*W)', 'F.F(00000000)'];
  const good = d0Telegram('ISk5MT174-0001', LINES, 'C');
  const d0: Options = { protocol: 'd0', zone: 'Europe/Berlin' };

  it('a flipped data byte, ETX or BCC is rejected', () => {
    rejectsAndRecovers(d0, good, flipped(good, 30), ['crc'], /BCC mismatch/);
    rejectsAndRecovers(d0, good, flipped(good, -1), ['crc'], /BCC mismatch/);
  });

  it('a flipped STX does not turn the block into an unchecked mode D telegram', () => {
    const stx = good.indexOf(0x02);
    for (const mask of [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80]) {
      const out = decodeAll(d0, concatAll([good, flipped(good, stx, mask), good]));
      expect(out.readings, `STX ^ ${mask}`).toHaveLength(2);
      expect(out.errors.length, `STX ^ ${mask}`).toBeGreaterThan(0);
      for (const e of out.errors) expect(e.reason).not.toBe('internal');
    }
  });
});
