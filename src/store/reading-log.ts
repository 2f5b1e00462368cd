// The reading log: readings that must survive outages and power cuts, in the
// firmware's flash partition, as a ring of 4 KB sectors (format in
// format.ts and docs/reading-log.md).
//
// Power safety rests on three rules. A record is written once, length first
// and CRC last, so a cut leaves it either whole or failing its CRC; the
// writer resumes after it (its length says where), or in a new sector when
// the rest of the sector is not blank. A sector is erased only after a byte
// in its header marks it retired, so a cut during an erase cannot leave a
// half-erased sector that looks live. Everything the writer knows (where to
// append, the delta state, the next sequence number, the upload cursor) is
// rebuilt at boot by the same decoding that readers use.
//
// Sequence numbers are implicit: a sector's header gives its first entry's,
// and entries count up from there. The upload cursor is a small record,
// repeated in every new sector's header, so erasing old sectors never
// loses it.

import type { FlashPort } from '../ports/flash';
import { decodeHeader, encodeHeader, ERASED, HEADER_SIZE, STATE_LIVE, STATE_OFFSET, STATE_RETIRED } from './format';
import { getU32, putU32, recordIntact, MIN_RECORD, RecordType } from '../formats/record';
import { SectorCodec, type Entry, type EventEntry, type LogEntry, type SeriesKind } from '../formats/entries';
import { VarintReader } from '../codec/varint';
import { crc16X25 } from '../codec/crc16';

/** What the index keeps of a live sector. */
interface Sector {
  index: number;
  sectorSeq: number;
  firstSeq: number;
  /** Entries in it. */
  count: number;
  /** Where its records end (the append position in the head sector). */
  end: number;
  /** No record may be appended: the rest of the sector is not blank. */
  closed: boolean;
  /** Times of its first and last entry (ms); NaN when it has none. */
  firstTime: number;
  lastTime: number;
}

export interface LogStats {
  /** Entries held (readings and gaps). */
  entries: number;
  /** Sequence numbers of the oldest and newest entry held; 0 when empty. */
  firstSeq: number;
  lastSeq: number;
  /** Highest sequence number the backend acknowledged. */
  cursor: number;
  /** Entries held that the backend has not acknowledged. */
  unacknowledged: number;
  /** Entries erased to make room, since the partition was first used. */
  evicted: number;
  /** Of those, entries that had not been acknowledged: readings lost before upload. */
  lost: number;
  sectors: number;
  liveSectors: number;
  bytesUsed: number;
  bytesTotal: number;
  /** Records that failed their CRC (cut off by a power failure) and were skipped. */
  badRecords: number;
  /** Times of the oldest and newest entry (ms), null when empty. */
  oldest: number | null;
  newest: number | null;
}

/** An entry as the sector scan sees it. */
type EntrySink = (entry: LogEntry) => boolean | void;

const CURSOR_RECORD = 8;

export class ReadingLog {
  private readonly flash: FlashPort;
  private readonly sectorSize: number;
  private readonly sectorCount: number;
  private readonly say: (line: string) => void;
  /** Live sectors, oldest first; the last is the head (where entries are appended). */
  private sectors: Sector[] = [];
  private nextSeq = 1;
  private nextSectorSeq = 1;
  private cursorSeq = 0;
  private lostCount = 0;
  private badRecords = 0;
  /** The writer's delta state, for the head sector. */
  private readonly codec = new SectorCodec();
  private readonly varint = new VarintReader();
  private readonly out = new Uint8Array(512);
  private readonly scratch = new Uint8Array(256);
  /** The newest boundary each series has an entry for (ms): the time of a reading, the last of a gap. */
  private readonly newest: { [kind in SeriesKind]?: number } = {};
  /** The newest event in the log, with its sequence number (the event chain continues from it). */
  private newestEvent: (EventEntry & { seq: number }) | null = null;
  /**
   * Lines said while appending wait until the append is done: whoever hears
   * them (the event log) may append in turn, and appending is not re-entrant.
   */
  private notes: string[] = [];
  private appending = false;

