// What the reading log holds, and how an entry becomes record bytes.
//
// Entries are register readings (TAF 7 at period boundaries, TAF 6 at local
// midnight and on demand) and gaps (boundaries that have no reading, and
// why). Readings are stored as integers in the meter's resolution, as
// differences against the sector's previous reading: a quarter-hour of a
// household's four energy registers fits in a dozen bytes. Each sector
// starts afresh (its register set, then absolute time and values), so a
// sector can be read without the one before it, which may have been erased.

import { putU32, getU32, RecordType, frameRecord } from './record';
import { putVarint, zigzag, unzigzag, VarintReader } from '../codec/varint';
import { putUtf8, utf8 } from '../codec/utf8';

export type SeriesKind = 'taf7' | 'daily' | 'demand';
const SERIES_KINDS: readonly SeriesKind[] = ['taf7', 'daily', 'demand'];

/** Why a boundary has no reading. */
export type GapReason =
  | 'no-telegram' // the gateway ran and had the time, but no valid telegram came within the tolerance
  | 'not-running' // the gateway was off or restarting (power cut)
  | 'no-time' // the gateway ran, but had no trusted time and could no longer keep the telegrams
  | 'clock-jump'; // a correction of the clock moved past the boundary
const GAP_REASONS: readonly GapReason[] = ['no-telegram', 'not-running', 'no-time', 'clock-jump'];

/** What timed the reading: SNTP, or the meter's own clock before SNTP was reachable. */
type TimeSource = 'sntp' | 'meter';

const ENERGY_UNITS = ['Wh', 'varh', 'VAh'] as const;
type EnergyUnit = (typeof ENERGY_UNITS)[number];

export interface StoredValue {
  value: number;
  unit: string;
}

export interface ReadingEntry {
  type: 'reading';
  kind: SeriesKind;
  /** The boundary (TAF 7, daily) or the capture time (on demand): ms since the epoch, whole seconds. */
  time: number;
  /** Seconds from `time` to the capture of the telegram the values come from. */
  offset: number;
  source: TimeSource;
  meterId: string | null;
  /** Energy registers by OBIS, in canonical units. */
  values: { [obis: string]: StoredValue };
}

export interface GapEntry {
  type: 'gap';
  kind: SeriesKind;
  /** First and last boundary without a reading (ms); `count` boundaries from the first to the last. */
  time: number;
  last: number;
  count: number;
  reason: GapReason;
}

