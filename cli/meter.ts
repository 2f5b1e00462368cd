// smgw meter: a virtual meter on a real serial line. It sends its telegrams in
// real time, at the meter's own cadence, to a device: a USB serial adapter
// wired to a gateway's meter input, or one end of a pty pair whose other end
// Moddable's simulator (mcsim) opens as its meter port (docs/esp32.md). What
// it sent is written as the meter log (JSON lines: time and values), the truth
// the gateway's readings are checked against.

import { appendFileSync, closeSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { HouseholdModel } from '../simulator/household';
import { createMeter, DEMO_KEY, meterKey, METER_KINDS, type MeterKind } from '../simulator/meters/index';
import { isoUtc } from '../src/time/zone';
import { fail, parseKey } from './usage';
import { command, parse } from './options';

export const METER = command({
  name: 'smgw meter',
  summary: "a virtual meter on a serial line, in real time: a USB adapter wired to a gateway's meter input, or a pty for Moddable's simulator (docs/esp32.md)",
  options: {
    device: { type: 'string', value: 'PATH', required: 'the serial device to write telegrams to', description: 'the serial device the telegrams are written to (a tty, a pty, a FIFO)' },
    meter: { type: 'string', choices: METER_KINDS, default: 'dlms-mbus', description: `the virtual meter (dlms-mbus and mbus-amis encrypt with --key, or the demo key ${DEMO_KEY})` },
    key: { type: 'string', value: 'HEX', description: "the meter's AES-128 key, 32 hex digits" },
    seed: { type: 'string', value: 'N', default: '1', description: 'the household behind the meter' },
    'meter-log': { type: 'string', value: 'FILE', description: "appends each telegram's values, as the meter meant them, as a JSON line" },
    count: { type: 'string', value: 'N', description: 'stops after N telegrams (default: runs until stopped)' },
  },
  examples: ['smgw meter --device /dev/ttyUSB0 --meter sml --meter-log meter.jsonl', 'smgw meter --device /tmp/meter-end --meter dlms-mbus --count 10   # one end of a socat pty pair'],
});

export async function meterCommand(argv: string[]): Promise<number> {
  const args = parse(METER, argv);
  if (!args) return 0;
  const { values } = args;
  const kind: MeterKind = values.meter;
  const hex = parseKey('--key', values.key);
  const count = values.count === undefined ? Infinity : Number(values.count);
  if (!(count > 0)) fail('--count must be a positive number');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) fail('--seed must be an integer');

  let fd: number;
  try {
    fd = openSync(values.device, 'w');
  } catch (e) {
    fail(`cannot open ${values.device}: ${(e as Error).message}`);
  }
  const meter = createMeter(kind, new HouseholdModel(seed), null, Date.now(), meterKey(kind, hex ? Uint8Array.from(Buffer.from(hex, 'hex')) : null));
  const log = values['meter-log'];
  if (log) writeFileSync(log, '', { flag: 'a' });
  process.stderr.write(`smgw meter: ${kind} on ${values.device}, a telegram every ${meter.cadence / 1000} s\n`);

  let sent = 0;
  return new Promise<number>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (code: number) => {
      clearTimeout(timer);
      closeSync(fd);
      resolve(code);
    };
    const tick = () => {
      // Telegrams at the meter's cadence on the wall clock, as a meter sends them: at whole multiples.
      const t = Math.floor(Date.now() / meter.cadence) * meter.cadence;
      const telegram = meter.emit(t);
      try {
        writeSync(fd, telegram.bytes);
      } catch (e) {
        process.stderr.write(`smgw meter: ${values.device}: ${(e as Error).message}\n`);
        return stop(1);
      }
      if (log) appendFileSync(log, JSON.stringify({ time: isoUtc(t), values: telegram.truth.values }) + '\n');
      if (++sent >= count) return stop(0);
      timer = setTimeout(tick, t + meter.cadence - Date.now());
    };
    process.once('SIGTERM', () => stop(0));
    process.once('SIGINT', () => stop(0));
    timer = setTimeout(tick, Math.ceil(Date.now() / meter.cadence) * meter.cadence - Date.now());
  });
}