  /** Opens the log on `flash`: scans it and rebuilds the index (boot recovery). */
  constructor(flash: FlashPort, log: (line: string) => void = () => undefined) {
    if (flash.sectorSize < 1024 || flash.size < 2 * flash.sectorSize) throw new RangeError('the reading log needs at least two sectors of 1 KB or more');
    this.flash = flash;
    this.sectorSize = flash.sectorSize;
    this.sectorCount = Math.floor(flash.size / flash.sectorSize);
    this.say = log;
    this.appending = true;
    try {
      this.recover();
    } finally {
      this.done();
    }
  }

  /** Says a line now, or after the append under way. */
  private note(line: string): void {
    this.notes.push(line);
    if (!this.appending) this.done();
  }

  private done(): void {
    this.appending = false;
    while (this.notes.length) this.say(this.notes.shift()!);
  }

  // ---- boot recovery ----

  private recover(): void {
    const live: { index: number; sectorSeq: number; firstSeq: number; cursor: number; floor: number; lost: number }[] = [];
    for (let i = 0; i < this.sectorCount; i++) {
      const b = this.flash.read(i * this.sectorSize, HEADER_SIZE);
      const h = decodeHeader(b, 0);
      if (h && b[STATE_OFFSET] === STATE_LIVE) live.push({ index: i, ...h });
    }
    live.sort((a, b) => a.sectorSeq - b.sectorSeq);
    this.sectors = [];
    let cursor = 0;
    for (const h of live) {
      const sector: Sector = { index: h.index, sectorSeq: h.sectorSeq, firstSeq: h.firstSeq, count: 0, end: HEADER_SIZE, closed: false, firstTime: NaN, lastTime: NaN };
      cursor = Math.max(cursor, h.cursor);
      cursor = Math.max(cursor, this.scan(sector, this.codec, null, true));
      this.sectors.push(sector);
    }
    const head = this.head;
    const headHeader = live[live.length - 1];
    this.nextSeq = head ? head.firstSeq + head.count : 1;
    this.nextSectorSeq = head ? head.sectorSeq + 1 : 1;
    this.cursorSeq = Math.min(cursor, this.nextSeq - 1);
    if (headHeader) {
      // An eviction cut short after the retired mark and before the next header: count what it erased.
      const floor = this.sectors[0].firstSeq;
      this.lostCount = headHeader.lost + Math.max(0, floor - Math.max(headHeader.floor, this.cursorSeq + 1));
    }
    const s = this.stats();
    this.note(
      `reading log: ${s.entries} entries` +
        (s.entries ? ` (${s.firstSeq}..${s.lastSeq})` : '') +
        `, cursor ${s.cursor}, ${s.liveSectors} of ${s.sectors} sectors in use` +
        (s.lost ? `, ${s.lost} lost before upload` : '') +
        (s.badRecords ? `, ${s.badRecords} cut-off record(s) skipped` : ''),
    );
  }

