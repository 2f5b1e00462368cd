// SML 1.04 file -> Reading. Checks the transport CRC, removes escapes, then
// reads every GetListResponse: each entry's OBIS name, unit, scaler and value.
//
// Written as plain functions over (bytes, position) with the last
// type-length field in module variables: on XS every property access and
// call is bytecodes, and this runs for every element of every telegram.

import { crc16Kermit, crc16X25, crc16X25Register, crc16X25Within } from '../../codec/crc16';
import { latin1, readInt, textOrHex } from '../../codec/bytes';
import { scale } from '../../codec/decimal';
import { obisFromBytes } from '../../obis';
import { dlmsUnit } from '../../units';
import { reject } from '../errors';
import { PLAIN, type Reading, type RegisterValue } from '../reading';

const ESC = 0x1b;

// Type-length field types (bits 6..4 of the first TL byte). Typed `number`
// so that TypeScript does not narrow `type` across calls to tl().
const OCTETS: number = 0x00;
const BOOLEAN: number = 0x40;
const INTEGER: number = 0x50;
const UNSIGNED: number = 0x60;
const LIST: number = 0x70;
/** Not a TL type: the end-of-message marker 00. */
const END: number = -1;

const GET_LIST_RESPONSE = 0x0701;
const MAX_DEPTH = 12;

/** The type and length of the last type-length field read; for lists, the element count. */
let type = 0;
let len = 0;

/** Reads the type-length field at b[p]; returns the position after it. */
function tl(b: Uint8Array, p: number, end: number): number {
  if (p >= end) reject('structure', 'SML message ends in the middle of an element');
  let byte = b[p++];
  if (byte === 0) {
    type = END;
    len = 0;
    return p;
  }
  type = byte & 0x70;
  len = byte & 0x0f;
  if (byte & 0x80) {
    let tlBytes = 1;
    do {
      if (p >= end) reject('structure', 'SML type-length field runs past the end');
      byte = b[p++];
      if (byte & 0x70) reject('structure', 'malformed SML type-length field');
      len = (len << 4) | (byte & 0x0f);
      tlBytes++;
    } while (byte & 0x80);
    if (type !== LIST) len -= tlBytes - 1;
  }
  // For everything but lists the length counts the type-length bytes too.
  if (type !== LIST) {
    len -= 1;
    if (len < 0 || p + len > end) reject('structure', 'SML element length runs past the end of the file');
  }
  return p;
}

/** Skips the element at b[p], lists included. */
function skip(b: Uint8Array, p: number, end: number, depth = 0): number {
  const byte = b[p];
  // One-byte type-length field of a scalar (most elements): its low nibble is the whole length.
  if (byte < 0x70 && byte > 0) {
    p += byte & 0x0f;
    if (p > end) reject('structure', 'SML element length runs past the end of the file');
    return p;
  }
  p = tl(b, p, end);
  if (type !== LIST) return p + len;
  if (depth > MAX_DEPTH) reject('structure', 'SML lists nested too deeply');
  for (let n = len; n > 0; n--) p = skip(b, p, end, depth + 1);
  return p;
}

/** An unsigned or signed integer of 1..8 bytes at b[p] (after its TL), by type and len. */
function integer(b: Uint8Array, p: number): number {
  if (len === 1) return type === INTEGER && b[p] > 127 ? b[p] - 256 : b[p];
  if (len === 2) {
    const v = (b[p] << 8) | b[p + 1];
    return type === INTEGER && v > 32767 ? v - 65536 : v;
  }
  return readInt(b, p, len, type === INTEGER);
}

/** Reads an unsigned/integer element; NaN when absent or of another type. Position in `at`. */
function number(b: Uint8Array, p: number, end: number): number {
  const q = tl(b, p, end);
  at = q + len;
  if ((type !== INTEGER && type !== UNSIGNED) || len === 0 || len > 8) {
    if (type === LIST) at = skip(b, p, end);
    return NaN;
  }
  return integer(b, q);
}
/** Position after the element `number` or `time` read. */
let at = 0;

