// npm run fuzz: 100,000 mutated frames per protocol through the firmware's
// decoders. Counts what was accepted, what was rejected (by reason) and what
// crashed: a decoder fault or an exception out of the decoder API. Crashed
// must be 0. Deterministic for a given --seed.
//
// Three kinds of mutation: raw (bit flips, insertions, deletions, cuts: most
// stop at a checksum), resealed (the same, with SML/DSMR/HDLC/M-Bus checksums
// fixed afterwards so that corrupt content reaches the parsers), and, for
// encrypted DLMS and EN 13757-3 M-Bus (OMS mode 5), plaintext (the APDU or
// the records decrypted, mutated and encrypted again, checksum and all).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createDecipheriv } from 'node:crypto';
import { fromHex } from '../src/codec/bytes';
import { MeterDecoder } from '../src/meter/decoder';
import type { TelegramProtocol } from '../src/meter/reading';
import { nodeCrypto } from '../hosts/node/crypto';
import { installNodeText } from '../hosts/sim/text';
import { gloCipher } from '../simulator/telegrams/dlms';
import { mbusApplicationFrame } from '../simulator/telegrams/mbus';
import { mutate, prng, resealDsmr, resealHdlc, resealMbus, resealSml, type Random } from '../tests/support/mutate';
import type { Vector } from '../tests/support/vectors';

installNodeText();

const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '100000' },
    seed: { type: 'string', default: '1' },
    vectors: { type: 'string', default: '../shared/vectors/public.json' },
    'mbus-vectors': { type: 'string', default: 'tests/vectors/mbus-oms.json' },
  },
});
const FRAMES = Number(values.frames);
const SEED = Number(values.seed);


interface Tally {
  accepted: number;
  rejected: Map<string, number>;
  crashed: number;
  slowest: number;
  firstCrash: string | null;
}

const vectors = [values.vectors!, values['mbus-vectors']!].flatMap((file) => (JSON.parse(readFileSync(file, 'utf8')) as Vector[]).filter((v) => !v.expectError));

function reseal(protocol: TelegramProtocol, b: Uint8Array): Uint8Array {
  if (protocol === 'sml') return resealSml(b);
  if (protocol === 'dsmr') return resealDsmr(b);
  if (protocol === 'dlms') return b[0] === 0x68 ? resealMbus(b) : resealHdlc(b);
  if (protocol === 'mbus') return resealMbus(b);
  return b;
}

/** An OMS mode 5 frame (long header) with its records decrypted, mutated and encrypted again under the same header. */
function recordsMutation(v: Vector, b: Uint8Array, r: Random): Uint8Array | null {
  if (!v.key || b.length < 9 + 12 + 16 || (b[6] !== 0x5b && b[6] !== 0x72)) return null;
  const code = b[11] | (b[12] << 8);
  const manufacturer = String.fromCharCode(((code >> 10) & 0x1f) + 64, ((code >> 5) & 0x1f) + 64, (code & 0x1f) + 64);
  const blocks = (b[18] >> 4) & 0x0f;
  if (blocks === 0 || 19 + 16 * blocks > b.length - 2) return null;
  const iv = Uint8Array.from([b[11], b[12], ...b.subarray(7, 11), b[13], b[14], ...new Array(8).fill(b[15])]);
  const d = createDecipheriv('aes-128-cbc', fromHex(v.key)!, iv);
  d.setAutoPadding(false);
  const plain = new Uint8Array(Buffer.concat([d.update(b.subarray(19, 19 + 16 * blocks)), d.final()]));
  const id = Buffer.from(b.subarray(7, 11)).reverse().toString('hex');
  try {
    return mbusApplicationFrame(
      { id, manufacturer, version: b[13], medium: b[14], access: b[15], status: b[16] },
      [...mutate(plain.subarray(2), r)],
      { key: fromHex(v.key)!, control: b[4], address: b[5], ci: b[6] },
    );
  } catch {
    return null; // grew past one frame: take a raw mutation instead
  }
}

/** Finds the general-glo-ciphering APDU in a frame (bare, behind the HDLC LLC or an M-Bus header). */
function gloStart(b: Uint8Array): number {
  for (let i = 0; i + 10 < b.length; i++) if (b[i] === 0xdb && b[i + 1] === 0x08) return i;
  return -1;
}

