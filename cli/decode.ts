// smgw decode: telegrams in (a file or stdin, raw bytes or hex text), one JSON
// line per reading out. Runs the firmware's decoder on Node, or inside the XS
// engine with --engine xs.

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fromHex } from '../src/codec/bytes';
import { MeterDecoder } from '../src/meter/decoder';
import { readingJson } from '../src/meter/format';
import { TELEGRAM_PROTOCOLS, type TelegramProtocol } from '../src/meter/reading';
import { isKnownZone, DEFAULT_ZONE } from '../src/time/zone';
import { nodeCrypto } from '../hosts/node/crypto';
import { fail, parseKey } from './usage';
import { distFile } from '../hosts/node/paths';

export const DECODE_USAGE = `usage: smgw decode --protocol <sml|d0|dsmr|dlms|mbus> [--key HEX] [--auth-key HEX]
                   [--format raw|hex] [--engine node|xs] [--stats] [--tz ZONE]
                   [--transport auto|mbus|hdlc|apdu] [FILE|-]`;

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
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      protocol: { type: 'string' },
      key: { type: 'string' },
      'auth-key': { type: 'string' },
      format: { type: 'string', default: 'raw' },
      engine: { type: 'string', default: 'node' },
      stats: { type: 'boolean', default: false },
      tz: { type: 'string', default: DEFAULT_ZONE },
      transport: { type: 'string', default: 'auto' },
    },
  });
  const protocol = values.protocol as TelegramProtocol;
  if (!TELEGRAM_PROTOCOLS.includes(protocol)) fail(`--protocol must be one of ${TELEGRAM_PROTOCOLS.join(', ')}`);
  if (values.format !== 'raw' && values.format !== 'hex') fail('--format must be raw or hex');
  if (values.engine !== 'node' && values.engine !== 'xs') fail('--engine must be node or xs');
  if (!isKnownZone(values.tz!)) fail(`unknown time zone ${values.tz} (e.g. Europe/Berlin, Europe/Vienna)`);
  if (!['auto', 'mbus', 'hdlc', 'apdu'].includes(values.transport!)) fail('--transport must be auto, mbus, hdlc or apdu');
  if (positionals.length > 1) fail('one input file at most');
  const o = {
    protocol,
    key: parseKey('--key', values.key),
    authKey: parseKey('--auth-key', values['auth-key']),
    tz: values.tz,
    transport: values.transport,
  };
  const input = readInput(positionals[0], values.format);
  const outcome = values.engine === 'xs' ? await decodeInXs(input, o, values.stats!) : decodeOnNode(protocol, input, o, values.stats!);
  for (const line of outcome.lines) process.stdout.write(line + '\n');
  for (const line of outcome.stats) process.stderr.write(line + '\n');
  for (const message of outcome.errors) process.stderr.write(message + '\n');
  if (outcome.lines.length === 0 && outcome.errors.length === 0) {
    process.stderr.write(`no ${protocol} telegram found in the input: check --protocol and --format\n`);
    return 1;
  }
  return outcome.errors.length > 0 ? 1 : 0;
}
