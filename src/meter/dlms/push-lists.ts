// What the registers in a data-notification are. Most meters tag each value
// with its OBIS code ({OBIS, value, {scaler, unit}} or flat OBIS/value pairs);
// several operators push positional lists without OBIS codes, recognised here
// by their shape and mapped to OBIS.

import { latin1, textOrHex } from '../../codec/bytes';
import { scale } from '../../codec/decimal';
import { obisFromBytes } from '../../obis';
import { dlmsUnit } from '../../units';
import type { RegisterValue } from '../reading';
import {
  ARRAY, BCD, BOOLEAN, DATE_TIME, ENUM, FLOAT32, FLOAT64, INT16, INT32, INT64, INT8, OCTET_STRING, SCALER_UNIT, STRUCTURE,
  UINT16, UINT32, UINT64, UINT8, UTF8_STRING, VISIBLE_STRING, type Items,
} from './axdr';
import { cosemDateAndTime, cosemDateTime, isCosemDateTime } from './cosem-time';

export interface Registers {
  values: { [obis: string]: RegisterValue };
  meterId: string | null;
  time: number | null;
  /** Which positional list matched, or null for OBIS-tagged data. */
  list: string | null;
}

function isNumber(tag: number): boolean {
  return tag === UINT32 || tag === UINT16 || tag === UINT8 || tag === UINT64 ||
    tag === INT32 || tag === INT16 || tag === INT8 || tag === INT64;
}

function isString(tag: number): boolean {
  return tag === OCTET_STRING || tag === VISIBLE_STRING || tag === UTF8_STRING;
}

/** Item i's bytes as text when printable, else hex. */
function textOf(it: Items, i: number): string {
  const v = stringValue(it, i);
  return 'text' in v ? v.text : v.hex;
}

/** Visible and UTF-8 strings are text; octet strings are text when printable, else hex. */
function stringValue(it: Items, i: number): { text: string } | { hex: string } {
  const at = it.value[i];
  const end = at + it.size[i];
  return it.tag[i] === OCTET_STRING ? textOrHex(it.bytes, at, end) : { text: latin1(it.bytes, at, end) };
}

function isClock(it: Items, i: number): boolean {
  const tag = it.tag[i];
  return (tag === DATE_TIME || (tag === OCTET_STRING && it.size[i] === 12)) && isCosemDateTime(it.bytes, it.value[i]);
}

// ---------------------------------------------------------------------------
// Positional lists

/** A register at a position: OBIS key, canonical unit and the power of ten from the raw integer. */
interface Register {
  obis: string;
  unit: string;
  exp: number;
}

type Field = Register | 'meterId' | 'clock' | 'time' | 'date' | 'skip';

/** Shape codes: U number, S string, T clock, H time (4 bytes), D date (5 bytes), =x a string equal to x. */
interface PositionalList {
  name: string;
  shape: string[];
  fields: Field[];
}

const reg = (obis: string, unit: string, exp = 0): Register => ({ obis, unit, exp });
const A_PLUS = reg('1-0:1.8.0', 'Wh');
const A_MINUS = reg('1-0:2.8.0', 'Wh');
const R_PLUS = reg('1-0:3.8.0', 'varh');
const R_MINUS = reg('1-0:4.8.0', 'varh');
const P_PLUS = reg('1-0:1.7.0', 'W');
const P_MINUS = reg('1-0:2.7.0', 'W');
const Q_PLUS = reg('1-0:3.7.0', 'var');
const Q_MINUS = reg('1-0:4.7.0', 'var');
const ENERGY_AND_POWER = [A_PLUS, A_MINUS, R_PLUS, R_MINUS, P_PLUS, P_MINUS, Q_PLUS, Q_MINUS];
const U = (exp: number) => [reg('1-0:32.7.0', 'V', exp), reg('1-0:52.7.0', 'V', exp), reg('1-0:72.7.0', 'V', exp)];
const I = (exp: number) => [reg('1-0:31.7.0', 'A', exp), reg('1-0:51.7.0', 'A', exp), reg('1-0:71.7.0', 'A', exp)];
const times = (code: string, n: number): string[] => Array(n).fill(code);

/** Kaifa's Norwegian HAN lists (KFM_001): identifiers, power, currents in mA, voltages in 0.1 V; list 3 adds clock and energy. */
const KAIFA_3PH: Field[] = ['skip', 'meterId', 'skip', P_PLUS, P_MINUS, Q_PLUS, Q_MINUS, ...I(-3), ...U(-1)];
const KAIFA_1PH: Field[] = ['skip', 'meterId', 'skip', P_PLUS, P_MINUS, Q_PLUS, Q_MINUS, I(-3)[0], U(-1)[0]];
const KAIFA_LIST3: Field[] = ['clock', A_PLUS, A_MINUS, R_PLUS, R_MINUS];
const KAIFA_SHAPE = (n: number) => ['=KFM_001', 'S', 'S', ...times('U', n)];

