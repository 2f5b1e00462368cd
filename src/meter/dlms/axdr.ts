// A-XDR encoded COSEM data (IEC 61334-6, DLMS Green Book 9.5), read into a
// flat list of items in document order: a structure or array is one item
// holding its element count, followed by its elements. Flat, because the push
// lists meters send are read as a sequence; nesting only groups. A
// {scaler, unit} structure becomes one item, since it always belongs to the
// value before it.
//
// Items are three parallel arrays, not objects, and strings are (offset,
// length) into the APDU rather than copies: on XS an object or a view per
// element costs more bytecodes than reading the element.

import { readInt } from '../../codec/bytes';
import { reject } from '../errors';

const NULL = 0x00;
export const ARRAY = 0x01;
export const STRUCTURE = 0x02;
export const BOOLEAN = 0x03;
const BIT_STRING = 0x04;
export const INT32 = 0x05;
export const UINT32 = 0x06;
export const OCTET_STRING = 0x09;
export const VISIBLE_STRING = 0x0a;
export const UTF8_STRING = 0x0c;
export const BCD = 0x0d;
export const INT8 = 0x0f;
export const INT16 = 0x10;
export const UINT8 = 0x11;
export const UINT16 = 0x12;
export const INT64 = 0x14;
export const UINT64 = 0x15;
export const ENUM = 0x16;
export const FLOAT32 = 0x17;
export const FLOAT64 = 0x18;
export const DATE_TIME = 0x19;
const DATE = 0x1a;
const TIME = 0x1b;
/** Not an A-XDR tag: a {scaler, unit} structure read as one item. */
export const SCALER_UNIT = 0x100;

/**
 * The items of one data element. For item i:
 *  - numbers (integers, booleans, enums, BCD, floats): value[i] is the number;
 *  - structures and arrays: value[i] is the element count;
 *  - strings, bit strings, dates and times: value[i] is the offset of the
 *    bytes in `bytes`, size[i] their length;
 *  - SCALER_UNIT: value[i] is the scaler, size[i] the unit code.
 */
export interface Items {
  bytes: Uint8Array;
  tag: number[];
  value: number[];
  size: number[];
}

/** Fixed widths of the simple types; -1 for the variable-length ones. */
const WIDTH: number[] = [];
for (let t = 0; t < 0x20; t++) WIDTH[t] = -1;
WIDTH[NULL] = 0;
WIDTH[BOOLEAN] = WIDTH[BCD] = WIDTH[INT8] = WIDTH[UINT8] = WIDTH[ENUM] = 1;
WIDTH[INT16] = WIDTH[UINT16] = 2;
WIDTH[INT32] = WIDTH[UINT32] = WIDTH[FLOAT32] = WIDTH[TIME] = 4;
WIDTH[DATE] = 5;
WIDTH[INT64] = WIDTH[UINT64] = WIDTH[FLOAT64] = 8;
WIDTH[DATE_TIME] = 12;

const MAX_DEPTH = 16;
const MAX_ITEMS = 1024;