/** What an event of the event log is about. */
export const EVENT_KINDS = ['boot', 'config', 'time', 'decode', 'security', 'upload', 'firmware', 'store', 'update'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** The length of a chain hash: SHA-256. */
export const HASH_LENGTH = 32;
/** The longest message stored (UTF-8 bytes): longer ones are cut at a character boundary. */
const MAX_EVENT_MESSAGE = 160;

/**
 * An event of the tamper-evident event log: what happened, and the chain hash
 * of the event before it (event-chain.ts says how the hash is computed).
 */
export interface EventEntry {
  type: 'event';
  kind: EventKind;
  /** Wall time (ms since the epoch, whole seconds); 0 when the device did not know the time. */
  time: number;
  /** Uptime (ms, whole seconds) at the event. */
  uptime: number;
  /** The event's number in the chain: 1, 2, 3 ... over the device's life. */
  number: number;
  /** The chain hash of the event numbered one less (32 zero bytes before the first). */
  prev: Uint8Array;
  message: string;
}

export type Entry = ReadingEntry | GapEntry | EventEntry;
export type LogEntry = Entry & { seq: number };

/** The most registers one reading stores. */
export const MAX_REGISTERS = 8;
const MAX_METER_ID = 32;
/** The finest resolution stored: 1 µWh (IEC 62056-21 meters send kWh with up to 7 decimals). */
const FINEST_EXP = -6;
const COARSEST_EXP = 3;

export interface RegisterDef {
  obis: string;
  unit: EnergyUnit;
  /** Stored integers are in units of 10^exp of the canonical unit. */
  exp: number;
}

const EVENT_TIME_KNOWN = 0x01;

/**
 * An event record's payload: kind, flags (bit 0: time known), [time u32 s],
 * uptime (varint s), number (varint), previous hash (32), message (UTF-8, to
 * the end). Events are rare: they are always absolute and leave the sector's
 * delta state alone. Returns the end in `out`.
 */
export function encodeEventPayload(e: EventEntry, out: Uint8Array, at: number): number {
  const kind = EVENT_KINDS.indexOf(e.kind);
  if (kind < 0) throw new RangeError('event: unknown kind ' + e.kind);
  if (e.prev.length !== HASH_LENGTH) throw new RangeError('event: the previous hash must be 32 bytes');
  out[at++] = kind;
  const known = e.time > 0;
  out[at++] = known ? EVENT_TIME_KNOWN : 0;
  if (known) {
    putU32(out, at, Math.floor(e.time / 1000));
    at += 4;
  }
  at = putVarint(out, at, Math.max(0, Math.floor(e.uptime / 1000)));
  at = putVarint(out, at, e.number);
  out.set(e.prev, at);
  at += HASH_LENGTH;
  return putUtf8(e.message, out, at, MAX_EVENT_MESSAGE);
}

/** Decodes an event record's payload b[at..end); throws RangeError when it does not parse. */
function decodeEventPayload(b: Uint8Array, at: number, end: number, v: VarintReader): EventEntry {
  const kind = EVENT_KINDS[b[at++]];
  if (!kind) throw new RangeError('event: bad kind');
  const flags = b[at++];
  if (flags & ~EVENT_TIME_KNOWN) throw new RangeError('event: bad flags');
  let time = 0;
  if (flags & EVENT_TIME_KNOWN) {
    if (at + 4 > end) throw new RangeError('event: truncated');
    time = getU32(b, at) * 1000;
    at += 4;
  }
  if (!v.read(b, at, end)) throw new RangeError('event: bad uptime');
  const uptime = v.value * 1000;
  if (!v.read(b, v.next, end)) throw new RangeError('event: bad number');
  const number = v.value;
  at = v.next;
  if (at + HASH_LENGTH > end || end - at - HASH_LENGTH > MAX_EVENT_MESSAGE) throw new RangeError('event: bad length');
  const prev = b.slice(at, at + HASH_LENGTH);
  at += HASH_LENGTH;
  return { type: 'event', kind, time, uptime, number, prev, message: utf8(b, at, end) };
}

const HEAD_KIND = 0x03;
const HEAD_ABS_TIME = 0x04;
const HEAD_ABS_VALUES = 0x08;
const HEAD_PARTIAL = 0x10;
const HEAD_METER_CLOCK = 0x20;
const HEAD_OFFSET = 0x40;

const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/** The integer that stands for `value` at 10^exp. */
function toInt(value: number, exp: number): number {
  return exp >= 0 ? Math.round(value / POW10[exp]) : Math.round(value * POW10[-exp]);
}

/** The value an integer at 10^exp stands for, computed as the decoders compute it (so it compares equal). */
function fromInt(n: number, exp: number): number {
  return exp >= 0 ? n * POW10[exp] : n / POW10[-exp];
}

/** The coarsest power of ten that holds `value` exactly. */
function neededExp(value: number): number {
  for (let exp = COARSEST_EXP; exp > FINEST_EXP; exp--) {
    const scaled = exp >= 0 ? value / POW10[exp] : value * POW10[-exp];
    // Exact up to the last few bits of a double (a decimal fraction is never exact in binary).
    if (Math.abs(scaled - Math.round(scaled)) <= 1e-14 * Math.max(1, Math.abs(scaled))) return exp;
  }
  return FINEST_EXP;
}

/** "A-B:C.D.E[*F]" as six bytes; null when a group is not a number 0..255. */
function obisBytes(key: string): number[] | null {
  const m = /^(\d+)-(\d+):(\d+)\.(\d+)\.(\d+)(?:\*(\d+))?$/.exec(key);
  if (!m) return null;
  const out = [1, 2, 3, 4, 5, 6].map((i) => (m[i] === undefined ? 255 : Number(m[i])));
  return out.every((v) => v <= 255) ? out : null;
}

function obisText(b: Uint8Array, at: number): string {
  const base = b[at] + '-' + b[at + 1] + ':' + b[at + 2] + '.' + b[at + 3] + '.' + b[at + 4];
  return b[at + 5] === 255 ? base : base + '*' + b[at + 5];
}

function sameRegisters(a: RegisterDef[], b: RegisterDef[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].obis !== b[i].obis || a[i].unit !== b[i].unit || a[i].exp !== b[i].exp) return false;
  return true;
}