const POSITIONAL: PositionalList[] = [
  {
    // Iskraemeco AM550 and Landis+Gyr E450 at Wiener Netze.
    name: 'Wiener Netze',
    shape: ['T', ...times('U', 8)],
    fields: ['clock', ...ENERGY_AND_POWER],
  },
  {
    // Siemens IM150/IM350 at Wiener Netze: the same, after the meter number.
    name: 'Wiener Netze (Siemens)',
    shape: ['S', 'T', ...times('U', 8)],
    fields: ['meterId', 'clock', ...ENERGY_AND_POWER],
  },
  {
    // Iskraemeco AM550 / Siemens at KELAG, Linz, Wels and others: list id 0-6:25.9.0.
    name: 'Austrian 0-6:25.9.0 list',
    shape: ['=0-6:25.9.0', 'S', 'H', 'D', ...times('U', 6), 'S', 'S'],
    fields: ['skip', 'meterId', 'time', 'date', A_PLUS, A_MINUS, R_PLUS, R_MINUS, P_PLUS, P_MINUS, 'skip', 'skip'],
  },
  {
    name: 'Austrian 0-6:25.9.0 list',
    shape: ['=0-6:25.9.0', 'S', 'H', 'D', ...times('U', 6)],
    fields: ['skip', 'meterId', 'time', 'date', A_PLUS, A_MINUS, R_PLUS, R_MINUS, P_PLUS, P_MINUS],
  },
  {
    // Landis+Gyr E450 at Netz Burgenland. The three values after the energies
    // are undocumented (phase angles, by their values); they are left out rather than guessed.
    name: 'Netz Burgenland',
    shape: [...times('U', 13), 'S'],
    fields: [...U(0), ...I(-2), P_PLUS, P_MINUS, A_PLUS, A_MINUS, 'skip', 'skip', 'skip', 'meterId'],
  },
  {
    name: 'Netz Burgenland',
    shape: [...times('U', 10), 'S'],
    fields: [...U(0), ...I(-2), P_PLUS, P_MINUS, A_PLUS, A_MINUS, 'meterId'],
  },
  { name: 'Kaifa KFM_001 list 2 (3-phase)', shape: KAIFA_SHAPE(10), fields: KAIFA_3PH },
  { name: 'Kaifa KFM_001 list 2 (1-phase)', shape: KAIFA_SHAPE(6), fields: KAIFA_1PH },
  { name: 'Kaifa KFM_001 list 3 (3-phase)', shape: [...KAIFA_SHAPE(10), 'T', ...times('U', 4)], fields: [...KAIFA_3PH, ...KAIFA_LIST3] },
  { name: 'Kaifa KFM_001 list 3 (1-phase)', shape: [...KAIFA_SHAPE(6), 'T', ...times('U', 4)], fields: [...KAIFA_1PH, ...KAIFA_LIST3] },
  // Kaifa list 1: one number, the active power import.
  { name: 'Kaifa list 1', shape: ['U'], fields: [P_PLUS] },
];

function fits(code: string, it: Items, i: number): boolean {
  const tag = it.tag[i];
  switch (code) {
    case 'U': return isNumber(tag);
    case 'S': return isString(tag);
    case 'T': return isClock(it, i);
    case 'H': return tag === OCTET_STRING && it.size[i] === 4;
    case 'D': return tag === OCTET_STRING && it.size[i] === 5;
  }
  if (!isString(tag)) return false;
  const want = code.slice(1);
  if (want.indexOf(':') > 0 && it.size[i] === 6) return obisFromBytes(it.bytes, it.value[i]) === want;
  return textOf(it, i) === want;
}

function positional(it: Items, zone: string): Registers | null {
  const root = it.tag[0];
  if (root !== STRUCTURE && root !== ARRAY) return null;
  const count = it.value[0];
  if (count !== it.tag.length - 1) return null; // nested data: not a flat positional list
  for (const list of POSITIONAL) {
    if (list.shape.length !== count) continue;
    let ok = true;
    for (let k = 0; k < count && ok; k++) ok = fits(list.shape[k], it, k + 1);
    if (!ok) continue;
    const out: Registers = { values: {}, meterId: null, time: null, list: list.name };
    let date = -1;
    let time = -1;
    for (let k = 0; k < count; k++) {
      const field = list.fields[k];
      const i = k + 1;
      if (field === 'skip') continue;
      if (field === 'meterId') out.meterId = textOf(it, i);
      else if (field === 'clock') out.time = cosemDateTime(it.bytes, it.value[i], zone);
      else if (field === 'date') date = it.value[i];
      else if (field === 'time') time = it.value[i];
      else out.values[field.obis] = { value: scale(it.value[i], field.exp), unit: field.unit };
    }
    if (date >= 0 && time >= 0) out.time = cosemDateAndTime(it.bytes.subarray(date, date + 5), it.bytes.subarray(time, time + 4), zone);
    return out;
  }
  return null;
}

// ---------------------------------------------------------------------------
// OBIS-tagged data