/** Reads one data element at b[p] and everything inside it; returns the position after it. */
export function readData(b: Uint8Array, p: number, end: number, items: Items): number {
  const tags = items.tag;
  const values = items.value;
  const sizes = items.size;
  let k = tags.length;
  // Elements still to read in each open structure or array; open[depth] is the innermost.
  const open = [1];
  let depth = 0;
  while (depth >= 0) {
    if (open[depth] === 0) {
      depth--;
      continue;
    }
    open[depth]--;
    if (p >= end) reject('structure', 'DLMS data ends before its last element');
    if (k >= MAX_ITEMS) reject('structure', 'DLMS data with too many elements');
    const tag = b[p++];
    let width = tag < 0x20 ? WIDTH[tag] : -1;
    if (width >= 0) {
      if (p + width > end) reject('structure', 'DLMS value cut short');
      let v: number;
      if (tag === UINT32) v = ((b[p] << 24) | (b[p + 1] << 16) | (b[p + 2] << 8) | b[p + 3]) >>> 0;
      else if (width === 2) {
        v = (b[p] << 8) | b[p + 1];
        if (tag === INT16 && v > 32767) v -= 65536;
      } else if (width === 1) v = tag === INT8 && b[p] > 127 ? b[p] - 256 : b[p];
      else if (tag === INT32 || tag === INT64 || tag === UINT64) v = readInt(b, p, width, tag !== UINT64);
      else if (tag === FLOAT32 || tag === FLOAT64) v = new DataView(b.buffer, b.byteOffset + p, width)[width === 4 ? 'getFloat32' : 'getFloat64'](0);
      else v = p; // NULL, DATE_TIME, DATE, TIME: the bytes
      tags[k] = tag;
      values[k] = v;
      sizes[k++] = width;
      p += width;
      continue;
    }
    if (tag !== STRUCTURE && tag !== ARRAY && tag !== OCTET_STRING && tag !== VISIBLE_STRING && tag !== UTF8_STRING && tag !== BIT_STRING) {
      reject('structure', `unknown DLMS data type 0x${tag.toString(16)}`);
    }
    // A-XDR length: one byte below 0x80, else 0x8n and n big-endian bytes.
    if (p >= end) reject('structure', 'DLMS data ends inside a length field');
    let n = b[p++];
    if (n >= 0x80) {
      const bytes = n & 0x7f;
      if (bytes === 0 || bytes > 3 || p + bytes > end) reject('structure', 'malformed A-XDR length');
      n = readInt(b, p, bytes, false);
      p += bytes;
    }
    if (tag === STRUCTURE || tag === ARRAY) {
      if (n > end - p) reject('structure', 'DLMS structure longer than the data');
      if (tag === STRUCTURE && n === 2 && b[p] === INT8 && b[p + 2] === ENUM && p + 4 <= end) {
        tags[k] = SCALER_UNIT;
        values[k] = b[p + 1] > 127 ? b[p + 1] - 256 : b[p + 1];
        sizes[k++] = b[p + 3];
        p += 4;
        continue;
      }
      if (depth >= MAX_DEPTH) reject('structure', 'DLMS data nested too deeply');
      tags[k] = tag;
      values[k] = n;
      sizes[k++] = 0;
      open[++depth] = n;
      continue;
    }
    width = tag === BIT_STRING ? (n + 7) >> 3 : n;
    if (p + width > end) reject('structure', 'DLMS string longer than the data');
    tags[k] = tag;
    values[k] = p;
    sizes[k++] = width;
    p += width;
  }
  return p;
}

/**
 * Where the data element at b[at] ends, without building anything: the length
 * of a bare data-notification on a stream. 0: more bytes needed; -1: malformed.
 */
export function skipData(b: Uint8Array, at: number, len: number, depth = 0): number {
  if (depth > MAX_DEPTH) return -1;
  if (at >= len) return 0;
  const tag = b[at++];
  if (tag === STRUCTURE || tag === ARRAY || tag === OCTET_STRING || tag === VISIBLE_STRING || tag === UTF8_STRING || tag === BIT_STRING) {
    if (at >= len) return 0;
    let n = b[at++];
    if (n >= 0x80) {
      const k = n & 0x7f;
      if (k === 0 || k > 3) return -1;
      if (at + k > len) return 0;
      n = readInt(b, at, k, false);
      at += k;
    }
    if (tag === STRUCTURE || tag === ARRAY) {
      if (n > MAX_ITEMS) return -1;
      for (let i = 0; i < n; i++) {
        const next = skipData(b, at, len, depth + 1);
        if (next <= 0) return next;
        at = next;
      }
      return at;
    }
    const bytes = tag === BIT_STRING ? (n + 7) >> 3 : n;
    return at + bytes > len ? 0 : at + bytes;
  }
  const width = tag < 0x20 ? WIDTH[tag] : -1;
  if (width < 0) return -1;
  return at + width > len ? 0 : at + width;
}
