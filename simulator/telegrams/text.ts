// Text telegram encoders for virtual meters and tests: DSMR P1 (with its
// CRC-16/ARC) and IEC 62056-21 (mode D push, mode C readout with BCC).

import { crc16Arc } from '../../src/codec/crc16';

const ascii = (s: string): Uint8Array => {
  const b = Buffer.from(s, 'latin1');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
};

export interface DsmrOptions {
  /** 'full': four hex digits; 'short': without leading zeros, as some meters do; 'none': DSMR 2.2/3. */
  crc?: 'full' | 'short' | 'none';
}

/** "/ident CR LF CR LF lines... !CRC CR LF". */
export function dsmrTelegram(ident: string, lines: string[], options: DsmrOptions = {}): Uint8Array {
  const body = '/' + ident + '\r\n\r\n' + lines.map((l) => l + '\r\n').join('') + '!';
  const bytes = ascii(body);
  const mode = options.crc ?? 'full';
  if (mode === 'none') return ascii(body + '\r\n');
  const crc = crc16Arc(bytes, 0, bytes.length).toString(16).toUpperCase();
  return ascii(body + (mode === 'full' ? crc.padStart(4, '0') : crc) + '\r\n');
}

/** IEC 62056-21 mode D: "/ident CR LF CR LF lines... ! CR LF"; mode C wraps the block in STX .. ETX BCC. */
export function d0Telegram(ident: string, lines: string[], mode: 'D' | 'C' = 'D'): Uint8Array {
  const data = lines.map((l) => l + '\r\n').join('') + '!\r\n';
  if (mode === 'D') return ascii('/' + ident + '\r\n\r\n' + data);
  const block = ascii(data + '\x03');
  let bcc = 0;
  for (const b of block) bcc ^= b;
  return Uint8Array.from([...ascii('/' + ident + '\r\n'), 0x02, ...block, bcc]);
}

/** DSMR timestamp YYMMDDhhmmssX for a UTC instant in Central European time. */
export function dsmrTimestamp(utcMs: number, summer: boolean): string {
  const d = new Date(utcMs + (summer ? 2 : 1) * 3600000);
  const two = (n: number) => String(n).padStart(2, '0');
  return two(d.getUTCFullYear() % 100) + two(d.getUTCMonth() + 1) + two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) + two(d.getUTCSeconds()) + (summer ? 'S' : 'W');
}
