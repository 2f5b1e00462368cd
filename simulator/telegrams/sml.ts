// SML 1.04 encoder for virtual meters and tests: byte-exact files as German
// meters put them on their optical interface (OpenResponse, GetListResponse,
// CloseResponse; per-message CRC; escaping; fill bytes; transport CRC).

import { crc16Kermit, crc16X25 } from '../../src/codec/crc16';

export type SmlNode =
  | { kind: 'octets'; bytes: Uint8Array }
  | { kind: 'uint' | 'int'; value: number; width: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'list'; items: SmlNode[] }
  | { kind: 'absent' };

export const octets = (bytes: Uint8Array | string): SmlNode => ({
  kind: 'octets',
  bytes: typeof bytes === 'string' ? new TextEncoder().encode(bytes) : bytes,
});
export const uint = (value: number, width: number): SmlNode => ({ kind: 'uint', value, width });
export const int = (value: number, width: number): SmlNode => ({ kind: 'int', value, width });
const list = (...items: SmlNode[]): SmlNode => ({ kind: 'list', items });
const absent: SmlNode = { kind: 'absent' };

function tl(type: number, length: number, out: number[]): void {
  // Lengths of 15 and more take a second TL byte; for non-lists the length counts the TL bytes.
  if (type === 0x70) {
    if (length < 16) out.push(0x70 | length);
    else out.push(0xf0 | (length >> 4), length & 0x0f);
    return;
  }
  if (length + 1 < 16) out.push(type | (length + 1));
  else {
    const total = length + 2;
    out.push(0x80 | type | (total >> 4), total & 0x0f);
  }
}

function encodeNode(node: SmlNode, out: number[]): void {
  switch (node.kind) {
    case 'absent':
      out.push(0x01);
      return;
    case 'octets':
      tl(0x00, node.bytes.length, out);
      for (const b of node.bytes) out.push(b);
      return;
    case 'bool':
      out.push(0x42, node.value ? 1 : 0);
      return;
    case 'uint':
    case 'int': {
      tl(node.kind === 'int' ? 0x50 : 0x60, node.width, out);
      let v = node.value;
      if (v < 0) v += 2 ** (8 * node.width);
      const bytes: number[] = [];
      for (let i = 0; i < node.width; i++) {
        bytes.unshift(v % 256);
        v = Math.floor(v / 256);
      }
      out.push(...bytes);
      return;
    }
    case 'list':
      tl(0x70, node.items.length, out);
      for (const item of node.items) encodeNode(item, out);
  }
}

/** One SML message: transaction id, group, abort flag, body, CRC (low byte first), end marker. */
export function message(transactionId: number, tag: number, body: SmlNode): number[] {
  const out: number[] = [];
  encodeNode(list(octets(Uint8Array.of(transactionId >> 8, transactionId & 0xff)), uint(0, 1), uint(0, 1), list(uint(tag, 2), body)), out);
  // The message list has six elements: patch the count written for four, then add CRC and end.
  out[0] = 0x76;
  const crc = crc16X25(Uint8Array.from(out), 0, out.length);
  out.push(0x63, crc & 0xff, crc >> 8, 0x00);
  return out;
}

export interface SmlEntry {
  obis: [number, number, number, number, number, number];
  /** DLMS unit code, or undefined for none. */
  unit?: number;
  scaler?: number;
  value: SmlNode;
  status?: number;
}

export function openResponse(serverId: Uint8Array, fileId: Uint8Array): SmlNode {
  return list(absent, absent, octets(fileId), octets(serverId), absent, absent);
}

export function getListResponse(serverId: Uint8Array, entries: SmlEntry[], secIndex?: number): SmlNode {
  return list(
    absent,
    octets(serverId),
    absent,
    secIndex === undefined ? absent : list(uint(1, 1), uint(secIndex, 4)),
    list(
      ...entries.map((e) =>
        list(
          octets(Uint8Array.from(e.obis)),
          e.status === undefined ? absent : uint(e.status, 4),
          absent,
          e.unit === undefined ? absent : uint(e.unit, 1),
          e.scaler === undefined ? absent : int(e.scaler, 1),
          e.value,
          absent,
        ),
      ),
    ),
    absent,
    absent,
  );
}

export const closeResponse = (): SmlNode => list(absent);

const ESC = [0x1b, 0x1b, 0x1b, 0x1b];

export interface FileOptions {
  /** Transport CRC flavour: X-25 as the standard says, KERMIT as some Holley DTZ541 firmware sends. */
  crc?: 'x25' | 'kermit';
}

/** Wraps messages into a transport file: escapes, fill bytes, end sequence and CRC (low byte first). */
export function smlFile(messages: number[][], options: FileOptions = {}): Uint8Array {
  let length = 0;
  for (const m of messages) length += m.length;
  const fill = (4 - (length % 4)) % 4;
  const payload = new Uint8Array(length + fill);
  let o = 0;
  for (const m of messages) {
    payload.set(m, o);
    o += m.length;
  }
  // Count aligned 1b1b1b1b groups: each is sent twice.
  let escapes = 0;
  for (let i = 0; i < payload.length; i += 4) {
    if (payload[i] === 0x1b && payload[i + 1] === 0x1b && payload[i + 2] === 0x1b && payload[i + 3] === 0x1b) escapes++;
  }
  const out = new Uint8Array(8 + payload.length + 4 * escapes + 8);
  out.set(ESC, 0);
  out.set([1, 1, 1, 1], 4);
  let p = 8;
  for (let i = 0; i < payload.length; i += 4) {
    out.set(payload.subarray(i, i + 4), p);
    p += 4;
    if (payload[i] === 0x1b && payload[i + 1] === 0x1b && payload[i + 2] === 0x1b && payload[i + 3] === 0x1b) {
      out.set(ESC, p);
      p += 4;
    }
  }
  out.set(ESC, p);
  out[p + 4] = 0x1a;
  out[p + 5] = fill;
  const crc = options.crc === 'kermit' ? crc16Kermit(out, 0, p + 6) : crc16X25(out, 0, p + 6);
  out[p + 6] = crc & 0xff;
  out[p + 7] = crc >> 8;
  return out;
}

/** DIN 43863-5 server id: 0a 01 'D' 'Z' 'G' <block> <serial, 4 bytes>. */
export function dinServerId(manufacturer: string, block: number, serial: number): Uint8Array {
  const m = new TextEncoder().encode(manufacturer);
  return Uint8Array.of(0x0a, 0x01, m[0], m[1], m[2], block, (serial >>> 24) & 0xff, (serial >>> 16) & 0xff, (serial >>> 8) & 0xff, serial & 0xff);
}