/** SML_Time at b[p]: seconds since the epoch for a timestamp; null for a second index or absence. */
function time(b: Uint8Array, p: number, end: number): number | null {
  const q = tl(b, p, end);
  at = q + (type === LIST ? 0 : len);
  if (type !== LIST) return null; // absent, or a bare secIndex (some Holley DTZ541 firmware)
  if (len !== 2) {
    at = skip(b, p, end);
    return null;
  }
  const choice = number(b, q, end);
  if (choice === 2) {
    const t = number(b, at, end);
    return Number.isNaN(t) ? null : t;
  }
  if (choice === 3) {
    // SML_TimestampLocal: UTC timestamp, local offset, season offset.
    const list = at;
    const r = tl(b, list, end);
    if (type !== LIST || len < 1) {
      at = skip(b, list, end);
      return null;
    }
    const count = len;
    const t = number(b, r, end);
    for (let k = 1; k < count; k++) at = skip(b, at, end);
    return Number.isNaN(t) ? null : t;
  }
  at = skip(b, at, end); // secIndex: a counter, not a clock
  return null;
}

const CRC_MISMATCH = "SML CRC mismatch: the telegram was corrupted on the line (check the reading head's position)";

/** The CRC a file or message carries matched only as CRC-16/KERMIT: allowed for Holley meters alone (see decodeSml). */
let kermitUsed = false;

const swapped = (v: number) => ((v & 0xff) << 8) | (v >> 8);

/**
 * Checks a CRC the telegram carries over b[start, end), `wire` as sent (low
 * byte first, both for the transport CRC and for a message's crc16):
 * CRC-16/X-25 as the standard says, or CRC-16/KERMIT in either byte order,
 * which some Holley DTZ541 firmware computes instead.
 */
function checkCrc(b: Uint8Array, start: number, end: number, wire: number): void {
  if (crc16X25(b, start, end) === wire) return;
  const kermit = crc16Kermit(b, start, end);
  if (kermit !== wire && kermit !== swapped(wire)) reject('crc', CRC_MISMATCH);
  kermitUsed = true;
}

// The CRCs of a file without escapes are checked in one pass after it has
// been read (checkDeferred): the transport CRC over the file, and each
// message's CRC from the registers that pass had at the message's start and
// at its crc16 field. Reading first is safe (the reader checks every length);
// a file that fails to read is checked then, so that a corrupted one is still
// `crc`. Message spans, in payload offsets; past MAX_SPANS messages, checked
// directly.
const MAX_SPANS = 32;
// Allocated on first use, not when the module loads: on the device a typed
// array made while preloading is in flash, read-only (docs/esp32.md).
const UNALLOCATED = new Int32Array(0);
let spanStart = UNALLOCATED;
let spanEnd = UNALLOCATED;
let spanWire = UNALLOCATED;
let spans = 0;
/** The payload is the frame from offset 8 (no escapes), and its CRCs wait for checkDeferred. */
let deferred = false;

/** Checks the transport CRC and the message CRCs recorded while reading, in one pass over the frame. */
function checkDeferred(frame: Uint8Array, b: Uint8Array): void {
  const n = frame.length;
  let register = 0xffff;
  let at = 0;
  let messagesOk = true;
  for (let i = 0; i < spans; i++) {
    const start = spanStart[i] + 8;
    const end = spanEnd[i] + 8;
    const before = crc16X25Register(register, frame, at, start);
    register = crc16X25Register(before, frame, start, end);
    if (crc16X25Within(before, register, end - start) !== spanWire[i]) messagesOk = false;
    at = end;
  }
  register = crc16X25Register(register, frame, at, n - 2);
  const wire = frame[n - 2] | (frame[n - 1] << 8);
  if ((register ^ 0xffff) !== wire) checkCrc(frame, 0, n - 2, wire); // KERMIT, or a corrupted file
  if (messagesOk) return;
  for (let i = 0; i < spans; i++) checkCrc(b, spanStart[i], spanEnd[i], spanWire[i]);
}

