// TAF 7 and TAF 6 (BSI TR-03109-1): register readings at every period
// boundary and at local midnight, and readings on demand, into the reading
// log.
//
// A boundary takes the telegram nearest to it within the tolerance; its
// window closes `tolerance` after the boundary, and only then is the
// boundary written: as a reading (with the capture offset) or as a gap that
// says why there is none. A boundary is written once: the newest one in the
// log is where a series continues after a restart, and a clock correction
// back in time meets boundaries already written and passes over them.
//
// Before the time is known, telegrams wait in RAM (see TimelessBuffer) and
// are placed once it is; nothing is stored against a guessed time.

import type { ClockPort, Timer } from '../ports/clock';
import type { Reading } from '../meter/reading';
import type { ReadingLog } from '../store/reading-log';
import type { GapEntry, GapReason, LogEntry, ReadingEntry } from '../formats/entries';
import type { Correction, Timekeeper } from '../time/timekeeper';
import { EnergyRegisters, storedValues, type EnergySnapshot } from './energy';
import { midnightBoundaries, periodBoundaries, type Boundaries } from './boundaries';
import { TimelessBuffer } from './timeless';
import type { TafSettings } from './settings';

/** A reading on demand waits this long for the next telegram. */
const DEMAND_TIMEOUT_MS = 30000;

interface Candidate {
  distance: number;
  capture: number;
  snapshot: EnergySnapshot;
}

class Series {
  readonly kind: 'taf7' | 'daily';
  readonly boundaries: Boundaries;
  /** The newest boundary written; null before the first. */
  last: number | null = null;
  /** The boundary after it: the only one a telegram can be a candidate for. */
  next = NaN;
  candidate: Candidate | null = null;

  constructor(kind: 'taf7' | 'daily', boundaries: Boundaries) {
    this.kind = kind;
    this.boundaries = boundaries;
  }

  done(boundary: number): void {
    this.last = boundary;
    this.next = this.boundaries.after(boundary);
  }

  /** A series without any entry yet begins at `first`. */
  begin(first: number): void {
    this.last = this.boundaries.before(first);
    this.next = first;
  }
}

export type DemandCallback = (error: Error | null, entry: LogEntry | null) => void;

export interface RecorderStats {
  /** Entries written since boot. */
  readings: { taf7: number; daily: number; demand: number };
  gaps: number;
  /** Telegrams waiting for the time. */
  waiting: number;
}

export class TafRecorder {
  readonly settings: TafSettings;
  private readonly log: ReadingLog;
  private readonly time: Timekeeper;
  private readonly clock: ClockPort;
  private readonly say: (line: string) => void;
  private readonly tolerance: number;
  private readonly energy = new EnergyRegisters();
  private readonly series: Series[];
  private readonly buffer: TimelessBuffer;
  private timer: Timer | null = null;
  private timerAt = Infinity;
  /** Wall-time spans that forward corrections skipped. */
  private readonly jumps: { from: number; to: number }[] = [];
  private demands: DemandCallback[] = [];
  private demandTimer: Timer | null = null;
  readonly stats: RecorderStats = { readings: { taf7: 0, daily: 0, demand: 0 }, gaps: 0, waiting: 0 };

  constructor(log: ReadingLog, time: Timekeeper, clock: ClockPort, settings: TafSettings, zone: string, say: (line: string) => void) {
    this.log = log;
    this.time = time;
    this.clock = clock;
    this.settings = settings;
    this.say = say;
    this.tolerance = settings.tolerance * 1000;
    this.series = [new Series('taf7', periodBoundaries(settings.period * 60000)), new Series('daily', midnightBoundaries(zone))];
    this.buffer = new TimelessBuffer(this.tolerance);
    for (const s of this.series) {
      const last = log.newestOf(s.kind);
      if (last !== null) s.done(last);
    }
    time.onSynced(() => this.placeWaiting());
    time.onCorrection((c) => this.corrected(c));
  }

  /** Every reading, with the uptime it arrived at. */
  offer(reading: Reading, uptime: number): void {
    if (!this.time.synced) {
      this.buffer.offer(uptime, reading, this.energy);
      this.stats.waiting = this.buffer.count;
      return;
    }
    if (this.buffer.count) this.placeWaiting();
    const wall = this.time.wall(uptime);
    let snapshot: EnergySnapshot | null = null;
    const take = () => (snapshot ??= this.energy.snapshot(reading));
    this.place(wall, take);
    if (this.demands.length) this.answerDemands(wall, take());
    this.arm();
  }

  /** TAF 6 on demand: a reading from the next telegram, into the log. */
  readNow(callback: DemandCallback): void {
    if (!this.time.synced) {
      callback(new Error('the time is not known yet: a reading on demand needs it'), null);
      return;
    }
    this.demands.push(callback);
    this.demandTimer ??= this.clock.after(DEMAND_TIMEOUT_MS, () => {
      this.demandTimer = null;
      const waiting = this.demands;
      this.demands = [];
      for (const d of waiting) d(new Error(`no telegram from the meter within ${DEMAND_TIMEOUT_MS / 1000} s`), null);
    });
  }

  stop(): void {
    if (this.timer) this.clock.cancel(this.timer);
    if (this.demandTimer) this.clock.cancel(this.demandTimer);
    this.timer = this.demandTimer = null;
  }