  /**
   * Decodes a sector's records in order, with `codec` (reset first), giving
   * each entry its sequence number; fills in the sector's count, end and
   * times. Returns the highest cursor record in it.
   */
  private scan(sector: Sector, codec: SectorCodec, sink: EntrySink | null, recovering = false, eventsOnly = false): number {
    const b = this.flash.read(sector.index * this.sectorSize, this.sectorSize);
    const size = this.sectorSize;
    codec.reset();
    let cursor = 0;
    let seq = sector.firstSeq;
    let at = HEADER_SIZE;
    let stopped = false;
    sector.count = 0;
    while (at + MIN_RECORD <= size) {
      const len = b[at];
      if (len === ERASED) break;
      if (len < MIN_RECORD || at + len > size) {
        // Not a length this writer writes: nothing after it can be trusted or appended to.
        stopped = true;
        if (recovering) this.badRecords++;
        break;
      }
      if (!recordIntact(b, at, len)) {
        if (recovering) this.badRecords++;
      } else if (b[at + 1] === RecordType.Cursor) {
        if (len === CURSOR_RECORD) cursor = Math.max(cursor, getU32(b, at + 2));
      } else {
        let isEntry = false;
        try {
          // Readings and gaps are built as objects only for a sink that wants them (events always are: they are rare).
          isEntry = codec.skim(b[at + 1], b, at + 2, at + len - 2, this.varint, sink !== null && !eventsOnly);
        } catch {
          if (recovering) this.badRecords++;
        }
        if (isEntry && codec.event) {
          // Events count in the sequence but time no series (their time may be unknown).
          sector.count++;
          if (recovering) this.newestEvent = { ...(codec.entry as EventEntry), seq };
          if (sink) {
            const e = codec.entry as LogEntry;
            e.seq = seq;
            if (sink(e) === false) return cursor;
          }
          seq++;
        } else if (isEntry) {
          const time = codec.time * 1000;
          if (Number.isNaN(sector.firstTime)) sector.firstTime = time;
          sector.lastTime = time;
          sector.count++;
          if (recovering) this.newest[codec.kind] = codec.last;
          if (sink && !eventsOnly) {
            const e = codec.entry as LogEntry;
            e.seq = seq;
            if (sink(e) === false) return cursor;
          }
          seq++;
        }
      }
      at += len;
    }
    sector.end = at;
    // The writer appends only to blank flash: anything programmed after the last record closes the sector.
    sector.closed = stopped;
    for (let i = at; i < size && !sector.closed; i++) if (b[i] !== ERASED) sector.closed = true;
    return cursor;
  }

  // ---- appending ----

  private get head(): Sector | null {
    return this.sectors.length ? this.sectors[this.sectors.length - 1] : null;
  }

  /** Appends an entry; returns its sequence number once it is in flash. */
  append(entry: Entry): number {
    if (this.appending) throw new Error('reading log: append while appending');
    this.appending = true;
    try {
      return this.appendNow(entry);
    } finally {
      this.done();
    }
  }

  private appendNow(entry: Entry): number {
    for (let attempt = 0; attempt < 2; attempt++) {
      let head = this.head;
      let length = head ? this.codec.encode(entry, this.out, 0, this.scratch) : 0;
      if (!head || head.closed || head.end + length > this.sectorSize) {
        head = this.openSector(this.cursorSeq);
        length = this.codec.encode(entry, this.out, 0, this.scratch);
      }
      const written = this.program(head, length);
      if (written === null) continue;
      let seq = 0;
      this.apply(head, written, (e) => {
        seq = e.seq;
      });
      return seq;
    }
    throw new Error('reading log: flash does not keep what is written');
  }

  /**
   * Acknowledges every entry up to `seq` (the backend has it). The cursor
   * never moves back; an older acknowledgement is ignored.
   */
  ack(seq: number): void {
    if (!(seq > this.cursorSeq)) return;
    if (this.appending) throw new Error('reading log: acknowledgement while appending');
    this.appending = true;
    try {
      this.ackNow(seq);
    } finally {
      this.done();
    }
  }

  private ackNow(seq: number): void {
    if (seq >= this.nextSeq) throw new RangeError(`cannot acknowledge entry ${seq}: the newest is ${this.nextSeq - 1}`);
    const head = this.head;
    if (!head || head.closed || head.end + CURSOR_RECORD > this.sectorSize) {
      // A new sector's header carries the cursor.
      this.openSector(seq);
    } else {
      const r = this.out;
      r[0] = CURSOR_RECORD;
      r[1] = RecordType.Cursor;
      putU32(r, 2, seq);
      const crc = crc16X25(r, 0, 6);
      r[6] = crc & 0xff;
      r[7] = crc >>> 8;
      if (this.program(head, CURSOR_RECORD) === null) {
        this.openSector(seq);
      } else {
        head.end += CURSOR_RECORD;
      }
    }
    this.cursorSeq = seq;
  }