/** Checks the transport framing (and, for a file with escapes, its CRC); returns the unescaped payload without fill bytes. */
function payload(frame: Uint8Array): Uint8Array {
  const n = frame.length;
  if (n < 16 || n % 4 !== 0) reject('framing', 'SML file length is not a multiple of 4: bytes were lost on the line');
  const fill = frame[n - 3];
  if (fill > 3) {
    checkCrc(frame, 0, n - 2, frame[n - 2] | (frame[n - 1] << 8)); // a corrupted file first
    reject('framing', 'SML end sequence has an invalid fill byte count');
  }
  const end = n - 8;
  // Escaped 1b1b1b1b sequences are rare: copy only when there is one. Four
  // aligned words per step while none of them starts with 1b (on XS the loop
  // itself costs as much as the compare).
  let escaped = false;
  let p = 8;
  while (p + 12 < end && frame[p] !== ESC && frame[p + 4] !== ESC && frame[p + 8] !== ESC && frame[p + 12] !== ESC) p += 16;
  for (; p < end; p += 4) {
    if (frame[p] === ESC && frame[p + 1] === ESC && frame[p + 2] === ESC && frame[p + 3] === ESC) {
      escaped = true;
      break;
    }
  }
  if (!escaped) {
    deferred = true;
    return frame.subarray(8, end - fill);
  }
  checkCrc(frame, 0, n - 2, frame[n - 2] | (frame[n - 1] << 8));
  const out = new Uint8Array(end - 8);
  let o = 0;
  for (let p = 8; p < end; p += 4) {
    out.set(frame.subarray(p, p + 4), o);
    o += 4;
    if (frame[p] === ESC && frame[p + 1] === ESC && frame[p + 2] === ESC && frame[p + 3] === ESC) p += 4;
  }
  return out.subarray(0, o - fill);
}

/**
 * DIN 43863-5 server ids (0a 01 'D' 'Z' 'G' 00 xx xx xx xx) are printed on the
 * meter as "1DZG0060694611": sparte, manufacturer, fabrication block, serial.
 */
function meterIdOf(b: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n === 10 && (b[start] === 0x09 || b[start] === 0x0a) && b[start + 1] <= 9 && b[start + 5] <= 99) {
    let letters = true;
    for (let i = start + 2; i < start + 5; i++) if (b[i] < 0x41 || b[i] > 0x5a) letters = false;
    if (letters) {
      const block = String(b[start + 5]);
      const serial = String(readInt(b, start + 6, 4, false));
      return b[start + 1] + latin1(b, start + 2, start + 5) + '00'.slice(block.length) + block + '00000000'.slice(serial.length) + serial;
    }
  }
  const v = textOrHex(b, start, end);
  return 'text' in v ? v.text : v.hex;
}

/**
 * DZG DVS74 meters with serial numbers in 42,000,000-48,999,999 and
 * 55,000,000-58,999,999 send 16.7.0 as a one- or two-byte Integer without sign
 * extension: 356.24 W arrives as -299.12 W. DZG named the range; libsml applies
 * the same rule. Other DZG meters send genuine negative power (generators,
 * export) and must stay as they are.
 */
function isDzgPowerSignBug(b: Uint8Array, start: number, end: number): boolean {
  if (end - start !== 10 || b[start] !== 0x0a || b[start + 1] !== 0x01) return false;
  if (b[start + 2] !== 0x44 || b[start + 3] !== 0x5a || b[start + 4] !== 0x47) return false;
  const serial = readInt(b, start + 5, 5, false);
  return (serial >= 42000000 && serial <= 48999999) || (serial >= 55000000 && serial <= 58999999);
}

interface ListState {
  values: { [obis: string]: RegisterValue };
  meterId: string | null;
  time: number | null;
  dzgBug: boolean;
  /** The server id is a Holley one (DIN 43863-5 manufacturer HLY): the only meters whose KERMIT CRCs are accepted. */
  holley: boolean;
  /** 1-0:16.7.0 sent as a one- or two-byte Integer: [raw, width, exp, unit], for the DZG rule. */
  shortPower: [number, number, number, string] | null;
}

const POWER = '1-0:16.7.0';

