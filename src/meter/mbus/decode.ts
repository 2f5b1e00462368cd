// Wired M-Bus with the EN 13757-3 application layer -> Reading: the long
// frame 68 L L 68 C A CI <header> <records> CS 16, OMS security mode 5
// (AES-128-CBC, EN 13757-7 / OMS Vol. 2) and the variable data records
// (DIF DIFE... VIF VIFE... data), mapped to OBIS codes in canonical units.
//
// Headers: CI 0x72 / 0x5B long (ID, manufacturer, version, medium, access
// number, status, configuration word), 0x7A / 0x5A short (access number,
// status, configuration), 0x78 / 0x51 none. Mode 5: IV = manufacturer (2) ||
// ID (4) || version || medium || access number x 8, as sent (little-endian);
// the configuration word counts the encrypted 16-byte blocks, and the
// decrypted data begins with 2F 2F.

import { scale } from '../../codec/decimal';
import { fromLocal } from '../../time/zone';
import { reject } from '../errors';
import type { Keys } from '../keys';
import type { Reading, RegisterValue } from '../reading';
import { isApplicationCi, verifiedLongFrame, CHECKSUM_MISMATCH } from './link';

export interface MbusOptions {
  keys: Keys;
  zone: string;
}

const FILLER = 0x2f;
const MORE_RECORDS = 0x1f;
const MANUFACTURER_DATA = 0x0f;
const MAX_EXTENSIONS = 10;

/** Bytes of data by the DIF's low nibble (0x0D: a length byte follows; 0x0F: special functions). */
const DATA_LENGTH = [0, 1, 2, 3, 4, 4, 6, 8, 0, 1, 2, 3, 4, -1, 6, -1];

// What a record measures, and its OBIS code: C for import and for export (backward flow), D, and the unit.
const ACTIVE_ENERGY = 0;
const ACTIVE_POWER = 1;
const REACTIVE_ENERGY = 2;
const REACTIVE_POWER = 3;
const VOLTAGE = 4;
const CURRENT = 5;
const o = (importC: number, exportC: number, d: string, unit: string) => ({ importC, exportC, d, unit });
const OBIS_OF = [o(1, 2, '.8.', 'Wh'), o(1, 2, '.7.', 'W'), o(3, 4, '.8.', 'varh'), o(3, 4, '.7.', 'var'), o(32, 32, '.7.', 'V'), o(31, 31, '.7.', 'A')];

/** Siemens (manufacturer SAM) marks its debit energy register (1-0:1.128.0) with the manufacturer-specific VIFE 04. */
const SIEMENS = 0x4c2d;

interface Header {
  manufacturer: number;
  /** Offset of the 4-byte identification number, or -1 (short or no header). */
  id: number;
  access: number;
  mode: number;
  blocks: number;
  /** Offset of the first byte after the header. */
  data: number;
}

function header(f: Uint8Array, end: number): Header {
  const ci = f[6];
  let p = 7;
  let id = -1;
  let manufacturer = 0;
  if (ci === 0x72 || ci === 0x5b) {
    if (p + 12 > end) reject('truncated', 'M-Bus frame ends inside its long header');
    id = p;
    manufacturer = f[p + 4] | (f[p + 5] << 8);
    p += 8;
  } else if ((ci === 0x7a || ci === 0x5a) && p + 4 > end) reject('truncated', 'M-Bus frame ends inside its short header');
  if (ci === 0x78 || ci === 0x51) return { manufacturer, id, access: 0, mode: 0, blocks: 0, data: p };
  const config = f[p + 2] | (f[p + 3] << 8);
  return { manufacturer, id, access: f[p], mode: (config >> 8) & 0x1f, blocks: (config >> 4) & 0x0f, data: p + 4 };
}

/** The identification number: 8 BCD digits, least significant byte first; null when all zero. */
function identification(f: Uint8Array, at: number): string | null {
  let s = '';
  for (let i = at + 3; i >= at; i--) s += (f[i] >> 4).toString(16) + (f[i] & 0x0f).toString(16);
  return /^0+$/.test(s) ? null : s.toUpperCase();
}

