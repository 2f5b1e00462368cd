// DSMR P1 telegram -> Reading (NL DSMR 2.2-5.0.2, BE e-MUCS, LU Smarty, AT,
// SE, DK, HU variants): CRC-16/ARC over "/" .. "!", data lines, timestamps
// YYMMDDhhmmssX (X = S summer, W winter), M-Bus channel values with their own
// capture time, and the Belgian capacity-tariff registers. Encrypted P1 is a
// general-glo-ciphering frame around such a telegram.

import { crc16Arc } from '../../codec/crc16';
import { latin1 } from '../../codec/bytes';
import { fromLocal } from '../../time/zone';
import { DecodeError, reject } from '../errors';
import { PLAIN, type Quantity, type Reading, type RegisterValue, type Security } from '../reading';
import { decipher, GLO_CIPHERING } from '../dlms/glo';
import type { Keys } from '../keys';
import { meterIdFrom } from './d0';
import { CodeBook, hexText, IDENTIFIER, numberText, quantityOf, readDataLines, VALUE } from './lines';
import { BANG, LF } from './text-framer';

const METER_ID_KEYS = ['0-0:96.1.1', '0-0:96.1.0', '0-0:42.0.0'];

export interface DsmrOptions {
  keys: Keys;
  zone: string;
}

/** A DSMR timestamp as ms since the epoch; null for placeholders such as 632525252525W. */
function dsmrTime(text: string, zone: string): number | null {
  let m = /^(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)(\d\d)([SW]?)$/.exec(text);
  // Some meters (NES) write "20240111 09:35:00".
  if (!m) m = /^\d\d(\d\d)(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)()$/.exec(text);
  if (!m) return null;
  const month = +m[2];
  const day = +m[3];
  const hour = +m[4];
  const minute = +m[5];
  const second = +m[6];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  return fromLocal(zone, 2000 + +m[1], month, day, hour, minute, second, 0, m[7] ? m[7] === 'S' : undefined);
}

function timed(q: Quantity | null, ts: string, zone: string): Quantity | null {
  if (!q) return null;
  const t = dsmrTime(ts, zone);
  if (t !== null) q.time = t;
  return q;
}

const CLOCK = 2; // 0-0:1.0.0, the telegram's timestamp
const HISTORY = 3; // 0-0:98.1.0, Belgian monthly peaks
const EVENTS = 4; // 1-0:99.97.0, power failure log
const GAS_22 = 5; // 0-n:24.3.0, DSMR 2.2/3 gas

const CODES = new CodeBook((key) =>
  key === '0-0:1.0.0' ? CLOCK : key === '0-0:98.1.0' ? HISTORY : key === '1-0:99.97.0' ? EVENTS : /^0-\d:24\.3\.0$/.test(key) ? GAS_22 : VALUE,
);