/** One SML_ListEntry at b[p]: objName, status, valTime, unit, scaler, value, valueSignature. */
function entry(b: Uint8Array, p: number, end: number, s: ListState): number {
  // The common shapes take the short paths below: a 6-byte name (07), a
  // one-byte unit (62 xx) and scaler (52 xx) or their absence (01).
  if (b[p] !== 0x77) return entryOfOtherShape(b, p, end, s);
  p++;
  let name = -1;
  if (b[p] === 0x07) {
    name = p + 1;
    p += 7;
  } else p = skip(b, p, end);
  // status and valTime, mostly absent (01): skipped without a call.
  if (b[p] === 0x01) p++;
  else p = skip(b, p, end);
  if (b[p] === 0x01) p++;
  else p = skip(b, p, end);
  let unitCode = 255;
  let x = b[p];
  if (x === 0x62) {
    unitCode = b[p + 1];
    p += 2;
  } else if (x === 0x01) p++;
  else {
    unitCode = number(b, p, end);
    p = at;
  }
  let scaler = 0;
  x = b[p];
  if (x === 0x52) {
    scaler = b[p + 1] > 127 ? b[p + 1] - 256 : b[p + 1];
    p += 2;
  } else if (x === 0x01) p++;
  else {
    scaler = number(b, p, end);
    p = at;
  }
  let valueType: number;
  let width: number;
  let valueAt: number;
  const v = b[p];
  if (v > 0 && v < 0x70 && (v & 0x0f) > 0 && p + (v & 0x0f) <= end) {
    // A scalar with a one-byte type-length field (most values): what tl() would find, without the call.
    valueType = v & 0x70;
    width = (v & 0x0f) - 1;
    valueAt = p + 1;
    p = valueAt + width;
  } else {
    const valueStart = p;
    p = tl(b, p, end);
    valueType = type;
    width = len;
    valueAt = p;
    p = valueType === LIST ? skip(b, valueStart, end) : p + width;
  }
  if (b[p] === 0x01) p++; // valueSignature, mostly absent
  else p = skip(b, p, end);
  if (p > end) reject('structure', 'SML list entry runs past the end of the file');
  if (name >= 0) value(b, obisFromBytes(b, name), valueType, width, valueAt, unitCode, scaler, s);
  return p;
}

/** A list entry with a long name, a missing field or extra fields: read element by element. */
function entryOfOtherShape(b: Uint8Array, p: number, end: number, s: ListState): number {
  const start = p;
  p = tl(b, p, end);
  if (type !== LIST) return start + 1 + len;
  const fields = len;
  if (fields < 6) {
    for (let k = 0; k < fields; k++) p = skip(b, p, end);
    return p;
  }
  p = tl(b, p, end); // objName
  const named = type === OCTETS && len === 6;
  const name = p;
  p += type === LIST ? 0 : len;
  p = skip(b, p, end); // status
  p = skip(b, p, end); // valTime
  const unitCode = number(b, p, end);
  const scaler = number(b, at, end);
  const valueStart = at;
  p = tl(b, at, end);
  const valueType = type;
  const width = len;
  const valueAt = p;
  p = valueType === LIST ? skip(b, valueStart, end) : p + width;
  for (let k = 6; k < fields; k++) p = skip(b, p, end); // valueSignature
  if (named) value(b, obisFromBytes(b, name), valueType, width, valueAt, unitCode !== unitCode ? 255 : unitCode, scaler !== scaler ? 0 : scaler, s);
  return p;
}

function value(b: Uint8Array, key: string, valueType: number, width: number, valueAt: number, unitCode: number, scaler: number, s: ListState): void {
  if (valueType === INTEGER || valueType === UNSIGNED) {
    if (width === 0 || width > 8) return;
    type = valueType;
    len = width;
    const raw = integer(b, valueAt);
    const unit = dlmsUnit(unitCode);
    const exp = scaler + unit.exp;
    if (valueType === INTEGER && width <= 2 && key === POWER) s.shortPower = [raw, width, exp, unit.unit];
    s.values[key] = { value: scale(raw, exp), unit: unit.unit };
  } else if (valueType === OCTETS) {
    const valueEnd = valueAt + width;
    if (s.meterId === null && (key === '1-0:96.1.0' || key === '0-0:96.1.0')) s.meterId = meterIdOf(b, valueAt, valueEnd);
    if (!s.dzgBug && key.indexOf(':96.1.0') > 0) s.dzgBug = isDzgPowerSignBug(b, valueAt, valueEnd);
    s.values[key] = textOrHex(b, valueAt, valueEnd);
  } else if (valueType === BOOLEAN && width === 1) {
    s.values[key] = { value: b[valueAt] ? 1 : 0, unit: '' };
  }
}

