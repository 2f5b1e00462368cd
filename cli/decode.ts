// smgw decode: telegrams in (a file or stdin, raw bytes or hex text), one JSON
// line per reading out. Runs the firmware's decoder on Node, or inside the XS
// engine with --engine xs.

import { readFileSync } from 'node:fs';
import { fromHex } from '../src/codec/bytes';
import { MeterDecoder } from '../src/meter/decoder';
import { readingJson } from '../src/meter/format';
import { TELEGRAM_PROTOCOLS, type TelegramProtocol } from '../src/meter/reading';
import { isKnownZone, DEFAULT_ZONE } from '../src/time/zone';
import { nodeCrypto } from '../hosts/node/crypto';
import { fail, parseKey } from './usage';
import { command, parse } from './options';
import { distFile } from '../hosts/node/paths';

export const DECODE = command({
  name: 'smgw decode',
  summary: 'decode meter telegrams into readings, one JSON line each (docs/decoders.md)',
  arguments: '[FILE|-]',
  options: {
    protocol: { type: 'string', choices: TELEGRAM_PROTOCOLS, required: true, description: "the meter's protocol (mbus: EN 13757-3; dlms also reads those frames by their CI field)" },
    key: { type: 'string', value: 'HEX', description: "the meter's AES-128 encryption key, 32 hex digits (from the grid operator); never echoed" },
    'auth-key': { type: 'string', value: 'HEX', description: 'the authentication key, 32 hex digits: with it, a tag that does not verify is an error' },
    format: { type: 'string', choices: ['raw', 'hex'], default: 'raw', description: 'the input: raw bytes, or hex text' },
    engine: { type: 'string', choices: ['node', 'xs'], default: 'node', description: 'decode on Node, or inside the XS engine (the same code, bundled; byte-identical output)' },
    stats: { type: 'boolean', description: 'per telegram on stderr: its size, and with --engine xs computrons and heap' },
    tz: { type: 'string', value: 'ZONE', default: DEFAULT_ZONE, description: 'the zone for meter clocks that carry local time' },
    transport: { type: 'string', choices: ['auto', 'mbus', 'hdlc', 'apdu'], default: 'auto', description: 'the DLMS framing: M-Bus, HDLC, bare APDUs, or found from the bytes' },
  },
  examples: [
    'smgw decode --protocol sml capture.bin',
    'smgw decode --protocol dlms --format hex --key 825DC0D167DEEB63F49DAB4F31A86CC7 capture.hex',
    'cat capture.hex | smgw decode --protocol dsmr --format hex --engine xs --stats -   # inside XS, with its costs',
  ],
});

interface Outcome {
  lines: string[];
  errors: string[];
  stats: string[];
}

function readInput(file: string | undefined, format: string): Uint8Array {
  let data: Buffer;
  try {
    data = file === undefined || file === '-' ? readFileSync(0) : readFileSync(file);
  } catch (e) {
    fail(`cannot read ${file ?? 'stdin'}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (format === 'raw') return new Uint8Array(data.buffer, data.byteOffset, data.length);
  const bytes = fromHex(data.toString('latin1'));
  if (!bytes) fail('input is not hex: use --format raw for binary input');
  return bytes;
}

function decodeOnNode(protocol: TelegramProtocol, input: Uint8Array, o: Record<string, string | undefined>, stats: boolean): Outcome {
  const out: Outcome = { lines: [], errors: [], stats: [] };
  const meter = new MeterDecoder(
    {
      protocol,
      key: o.key ? fromHex(o.key) : null,
      authKey: o.authKey ? fromHex(o.authKey) : null,
      crypto: nodeCrypto,
      zone: o.tz,
      transport: o.transport as never,
    },
    {
      reading: (reading, telegram) => {
        out.lines.push(readingJson(reading));
        if (stats) out.stats.push(`telegram ${out.lines.length}: ${telegram.length} bytes`);
      },
      rejected: (error) => out.errors.push(error.message),
    },
  );
  meter.push(input);
  meter.end();
  meter.close();
  return out;
}

async function decodeInXs(input: Uint8Array, o: Record<string, string | undefined>, stats: boolean): Promise<Outcome> {
  const { XsDecoder } = await import('../hosts/xsnap/decode-engine');
  const out: Outcome = { lines: [], errors: [], stats: [] };
  const xs = await XsDecoder.start(distFile('xs/decode.js'), {
    protocol: o.protocol!,
    key: o.key,
    authKey: o.authKey,
    zone: o.tz,
    transport: o.transport,
  });
  try {
    const events = [...(await xs.push(input)), ...(await xs.end())];
    let n = 0;
    for (const e of events) {
      if (e.line !== undefined) out.lines.push(e.line);
      else out.errors.push(e.error ?? 'rejected');
      n++;
      if (stats) {
        out.stats.push(
          `telegram ${n}: ${e.bytes} bytes, ${e.computrons} computrons` +
            (e.bytes ? ` (${(e.computrons / e.bytes).toFixed(1)}/byte)` : '') +
            `, XS heap ${e.heap} slots` + (e.line === undefined ? ` [rejected: ${e.reason}]` : ''),
        );
      }
    }
    if (stats) out.stats.push(`XS allocated ${xs.lastMeter.allocate} bytes`);
  } finally {
    await xs.close();
  }
  return out;
}

export async function decodeCommand(argv: string[]): Promise<number> {
  const args = parse(DECODE, argv);
  if (!args) return 0;
  const { values, positionals } = args;
  const protocol: TelegramProtocol = values.protocol;
  if (!isKnownZone(values.tz)) fail(`unknown time zone ${values.tz} (e.g. Europe/Berlin, Europe/Vienna)`);
  if (positionals.length > 1) fail('one input file at most');
  const o = {
    protocol,
    key: parseKey('--key', values.key),
    authKey: parseKey('--auth-key', values['auth-key']),
    tz: values.tz,
    transport: values.transport,
  };
  const input = readInput(positionals[0], values.format);
  const outcome = values.engine === 'xs' ? await decodeInXs(input, o, values.stats) : decodeOnNode(protocol, input, o, values.stats);
  for (const line of outcome.lines) process.stdout.write(line + '\n');
  for (const line of outcome.stats) process.stderr.write(line + '\n');
  for (const message of outcome.errors) process.stderr.write(message + '\n');
  if (outcome.lines.length === 0 && outcome.errors.length === 0) {
    process.stderr.write(`no ${protocol} telegram found in the input: check --protocol and --format\n`);
    return 1;
  }
  return outcome.errors.length > 0 ? 1 : 0;
}
