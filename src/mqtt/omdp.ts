// The Open Meter Data Platform's pub/sub payloads: a reading of the log as a
// MeterReading on `smartMeterMessage/{meterId}/readings`, TAF 14 values on
// `smartMeterMessage/{meterId}/live`. The MeterReading is the one the
// backend's POST /v1/meterReadings answers with (docs/backend.md), so that
// what a device publishes and what the platform serves are one model:
//
//   {"meterId", "readingTime": "2025-06-02T02:15:00+02:00" (local, with its
//    offset), "kind": "taf7"|"taf6", "flags": ["daily"|"on-demand",
//    "timed-by-meter-clock", "capture-offset:+1s"], "propertyValues":
//    [{"propertyId": "OBIS_1.8.0", "value", "unit"}], "adapterId"}
//
// The parser is the backend's: it gives back exactly the entry the device
// logged (kind, time, capture offset, time source, registers), so a reading
// that arrives both over MQTT and in the day-after upload is one row.

import type { ReadingEntry, SeriesKind, StoredValue } from '../formats/entries';
import type { LiveValue } from '../taf/live';
import { utcOffset } from '../time/zone';
import { TOPIC_LEVEL } from './settings';
import { jsonText } from '../codec/json';

export const READINGS_TOPIC = 'readings';
export const LIVE_TOPIC = 'live';

/** OBIS "1-0:1.8.0" as a property id, "OBIS_1.8.0"; another medium or channel keeps its A-B: "OBIS_1-1:1.8.0". */
function propertyIdOf(obis: string): string {
  return 'OBIS_' + (obis.startsWith('1-0:') ? obis.slice(4) : obis);
}

/** The OBIS code of a property id (the inverse of propertyIdOf); null when it is not one. */
function obisOf(propertyId: string): string | null {
  const m = /^OBIS_(?:(\d{1,3}-\d{1,3}):)?(\d{1,3}\.\d{1,3}\.\d{1,3})$/.exec(propertyId);
  return m ? (m[1] ?? '1-0') + ':' + m[2] : null;
}

/** The topic level of a meter id: the id itself when it is a plain word, else its unsafe characters as "_". */
export function meterTopicId(meterId: string): string {
  const safe = meterId.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 64);
  return TOPIC_LEVEL.test(safe) ? safe : '_';
}

export function meterTopic(meterId: string, specific: string): string {
  return `smartMeterMessage/${meterTopicId(meterId)}/${specific}`;
}

function two(n: number): string {
  return n < 10 ? '0' + n : String(n);
}

/** `t` as local ISO 8601 with its UTC offset: "2025-06-02T02:15:00+02:00" (milliseconds when there are any). */
function localIso(t: number, zone: string): string {
  const offset = utcOffset(zone, t);
  const local = new Date(t + offset * 60000).toISOString();
  const body = local.endsWith('.000Z') ? local.slice(0, 19) : local.slice(0, 23);
  const a = Math.abs(offset);
  return `${body}${offset < 0 ? '-' : '+'}${two(Math.floor(a / 60))}:${two(a % 60)}`;
}

/** A reading's flags in an OMDP MeterReading: the same on MQTT and in the backend's query and OMDP APIs. */
export function flagsOf(e: { kind: SeriesKind; source: string; offset: number }): string[] {
  const flags: string[] = [];
  if (e.kind === 'daily') flags.push('daily');
  if (e.kind === 'demand') flags.push('on-demand');
  if (e.source === 'meter') flags.push('timed-by-meter-clock');
  if (e.offset !== 0) flags.push(`capture-offset:${e.offset > 0 ? '+' : ''}${e.offset}s`);
  return flags;
}

/** The MeterReading of a logged reading (JSON text). `meterId` stands in for a meter that sends no id. */
export function meterReadingPayload(e: ReadingEntry, meterId: string, zone: string, adapterId: string): string {
  const properties: { propertyId: string; value: number; unit: string }[] = [];
  for (const obis in e.values) properties.push({ propertyId: propertyIdOf(obis), value: e.values[obis].value, unit: e.values[obis].unit });
  return jsonText({
    meterId,
    readingTime: localIso(e.time, zone),
    kind: e.kind === 'taf7' ? 'taf7' : 'taf6',
    flags: flagsOf(e),
    propertyValues: properties,
    adapterId,
  });
}

