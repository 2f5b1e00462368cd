// Civil time for the meters we read: the European zones and the EU summer-time
// rule (since 1996: last Sunday of March 01:00 UTC to last Sunday of October
// 01:00 UTC). A table instead of a tz database: the device has no room for one,
// and every supported market is in one of these zones.

const STANDARD_OFFSET: { [zone: string]: number } = {
  UTC: 0,
  'Europe/London': 0,
  'Europe/Dublin': 0,
  'Europe/Lisbon': 0,
  'Europe/Berlin': 60,
  'Europe/Vienna': 60,
  'Europe/Amsterdam': 60,
  'Europe/Brussels': 60,
  'Europe/Luxembourg': 60,
  'Europe/Paris': 60,
  'Europe/Zurich': 60,
  'Europe/Rome': 60,
  'Europe/Madrid': 60,
  'Europe/Prague': 60,
  'Europe/Warsaw': 60,
  'Europe/Budapest': 60,
  'Europe/Bratislava': 60,
  'Europe/Ljubljana': 60,
  'Europe/Zagreb': 60,
  'Europe/Copenhagen': 60,
  'Europe/Oslo': 60,
  'Europe/Stockholm': 60,
  'Europe/Helsinki': 120,
  'Europe/Tallinn': 120,
  'Europe/Riga': 120,
  'Europe/Vilnius': 120,
  'Europe/Athens': 120,
  'Europe/Sofia': 120,
  'Europe/Bucharest': 120,
};

export const DEFAULT_ZONE = 'Europe/Berlin';

export function isKnownZone(zone: string): boolean {
  return STANDARD_OFFSET[zone] !== undefined;
}

export function zoneNames(): string[] {
  return Object.keys(STANDARD_OFFSET);
}

const HOUR = 3600000;
const MINUTE = 60000;
const DAY = 24 * HOUR;

/** UTC ms of 01:00 UTC on the last Sunday of `month` (0-based). */
function lastSunday0100(year: number, month: number): number {
  const lastDay = Date.UTC(year, month + 1, 0, 1);
  const dow = new Date(lastDay).getUTCDay();
  return lastDay - dow * DAY;
}

/** Summer-time transitions cached per year: computed once, read every reading. */
let cachedYear = NaN;
let cachedStart = 0;
let cachedEnd = 0;

export function isSummerTime(zone: string, utcMs: number): boolean {
  if (zone === 'UTC') return false;
  const year = new Date(utcMs).getUTCFullYear();
  if (year !== cachedYear) {
    cachedYear = year;
    cachedStart = lastSunday0100(year, 2);
    cachedEnd = lastSunday0100(year, 9);
  }
  return utcMs >= cachedStart && utcMs < cachedEnd;
}

function standardOffset(zone: string): number {
  const offset = STANDARD_OFFSET[zone];
  if (offset === undefined) throw new RangeError('unknown time zone ' + zone);
  return offset;
}

/** Offset of local time from UTC in minutes (Berlin: 60 in winter, 120 in summer). */
export function utcOffset(zone: string, utcMs: number): number {
  return standardOffset(zone) + (isSummerTime(zone, utcMs) ? 60 : 0);
}

export interface LocalTime {
  year: number;
  month: number; // 1..12
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
  offset: number;
}

export function toLocal(zone: string, utcMs: number): LocalTime {
  const offset = utcOffset(zone, utcMs);
  const d = new Date(utcMs + offset * MINUTE);
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
    offset,
  };
}

/**
 * UTC ms for a local wall-clock time. In the autumn hour that happens twice,
 * `summer` says which one (a meter's DST status flag); without it the first
 * (summer-time) one is taken. A time in the spring gap is read as standard
 * time, which moves it forward by an hour, as the clocks do.
 */
export function fromLocal(
  zone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millis = 0,
  summer?: boolean,
): number {
  const std = standardOffset(zone);
  const wall = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const asStandard = wall - std * MINUTE;
  const asSummer = asStandard - HOUR;
  const standardValid = !isSummerTime(zone, asStandard);
  const summerValid = isSummerTime(zone, asSummer);
  if (standardValid && summerValid) return summer === false ? asStandard : asSummer;
  if (summerValid) return asSummer;
  return asStandard;
}

/** ISO 8601 in UTC with milliseconds only when present: "2024-03-01T12:37:20Z". */
export function isoUtc(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? s.slice(0, -5) + 'Z' : s;
}