  /** One telegram at wall time `wall`: close the windows it is past, then see whether it is nearer its boundary. */
  private place(wall: number, snapshot: () => EnergySnapshot | null): void {
    const tolerance = this.tolerance;
    for (const s of this.series) {
      // A new log: the first boundary whose window the gateway saw any of.
      if (s.last === null) s.begin(s.boundaries.after(this.time.wall(0) - tolerance));
      if (wall > s.next + tolerance) this.close(s, wall);
      const distance = Math.abs(wall - s.next);
      if (distance <= tolerance && (!s.candidate || distance < s.candidate.distance)) {
        const snap = snapshot();
        if (snap) s.candidate = { distance, capture: wall, snapshot: snap };
      }
    }
  }

  /** Writes every boundary whose window closed before `wall`: a reading, or gaps (consecutive ones with one reason as one entry). */
  private close(s: Series, wall: number): void {
    let run: GapEntry | null = null;
    while (s.next + this.tolerance < wall) {
      const boundary = s.next;
      const c = s.candidate;
      if (c) {
        if (run) this.gap(run);
        run = null;
        this.store(s, boundary, c);
        s.candidate = null;
      } else {
        const reason = this.reasonFor(boundary);
        if (run && run.reason === reason) {
          run.last = boundary;
          run.count++;
        } else {
          if (run) this.gap(run);
          run = { type: 'gap', kind: s.kind, time: boundary, last: boundary, count: 1, reason };
        }
      }
      s.done(boundary);
    }
    if (run) this.gap(run);
  }

  private store(s: Series, boundary: number, c: Candidate): void {
    const entry: ReadingEntry = {
      type: 'reading',
      kind: s.kind,
      time: boundary,
      offset: Math.round((c.capture - boundary) / 1000),
      source: this.time.source === 'meter' ? 'meter' : 'sntp',
      meterId: c.snapshot.meterId,
      values: storedValues(c.snapshot),
    };
    this.log.append(entry);
    this.stats.readings[s.kind]++;
  }

  private gap(run: GapEntry): void {
    this.log.append(run);
    this.stats.gaps += run.count;
  }

  private reasonFor(boundary: number): GapReason {
    for (const j of this.jumps) if (boundary > j.from && boundary <= j.to) return 'clock-jump';
    if (boundary < this.time.wall(0)) return 'not-running';
    const covered = this.buffer.droppedUpTo;
    if (covered >= 0 && boundary <= this.time.wall(covered)) return 'no-time';
    return 'no-telegram';
  }

  private answerDemands(wall: number, snapshot: EnergySnapshot | null): void {
    const waiting = this.demands;
    this.demands = [];
    if (this.demandTimer) this.clock.cancel(this.demandTimer);
    this.demandTimer = null;
    if (!snapshot) {
      for (const d of waiting) d(new Error('the meter sends no energy registers'), null);
      return;
    }
    const entry: ReadingEntry = {
      type: 'reading',
      kind: 'demand',
      time: Math.floor(wall / 1000) * 1000,
      offset: 0,
      source: this.time.source === 'meter' ? 'meter' : 'sntp',
      meterId: snapshot.meterId,
      values: storedValues(snapshot),
    };
    const seq = this.log.append(entry);
    this.stats.readings.demand++;
    for (const d of waiting) d(null, { ...entry, seq });
  }

  /** The time is known: the telegrams that waited for it take their places. */
  private placeWaiting(): void {
    const waited = this.buffer.count;
    this.buffer.drain((uptime, snapshot) => this.place(this.time.wall(uptime), () => snapshot));
    this.stats.waiting = 0;
    if (waited) this.say(`readings: ${waited} telegram(s) that waited for the time placed`);
    this.arm();
  }

  private corrected(c: Correction): void {
    if (c.by > 0) {
      const to = this.time.wall(c.at);
      this.jumps.push({ from: to - c.by, to });
      if (this.jumps.length > 8) this.jumps.shift();
    }
    for (const s of this.series) {
      const cand = s.candidate;
      if (!cand) continue;
      cand.capture += c.by;
      cand.distance = Math.abs(cand.capture - s.next);
      if (cand.distance > this.tolerance) s.candidate = null;
    }
    this.timerAt = Infinity;
    if (this.timer) this.clock.cancel(this.timer);
    this.timer = null;
    this.arm();
  }

  /** A timer for the next window to close, for when no telegram comes to close it (a silent meter). */
  private arm(): void {
    if (!this.time.synced) return;
    let at = Infinity;
    for (const s of this.series) if (s.last !== null && s.next + this.tolerance < at) at = s.next + this.tolerance;
    if (at === Infinity || at >= this.timerAt) return;
    if (this.timer) this.clock.cancel(this.timer);
    this.timerAt = at;
    // A second after the window closed, so that a telegram at its very end is in.
    this.timer = this.clock.after(Math.max(0, at - this.time.now()) + 1000, () => {
      this.timer = null;
      this.timerAt = Infinity;
      const now = this.time.now();
      for (const s of this.series) if (s.last !== null && now > s.next + this.tolerance) this.close(s, now);
      this.arm();
    });
  }
}