export function decodeMbus(frame: Uint8Array, options: MbusOptions): Reading {
  if (!verifiedLongFrame(frame)) reject('crc', CHECKSUM_MISMATCH);
  const ci = frame[6];
  if (!isApplicationCi(ci)) {
    reject('unsupported', ci <= 0x1f
      ? `M-Bus frame with CI 0x${ci.toString(16)} carries DLMS: use the dlms protocol`
      : `M-Bus CI 0x${ci.toString(16)} is not an EN 13757-3 application layer this decoder reads`);
  }
  const end = frame.length - 2;
  const h = header(frame, end);
  const s: RecordState = { values: {}, time: null, meterId: h.id >= 0 ? identification(frame, h.id) : null, manufacturer: h.manufacturer, zone: options.zone };
  if (h.mode === 0) {
    records(frame, h.data, end, s);
    return reading(s, false);
  }
  if (h.mode !== 5) reject('unsupported', `OMS security mode ${h.mode} is not supported (mode 5, AES-128-CBC, is)`);
  if (h.id < 0) reject('unsupported', 'encrypted M-Bus frame without a long header: the IV needs the address wired M-Bus does not carry');
  const n = 16 * h.blocks;
  if (n === 0) reject('structure', 'OMS mode 5 frame that says no block is encrypted');
  if (h.data + n > end) reject('truncated', 'M-Bus frame ends inside its encrypted blocks');
  const key = options.keys.encryption;
  if (!key) reject('key-missing', 'encrypted M-Bus frame (OMS mode 5): a key is needed (--key)');
  const iv = new Uint8Array(16);
  iv[0] = frame[h.id + 4];
  iv[1] = frame[h.id + 5];
  iv.set(frame.subarray(h.id, h.id + 4), 2);
  iv[6] = frame[h.id + 6];
  iv[7] = frame[h.id + 7];
  iv.fill(h.access, 8);
  const plain = key.cbcDecrypt(iv, frame.subarray(h.data, h.data + n));
  // The 2F 2F the sender put first is the only sign of the right key (mode 5 has no tag).
  if (plain[0] !== FILLER || plain[1] !== FILLER) reject('wrong-key', 'decrypted M-Bus data does not begin with 2F 2F: wrong key?');
  records(plain, 2, n, s);
  records(frame, h.data + n, end, s); // unencrypted records after the encrypted blocks, if any
  return reading(s, true);
}

function reading(s: RecordState, encrypted: boolean): Reading {
  if (Object.keys(s.values).length === 0) reject('structure', 'M-Bus frame without a record this decoder maps to an OBIS code');
  return { protocol: 'mbus', meterId: s.meterId, time: s.time, values: s.values, security: { encrypted, authenticated: false } };
}

interface RecordState {
  values: { [obis: string]: RegisterValue };
  time: number | null;
  meterId: string | null;
  manufacturer: number;
  zone: string;
}

/** Reads the data records in b[p, end). */
function records(b: Uint8Array, p: number, end: number, s: RecordState): void {
  while (p < end) {
    const dif = b[p++];
    if (dif === FILLER) continue;
    if (dif === MANUFACTURER_DATA || dif === MORE_RECORDS) return; // manufacturer data to the end
    const coding = dif & 0x0f;
    if (coding === 0x0f) reject('structure', `M-Bus record with reserved DIF 0x${dif.toString(16)}`);
    let storage = (dif >> 6) & 1;
    let tariff = 0;
    let subunit = 0;
    let ext = dif & 0x80;
    for (let k = 0; ext; k++) {
      if (k >= MAX_EXTENSIONS || p >= end) reject('structure', 'M-Bus record with too many or truncated DIFEs');
      const dife = b[p++];
      storage |= (dife & 0x0f) << (1 + 4 * k);
      tariff |= ((dife >> 4) & 3) << (2 * k);
      subunit |= ((dife >> 6) & 1) << k;
      ext = dife & 0x80;
    }
    if (p >= end) reject('structure', 'M-Bus record without its VIF');
    const vif = b[p++];
    const vifAt = p;
    if ((vif & 0x7f) === 0x7c) p += 1 + (p < end ? b[p] : 0); // plain-text unit: its length and text
    ext = vif & 0x80;
    for (let k = 0; ext; k++) {
      if (k >= MAX_EXTENSIONS || p >= end) reject('structure', 'M-Bus record with too many or truncated VIFEs');
      ext = b[p++] & 0x80;
    }
    let length = DATA_LENGTH[coding];
    if (length < 0) {
      if (p >= end) reject('structure', 'M-Bus record without its length byte');
      length = b[p++];
      if (length > 0xbf) reject('unsupported', 'M-Bus variable-length data other than text');
    }
    if (p + length > end) reject('structure', 'M-Bus record runs past the end of the frame');
    if ((dif & 0x30) === 0 && storage === 0 && subunit === 0) value(b, dif, vif, vifAt, p, p + length, tariff, s);
    p += length;
  }
}