  /** Writes out[0..length) at the head's end and reads it back; null (and the sector closed) when flash did not keep it. */
  private program(head: Sector, length: number): Uint8Array | null {
    const offset = head.index * this.sectorSize + head.end;
    this.flash.write(offset, this.out.subarray(0, length));
    const back = this.flash.read(offset, length);
    for (let i = 0; i < length; i++) {
      if (back[i] !== this.out[i]) {
        this.note(`reading log: sector ${head.index} did not keep a record; continuing in the next sector`);
        head.closed = true;
        return null;
      }
    }
    return back;
  }

  /** Advances the writer over records just written (decoding them as a reader would). */
  private apply(head: Sector, bytes: Uint8Array, sink: EntrySink): void {
    let at = 0;
    while (at < bytes.length) {
      const len = bytes[at];
      const entry = this.codec.decode(bytes[at + 1], bytes, at + 2, at + len - 2, this.varint);
      if (entry) {
        const e = entry as LogEntry;
        e.seq = this.nextSeq++;
        head.count++;
        if (e.type === 'event') {
          this.newestEvent = { ...e };
        } else {
          if (Number.isNaN(head.firstTime)) head.firstTime = e.time;
          head.lastTime = e.time;
          this.newest[e.kind] = e.type === 'gap' ? e.last : e.time;
        }
        sink(e);
      }
      at += len;
    }
    head.end += bytes.length;
  }

  /** Starts the next sector of the ring, erasing the oldest one when the ring is full. */
  private openSector(cursor: number): Sector {
    let index = this.head ? (this.head.index + 1) % this.sectorCount : 0;
    for (let tries = 0; tries < this.sectorCount; tries++, index = (index + 1) % this.sectorCount) {
      const base = index * this.sectorSize;
      const victim = this.sectors.findIndex((s) => s.index === index);
      if (victim >= 0) this.evict(victim, cursor);
      const floor = this.sectors.length ? this.sectors[0].firstSeq : this.nextSeq;
      if (!this.blank(base)) this.flash.erase(index);
      const header = encodeHeader({ sectorSeq: this.nextSectorSeq, firstSeq: this.nextSeq, cursor, floor, lost: this.lostCount });
      this.flash.write(base, header);
      const back = this.flash.read(base, HEADER_SIZE);
      this.nextSectorSeq++;
      if (!decodeHeader(back, 0) || back[STATE_OFFSET] !== STATE_LIVE) {
        this.note(`reading log: sector ${index} does not keep its header; skipping it`);
        continue;
      }
      const sector: Sector = { index, sectorSeq: this.nextSectorSeq - 1, firstSeq: this.nextSeq, count: 0, end: HEADER_SIZE, closed: false, firstTime: NaN, lastTime: NaN };
      this.sectors.push(sector);
      this.codec.reset();
      return sector;
    }
    throw new Error('reading log: no sector of the partition can be written');
  }

  /** Erases the way for a new sector: the oldest entries go, and those not yet uploaded are counted as lost. */
  private evict(position: number, cursor: number): void {
    const victim = this.sectors[position];
    const end = victim.firstSeq + victim.count;
    const lost = Math.max(0, end - Math.max(victim.firstSeq, cursor + 1));
    // Retire it first: a cut during the erase then leaves a sector that is not read as live.
    this.flash.write(victim.index * this.sectorSize + STATE_OFFSET, Uint8Array.of(STATE_RETIRED));
    this.sectors.splice(position, 1);
    this.lostCount += lost;
    this.note(
      `reading log full: erased entries ${victim.firstSeq}..${end - 1}` + (lost ? `, ${lost} of them not yet uploaded (lost)` : ' (all uploaded)'),
    );
  }