/** GetListResponse at b[p]: clientId, serverId, listName, actSensorTime, valList, listSignature, actGatewayTime. */
function getList(b: Uint8Array, p: number, end: number, s: ListState): number {
  p = tl(b, p, end);
  const fields = len;
  if (type !== LIST || fields < 5) reject('structure', 'SML GetListResponse with too few fields');
  p = skip(b, p, end); // clientId
  p = tl(b, p, end); // serverId
  if (type === OCTETS && len > 0 && s.meterId === null) {
    s.meterId = meterIdOf(b, p, p + len);
    s.dzgBug = isDzgPowerSignBug(b, p, p + len);
    s.holley = len === 10 && b[p + 2] === 0x48 && b[p + 3] === 0x4c && b[p + 4] === 0x59;
  }
  p += type === LIST ? 0 : len;
  p = skip(b, p, end); // listName
  const sensorTime = time(b, p, end);
  if (sensorTime !== null && s.time === null) s.time = sensorTime * 1000;
  p = tl(b, at, end);
  if (type !== LIST) reject('structure', 'SML GetListResponse without a value list');
  for (let n = len; n > 0; n--) p = entry(b, p, end, s);
  for (let k = 5; k < fields; k++) p = skip(b, p, end); // listSignature, actGatewayTime
  const sp = s.shortPower;
  s.shortPower = null;
  if (sp && s.dzgBug && sp[0] < 0) s.values[POWER] = { value: scale(sp[0] + 2 ** (8 * sp[1]), sp[2]), unit: sp[3] };
  return p;
}

export function decodeSml(frame: Uint8Array): Reading {
  kermitUsed = false;
  deferred = false;
  spans = 0;
  const b = payload(frame);
  let reading: Reading;
  try {
    reading = readFile(b);
  } catch (e) {
    if (deferred) checkDeferred(frame, b); // a file that does not read may be a corrupted one: crc first
    throw e;
  }
  if (deferred) checkDeferred(frame, b);
  if (kermitUsed && !holley) reject('crc', CRC_MISMATCH);
  if (lists === 0) reject('structure', 'SML file without a GetList response: it carries no readings');
  return reading;
}

/** What readFile found besides the reading: whether the server id is a Holley one, and how many GetList responses. */
let holley = false;
let lists = 0;

function readFile(b: Uint8Array): Reading {
  const end = b.length;
  const s: ListState = { values: {}, meterId: null, time: null, dzgBug: false, holley: false, shortPower: null };
  lists = 0;
  let p = 0;
  while (p < end) {
    if (b[p] === 0) {
      p++; // end-of-message marker or fill
      continue;
    }
    const message = p;
    p = tl(b, p, end);
    if (type !== LIST) reject('structure', 'SML file holds something other than a message');
    const fields = len;
    if (fields < 4) {
      p = skip(b, message, end);
      continue;
    }
    p = skip(b, p, end); // transactionId
    // groupNo and abortOnError: scalars with a one-byte type-length field (62 00), skipped without a call.
    for (let k = 0; k < 2; k++) {
      const x = b[p];
      if (x > 0 && x < 0x70 && p + (x & 0x0f) <= end) p += x & 0x0f;
      else p = skip(b, p, end);
    }
    const body = p;
    p = tl(b, p, end);
    if (type === LIST && len === 2) {
      const tag = number(b, p, end);
      if (tag === GET_LIST_RESPONSE) {
        p = getList(b, at, end, s);
        lists++;
      } else p = skip(b, at, end);
    } else p = skip(b, body, end);
    if (fields > 4) {
      // crc16 over the message up to it: redundant with the transport CRC
      // for line errors, but a check the message carries, so checked.
      const crcAt = p;
      let crc: number;
      if (b[p] === 0x63 && p + 3 <= end) {
        crc = (b[p + 1] << 8) | b[p + 2]; // the usual Unsigned16, read without a call
        at = p + 3;
      } else {
        crc = number(b, p, end);
        if (len !== 2 || type !== UNSIGNED) reject('structure', 'SML message CRC is not an Unsigned16');
      }
      if (deferred && spans < MAX_SPANS) {
        if (spanStart === UNALLOCATED) {
          spanStart = new Int32Array(MAX_SPANS);
          spanEnd = new Int32Array(MAX_SPANS);
          spanWire = new Int32Array(MAX_SPANS);
        }
        spanStart[spans] = message;
        spanEnd[spans] = crcAt;
        spanWire[spans++] = swapped(crc);
      } else checkCrc(b, message, crcAt, swapped(crc));
      p = at;
    }
    for (let k = 5; k < fields; k++) p = skip(b, p, end); // endOfSmlMsg
  }
  holley = s.holley;
  return { protocol: 'sml', meterId: s.meterId, time: s.time, values: s.values, security: PLAIN };
}
