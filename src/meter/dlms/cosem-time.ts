// COSEM date-time (Blue Book 4.1.6.1): year(2) month day weekday hour minute
// second hundredths deviation(2, signed minutes) clock-status. UTC = local +
// deviation, so Central European winter time is -60 (FFC4). 0xFF / 0x8000 mean
// "not specified"; without a deviation the time is local, read in the
// configured zone, with the status's summer-time bit choosing the repeated
// autumn hour.
//
// Every field is checked against its range: a date-time is most of a
// notification's header, and an out-of-range field is how a wrongly decrypted
// or corrupted frame without an authentication tag gives itself away.

import { reject } from '../errors';
import { fromLocal } from '../../time/zone';

const NOT_SPECIFIED = 0xff;
const DST_ACTIVE = 0x80;
const INVALID = 0x01;
/** Clock status bits 4..6 are reserved and always 0. */
const RESERVED = 0x70;

/** True when the 12 bytes at b[at] are a well-formed COSEM date-time (not necessarily a complete one). */
export function isCosemDateTime(b: Uint8Array, at: number): boolean {
  // Each field is in range or 0xFF ("not specified"); month and day may also
  // be 0xFD / 0xFE ("DST begin / end", "second last / last day").
  const month = b[at + 2];
  const day = b[at + 3];
  const weekday = b[at + 4];
  const hour = b[at + 5];
  const minute = b[at + 6];
  const second = b[at + 7];
  const hundredths = b[at + 8];
  const deviation = (b[at + 9] << 8) | b[at + 10];
  const status = b[at + 11];
  return (
    (month >= 1 && month <= 12 || month >= 0xfd) &&
    (day >= 1 && day <= 31 || day >= 0xfd) &&
    (weekday >= 1 && weekday <= 7 || weekday === NOT_SPECIFIED) &&
    (hour <= 23 || hour === NOT_SPECIFIED) &&
    (minute <= 59 || minute === NOT_SPECIFIED) &&
    (second <= 59 || second === NOT_SPECIFIED) &&
    (hundredths <= 99 || hundredths === NOT_SPECIFIED) &&
    (deviation === 0x8000 || deviation <= 720 || deviation >= 0x10000 - 720) &&
    (status === NOT_SPECIFIED || (status & RESERVED) === 0)
  );
}

/**
 * ms since the epoch for the 12-byte date-time at b[at]; null when it names
 * no instant (fields not specified, or flagged invalid by the meter). Throws
 * when a field is out of range.
 */
export function cosemDateTime(b: Uint8Array, at: number, zone: string): number | null {
  if (!isCosemDateTime(b, at)) reject('structure', 'malformed COSEM date-time');
  const year = (b[at] << 8) | b[at + 1];
  const month = b[at + 2];
  const day = b[at + 3];
  const hour = b[at + 5];
  const minute = b[at + 6];
  const second = b[at + 7];
  const hundredths = b[at + 8];
  const deviationRaw = (b[at + 9] << 8) | b[at + 10];
  const status = b[at + 11];
  if (year === 0xffff || month > 12 || day > 31 || hour > 23 || minute > 59 || second > 59) return null;
  if (status !== NOT_SPECIFIED && status & INVALID) return null;
  const millis = hundredths === NOT_SPECIFIED ? 0 : hundredths * 10;
  if (deviationRaw !== 0x8000) {
    const deviation = deviationRaw > 0x7fff ? deviationRaw - 0x10000 : deviationRaw;
    return Date.UTC(year, month - 1, day, hour, minute, second, millis) + deviation * 60000;
  }
  const summer = status === NOT_SPECIFIED ? undefined : (status & DST_ACTIVE) !== 0;
  return fromLocal(zone, year, month, day, hour, minute, second, millis, summer);
}

/** A COSEM date (5 bytes: year(2) month day weekday) and time (4 bytes: hour minute second hundredths), local. */
export function cosemDateAndTime(date: Uint8Array, time: Uint8Array, zone: string): number | null {
  const year = (date[0] << 8) | date[1];
  const month = date[2];
  const day = date[3];
  if (year === 0xffff || month < 1 || month > 12 || day < 1 || day > 31) return null;
  if (time[0] > 23 || time[1] > 59 || time[2] > 59) return null;
  return fromLocal(zone, year, month, day, time[0], time[1], time[2]);
}