/** The unit an OBIS code implies, for meters that send values without {scaler, unit}. */
function impliedUnit(c: number, d: number): string {
  const kind = c % 20; // quantities repeat per phase: L1 = C+20, L2 = C+40, L3 = C+60
  const energy = d === 8;
  const power = d === 7 || d === 4 || d === 6;
  if (c === 14 || c === 34 || c === 54 || c === 74) return 'Hz';
  if (kind === 11) return 'A';
  if (kind === 12) return 'V';
  if (kind === 1 || kind === 2 || kind === 15 || kind === 16) return energy ? 'Wh' : power ? 'W' : '';
  if (kind >= 3 && kind <= 8) return energy ? 'varh' : power ? 'var' : '';
  if (kind === 9 || kind === 10) return energy ? 'VAh' : power ? 'VA' : '';
  return '';
}

/**
 * Kamstrup's Norwegian and Danish HAN lists (Kamstrup_V0001) carry OBIS codes
 * but no scalers: currents are in 0.01 A, energies in 10 Wh, the rest in units.
 */
function kamstrupExp(unit: string): number {
  if (unit === 'A') return -2;
  if (unit === 'Wh' || unit === 'varh') return 1;
  return 0;
}

const CLOCK_KEY = '0-0:1.0.0';

function tagged(it: Items, zone: string): Registers {
  const out: Registers = { values: {}, meterId: null, time: null, list: null };
  const { tag, value, size, bytes } = it;
  const n = tag.length;
  let kamstrup = false;
  let lastLooseText: string | null = null;
  let first = true;
  for (let i = 0; i < n; i++) {
    const t = tag[i];
    if (t === STRUCTURE || t === ARRAY) continue; // nesting only groups
    const v = i + 1;
    const vt = v < n ? tag[v] : -1;
    if (t !== OCTET_STRING || size[i] !== 6 || vt < 0 || vt === SCALER_UNIT) {
      // A value without an OBIS code before it: a list id, a clock, a meter number.
      if (t === OCTET_STRING || t === VISIBLE_STRING || t === UTF8_STRING) {
        if (isClock(it, i)) {
          if (out.time === null) out.time = cosemDateTime(bytes, value[i], zone);
        } else {
          const text = (stringValue(it, i) as { text?: string }).text;
          if (first && text !== undefined && text.indexOf('Kamstrup') === 0) kamstrup = true;
          else if (!first && text !== undefined) lastLooseText = text;
        }
      }
      first = false;
      continue;
    }
    first = false;
    const o = value[i];
    const key = obisFromBytes(bytes, o);
    i = v;
    if (vt === STRUCTURE || vt === ARRAY) {
      i = skipTree(it, v) - 1; // a nested value (a profile, a list): not a register
      continue;
    }
    const su = i + 1 < n && tag[i + 1] === SCALER_UNIT ? ++i : -1;
    if (isNumber(vt) || vt === ENUM || vt === FLOAT32 || vt === FLOAT64 || vt === BOOLEAN || vt === BCD) {
      let unit: string;
      let exp: number;
      if (su >= 0) {
        const u = dlmsUnit(size[su]);
        unit = u.unit;
        exp = value[su] + u.exp;
      } else {
        unit = impliedUnit(bytes[o + 2], bytes[o + 3]);
        exp = kamstrup ? kamstrupExp(unit) : 0;
      }
      out.values[key] = { value: exp === 0 ? value[v] : scale(value[v], exp), unit };
    } else if (key === CLOCK_KEY && isClock(it, v)) {
      out.time = cosemDateTime(bytes, value[v], zone);
    } else if (isString(vt)) {
      out.values[key] = stringValue(it, v);
    }
  }
  out.meterId = meterIdOf(out.values) ?? lastLooseText;
  return out;
}

/** Index after the subtree that starts at item i. */
function skipTree(it: Items, i: number): number {
  const t = it.tag[i];
  let next = i + 1;
  if (t === STRUCTURE || t === ARRAY) {
    for (let k = it.value[i]; k > 0 && next < it.tag.length; k--) next = skipTree(it, next);
  }
  return next;
}

const METER_ID_KEYS = ['0-0:96.1.0', '0-0:96.1.1', '1-1:0.0.5', '1-0:0.0.5', '0-0:96.1.2'];

function meterIdOf(values: { [obis: string]: RegisterValue }): string | null {
  for (const key of METER_ID_KEYS) {
    const v = values[key] as { text?: string; hex?: string } | undefined;
    if (v && (v.text || v.hex)) return (v.text ?? v.hex) as string;
  }
  return null;
}

/** Maps the items of a notification body to registers. Null when nothing in it is recognisable. */
export function registersOf(it: Items, zone: string): Registers | null {
  if (it.tag.length === 0) return null;
  const list = positional(it, zone);
  if (list) return list;
  const out = tagged(it, zone);
  return Object.keys(out.values).length > 0 || out.time !== null ? out : null;
}
