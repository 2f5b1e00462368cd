// The data-line grammar IEC 62056-21 and DSMR share: `OBIS(group)(group)...`,
// where a group is `value*unit`, `value`, or text. Lines that start with "("
// continue the line before (DSMR 2.2 gas).
//
// Most lines are `OBIS(number*unit)`: one native regular expression takes such
// a line apart, and the OBIS text's key and role are looked up in a small
// cache. On XS every native call costs some forty bytecodes and a loop over
// characters twenty per character, so a line is a handful of calls, no more.

import { scale } from '../../codec/decimal';
import { normaliseObis } from '../../obis';
import { textUnit } from '../../units';
import { reject } from '../errors';
import type { Quantity } from '../reading';

/** What a code is for the decoders: most are values. */
export const VALUE = 0;
/** Identifiers, versions and messages: text even when all digits (meter number 1336001560). */
export const IDENTIFIER = 1;

export interface Code {
  key: string;
  role: number;
}

export interface DataLines {
  /**
   * A line with one numeric group (the common case). `line` is the matched
   * line, for `numberText` when the number is needed as written.
   */
  number(code: Code, quantity: Quantity, line: RegExpExecArray): void;
  /** Any other line. */
  other(code: Code, groups: string[]): void;
}

/** `OBIS(number*unit)`: groups 1 OBIS, 2 sign, 3 integer digits, 4 fraction digits, 5 unit. */
const NUMBER_LINE = /^([^()\r\n]+)\(([-+]?)(\d+)(?:\.(\d+))?(?:\*([^()\r\n]*))?\)[ \t]*\r?$/;
/** Any other data line: `OBIS(...)(...)`. */
const DATA_LINE = /^([^()\r\n]+)\(([^()]*(?:\)\([^()]*)*)\)[ \t]*\r?$/;
const CONTINUATION = /\r?\n(?=\()/g;
const IDENTIFIER_KEY = /^\d+-\d+:(?:[CFLP]\.|0\.[02]\.|96\.1\.|96\.13\.|42\.0\.)/;

const MAX_CODES = 128;

/**
 * The codes a protocol has met, normalised once each: a meter writes the same
 * ones in every telegram. Bounded, so that hostile input cannot grow it.
 */
export class CodeBook {
  // Made on first use: the code books are module constants, and on the device a Map
  // created while the module is preloaded is in flash, read-only.
  private codes: Map<string, Code> | null = null;
  /** The role of a code that is not an identifier. */
  private readonly roleOf: (key: string) => number;

  constructor(roleOf: (key: string) => number) {
    this.roleOf = roleOf;
  }

  code(text: string, line: string): Code {
    const codes = (this.codes ??= new Map());
    let code = codes.get(text);
    if (code === undefined) {
      const key = normaliseObis(text.trim());
      if (key === null) reject('structure', 'malformed OBIS code in line "' + clip(line) + '"');
      code = { key, role: IDENTIFIER_KEY.test(key) ? IDENTIFIER : this.roleOf(key) };
      if (codes.size < MAX_CODES) codes.set(text, code);
    }
    return code;
  }
}

/** Reads the data lines in `body` (between the identification line and "!"). */
export function readDataLines(body: string, handler: DataLines, codes: CodeBook): void {
  const lines = (body.indexOf('\n(') >= 0 ? body.replace(CONTINUATION, '') : body).split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n];
    const m = NUMBER_LINE.exec(line);
    if (m) {
      const unit = textUnit(m[5] ?? '');
      // Integer mantissa and a power of ten: exact, where parseFloat(...) * 1000 is not.
      const fraction = m[4] ?? '';
      const magnitude = scale(Number(m[3] + fraction), unit.exp - fraction.length);
      handler.number(codes.code(m[1], line), { value: m[2] === '-' ? -magnitude : magnitude, unit: unit.unit }, m);
      continue;
    }
    if (line.length === 0 || line === '\r') continue;
    const d = DATA_LINE.exec(line);
    if (!d) reject('structure', 'malformed data line "' + clip(line.trim()) + '": expected OBIS(value)');
    handler.other(codes.code(d[1], line), d[2].split(')('));
  }
}

/** The number of a number line as the meter wrote it, unit included ("0002", "000156.167*kWh"). */
export function numberText(m: RegExpExecArray): string {
  return m[2] + m[3] + (m[4] === undefined ? '' : '.' + m[4]) + (m[5] === undefined ? '' : '*' + m[5]);
}

function clip(line: string): string {
  return line.length > 40 ? line.slice(0, 40) + '...' : line;
}

const QUANTITY = /^([-+]?)(\d+)(?:\.(\d+))?(?:\*(.+))?$/;

/** `value*unit` or a bare decimal, in canonical units; null when the group is not a number. */
export function quantityOf(group: string): Quantity | null {
  const m = QUANTITY.exec(group);
  if (!m) return null;
  const unit = textUnit(m[4] ?? '');
  const fraction = m[3] ?? '';
  const value = scale(Number(m[2] + fraction), unit.exp - fraction.length);
  return { value: m[1] === '-' ? -value : value, unit: unit.unit };
}

const HEX = /^(?:[0-9A-Fa-f]{2})+$/;

/**
 * DSMR writes equipment ids and messages as hex-encoded ASCII
 * ("4530303434..." is "E0044..."). Returns the text, or null when the group is
 * not hex of printable ASCII.
 */
export function hexText(group: string): string | null {
  if (!HEX.test(group)) return null;
  let s = '';
  for (let i = 0; i < group.length; i += 2) {
    const c = parseInt(group.slice(i, i + 2), 16);
    if (c < 0x20 || c > 0x7e) return null;
    s += String.fromCharCode(c);
  }
  return s;
}
