// IEC 62056-21 telegram -> Reading. Mode D push and mode C readout share the
// data lines; mode C's block is checked with its BCC.

import { latin1 } from '../../codec/bytes';
import { fromLocal } from '../../time/zone';
import { reject } from '../errors';
import { PLAIN, type Reading, type RegisterValue } from '../reading';
import { ETX, STX } from './d0-framer';
import { CodeBook, IDENTIFIER, numberText, quantityOf, readDataLines, VALUE, type Code } from './lines';
import { BANG, LF } from './text-framer';

/** Where meters put their number, most specific first. */
const METER_ID_KEYS = ['1-0:96.1.0', '0-0:96.1.0', '0-0:96.1.255', '1-0:96.1.255', '1-0:0.0.0', '0-0:0.0.0', '1-0:C.1.0', '0-0:C.1.0'];

const CR = 0x0d;
const DATE = 2; // 0.9.2: the meter's date, YYMMDD
const TIME = 3; // 0.9.1: the meter's time, hhmmss

const CODES = new CodeBook((key) => (/:0\.9\.2$/.test(key) ? DATE : /:0\.9\.1$/.test(key) ? TIME : VALUE));

export function meterIdFrom(values: { [obis: string]: RegisterValue }, keys: string[]): string | null {
  for (const key of keys) {
    const v = values[key] as { text?: string } | undefined;
    if (v && v.text) return v.text;
  }
  return null;
}

export function decodeD0(frame: Uint8Array, zone: string): Reading {
  const identEnd = frame.indexOf(LF);
  if (frame[0] !== 0x2f || identEnd < 0) reject('framing', 'not an IEC 62056-21 telegram: no "/" identification line');
  let bodyStart = identEnd + 1;
  let bodyEnd: number;
  if (frame[bodyStart] === STX) {
    // Mode C: BCC is the XOR of everything after STX up to and including ETX.
    const etx = frame.length - 2;
    if (frame[etx] !== ETX) reject('framing', 'IEC 62056-21 mode C block without ETX');
    let bcc = 0;
    for (let i = bodyStart + 1; i <= etx; i++) bcc ^= frame[i];
    if ((bcc & 0x7f) !== (frame[etx + 1] & 0x7f)) reject('crc', 'IEC 62056-21 BCC mismatch: the telegram was corrupted on the line');
    bodyStart++;
    bodyEnd = frame.lastIndexOf(BANG, etx);
    if (bodyEnd < bodyStart) reject('framing', 'IEC 62056-21 mode C block without "!"');
  } else {
    // Mode D: CR LF follows the identification line. A control character
    // there is a mode C block's STX corrupted on the line (STX ^ 0x08 is LF):
    // read as mode D, its BCC would go unchecked.
    const c = frame[bodyStart];
    if (c < 0x20 && c !== CR) reject('framing', 'IEC 62056-21 telegram with a control character after its identification line: a corrupted mode C block?');
    bodyEnd = frame.lastIndexOf(BANG);
  }
  const values: { [obis: string]: RegisterValue } = {};
  let date = '';
  let clock = '';
  const put = (code: Code, group: string, quantity: RegisterValue | null) => {
    if (code.role === DATE) date = group;
    else if (code.role === TIME) clock = group;
    else values[code.key] = code.role === IDENTIFIER || !quantity ? { text: group } : quantity;
  };
  readDataLines(latin1(frame, bodyStart, bodyEnd), {
    number: (code, quantity, m) => put(code, code.role === VALUE ? '' : numberText(m), quantity),
    other: (code, groups) => put(code, groups[0], code.role === VALUE ? quantityOf(groups[0]) : null),
  }, CODES);
  if (Object.keys(values).length === 0) reject('structure', 'IEC 62056-21 telegram without data lines');
  return { protocol: 'd0', meterId: meterIdFrom(values, METER_ID_KEYS), time: localClock(date, clock, zone), values, security: PLAIN };
}

function localClock(date: string, clock: string, zone: string): number | null {
  const d = /^\d?(\d\d)(\d\d)(\d\d)$/.exec(date);
  const t = /^(\d\d):?(\d\d):?(\d\d)$/.exec(clock);
  if (!d || !t) return null;
  return fromLocal(zone, 2000 + +d[1], +d[2], +d[3], +t[1], +t[2], +t[3]);
}