/**
 * The delta state of one sector, shared by the writer and every reader: a
 * record is encoded against it, and it advances by decoding the record, so
 * that writer and readers cannot disagree about what a record means.
 */
export class SectorCodec {
  /** Time of the sector's previous entry, in seconds; NaN before the first. */
  time = NaN;
  /** The register set in force in this sector; null before the first. */
  registers: RegisterDef[] | null = null;
  meterId: string | null = null;
  /** Previous stored integer of each register; NaN when this sector has none yet. */
  ints: number[] = [];
  private spare: number[] = [];
  /** The register set the writer last used, kept across sectors. */
  preferred: RegisterDef[] | null = null;

  /** A new sector: nothing to refer back to. */
  reset(): void {
    this.time = NaN;
    this.registers = null;
    this.meterId = null;
    this.ints = [];
    this.spare = [];
  }

  /**
   * Encodes `entry` into `out` at `at`: a register-set record first when the
   * sector needs one, then the entry. Returns the position after them. The
   * state is not changed (decode the bytes to advance it).
   */
  encode(entry: Entry, out: Uint8Array, at: number, scratch: Uint8Array): number {
    if (entry.type === 'event') return frameRecord(out, at, RecordType.Event, scratch, encodeEventPayload(entry, scratch, 0));
    const kind = entry.kind === 'taf7' ? 0 : entry.kind === 'daily' ? 1 : 2;
    const seconds = Math.floor(entry.time / 1000);
    let head = kind;
    let n = 0;
    const absTime = Number.isNaN(this.time);
    if (absTime) head |= HEAD_ABS_TIME;
    if (entry.type === 'gap') {
      scratch[n++] = head;
      n = this.putTime(scratch, n, absTime, seconds);
      n = putVarint(scratch, n, Math.max(0, Math.floor(entry.last / 1000) - seconds));
      n = putVarint(scratch, n, entry.count);
      scratch[n++] = Math.max(0, GAP_REASONS.indexOf(entry.reason));
      return frameRecord(out, at, RecordType.Gap, scratch, n);
    }
    let registers = this.registers;
    const wanted = this.registersFor(entry);
    if (!registers || !sameRegisters(registers, wanted) || this.meterId !== entry.meterId) {
      at = this.encodeRegisters(wanted, entry.meterId, out, at, scratch);
      registers = wanted;
    }
    const fresh = registers !== this.registers || this.meterId !== entry.meterId;
    let mask = 0;
    let abs = fresh;
    for (let i = 0; i < registers.length; i++) {
      if (entry.values[registers[i].obis] === undefined) continue;
      mask |= 1 << i;
      if (!fresh && Number.isNaN(this.ints[i])) abs = true;
    }
    if (abs) head |= HEAD_ABS_VALUES;
    if (mask !== (1 << registers.length) - 1) head |= HEAD_PARTIAL;
    if (entry.source === 'meter') head |= HEAD_METER_CLOCK;
    if (entry.offset !== 0) head |= HEAD_OFFSET;
    scratch[n++] = head;
    n = this.putTime(scratch, n, absTime, seconds);
    if (entry.offset !== 0) n = putVarint(scratch, n, zigzag(Math.round(entry.offset)));
    if (head & HEAD_PARTIAL) n = putVarint(scratch, n, mask);
    for (let i = 0; i < registers.length; i++) {
      if (!(mask & (1 << i))) continue;
      const r = registers[i];
      const v = toInt(entry.values[r.obis].value, r.exp);
      n = putVarint(scratch, n, zigzag(abs ? v : v - this.ints[i]));
    }
    return frameRecord(out, at, RecordType.Reading, scratch, n);
  }

