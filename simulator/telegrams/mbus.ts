// EN 13757-3 encoders for virtual meters and tests: variable data records,
// the long header, OMS security mode 5 (AES-128-CBC via node:crypto: the
// meter's side) and the wired M-Bus long frame around them, as a Siemens AMIS
// TD-3511 sends them (SND_UD, CI 0x5B, to address F0).

import { createCipheriv } from 'node:crypto';

/** One record: DIF (with DIFEs) and VIF (with VIFEs) as bytes, and the value as a little-endian integer of the DIF's width. */
export interface MbusRecord {
  dib: number[];
  vib: number[];
  value: number;
}

const WIDTHS: { [coding: number]: number } = { 1: 1, 2: 2, 3: 3, 4: 4, 6: 6, 7: 8 };

export function encodeRecords(records: MbusRecord[]): number[] {
  const out: number[] = [];
  for (const r of records) {
    out.push(...r.dib, ...r.vib);
    const width = WIDTHS[r.dib[0] & 0x0f];
    if (width === undefined) throw new RangeError('encodeRecords: integer records only');
    let v = r.value < 0 ? r.value + 2 ** (8 * width) : r.value;
    for (let i = 0; i < width; i++) {
      out.push(v % 256);
      v = Math.floor(v / 256);
    }
  }
  return out;
}

/** Type I date and time (6 bytes, local time, seconds first; bit 6 of the seconds byte is summer time). */
export function dateTimeI(local: { year: number; month: number; day: number; hour: number; minute: number; second: number; summer: boolean }): number[] {
  const y = local.year - 2000;
  return [
    local.second | (local.summer ? 0x40 : 0),
    local.minute,
    local.hour,
    local.day | ((y & 0x07) << 5),
    local.month | ((y & 0x78) << 1),
    0,
  ];
}

export interface LongHeader {
  /** 8 BCD digits. */
  id: string;
  manufacturer: string;
  version: number;
  medium: number;
  access: number;
  status?: number;
}

function manufacturerCode(m: string): number {
  return ((m.charCodeAt(0) - 64) << 10) | ((m.charCodeAt(1) - 64) << 5) | (m.charCodeAt(2) - 64);
}

export interface MbusFrameOptions {
  /** C field: 0x53 / 0x73 for SND_UD (the frame count bit toggles), 0x08 for RSP_UD. */
  control?: number;
  address?: number;
  ci?: number;
  /** Encrypt with OMS security mode 5; the data is padded with 2F to whole blocks. */
  key?: Uint8Array | null;
}

/**
 * A long frame 68 L L 68 C A CI <long header> <data> CS 16 whose data begins
 * with 2F 2F and the records; with a key, OMS mode 5.
 */
export function mbusApplicationFrame(header: LongHeader, records: number[], options: MbusFrameOptions = {}): Uint8Array {
  let data = [0x2f, 0x2f, ...records];
  const key = options.key ?? null;
  const blocks = key ? Math.ceil(data.length / 16) : 0;
  if (key) while (data.length < blocks * 16) data.push(0x2f);
  if (blocks > 15) throw new RangeError('mbusApplicationFrame: more than 15 encrypted blocks');
  const id = Buffer.from(header.id, 'hex').reverse();
  const m = manufacturerCode(header.manufacturer);
  const config = key ? (5 << 8) | (blocks << 4) : 0;
  const head = [...id, m & 0xff, m >> 8, header.version, header.medium, header.access, header.status ?? 0, config & 0xff, config >> 8];
  if (key) {
    const iv = Uint8Array.from([m & 0xff, m >> 8, ...id, header.version, header.medium, ...new Array(8).fill(header.access)]);
    const c = createCipheriv('aes-128-cbc', key, iv);
    c.setAutoPadding(false);
    data = [...Buffer.concat([c.update(Uint8Array.from(data)), c.final()])];
  }
  const body = [options.control ?? 0x53, options.address ?? 0xf0, options.ci ?? 0x5b, ...head, ...data];
  if (body.length > 255) throw new RangeError('mbusApplicationFrame: frame too long');
  let cs = 0;
  for (const b of body) cs += b;
  return Uint8Array.from([0x68, body.length, body.length, 0x68, ...body, cs & 0xff, 0x16]);
}

/** The record layout of the Siemens AMIS TD-3511 (Netz Oberösterreich), in its order. */
export const TD3511 = {
  time: { dib: [0x06], vib: [0x6d] },
  importWh: { dib: [0x04], vib: [0x03] },
  exportWh: { dib: [0x04], vib: [0x83, 0x3c] },
  reactiveImportVarh: { dib: [0x84, 0x10], vib: [0xfb, 0x82, 0x73] },
  reactiveExportVarh: { dib: [0x84, 0x10], vib: [0xfb, 0x82, 0xf3, 0x3c] },
  importW: { dib: [0x04], vib: [0x2b] },
  exportW: { dib: [0x04], vib: [0xab, 0x3c] },
  reactiveImportVar: { dib: [0x04], vib: [0xfb, 0x14] },
  reactiveExportVar: { dib: [0x04], vib: [0xfb, 0x94, 0x3c] },
  debitWh: { dib: [0x04], vib: [0x83, 0xff, 0x04] },
} as const;
