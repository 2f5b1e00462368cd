// The upload batch: what the device sends the backend, version 2 (described
// in docs/uplink.md). A batch is a contiguous run of reading-log entries,
// encoded with the log's own record format (register set, readings and gaps
// as differences, events with their chain hash), so that a day of
// quarter-hours fits in about 1.3 KB:
//
//   0  'S' 'B'          magic
//   2  version          0x02 (0x01: the same without event records; still accepted)
//   3  flags            0x00
//   4  firstSeq u32 LE  sequence number of the first entry
//   8  count    u16 LE  entries in the batch
//  10  device id        length byte, then ASCII (1..64)
//   .. records          as in the reading log: [len][type][payload][CRC]
//  end CRC-16/X-25 of everything before it, low byte first
//
// The meter is named by the register-set record; the sequence range by
// firstSeq and count. The batch is self-contained: it starts with absolute
// time and values, as a sector does.

import { crc16X25 } from '../codec/crc16';
import { getU32, putU32, recordIntact, MIN_RECORD, RecordType } from './record';
import { SectorCodec, type Entry, type LogEntry } from './entries';
import { VarintReader } from '../codec/varint';

const BATCH_VERSION = 2;
export const BATCH_CONTENT_TYPE = 'application/vnd.smgw.batch.v2';
/** What devices with firmware before the event log send: readings and gaps only. */
export const BATCH_CONTENT_TYPE_V1 = 'application/vnd.smgw.batch.v1';
/** The largest request body a device sends. */
export const MAX_BATCH = 2048;
const HEADER = 10;
const MAX_DEVICE_ID = 64;

export class BatchError extends Error {}

/** Builds one batch in a fixed buffer, entry by entry, until it is full. */
export class BatchWriter {
  private readonly buf: Uint8Array;
  private readonly codec = new SectorCodec();
  private readonly scratch = new Uint8Array(256);
  private readonly record = new Uint8Array(512);
  private readonly varint = new VarintReader();
  private at: number;
  private count = 0;
  readonly firstSeq: number;

  constructor(deviceId: string, firstSeq: number, buffer: Uint8Array = new Uint8Array(MAX_BATCH)) {
    if (!deviceId || deviceId.length > MAX_DEVICE_ID) throw new RangeError('device id: 1..64 characters');
    this.buf = buffer;
    this.firstSeq = firstSeq;
    const b = this.buf;
    b[0] = 0x53;
    b[1] = 0x42;
    b[2] = BATCH_VERSION;
    b[3] = 0;
    putU32(b, 4, firstSeq);
    b[10] = deviceId.length;
    for (let i = 0; i < deviceId.length; i++) b[11 + i] = deviceId.charCodeAt(i) & 0x7f;
    this.at = HEADER + 1 + deviceId.length;
  }

  get entries(): number {
    return this.count;
  }

  /** Adds the next entry (its sequence number must follow the last); false when the batch has no room for it. */
  add(entry: LogEntry): boolean {
    if (entry.seq !== this.firstSeq + this.count) throw new RangeError(`entry ${entry.seq} does not follow ${this.firstSeq + this.count - 1}`);
    if (this.count === 0xffff) return false;
    const length = this.codec.encode(entry as Entry, this.record, 0, this.scratch);
    if (this.at + length + 2 > this.buf.length) return false;
    this.buf.set(this.record.subarray(0, length), this.at);
    // Advance the delta state over what was written, as a reader will.
    let p = 0;
    while (p < length) {
      const len = this.record[p];
      this.codec.skim(this.record[p + 1], this.record, p + 2, p + len - 2, this.varint, false);
      p += len;
    }
    this.at += length;
    this.count++;
    return true;
  }

  /** The finished batch (a view of the buffer). */
  finish(): Uint8Array {
    const b = this.buf;
    b[8] = this.count & 0xff;
    b[9] = this.count >>> 8;
    const crc = crc16X25(b, 0, this.at);
    b[this.at] = crc & 0xff;
    b[this.at + 1] = crc >>> 8;
    return b.subarray(0, this.at + 2);
  }
}

export interface Batch {
  deviceId: string;
  version: number;
  firstSeq: number;
  entries: LogEntry[];
}

/** Reads a batch; throws BatchError saying what is wrong with a malformed one. */
export function decodeBatch(b: Uint8Array): Batch {
  if (b.length < HEADER + 4) throw new BatchError('batch too short');
  if (b[0] !== 0x53 || b[1] !== 0x42) throw new BatchError('not a batch (magic)');
  const version = b[2];
  if (version !== 1 && version !== BATCH_VERSION) throw new BatchError(`batch version ${version} is not supported (1 and 2 are)`);
  const crc = crc16X25(b, 0, b.length - 2);
  if (b[b.length - 2] !== (crc & 0xff) || b[b.length - 1] !== crc >>> 8) throw new BatchError('batch CRC mismatch');
  const firstSeq = getU32(b, 4);
  const count = b[8] | (b[9] << 8);
  const idLength = b[10];
  if (idLength < 1 || idLength > MAX_DEVICE_ID || HEADER + 1 + idLength > b.length - 2) throw new BatchError('bad device id length');
  let deviceId = '';
  for (let i = 0; i < idLength; i++) {
    const c = b[HEADER + 1 + i];
    if (c < 0x21 || c > 0x7e) throw new BatchError('device id is not printable ASCII');
    deviceId += String.fromCharCode(c);
  }
  if (firstSeq < 1) throw new BatchError('sequence numbers start at 1');
  const codec = new SectorCodec();
  const varint = new VarintReader();
  const entries: LogEntry[] = [];
  const end = b.length - 2;
  let at = HEADER + 1 + idLength;
  while (at < end) {
    const len = b[at];
    if (len < MIN_RECORD || at + len > end) throw new BatchError(`bad record length at byte ${at}`);
    if (!recordIntact(b, at, len)) throw new BatchError(`record CRC mismatch at byte ${at}`);
    const type = b[at + 1];
    const known = type === RecordType.Registers || type === RecordType.Reading || type === RecordType.Gap || (type === RecordType.Event && version >= 2);
    if (!known) throw new BatchError(`unknown record type ${type} at byte ${at}` + (type === RecordType.Event ? ' (events need batch version 2)' : ''));
    let entry: Entry | null;
    try {
      entry = codec.decode(type, b, at + 2, at + len - 2, varint);
    } catch (e) {
      throw new BatchError(`record at byte ${at}: ${(e as Error).message}`);
    }
    if (entry) {
      const e = entry as LogEntry;
      e.seq = firstSeq + entries.length;
      entries.push(e);
    }
    at += len;
  }
  if (entries.length !== count) throw new BatchError(`the header says ${count} entries, the batch holds ${entries.length}`);
  return { deviceId, firstSeq, version, entries };
}