  private blank(base: number): boolean {
    const b = this.flash.read(base, this.sectorSize);
    for (let i = 0; i < b.length; i++) if (b[i] !== ERASED) return false;
    return true;
  }

  // ---- reading ----

  get cursor(): number {
    return this.cursorSeq;
  }

  /** Sequence number the next entry will get. */
  get next(): number {
    return this.nextSeq;
  }

  /** The newest boundary a series has an entry for (for the recorder to continue after a restart), or null. */
  newestOf(kind: SeriesKind): number | null {
    return this.newest[kind] ?? null;
  }

  /** The newest event the log holds, with its sequence number; null when it holds none. */
  lastEvent(): (EventEntry & { seq: number }) | null {
    return this.newestEvent && this.newestEvent.seq >= this.floorSeq ? this.newestEvent : null;
  }

  /** The lowest sequence number the log can still hold (older ones were erased). */
  private get floorSeq(): number {
    return this.sectors.length ? this.sectors[0].firstSeq : this.nextSeq;
  }

  /** Up to `max` entries with sequence numbers from `fromSeq` on, oldest first. */
  read(fromSeq: number, max: number): LogEntry[] {
    const out: LogEntry[] = [];
    this.forEach(fromSeq, (e) => {
      out.push(e);
      return out.length < max;
    });
    return out;
  }

  /**
   * Hands the entries from `fromSeq` on to `visit`, oldest first, one at a
   * time (the uplink streams them into a batch without holding them all in
   * RAM); stops when `visit` returns false.
   */
  forEach(fromSeq: number, visit: (entry: LogEntry) => boolean): void {
    const codec = new SectorCodec();
    let going = true;
    for (const sector of this.sectors) {
      if (!going) break;
      if (sector.firstSeq + sector.count <= fromSeq || sector.count === 0) continue;
      const copy = { ...sector };
      this.scan(copy, codec, (e) => {
        if (e.seq < fromSeq) return true;
        going = visit(e);
        return going;
      });
    }
  }

  /**
   * Hands the events (only) from `fromSeq` on to `visit`, oldest first; stops
   * when it returns false. Readings are skimmed, not built: reading the event
   * log back costs little more than the boot's recovery scan.
   */
  forEachEvent(fromSeq: number, visit: (event: EventEntry & { seq: number }) => boolean): void {
    const codec = new SectorCodec();
    let going = true;
    for (const sector of this.sectors) {
      if (!going) break;
      if (sector.firstSeq + sector.count <= fromSeq || sector.count === 0) continue;
      const copy = { ...sector };
      this.scan(
        copy,
        codec,
        (e) => {
          if (e.seq < fromSeq || e.type !== 'event') return true;
          going = visit(e);
          return going;
        },
        false,
        true,
      );
    }
  }

  stats(): LogStats {
    let entries = 0;
    let bytesUsed = 0;
    let oldest: number | null = null;
    let newest: number | null = null;
    for (const s of this.sectors) {
      entries += s.count;
      bytesUsed += s.end;
      if (!Number.isNaN(s.firstTime)) {
        if (oldest === null) oldest = s.firstTime;
        newest = s.lastTime;
      }
    }
    const firstSeq = entries ? this.sectors.find((s) => s.count > 0)!.firstSeq : 0;
    const floor = this.sectors.length ? this.sectors[0].firstSeq : this.nextSeq;
    return {
      entries,
      firstSeq,
      lastSeq: entries ? this.nextSeq - 1 : 0,
      cursor: this.cursorSeq,
      unacknowledged: Math.max(0, this.nextSeq - 1 - Math.max(this.cursorSeq, floor - 1)),
      evicted: floor - 1,
      lost: this.lostCount,
      sectors: this.sectorCount,
      liveSectors: this.sectors.length,
      bytesUsed,
      bytesTotal: this.sectorCount * this.sectorSize,
      badRecords: this.badRecords,
      oldest,
      newest,
    };
  }
}

