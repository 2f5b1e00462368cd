// DLMS encoders for virtual meters and tests: A-XDR data, data-notification,
// general-glo-ciphering (AES-GCM via node:crypto: the meter's side), wired
// M-Bus segmentation (including the Sagemcom T210-D length quirk) and HDLC
// frames with segmentation and the LLC header.

import { createCipheriv } from 'node:crypto';
import { crc16X25 } from '../../src/codec/crc16';

export type Axdr =
  | { t: 'struct' | 'array'; items: Axdr[] }
  | { t: 'octets' | 'visible'; bytes: Uint8Array }
  | { t: 'u8' | 'u16' | 'u32' | 'u64' | 'i8' | 'i16' | 'i32' | 'i64' | 'enum'; v: number }
  | { t: 'null' };

export const struct = (...items: Axdr[]): Axdr => ({ t: 'struct', items });
export const array = (...items: Axdr[]): Axdr => ({ t: 'array', items });
export const octets = (bytes: Uint8Array | number[]): Axdr => ({ t: 'octets', bytes: Uint8Array.from(bytes) });
export const visible = (s: string): Axdr => ({ t: 'visible', bytes: new TextEncoder().encode(s) });
export const obis = (a: number, b: number, c: number, d: number, e: number, f = 255): Axdr => octets([a, b, c, d, e, f]);
export const u16 = (v: number): Axdr => ({ t: 'u16', v });
export const u32 = (v: number): Axdr => ({ t: 'u32', v });
export const i8 = (v: number): Axdr => ({ t: 'i8', v });
export const i16 = (v: number): Axdr => ({ t: 'i16', v });
export const enumeration = (v: number): Axdr => ({ t: 'enum', v });
export const scalerUnit = (scaler: number, unit: number): Axdr => struct(i8(scaler), enumeration(unit));

const TAGS = { u8: 0x11, u16: 0x12, u32: 0x06, u64: 0x15, i8: 0x0f, i16: 0x10, i32: 0x05, i64: 0x14, enum: 0x16 } as const;
const WIDTHS = { u8: 1, u16: 2, u32: 4, u64: 8, i8: 1, i16: 2, i32: 4, i64: 8, enum: 1 } as const;

function axdrLength(n: number, out: number[]): void {
  if (n < 0x80) out.push(n);
  else if (n < 0x100) out.push(0x81, n);
  else out.push(0x82, n >> 8, n & 0xff);
}

function encodeAxdr(node: Axdr, out: number[] = []): number[] {
  switch (node.t) {
    case 'null':
      out.push(0);
      break;
    case 'struct':
    case 'array':
      out.push(node.t === 'struct' ? 0x02 : 0x01);
      axdrLength(node.items.length, out);
      for (const item of node.items) encodeAxdr(item, out);
      break;
    case 'octets':
    case 'visible':
      out.push(node.t === 'octets' ? 0x09 : 0x0a);
      axdrLength(node.bytes.length, out);
      for (let i = 0; i < node.bytes.length; i++) out.push(node.bytes[i]);
      break;
    default: {
      out.push(TAGS[node.t]);
      const width = WIDTHS[node.t];
      const v = node.v < 0 ? node.v + 2 ** (8 * width) : node.v;
      // Big-endian, most significant byte first.
      for (let i = width - 1; i >= 0; i--) out.push(Math.floor(v / 2 ** (8 * i)) % 256);
    }
  }
  return out;
}

export interface ClockFields {
  utcMs: number;
  /** Minutes of UTC offset the meter's local time has (60 for CET), or null to send 0x8000. */
  offset: number | null;
  /** Zone offset to express local time in when `offset` is null. */
  localOffset?: number;
  dst?: boolean;
}

/** COSEM date-time: local wall clock and deviation = -offset (UTC = local + deviation). */
export function cosemDateTime(c: ClockFields): number[] {
  const local = new Date(c.utcMs + (c.offset ?? c.localOffset ?? 0) * 60000);
  const dow = local.getUTCDay() === 0 ? 7 : local.getUTCDay();
  const deviation = c.offset === null ? 0x8000 : (-c.offset + 0x10000) & 0xffff;
  return [
    local.getUTCFullYear() >> 8, local.getUTCFullYear() & 0xff, local.getUTCMonth() + 1, local.getUTCDate(), dow,
    local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds(), 0x00,
    deviation >> 8, deviation & 0xff, c.dst ? 0x80 : 0x00,
  ];
}

/** Data-notification: 0F, long-invoke-id-and-priority, date-time (or none), body. */
export function dataNotification(invokeId: number, dateTime: number[] | null, body: Axdr): Uint8Array {
  const out = [0x0f, (invokeId >>> 24) & 0xff, (invokeId >>> 16) & 0xff, (invokeId >>> 8) & 0xff, invokeId & 0xff];
  if (dateTime) out.push(0x0c, ...dateTime);
  else out.push(0x00);
  return Uint8Array.from(encodeAxdr(body, out));
}