  private putTime(b: Uint8Array, n: number, abs: boolean, seconds: number): number {
    if (abs) {
      putU32(b, n, seconds);
      return n + 4;
    }
    return putVarint(b, n, zigzag(seconds - this.time));
  }

  /** The register set a reading needs: the one in force when it fits, else one that also holds the new register or resolution. */
  private registersFor(entry: ReadingEntry): RegisterDef[] {
    const base = this.registers ?? this.preferred ?? [];
    const out: RegisterDef[] = base.map((r) => ({ ...r }));
    for (const obis in entry.values) {
      const v = entry.values[obis];
      const unit = v.unit as EnergyUnit;
      if (ENERGY_UNITS.indexOf(unit) < 0 || !obisBytes(obis)) continue;
      const exp = neededExp(v.value);
      const known = out.find((r) => r.obis === obis);
      if (known && known.unit === unit) {
        if (exp < known.exp) known.exp = exp;
      } else if (known) {
        known.unit = unit;
        known.exp = exp;
      } else if (out.length < MAX_REGISTERS) {
        out.push({ obis, unit, exp });
      }
    }
    return out;
  }

  private encodeRegisters(registers: RegisterDef[], meterId: string | null, out: Uint8Array, at: number, scratch: Uint8Array): number {
    let n = 0;
    const id = meterId ?? '';
    const idLength = Math.min(id.length, MAX_METER_ID);
    scratch[n++] = meterId === null ? 0xff : idLength;
    for (let i = 0; i < idLength; i++) scratch[n++] = id.charCodeAt(i) & 0xff;
    scratch[n++] = registers.length;
    for (const r of registers) {
      const bytes = obisBytes(r.obis)!;
      for (let i = 0; i < 6; i++) scratch[n++] = bytes[i];
      scratch[n++] = ENERGY_UNITS.indexOf(r.unit);
      scratch[n++] = r.exp & 0xff;
    }
    return frameRecord(out, at, RecordType.Registers, scratch, n);
  }

  /**
   * Decodes one intact record's payload b[at..end) of `type` and advances the
   * state. Returns the entry for readings and gaps, null for other records;
   * throws RangeError on a payload that does not parse.
   */
  decode(type: number, b: Uint8Array, at: number, end: number, varint: VarintReader): Entry | null {
    return this.skim(type, b, at, end, varint, true) ? this.entry : null;
  }

  /** The entry the last skim decoded (only when asked for in full). */
  entry: Entry | null = null;
  /** Kind, time and last boundary (ms) of the last reading or gap skimmed. */
  kind: SeriesKind = 'taf7';
  last = NaN;
  /** The last record skimmed was an event (its entry is always built: events are rare). */
  event = false;

  /**
   * Advances the state over one record, as decode does, building the entry
   * object only when `full` (boot recovery needs only the state and the
   * times). Returns true when the record was an entry.
   */
  skim(type: number, b: Uint8Array, at: number, end: number, varint: VarintReader, full: boolean): boolean {
    switch (type) {
      case RecordType.Registers:
        this.event = false;
        this.decodeRegisters(b, at, end);
        return false;
      case RecordType.Reading:
      case RecordType.Gap:
        this.event = false;
        this.decodeEntry(type, b, at, end, varint, full);
        return true;
      case RecordType.Event:
        // Parsed before anything changes: a bad event record leaves the state as it was.
        this.entry = decodeEventPayload(b, at, end, varint);
        this.event = true;
        return true;
      default:
        this.event = false;
        return false;
    }
  }

