// The reading log's bytes in flash (docs/reading-log.md describes them for
// readers of a flash dump). Version 1.
//
// Sector (4 KB): a 28-byte header, then records one after another; erased
// bytes (FF) after the last one.
//
//   header  0  'S' 'L'            magic
//           2  version            0x01
//           3  reserved           0xFF
//           4  sectorSeq u32 LE   +1 for every sector opened: orders the ring
//           8  firstSeq  u32      sequence number of the sector's first entry
//          12  cursor    u32      upload cursor when the sector was opened
//          16  floor     u32      lowest sequence number still held then
//          20  lost      u32      readings erased before upload, in all
//          24  CRC-16/X-25 of bytes 0..23, low byte first
//          26  state              FF live; 00 retired (about to be erased)
//          27  reserved           FF
//
//   record  [len][type][payload][CRC-16/X-25 of len..payload, low byte first]
//           len counts the whole record (4..254); FF is erased flash.

import { crc16X25 } from '../codec/crc16';

export const FORMAT_VERSION = 1;
export const HEADER_SIZE = 28;
export const STATE_OFFSET = 26;
export const STATE_LIVE = 0xff;
export const STATE_RETIRED = 0x00;

export const MIN_RECORD = 4;
export const MAX_RECORD = 254;
export const ERASED = 0xff;

export const RecordType = {
  Cursor: 0x01,
  Registers: 0x02,
  Reading: 0x10,
  Gap: 0x11,
  /** An event of the tamper-evident event log (event-chain.ts). */
  Event: 0x12,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export interface SectorHeader {
  sectorSeq: number;
  firstSeq: number;
  cursor: number;
  floor: number;
  lost: number;
}

export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export function getU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

export function encodeHeader(h: SectorHeader): Uint8Array {
  const b = new Uint8Array(HEADER_SIZE).fill(ERASED);
  b[0] = 0x53;
  b[1] = 0x4c;
  b[2] = FORMAT_VERSION;
  putU32(b, 4, h.sectorSeq);
  putU32(b, 8, h.firstSeq);
  putU32(b, 12, h.cursor);
  putU32(b, 16, h.floor);
  putU32(b, 20, h.lost);
  const crc = crc16X25(b, 0, 24);
  b[24] = crc & 0xff;
  b[25] = crc >>> 8;
  return b;
}

/** The header at b[at], or null when there is none (erased, torn, another format). */
export function decodeHeader(b: Uint8Array, at: number): SectorHeader | null {
  if (b[at] !== 0x53 || b[at + 1] !== 0x4c || b[at + 2] !== FORMAT_VERSION) return null;
  const crc = crc16X25(b, at, at + 24);
  if (b[at + 24] !== (crc & 0xff) || b[at + 25] !== crc >>> 8) return null;
  return {
    sectorSeq: getU32(b, at + 4),
    firstSeq: getU32(b, at + 8),
    cursor: getU32(b, at + 12),
    floor: getU32(b, at + 16),
    lost: getU32(b, at + 20),
  };
}

/** Frames a payload as a record: length, type, payload, CRC. */
export function frameRecord(out: Uint8Array, at: number, type: RecordType, payload: Uint8Array, payloadLength: number): number {
  const len = payloadLength + 4;
  if (len > MAX_RECORD) throw new RangeError('record too long: ' + len);
  out[at] = len;
  out[at + 1] = type;
  out.set(payload.subarray(0, payloadLength), at + 2);
  const crc = crc16X25(out, at, at + len - 2);
  out[at + len - 2] = crc & 0xff;
  out[at + len - 1] = crc >>> 8;
  return at + len;
}

/** True when the record at b[at] (length already read) has a good CRC. */
export function recordIntact(b: Uint8Array, at: number, len: number): boolean {
  const crc = crc16X25(b, at, at + len - 2);
  return b[at + len - 2] === (crc & 0xff) && b[at + len - 1] === crc >>> 8;
}