/** Checks the CRC of a plain telegram and reads it. */
function decodePlain(frame: Uint8Array, zone: string, security: Security): Reading {
  if (frame[0] !== 0x2f) reject('framing', 'not a DSMR telegram: it does not start with "/"');
  let bang = frame.length - 1;
  while (bang > 0 && frame[bang] !== BANG) bang--;
  if (bang <= 0 || frame[bang - 1] !== LF) reject('framing', 'DSMR telegram without its "!" end line');
  const crcText = latin1(frame, bang + 1).trim();
  if (crcText.length > 0) {
    if (!/^[0-9A-Fa-f]{1,4}$/.test(crcText)) reject('framing', 'malformed DSMR CRC "' + crcText + '"');
    if (crc16Arc(frame, 0, bang + 1) !== parseInt(crcText, 16)) {
      reject('crc', 'DSMR CRC mismatch: the telegram was corrupted on the line (check the P1 cable)');
    }
  }
  // DSMR 2.2 and 3.0 send no CRC: nothing to check there. A telegram that
  // says it is DSMR 4 or later must carry one (checked after its lines).
  const identEnd = frame.indexOf(LF);
  const values: { [obis: string]: RegisterValue } = {};
  let time: number | null = null;
  readDataLines(latin1(frame, identEnd + 1, bang), {
    number(code, quantity, m) {
      // An all-digit group without a unit can still be hex-encoded text (an equipment id).
      const decoded = m[5] === undefined && m[4] === undefined && m[3].length >= 10 ? hexText(m[3]) : null;
      values[code.key] = decoded !== null ? { text: decoded } : code.role === IDENTIFIER ? { text: numberText(m) } : quantity;
    },
    other(code, groups) {
      const n = groups.length;
      const role = code.role;
      if (role === CLOCK) {
        time = dsmrTime(groups[0], zone);
        return;
      }
      if (role === EVENTS) return; // events, not registers
      if (role === HISTORY) history(groups, zone, values); // and, as any (time)(value) line, its last value below
      if (role === GAS_22 && n >= 7) {
        // (time)(status)(period)(count)(OBIS)(unit)(value)
        const q = timed(quantityOf(groups[6] + '*' + groups[5]), groups[0], zone);
        if (q) values[code.key.slice(0, 4) + '24.2.1'] = q;
        return;
      }
      if (n >= 2) {
        // (capture time)(value*unit): gas and water meters on M-Bus channels, maximum demand.
        const q = timed(quantityOf(groups[n - 1]), groups[n - 2], zone);
        if (q) values[code.key] = q;
        return;
      }
      const group = groups[0];
      // Equipment ids and messages come hex-encoded; short codes ("50", "0001") are as they are.
      const text = group.length >= 10 ? hexText(group) : null;
      if (role === IDENTIFIER || text !== null) values[code.key] = { text: text ?? group };
      else values[code.key] = quantityOf(group) ?? { text: group };
    },
  }, CODES);
  if (crcText.length === 0 && requiresCrc(values)) {
    reject('crc', 'DSMR 4/5 telegram without its CRC: the end line was corrupted on the line (check the P1 cable)');
  }
  return { protocol: 'dsmr', meterId: meterIdFrom(values, METER_ID_KEYS), time, values, security };
}

/**
 * DSMR 4.0 and later (version line 1-3:0.2.8 of 40 or more, or the Belgian
 * e-MUCS version 0-0:96.1.4) make the CRC mandatory: such a telegram without
 * one lost its CRC on the line, and nothing would check its digits.
 */
function requiresCrc(values: { [obis: string]: RegisterValue }): boolean {
  const version = values['1-3:0.2.8'] as { text?: string } | undefined;
  return (version?.text !== undefined && parseInt(version.text, 10) >= 40) || values['0-0:96.1.4'] !== undefined;
}

/**
 * Belgian capacity tariff: 0-0:98.1.0(N)(1-0:1.6.0)(1-0:1.6.0) then N times
 * (month start)(time of the peak)(peak*kW), newest first. Each month becomes
 * 1-0:1.6.0*F with F = 101 for the newest, as DLMS numbers billing periods.
 */
function history(groups: string[], zone: string, values: { [obis: string]: RegisterValue }): void {
  const n = parseInt(groups[0], 10);
  if (!(n > 0) || groups.length < 3 + 3 * n) return;
  for (let k = 0; k < n && k < 25; k++) {
    const q = timed(quantityOf(groups[3 + 3 * k + 2]), groups[3 + 3 * k + 1], zone);
    if (q) values['1-0:1.6.0*' + (101 + k)] = q;
  }
}

export function decodeDsmr(frame: Uint8Array, options: DsmrOptions): Reading {
  if (frame[0] !== GLO_CIPHERING) return decodePlain(frame, options.zone, PLAIN);
  const d = decipher(frame, options.keys);
  const guessed = d.security.encrypted && !d.security.authenticated;
  let reading: Reading;
  try {
    reading = decodePlain(d.plaintext, options.zone, d.security);
  } catch (e) {
    if (guessed && e instanceof DecodeError) reject('wrong-key', 'decryption produced no valid DSMR telegram: wrong key?');
    throw e;
  }
  reading.systemTitle = d.systemTitle;
  reading.frameCounter = d.frameCounter;
  return reading;
}