/** Where each live channel's value comes from, as an OBIS property (docs/taf.md, TAF 14). */
const LIVE_PROPERTIES: { [channel: string]: string } = {
  p: 'OBIS_16.7.0', p1: 'OBIS_36.7.0', p2: 'OBIS_56.7.0', p3: 'OBIS_76.7.0',
  u1: 'OBIS_32.7.0', u2: 'OBIS_52.7.0', u3: 'OBIS_72.7.0',
  i1: 'OBIS_31.7.0', i2: 'OBIS_51.7.0', i3: 'OBIS_71.7.0',
};
const LIVE_UNIT: { [channel: string]: string } = { p: 'W', p1: 'W', p2: 'W', p3: 'W', u1: 'V', u2: 'V', u3: 'V', i1: 'A', i2: 'A', i3: 'A' };

/** A float32 of the live ring as the meter sent it (3 decimals at most). */
export function rounded(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** A TAF 14 value as a MeterReading of kind "taf14" (JSON text). */
export function livePayload(v: LiveValue, time: number, meterId: string, zone: string, adapterId: string): string {
  const properties: { propertyId: string; value: number; unit: string }[] = [];
  const values = v.values as { [c: string]: number | undefined };
  for (const c in values) if (values[c] !== undefined) properties.push({ propertyId: LIVE_PROPERTIES[c], value: rounded(values[c]!), unit: LIVE_UNIT[c] });
  return jsonText({ meterId, readingTime: localIso(time, zone), kind: 'taf14', flags: [], propertyValues: properties, adapterId });
}

/** A MeterReading as the backend reads it back. */
export interface ParsedReading {
  meterId: string;
  adapterId: string | null;
  entry: ReadingEntry;
}

const UNITS: { [unit: string]: true } = { Wh: true, varh: true, VAh: true };
const MAX_PROPERTIES = 8;

/** Reads a MeterReading of kind taf7 or taf6; throws an Error saying what is wrong. */
export function parseMeterReading(text: string): ParsedReading {
  let m: { [k: string]: unknown };
  try {
    m = JSON.parse(text) as { [k: string]: unknown };
  } catch {
    throw new Error('the payload is not JSON');
  }
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new Error('the payload is not a MeterReading object');
  if (typeof m.meterId !== 'string' || !m.meterId || m.meterId.length > 64) throw new Error('meterId: 1 to 64 characters');
  if (typeof m.readingTime !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?(Z|[+-]\d\d:\d\d)$/.test(m.readingTime)) throw new Error('readingTime: ISO 8601 with its offset');
  const time = Date.parse(m.readingTime);
  if (!Number.isFinite(time)) throw new Error('readingTime: not a time');
  const flags = Array.isArray(m.flags) ? m.flags : [];
  if (!flags.every((f) => typeof f === 'string')) throw new Error('flags: a list of words');
  let kind: SeriesKind;
  if (m.kind === 'taf7') kind = 'taf7';
  else if (m.kind === 'taf6') kind = flags.includes('on-demand') ? 'demand' : 'daily';
  else throw new Error('kind: taf7 or taf6');
  let offset = 0;
  for (const f of flags as string[]) {
    const o = /^capture-offset:([+-]?\d{1,5})s$/.exec(f);
    if (o) offset = Number(o[1]);
  }
  if (!Array.isArray(m.propertyValues) || !m.propertyValues.length || m.propertyValues.length > MAX_PROPERTIES) throw new Error(`propertyValues: 1 to ${MAX_PROPERTIES} registers`);
  const values: { [obis: string]: StoredValue } = {};
  for (const p of m.propertyValues as { [k: string]: unknown }[]) {
    const obis = p && typeof p.propertyId === 'string' ? obisOf(p.propertyId) : null;
    if (!obis) throw new Error('propertyValues: propertyId OBIS_C.D.E');
    if (typeof p.value !== 'number' || !Number.isFinite(p.value)) throw new Error(`${p.propertyId as string}: value must be a number`);
    if (typeof p.unit !== 'string' || !UNITS[p.unit]) throw new Error(`${p.propertyId as string}: unit Wh, varh or VAh`);
    values[obis] = { value: p.value, unit: p.unit };
  }
  const adapterId = typeof m.adapterId === 'string' && m.adapterId.length <= 64 ? m.adapterId : null;
  return {
    meterId: m.meterId,
    adapterId,
    entry: { type: 'reading', kind, time, offset, source: flags.includes('timed-by-meter-clock') ? 'meter' : 'sntp', meterId: m.meterId, values },
  };
}