  private decodeRegisters(b: Uint8Array, at: number, end: number): void {
    const idByte = b[at++];
    let meterId: string | null = null;
    if (idByte !== 0xff) {
      if (idByte > MAX_METER_ID || at + idByte > end) throw new RangeError('register set: bad meter id');
      meterId = String.fromCharCode.apply(null, Array.from(b.subarray(at, at + idByte)));
      at += idByte;
    }
    const count = b[at++];
    if (count > MAX_REGISTERS || at + count * 8 !== end) throw new RangeError('register set: bad length');
    const registers: RegisterDef[] = [];
    for (let i = 0; i < count; i++) {
      const unit = ENERGY_UNITS[b[at + 6]];
      if (!unit) throw new RangeError('register set: bad unit');
      const exp = (b[at + 7] << 24) >> 24;
      if (exp < FINEST_EXP || exp > COARSEST_EXP) throw new RangeError('register set: bad exponent');
      registers.push({ obis: obisText(b, at), unit, exp });
      at += 8;
    }
    this.registers = registers;
    this.meterId = meterId;
    this.preferred = registers;
    this.ints = registers.map(() => NaN);
    this.spare = registers.map(() => NaN);
  }

  private decodeEntry(type: number, b: Uint8Array, at: number, end: number, v: VarintReader, full: boolean): void {
    const head = b[at++];
    const kindIndex = head & HEAD_KIND;
    if (kindIndex > 2) throw new RangeError('entry: bad kind');
    const kind = SERIES_KINDS[kindIndex];
    let seconds: number;
    if (head & HEAD_ABS_TIME) {
      if (at + 4 > end) throw new RangeError('entry: truncated');
      seconds = getU32(b, at);
      at += 4;
    } else {
      if (Number.isNaN(this.time)) throw new RangeError('entry: relative time at the start of a sector');
      seconds = this.time + unzigzag(this.read(v, b, at, end));
      at = v.next;
    }
    if (type === RecordType.Gap) {
      const span = this.read(v, b, at, end);
      const count = this.read(v, b, v.next, end);
      at = v.next;
      const reason = GAP_REASONS[b[at++]];
      if (!reason || at !== end || count < 1) throw new RangeError('gap: bad fields');
      this.time = seconds;
      this.kind = kind;
      this.last = (seconds + span) * 1000;
      this.entry = full ? { type: 'gap', kind, time: seconds * 1000, last: this.last, count, reason } : null;
      return;
    }
    const registers = this.registers;
    if (!registers) throw new RangeError('reading before any register set');
    let offset = 0;
    if (head & HEAD_OFFSET) {
      offset = unzigzag(this.read(v, b, at, end));
      at = v.next;
    }
    let mask = (1 << registers.length) - 1;
    if (head & HEAD_PARTIAL) {
      mask = this.read(v, b, at, end);
      at = v.next;
    }
    const abs = (head & HEAD_ABS_VALUES) !== 0;
    // Into the spare array first: a record that fails half way leaves the state as it was.
    const ints = this.spare;
    for (let i = 0; i < registers.length; i++) {
      ints[i] = this.ints[i];
      if (!(mask & (1 << i))) continue;
      const d = unzigzag(this.read(v, b, at, end));
      at = v.next;
      if (!abs && Number.isNaN(ints[i])) throw new RangeError('reading: difference without a base');
      ints[i] = abs ? d : ints[i] + d;
    }
    if (at !== end) throw new RangeError('reading: trailing bytes');
    this.spare = this.ints;
    this.ints = ints;
    this.time = seconds;
    this.kind = kind;
    this.last = seconds * 1000;
    if (!full) {
      this.entry = null;
      return;
    }
    const values: { [obis: string]: StoredValue } = {};
    for (let i = 0; i < registers.length; i++) {
      if (mask & (1 << i)) values[registers[i].obis] = { value: fromInt(ints[i], registers[i].exp), unit: registers[i].unit };
    }
    this.entry = {
      type: 'reading',
      kind,
      time: seconds * 1000,
      offset,
      source: head & HEAD_METER_CLOCK ? 'meter' : 'sntp',
      meterId: this.meterId,
      values,
    };
  }

  private read(v: VarintReader, b: Uint8Array, at: number, end: number): number {
    if (!v.read(b, at, end)) throw new RangeError('entry: bad number');
    return v.value;
  }
}
