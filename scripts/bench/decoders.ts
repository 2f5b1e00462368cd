// Decoder benchmark on the public vectors: throughput on Node beside the peers
// in the same run (the npm package smartmeter-obis; for SML also libsml in C,
// when Debian's libsml-dev is installed), and XS computrons per telegram and
// per input byte with the live heap after 100 and after 10,000 telegrams.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { MeterDecoder } from '../../src/meter/decoder';
import type { Protocol } from '../../src/meter/reading';
import { fromHex } from '../../src/codec/bytes';
import { nodeCrypto } from '../../hosts/node/crypto';
import { XsDecoder } from '../../hosts/xsnap/decode-engine';
import { distFile } from '../../hosts/node/paths';
import type { Row } from './report';
import { ROOT } from '../../tests/support/native';
import type { Vector } from '../../tests/support/vectors';


const PROTOCOLS: Protocol[] = ['sml', 'd0', 'dsmr', 'dlms'];
const NAMES: Record<Protocol, string> = { sml: 'SML', d0: 'IEC 62056-21', dsmr: 'DSMR', dlms: 'DLMS' };
const SECTION = 'decoders';

/** Telegrams per second decoding `telegrams` (one decoder per key) for about `ms`. */
function nodeRate(vectors: Vector[], ms: number): { rate: number; decoded: number } {
  const groups = new Map<string, { decoder: MeterDecoder; bytes: Uint8Array[] }>();
  let decoded = 0;
  for (const v of vectors) {
    const id = `${v.protocol}/${v.key}/${v.authKey}`;
    if (!groups.has(id)) {
      const decoder = new MeterDecoder(
        { protocol: v.protocol, key: v.key ? fromHex(v.key) : null, authKey: v.authKey ? fromHex(v.authKey) : null, crypto: nodeCrypto },
        { reading: () => decoded++, rejected: () => undefined },
      );
      groups.set(id, { decoder, bytes: [] });
    }
    groups.get(id)!.bytes.push(fromHex(v.hex)!);
  }
  let telegrams = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const g of groups.values()) {
      for (const b of g.bytes) g.decoder.push(b);
      telegrams += g.bytes.length;
    }
    elapsed = performance.now() - start;
  }
  for (const g of groups.values()) g.decoder.close();
  return { rate: (telegrams / elapsed) * 1000, decoded: decoded / (telegrams / vectors.length) };
}

const require = createRequire(import.meta.url);

/** smartmeter-obis's parsers, fed one telegram at a time. Returns whether it read values from it. */
function obisParser(protocol: Protocol): ((bytes: Uint8Array) => boolean) | null {
  const options = { protocol: protocol === 'sml' ? 'SmlProtocol' : 'D0Protocol', debug: 0, logger: () => undefined };
  if (protocol === 'sml') {
    const SmlProtocol = require('smartmeter-obis/lib/protocols/SmlProtocol');
    let got = false;
    const p = new SmlProtocol(options, (err: unknown, data: object | null) => {
      got = !err && !!data && Object.keys(data).length > 0;
    });
    return (bytes) => {
      got = false;
      const buf = Buffer.from(bytes);
      if (p.checkMessage(buf)) p.handleMessage(buf);
      return got;
    };
  }
  if (protocol === 'd0' || protocol === 'dsmr') {
    const D0Protocol = require('smartmeter-obis/lib/protocols/D0Protocol');
    let got = false;
    const p = new D0Protocol(options, (err: unknown, data: object | null) => {
      got = !err && !!data && Object.keys(data).length > 0;
    });
    return (bytes) => {
      got = false;
      p.initState();
      let buf: Buffer | null = Buffer.from(bytes);
      // Mode D: the sign-on line, then the data block.
      for (let step = 0; step < 2 && buf && buf.length > 0; step++) {
        if (!p.checkMessage(buf)) break;
        buf = p.handleMessage(buf);
      }
      return got;
    };
  }
  return null;
}

