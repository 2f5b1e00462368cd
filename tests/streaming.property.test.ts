// Property tests over the streaming decoders:
//  - chunking invariance: a stream fed in random chunks of 1..64 bytes gives
//    exactly the readings and rejections it gives when fed whole;
//  - robustness: random and mutated input never throws out of the decoder,
//    never hits a decoder fault, always ends;
//  - bounded memory: hostile length fields cost at most one telegram buffer.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesOf, keyOf, vectors, type Vector } from './support/vectors';
import { chunked, concatAll, decodeAll, decodeChunks } from './support/decode';
import { mutate, prng, resealDsmr, resealHdlc, resealMbus, resealSml } from './support/mutate';
import type { TelegramProtocol } from '../src/meter/reading';
import { readFileSync } from 'node:fs';
import { MAX_TELEGRAM } from '../src/meter/framer';

const byCategory = (category: string, withNegatives = false): Vector[] =>
  vectors().filter((v) => v.category === category && (withNegatives || !v.expectError));

interface Stream {
  name: string;
  protocol: TelegramProtocol;
  key: Uint8Array | null;
  authKey: Uint8Array | null;
  telegrams: Uint8Array[];
}

/** The repository's own EN 13757-3 vectors (the public AMIS captures and their negatives). */
const MBUS = JSON.parse(readFileSync(new URL('./vectors/mbus-oms.json', import.meta.url), 'utf8')) as Vector[];

function streams(): Stream[] {
  const amis = MBUS.filter((v) => v.id.startsWith('at-netzooe-siemens-td3511-automatica'));
  const evn = vectors().find((v) => v.id === 'at-evn-kaifa-ma309-capture')!;
  const smarty = vectors().find((v) => v.id === 'p1enc-smarty-lux-nexxtlab')!;
  return [
    { name: 'SML', protocol: 'sml', key: null, authKey: null, telegrams: byCategory('sml', true).map(bytesOf) },
    { name: 'IEC 62056-21', protocol: 'd0', key: null, authKey: null, telegrams: byCategory('iec62056_21_mode_d').map(bytesOf) },
    { name: 'DSMR', protocol: 'dsmr', key: null, authKey: null, telegrams: byCategory('dsmr_p1', true).map(bytesOf) },
    { name: 'encrypted P1', protocol: 'dsmr', key: keyOf(smarty.key), authKey: keyOf(smarty.authKey), telegrams: vectors().filter((v) => v.id.startsWith('p1enc-smarty')).map(bytesOf) },
    { name: 'DLMS over HDLC', protocol: 'dlms', key: null, authKey: null, telegrams: byCategory('nordic_han_hdlc', true).map(bytesOf) },
    { name: 'DLMS over M-Bus', protocol: 'dlms', key: keyOf(evn.key), authKey: null, telegrams: vectors().filter((v) => v.id.startsWith('at-evn-kaifa-ma309-capture')).map(bytesOf) },
    { name: 'EN 13757-3 over M-Bus', protocol: 'mbus', key: keyOf(amis[0].key), authKey: null, telegrams: amis.map(bytesOf) },
  ];
}

describe('chunking invariance', () => {
  for (const s of streams()) {
    it(`${s.name}: random chunks give what the whole stream gives`, () => {
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.nat(s.telegrams.length - 1), fc.uint8Array({ maxLength: 12 })), { minLength: 1, maxLength: 8 }),
          fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 32 }),
          (picks, sizes) => {
            const bytes = concatAll(picks.flatMap(([i, garbage]) => [garbage, s.telegrams[i]]));
            const options = { protocol: s.protocol, key: s.key, authKey: s.authKey };
            const whole = decodeAll(options, bytes);
            const pieces = decodeChunks(options, chunked(bytes, sizes));
            expect(pieces.trace).toEqual(whole.trace);
            expect(pieces.skipped).toBe(whole.skipped);
          },
        ),
        { numRuns: 60 },
      );
    });
  }

  it('decodes every telegram of a clean stream, whatever the chunking', () => {
    const s = streams()[0];
    const good = byCategory('sml').map(bytesOf);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 16 }), (sizes) => {
        const out = decodeChunks({ protocol: s.protocol }, chunked(concatAll(good), sizes));
        expect(out.readings).toHaveLength(good.length);
        expect(out.errors).toEqual([]);
      }),
      { numRuns: 30 },
    );
  });
});

const RESEAL: Record<string, (b: Uint8Array) => Uint8Array> = {
  SML: resealSml,
  DSMR: resealDsmr,
  'DLMS over HDLC': resealHdlc,
  'DLMS over M-Bus': resealMbus,
  'EN 13757-3 over M-Bus': resealMbus,
};

describe('robustness', () => {
  for (const s of streams()) {
    it(`${s.name}: mutated telegrams are decoded or rejected, never a fault`, () => {
      fc.assert(
        fc.property(fc.nat(s.telegrams.length - 1), fc.integer(), fc.boolean(), (i, seed, reseal) => {
          let bytes = mutate(s.telegrams[i], prng(seed));
          if (reseal && RESEAL[s.name]) bytes = RESEAL[s.name](bytes);
          const out = decodeAll({ protocol: s.protocol, key: s.key, authKey: s.authKey }, bytes);
          for (const e of out.errors) expect(e.reason, e.message).not.toBe('internal');
        }),
        { numRuns: 300 },
      );
    });
  }

  it('random bytes are never a fault for any protocol', () => {
    fc.assert(
      fc.property(fc.constantFrom<TelegramProtocol>('sml', 'd0', 'dsmr', 'dlms', 'mbus'), fc.uint8Array({ maxLength: 2048 }), (protocol, bytes) => {
        const out = decodeAll({ protocol }, bytes);
        for (const e of out.errors) expect(e.reason, e.message).not.toBe('internal');
      }),
      { numRuns: 400 },
    );
  });
});

describe('bounded memory', () => {
  const hostile: [string, TelegramProtocol, number[]][] = [
    ['an SML file that never ends', 'sml', [0x1b, 0x1b, 0x1b, 0x1b, 1, 1, 1, 1]],
    ['a DSMR telegram that never ends', 'dsmr', [0x2f, 0x41, 0x0d, 0x0a]],
    ['an IEC telegram that never ends', 'd0', [0x2f, 0x41, 0x0d, 0x0a]],
    ['an HDLC frame claiming 2047 bytes', 'dlms', [0x7e, 0xa7, 0xff]],
    ['an M-Bus frame claiming 255 bytes', 'dlms', [0x68, 0xff, 0xff, 0x68]],
    ['an EN 13757-3 frame claiming 255 bytes', 'mbus', [0x68, 0xff, 0xff, 0x68, 0x53, 0xf0, 0x5b]],
    ['a ciphered APDU claiming 65535 bytes', 'dlms', [0xdb, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x82, 0xff, 0xff]],
  ];
  for (const [name, protocol, header] of hostile) {
    it(`${name}: no more than one telegram buffer is held, and decoding goes on`, () => {
      const filler = new Uint8Array(3 * MAX_TELEGRAM).fill(0x41);
      const good = protocol === 'mbus' ? MBUS[0] : protocol === 'dlms' ? byCategory('nordic_han_hdlc')[0] : byCategory(protocol === 'd0' ? 'iec62056_21_mode_d' : protocol === 'dsmr' ? 'dsmr_p1' : 'sml')[0];
      const out = decodeAll({ protocol, key: keyOf(good.key) }, concatAll([Uint8Array.from(header), filler, bytesOf(good)]));
      expect(out.readings).toHaveLength(1);
      expect(out.errors.every((e) => e.reason !== 'internal')).toBe(true);
    });
  }
});
