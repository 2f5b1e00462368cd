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
//   record  as src/formats/record.ts frames it; FF is erased flash.

import { crc16X25 } from '../codec/crc16';
import { getU32, putU32 } from '../formats/record';

const FORMAT_VERSION = 1;
export const HEADER_SIZE = 28;
export const STATE_OFFSET = 26;
export const STATE_LIVE = 0xff;
export const STATE_RETIRED = 0x00;

export const ERASED = 0xff;

export interface SectorHeader {
  sectorSeq: number;
  firstSeq: number;
  cursor: number;
  floor: number;
  lost: number;
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