function obisRate(parse: (b: Uint8Array) => boolean, telegrams: Uint8Array[], ms: number): number {
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (const t of telegrams) parse(t);
    n += telegrams.length;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

/**
 * libsml's files per second on the same SML files (scripts/bench/libsml-rate.c:
 * transport CRC, sml_file_parse, every number read), or null when libsml-dev
 * is not installed.
 */
function libsmlRate(telegrams: Uint8Array[], ms: number): number | null {
  if (!existsSync('/usr/include/sml/sml_file.h')) return null;
  const exe = join(mkdtempSync(join(tmpdir(), 'smgw-libsml-')), 'libsml-rate');
  const cc = spawnSync('gcc', ['-O2', '-o', exe, join(ROOT, 'scripts/bench/libsml-rate.c'), '-I/usr/include/sml', '-lsml', '-lm'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error('libsml harness: ' + cc.stderr);
  const input = telegrams.map((t) => Buffer.from(t).toString('hex')).join('\n') + '\n';
  // libsml reports what it skips on stderr: not the benchmark's business.
  const r = spawnSync(exe, [String(ms)], { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'ignore'] });
  const m = /^rate (\d+)/.exec(r.stdout ?? '');
  if (!m) throw new Error('libsml harness: ' + (r.stdout ?? ''));
  return Number(m[1]);
}

/** XS computrons per telegram and per input byte over all vectors, after a warm-up telegram each. */
async function xsCost(xs: XsDecoder, vectors: Vector[], repeat: number): Promise<{ perTelegram: number; perByte: number }> {
  let computrons = 0;
  let bytes = 0;
  let telegrams = 0;
  for (const v of vectors) {
    await xs.restart({ protocol: v.protocol, key: v.key ?? undefined, authKey: v.authKey ?? undefined });
    const b = fromHex(v.hex)!;
    await xs.push(b); // warm-up: the OBIS key and code caches fill on the first telegram
    const events = await xs.push(repeated(b, repeat));
    for (const e of events) computrons += e.computrons;
    bytes += b.length * repeat;
    telegrams += events.filter((e) => e.line !== undefined).length;
  }
  return { perTelegram: computrons / telegrams, perByte: computrons / bytes };
}

function repeated(b: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(b.length * n);
  for (let k = 0; k < n; k++) out.set(b, k * b.length);
  return out;
}

/**
 * Live XS heap (after a collection) once 100 and once `total` telegrams have
 * gone through one decoder: the vectors that share a key, in turn.
 */
async function xsHeap(xs: XsDecoder, vectors: Vector[], total: number): Promise<{ at100: number; atEnd: number }> {
  const byKey = new Map<string, Vector[]>();
  for (const v of vectors) byKey.set(`${v.key}/${v.authKey}`, [...(byKey.get(`${v.key}/${v.authKey}`) ?? []), v]);
  const group = [...byKey.values()].sort((a, b) => b.length - a.length)[0];
  await xs.restart({ protocol: group[0].protocol, key: group[0].key ?? undefined, authKey: group[0].authKey ?? undefined });
  const cycle = concat(group.map((v) => fromHex(v.hex)!));
  let telegrams = 0;
  let at100 = 0;
  while (telegrams < total) {
    telegrams += (await xs.push(cycle)).filter((e) => e.line !== undefined).length;
    if (at100 === 0 && telegrams >= 100) at100 = await xs.liveHeap();
  }
  return { at100, atEnd: await xs.liveHeap() };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export async function benchDecoders(vectors: Vector[], options: { ms: number; xsTelegrams: number }): Promise<Row[]> {
  const rows: Row[] = [];
  for (const protocol of PROTOCOLS) {
    const name = NAMES[protocol];
    const good = vectors.filter((v) => v.protocol === protocol && !v.expectError);
    const ours = nodeRate(good, options.ms);
    rows.push({ section: SECTION, name: `${name}: Node throughput`, value: ours.rate, unit: 'telegrams/s', note: `${good.length} vectors` });
    const parse = obisParser(protocol);
    if (parse) {
      const telegrams = good.filter((v) => !v.key).map((v) => fromHex(v.hex)!);
      const theirs = telegrams.filter((t) => {
        try {
          return parse(t);
        } catch {
          return false;
        }
      });
      if (theirs.length > 0) {
        const theirRate = obisRate(parse, theirs, options.ms);
        const same = good.filter((v) => theirs.some((t) => t.length * 2 === v.hex.length && fromHex(v.hex)!.every((b, i) => b === t[i])));
        const ourRate = nodeRate(same, options.ms).rate;
        rows.push({ section: SECTION, name: `${name}: smartmeter-obis throughput`, value: theirRate, unit: 'telegrams/s', note: `the ${theirs.length} vectors it parses` });
        rows.push({ section: SECTION, name: `${name}: ours / smartmeter-obis`, value: ourRate / theirRate, unit: 'x', target: '>= 3', note: 'same vectors' });
      }
    }
    if (protocol === 'sml') {
      const files = good.map((v) => fromHex(v.hex)!);
      const c = libsmlRate(files, options.ms);
      if (c === null) rows.push({ section: SECTION, name: 'SML: libsml (C) throughput', value: 0, unit: 'telegrams/s', note: 'not measured: apt-get install libsml-dev' });
      else {
        const ourRate = nodeRate(good, options.ms).rate;
        rows.push({ section: SECTION, name: 'SML: libsml (C) throughput', value: c, unit: 'telegrams/s', note: `the same ${files.length} files` });
        rows.push({ section: SECTION, name: 'SML: ours (Node) / libsml (C)', value: ourRate / c, unit: 'x', target: '>= 1', note: 'same files' });
      }
    }
    const xs = await XsDecoder.start(distFile('xs/decode.js'), { protocol });
    try {
      const cost = await xsCost(xs, good, 20);
      const heap = await xsHeap(xs, good, options.xsTelegrams);
      const aes = protocol === 'dlms' ? ' (AES excluded)' : '';
      rows.push({ section: SECTION, name: `${name}: XS computrons per telegram${aes}`, value: cost.perTelegram, unit: 'computrons' });
      rows.push({ section: SECTION, name: `${name}: XS computrons per input byte${aes}`, value: cost.perByte, unit: 'computrons/byte', target: '<= 100' });
      rows.push({ section: SECTION, name: `${name}: XS live heap after 100 telegrams`, value: heap.at100, unit: 'slots' });
      rows.push({
        section: SECTION,
        name: `${name}: XS live heap after ${options.xsTelegrams.toLocaleString('en-US')} telegrams`,
        value: heap.atEnd,
        unit: 'slots',
        target: `<= ${heap.at100}`,
        note: 'no growth allowed',
      });
    } finally {
      await xs.close();
    }
  }
  return rows;
}