/** Decrypts an encryption-only or tagged frame's content, mutates it, encrypts it again as a bare APDU. */
function plaintextMutation(v: Vector, b: Uint8Array, r: Random): Uint8Array | null {
  const at = gloStart(b);
  if (at < 0 || !v.key) return null;
  const systemTitle = b.subarray(at + 2, at + 10);
  const first = b[at + 10];
  const header = first < 0x80 ? 11 : first === 0x81 ? 12 : 13;
  const length = first < 0x80 ? first : first === 0x81 ? b[at + 11] : (b[at + 11] << 8) | b[at + 12];
  if (at + header + length > b.length || length < 5) return null;
  const sc = b[at + header];
  const fc = b.subarray(at + header + 1, at + header + 5);
  const body = b.subarray(at + header + 5, at + header + length - (sc & 0x10 ? 12 : 0));
  const counter = new Uint8Array(16);
  counter.set(systemTitle, 0);
  counter.set(fc, 8);
  counter[15] = 2;
  const d = createDecipheriv('aes-128-ctr', fromHex(v.key)!, counter);
  const plain = new Uint8Array(Buffer.concat([d.update(body), d.final()]));
  const frameCounter = ((fc[0] << 24) | (fc[1] << 16) | (fc[2] << 8) | fc[3]) >>> 0;
  return gloCipher(mutate(plain, r), { systemTitle, frameCounter, key: fromHex(v.key)!, securityControl: 0x20 });
}

function run(protocol: TelegramProtocol): Tally {
  const tally: Tally = { accepted: 0, rejected: new Map(), crashed: 0, slowest: 0, firstCrash: null };
  const pool = vectors.filter((v) => v.protocol === protocol);
  const decoders = pool.map((v) => {
    let outcome = '';
    const decoder = new MeterDecoder(
      { protocol, key: v.key ? fromHex(v.key) : null, authKey: v.authKey ? fromHex(v.authKey) : null, crypto: nodeCrypto },
      {
        reading: () => {
          outcome ||= 'accepted';
        },
        rejected: (e) => {
          if (e.reason === 'internal') outcome = 'crashed: ' + e.message;
          else if (!outcome) outcome = e.reason;
        },
      },
    );
    return { decoder, take: () => { const o = outcome; outcome = ''; return o || 'rejected: nothing found'; } };
  });
  const r = prng(SEED * 7919 + protocol.charCodeAt(0));
  for (let n = 0; n < FRAMES; n++) {
    const k = Math.floor(r() * pool.length);
    const v = pool[k];
    const original = fromHex(v.hex)!;
    const strategy = r();
    let frame: Uint8Array;
    if (protocol === 'dlms' && v.key && strategy < 0.3) frame = plaintextMutation(v, original, r) ?? mutate(original, r);
    else if (protocol === 'mbus' && strategy < 0.3) frame = recordsMutation(v, original, r) ?? mutate(original, r);
    else if (strategy < 0.65) frame = reseal(protocol, mutate(original, r));
    else frame = mutate(original, r);
    const { decoder, take } = decoders[k];
    const start = performance.now();
    let outcome: string;
    try {
      decoder.push(frame);
      decoder.end();
      outcome = take();
    } catch (e) {
      outcome = 'crashed: ' + (e instanceof Error ? e.message : String(e));
      take();
    }
    tally.slowest = Math.max(tally.slowest, performance.now() - start);
    if (outcome === 'accepted') tally.accepted++;
    else if (outcome.startsWith('crashed')) {
      tally.crashed++;
      tally.firstCrash ??= `${v.id} seed ${SEED} frame ${n}: ${outcome} [${Buffer.from(frame).toString('hex')}]`;
    } else tally.rejected.set(outcome, (tally.rejected.get(outcome) ?? 0) + 1);
  }
  for (const d of decoders) d.decoder.close();
  return tally;
}

const started = performance.now();
let crashed = 0;
console.log(`fuzzing ${FRAMES.toLocaleString('en-US')} mutated frames per protocol, seed ${SEED}\n`);
console.log('protocol  accepted  rejected  crashed  slowest frame  rejected by reason');
for (const protocol of ['sml', 'd0', 'dsmr', 'dlms', 'mbus'] as TelegramProtocol[]) {
  const t = run(protocol);
  crashed += t.crashed;
  const rejected = [...t.rejected.values()].reduce((a, b) => a + b, 0);
  const reasons = [...t.rejected].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ');
  console.log(
    `${protocol.padEnd(8)}  ${String(t.accepted).padStart(8)}  ${String(rejected).padStart(8)}  ${String(t.crashed).padStart(7)}  ${t.slowest.toFixed(2).padStart(10)} ms  ${reasons}`,
  );
  if (t.firstCrash) console.log(`  first crash: ${t.firstCrash}`);
}
console.log(`\n${crashed === 0 ? 'no crashes' : crashed + ' crashes'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
process.exitCode = crashed === 0 ? 0 : 1;