/** One instantaneous record of the current period: mapped when its VIF is one this decoder knows. */
function value(b: Uint8Array, dif: number, vif: number, vifes: number, at: number, end: number, tariff: number, s: RecordState): void {
  const coding = dif & 0x0f;
  const code = vif & 0x7f;
  /** The next VIFE, or -1 when there is none. */
  let e = vif & 0x80 ? vifes : -1;
  let kind: number;
  let exp: number;
  if (code <= 0x07) {
    kind = ACTIVE_ENERGY;
    exp = code - 3; // 10^(n-3) Wh
  } else if (code >= 0x28 && code <= 0x2f) {
    kind = ACTIVE_POWER;
    exp = code - 0x28 - 3; // 10^(n-3) W
  } else if (code === 0x6d && (coding === 4 || coding === 6)) {
    if (s.time === null) s.time = dateTime(b, at, coding === 6, s.zone);
    return;
  } else if (code === 0x78 && coding >= 0x09 && coding <= 0x0c) {
    if (s.meterId === null) s.meterId = bcdText(b, at, end);
    return;
  } else if ((vif === 0xfb || vif === 0xfd) && e >= 0) {
    const x = b[e] & 0x7f;
    e = b[e] & 0x80 ? e + 1 : -1;
    if (vif === 0xfb && x <= 0x01) {
      // First extension table (EN 13757-3 table 14).
      kind = ACTIVE_ENERGY;
      exp = x - 1 + 6; // 10^(n-1) MWh
    } else if (vif === 0xfb && x <= 0x03) {
      kind = REACTIVE_ENERGY;
      exp = x - 2 + 3; // 10^n kvarh
    } else if (vif === 0xfb && (x === 0x14 || x === 0x15)) {
      kind = REACTIVE_POWER;
      exp = x - 0x14; // 10^(n-3) kvar
    } else if (vif === 0xfd && x >= 0x40 && x <= 0x4f) {
      // Second extension table (EN 13757-3 table 15): volts and amperes.
      kind = VOLTAGE;
      exp = x - 0x40 - 9; // 10^(nnnn-9) V
    } else if (vif === 0xfd && x >= 0x50 && x <= 0x5f) {
      kind = CURRENT;
      exp = x - 0x50 - 12; // 10^(nnnn-12) A
    } else return;
  } else return;
  // Combinable VIFEs (EN 13757-3 table 16): export, a power-of-ten correction, Siemens' debit register.
  let backward = false;
  let debit = false;
  while (e >= 0) {
    let x = b[e];
    const c = x & 0x7f;
    if (c === 0x3c) backward = true; // accumulation of negative contributions: export
    else if (c >= 0x70 && c <= 0x77) exp += c - 0x70 - 6; // multiplicative correction 10^(nnn-6)
    else if (c === 0x7f && x & 0x80 && s.manufacturer === SIEMENS && (b[e + 1] & 0x7f) === 0x04 && kind === ACTIVE_ENERGY) {
      debit = true; // manufacturer-specific VIFE follows: Siemens' 04
      x = b[++e];
    } else return; // a qualifier this decoder does not know: not mapped rather than mapped wrongly
    e = x & 0x80 ? e + 1 : -1;
  }
  const raw = number(b, coding, at, end);
  if (raw !== raw) return; // NaN: no data, or BCD with non-digits
  if (debit) {
    s.values['1-0:1.128.0'] = { value: scale(raw, exp), unit: 'Wh' };
    return;
  }
  const k = OBIS_OF[kind];
  // Voltage and current carry no tariff; export (backward flow) is its own OBIS C.
  const key = '1-0:' + (backward ? k.exportC : k.importC) + k.d + (kind >= VOLTAGE ? 0 : tariff);
  s.values[key] = { value: scale(raw, exp), unit: k.unit };
}

/** The record's number: signed little-endian integers, 32-bit reals, BCD (a leading F digit is a minus sign). */
function number(b: Uint8Array, coding: number, at: number, end: number): number {
  const n = end - at;
  if (n === 0) return NaN;
  if (coding === 0x05) return new DataView(b.buffer, b.byteOffset + at, 4).getFloat32(0, true);
  if (coding >= 0x09 && coding <= 0x0e && coding !== 0x0d) {
    let v = 0;
    let negative = false;
    for (let i = end - 1; i >= at; i--) {
      let hi = b[i] >> 4;
      const lo = b[i] & 0x0f;
      if (i === end - 1 && hi === 0x0f) {
        negative = true;
        hi = 0;
      }
      if (hi > 9 || lo > 9) return NaN;
      v = v * 100 + hi * 10 + lo;
    }
    return negative ? -v : v;
  }
  let v = 0;
  for (let i = end - 1; i >= at; i--) v = v * 256 + b[i];
  return b[end - 1] & 0x80 ? v - 2 ** (8 * n) : v;
}

function bcdText(b: Uint8Array, at: number, end: number): string {
  let s = '';
  for (let i = end - 1; i >= at; i--) s += (b[i] >> 4).toString(16) + (b[i] & 0x0f).toString(16);
  return s.toUpperCase();
}

/**
 * Date and time, in the meter's local time: type F (4 bytes: minute, hour,
 * day, month and year; the hour byte's top bit says summer time) or type I
 * (6 bytes: seconds first; the seconds byte's bit 6 says summer time). A
 * clock flagged invalid (IV) gives none.
 */
function dateTime(b: Uint8Array, at: number, withSeconds: boolean, zone: string): number | null {
  let p = at;
  let second = 0;
  let summer: boolean;
  if (withSeconds) {
    second = b[p] & 0x3f;
    summer = (b[p] & 0x40) !== 0;
    p++;
  } else summer = (b[p + 1] & 0x80) !== 0;
  if (b[p] & 0x80) return null; // IV: time invalid
  const minute = b[p] & 0x3f;
  const hour = b[p + 1] & 0x1f;
  const day = b[p + 2] & 0x1f;
  const month = b[p + 3] & 0x0f;
  const year = 2000 + (((b[p + 2] >> 5) & 0x07) | ((b[p + 3] >> 1) & 0x78));
  if (second > 59 || minute > 59 || hour > 23 || day < 1 || day > 31 || month < 1 || month > 12) return null;
  return fromLocal(zone, year, month, day, hour, minute, second, 0, summer);
}
