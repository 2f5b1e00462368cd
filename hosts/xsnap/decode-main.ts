// Entry point of the decoder bundle that runs inside XS (dist/xs/decode.js):
// the firmware's own MeterDecoder and reading format, driven by commands from
// the Node side, with the crypto port bridged back to it.
//   'o' <JSON options>   start a decoder
//   'd' <bytes>          bytes from the meter
//   'e'                  end of input
//   'g'                  collect garbage (so the next heap figure counts live slots only)
// Each command answers a JSON array of events: {line} for a reading (the
// exact `smgw decode` line, formatted in XS), {error, reason} for a rejection;
// each with the telegram's size and the computrons spent since the last event.

import { MeterDecoder } from '../../src/meter/decoder';
import { readingJson } from '../../src/meter/format';
import type { TelegramProtocol } from '../../src/meter/reading';
import type { DlmsTransport } from '../../src/meter/dlms/framer';
import { fromHex } from '../../src/codec/bytes';
import { bridgedCrypto } from './crypto-bridge';

interface Options {
  protocol: TelegramProtocol;
  key?: string;
  authKey?: string;
  zone?: string;
  transport?: DlmsTransport;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
let meter: MeterDecoder | null = null;
let events: object[] = [];
/** Counter value at the last event; the engine's counter restarts with every command. */
let mark = 0;
/** Work since the last event carried over from earlier commands (a telegram that arrived in pieces). */
let carried = 0;

/** The engine's computron counter, read without disturbing it. */
function computrons(): number {
  const limit = currentMeterLimit();
  const now = resetMeter(limit, 0);
  resetMeter(limit, now);
  return now;
}

function spent(): number {
  const now = computrons();
  const n = now - mark + carried;
  mark = now;
  carried = 0;
  return n;
}

globalThis.handleCommand = (message: ArrayBuffer): ArrayBuffer => {
  mark = computrons();
  const bytes = new Uint8Array(message);
  events = [];
  const op = bytes[0];
  if (op === 0x6f /* o */) {
    const o = JSON.parse(decoder.decode(bytes.subarray(1))) as Options;
    meter?.close();
    meter = new MeterDecoder(
      {
        protocol: o.protocol,
        key: o.key ? fromHex(o.key) : null,
        authKey: o.authKey ? fromHex(o.authKey) : null,
        crypto: bridgedCrypto,
        zone: o.zone,
        transport: o.transport,
      },
      {
        reading: (reading, telegram) => {
          const computrons = spent(); // the firmware's path ends at the reading; formatting is the tool's
          events.push({ line: readingJson(reading), bytes: telegram.length, computrons });
          spent();
        },
        rejected: (error, telegram) => {
          events.push({ error: error.message, reason: error.reason, bytes: telegram ? telegram.length : 0, computrons: spent() });
        },
      },
    );
    mark = computrons();
    carried = 0;
  } else if (meter && op === 0x64 /* d */) {
    meter.push(bytes.subarray(1));
  } else if (op === 0x67 /* g */) {
    // XS's gc (xs-globals.d.ts); @types/node declares a `gc` that may be undefined, and which of the two the
    // checker sees first depends on the order it loads the program's files in.
    (gc as () => void)();
  } else if (meter && op === 0x65 /* e */) {
    meter.end();
    meter.close();
    meter = null;
  }
  carried += computrons() - mark;
  return encoder.encode(JSON.stringify(events)).buffer as ArrayBuffer;
};
