// One record, as the reading log keeps it in flash and the upload batch
// carries it (docs/reading-log.md): the frame that device and backend both
// read, so it lives with the formats rather than inside the log.
//
//   record  [len][type][payload][CRC-16/X-25 of len..payload, low byte first]
//           len counts the whole record (4..254); FF is erased flash.

import { crc16X25 } from '../codec/crc16';

export const MIN_RECORD = 4;
const MAX_RECORD = 254;

export const RecordType = {
  Cursor: 0x01,
  Registers: 0x02,
  Reading: 0x10,
  Gap: 0x11,
  /** An event of the tamper-evident event log (event-chain.ts). */
  Event: 0x12,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

export function putU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v & 0xff;
  b[at + 1] = (v >>> 8) & 0xff;
  b[at + 2] = (v >>> 16) & 0xff;
  b[at + 3] = (v >>> 24) & 0xff;
}

export function getU32(b: Uint8Array, at: number): number {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
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