export interface CipherOptions {
  systemTitle: Uint8Array;
  frameCounter: number;
  key: Uint8Array;
  /** Security control: 0x20 encryption only, 0x30 encryption and authentication, 0x10 authentication only. */
  securityControl: number;
  authKey?: Uint8Array;
}

/** General-glo-ciphering: DB 08 <system title> <length> SC FC <ciphertext> [tag]. */
export function gloCipher(plaintext: Uint8Array, o: CipherOptions): Uint8Array {
  const fc = Uint8Array.of((o.frameCounter >>> 24) & 0xff, (o.frameCounter >>> 16) & 0xff, (o.frameCounter >>> 8) & 0xff, o.frameCounter & 0xff);
  const iv = Uint8Array.from([...o.systemTitle, ...fc]);
  const encrypt = (o.securityControl & 0x20) !== 0;
  const tagged = (o.securityControl & 0x10) !== 0;
  const aad = Uint8Array.from([o.securityControl, ...(o.authKey ?? new Uint8Array(16)), ...(encrypt ? [] : plaintext)]);
  const cipher = createCipheriv('aes-128-gcm', o.key, iv, { authTagLength: 12 });
  cipher.setAAD(aad);
  const body = encrypt ? Buffer.concat([cipher.update(plaintext), cipher.final()]) : (cipher.final(), Buffer.from(plaintext));
  const tag = tagged ? cipher.getAuthTag() : Buffer.alloc(0);
  const length = 5 + body.length + tag.length;
  const head = [0xdb, 0x08, ...o.systemTitle];
  axdrLength(length, head);
  head.push(o.securityControl, ...fc);
  const out = new Uint8Array(head.length + body.length + tag.length);
  out.set(head, 0);
  out.set(body, head.length);
  out.set(tag, head.length + body.length);
  return out;
}

export interface MbusOptions {
  /** Bytes of APDU per frame (Kaifa MA309 sends 245). */
  segment?: number;
  /** Sagemcom T210-D: L written modulo 256 when the frame is longer. */
  lengthModulo256?: boolean;
}

/** Splits an APDU into wired M-Bus long frames: 68 L L 68 53 FF CI 01 67 <segment> CS 16. */
export function mbusFrames(apdu: Uint8Array, options: MbusOptions = {}): Uint8Array {
  const size = options.segment ?? 245;
  const count = Math.max(1, Math.ceil(apdu.length / size));
  const out = new Uint8Array(apdu.length + count * 11);
  let at = 0;
  for (let k = 0; k < count; k++) {
    const part = apdu.subarray(k * size, (k + 1) * size);
    const ci = (k & 0x0f) | (k === count - 1 ? 0x10 : 0);
    const length = 5 + part.length;
    if (!options.lengthModulo256 && length > 255) throw new RangeError('M-Bus frame too long');
    const l = length & 0xff;
    out.set([0x68, l, l, 0x68, 0x53, 0xff, ci, 0x01, 0x67], at);
    out.set(part, at + 9);
    let cs = 0;
    for (let i = at + 4; i < at + 9 + part.length; i++) cs += out[i];
    at += 9 + part.length;
    out[at++] = cs & 0xff;
    out[at++] = 0x16;
  }
  return out;
}

export interface HdlcOptions {
  /** Information field bytes per frame; more makes segmented frames. */
  segment?: number;
  /** Destination and source address bytes (the low bit ends each address). */
  destination?: number[];
  source?: number[];
  control?: number;
}

/** HDLC frame format type 3 with LLC E6 E7 00, HCS and FCS (CRC-16/X-25, low byte first). */
export function hdlcFrames(apdu: Uint8Array, options: HdlcOptions = {}): Uint8Array {
  const info = Uint8Array.from([0xe6, 0xe7, 0x00, ...apdu]);
  const size = options.segment ?? 2000;
  const destination = options.destination ?? [0xcf];
  const source = options.source ?? [0x02, 0x23];
  const out: number[] = [];
  for (let off = 0; off < info.length; off += size) {
    const part = info.subarray(off, off + size);
    const more = off + size < info.length;
    const header = [...destination, ...source, options.control ?? 0x13];
    const length = 2 + header.length + 2 + part.length + 2;
    const frame = [0xa0 | (more ? 0x08 : 0) | (length >> 8), length & 0xff, ...header];
    const hcs = crc16X25(Uint8Array.from(frame), 0, frame.length);
    frame.push(hcs & 0xff, hcs >> 8, ...part);
    const fcs = crc16X25(Uint8Array.from(frame), 0, frame.length);
    frame.push(fcs & 0xff, fcs >> 8);
    out.push(0x7e, ...frame, 0x7e);
  }
  return Uint8Array.from(out);
}
