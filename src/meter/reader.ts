// The meter reader: the serial port, the decoder, and what a user needs to
// know about the line (how many telegrams, why some were rejected, when the
// last one came). Readings go to whoever listens.

import type { ClockPort, Timer } from '../ports/clock';
import type { CryptoPort } from '../ports/crypto';
import type { SerialPort } from '../ports/serial';
import type { MeterSettings } from './settings';
import { MeterDecoder } from './decoder';
import { DecodeError, type RejectReason } from './errors';
import type { ReplayGuard } from './replay';
import type { Reading } from './reading';
import { MBUS_ACK } from './mbus/link';

export interface LineStats {
  bytes: number;
  /** Chunks in which the UART saw parity or framing errors. */
  lineErrors: number;
  telegrams: number;
  readings: number;
  rejected: { [reason in RejectReason]?: number };
  /** Uptime (ms) of the last byte, telegram and reading; -1 when none yet. */
  lastByteAt: number;
  lastTelegramAt: number;
  lastReadingAt: number;
  lastError: string | null;
  /** M-Bus acknowledgements (E5) sent: one per SND_NKE and SND_UD that passed its checks. */
  acknowledged: number;
}

export type ReadingListener = (reading: Reading, telegram: Uint8Array) => void;
export type RejectionListener = (error: DecodeError, telegram: Uint8Array | null) => void;

/** A time the meter sent nothing: uptimes (ms) of the last telegram before and the first after (null: still silent). */
export interface Silence {
  from: number;
  to: number | null;
}

/** No telegram for this long and the line counts as silent. */
const SILENCE_MS = 60000;
const SILENCES_KEPT = 32;
/** How lastError begins when the serial port would not open. */
const PORT_ERROR = 'cannot open the';
/** The M-Bus single-character acknowledgement, written as it is (one buffer for the reader's life). */
const ACK = Uint8Array.of(MBUS_ACK);

export class MeterReader {
  readonly stats: LineStats = {
    bytes: 0,
    lineErrors: 0,
    telegrams: 0,
    readings: 0,
    rejected: {},
    lastByteAt: -1,
    lastTelegramAt: -1,
    lastReadingAt: -1,
    lastError: null,
    acknowledged: 0,
  };
  /** The meter's silences, newest last (at most 32). */
  readonly silences: Silence[] = [];
  private decoder: MeterDecoder | null = null;
  private watchdog: Timer | null = null;
  private readonly listeners: ReadingListener[] = [];
  private readonly rejections: RejectionListener[] = [];
  private readonly security: ((message: string) => void)[] = [];
  private readonly serial: SerialPort;
  private readonly clock: ClockPort;
  private readonly crypto: CryptoPort;
  private readonly guard: ReplayGuard | null;

  constructor(serial: SerialPort, clock: ClockPort, crypto: CryptoPort, guard: ReplayGuard | null = null) {
    this.serial = serial;
    this.clock = clock;
    this.crypto = crypto;
    this.guard = guard;
  }

  onReading(listener: ReadingListener): void {
    this.listeners.push(listener);
  }

  /** Telegrams refused, with why, and their bytes when they were framed (the portal shows the last one raw). */
  onRejected(listener: RejectionListener): void {
    this.rejections.push(listener);
  }

  /** Security events: a replayed telegram. */
  onSecurityEvent(listener: (message: string) => void): void {
    this.security.push(listener);
  }

  /** Opens the line and starts decoding; a running reader is restarted with the new settings. */
  start(settings: MeterSettings, zone: string, key: Uint8Array | null, authKey: Uint8Array | null): void {
    this.stop();
    const stats = this.stats;
    const heard = () => {
      const now = this.clock.uptime();
      const open = this.silences[this.silences.length - 1];
      if (open && open.to === null) open.to = now;
      stats.lastTelegramAt = now;
    };
    const rejected = (error: DecodeError, telegram: Uint8Array | null) => {
      stats.telegrams++;
      heard();
      stats.rejected[error.reason] = (stats.rejected[error.reason] ?? 0) + 1;
      stats.lastError = error.message;
      for (const l of this.rejections) l(error, telegram);
    };
    this.decoder = new MeterDecoder(
      { protocol: settings.protocol, key, authKey, crypto: this.crypto, zone, transport: settings.transport },
      {
        reading: (reading, telegram) => {
          if (this.guard && reading.frameCounter !== undefined && reading.systemTitle !== undefined) {
            const replayed = this.guard.check(reading.systemTitle, reading.frameCounter);
            if (replayed) {
              rejected(new DecodeError('replay', replayed), telegram);
              for (const l of this.security) l(replayed);
              return;
            }
          }
          stats.telegrams++;
          stats.readings++;
          heard();
          stats.lastReadingAt = stats.lastTelegramAt;
          for (const l of this.listeners) l(reading, telegram);
        },
        rejected,
        // Only the M-Bus framers ask for this, and only for frames that passed their checks.
        confirm: () => {
          stats.acknowledged++;
          this.serial.write(ACK);
        },
      },
    );
    const decoder = this.decoder;
    // A port that will not open (its UART taken, on lin a pty not there yet) is
    // said in lastError and tried again at each watchdog tick: the gateway runs on.
    const openPort = (): boolean => {
      try {
        this.serial.open(settings.connector, settings.line, (chunk, lineError) => {
          stats.bytes += chunk.length;
          if (lineError) stats.lineErrors++;
          stats.lastByteAt = this.clock.uptime();
          decoder.push(chunk, lineError);
        });
        if (stats.lastError !== null && stats.lastError.indexOf(PORT_ERROR) === 0) stats.lastError = null;
        return true;
      } catch (e) {
        stats.lastError = `${PORT_ERROR} ${settings.connector} port: ${e instanceof Error ? e.message : String(e)}`;
        return false;
      }
    };
    let opened = openPort();
    const started = this.clock.uptime();
    this.watchdog = this.clock.every(SILENCE_MS / 6, () => {
      if (!opened) opened = openPort();
      const now = this.clock.uptime();
      const last = stats.lastTelegramAt >= started ? stats.lastTelegramAt : started;
      const open = this.silences[this.silences.length - 1];
      if (now - last >= SILENCE_MS && !(open && open.to === null)) {
        this.silences.push({ from: last, to: null });
        if (this.silences.length > SILENCES_KEPT) this.silences.shift();
      }
    });
  }

  stop(): void {
    if (!this.decoder) return;
    if (this.watchdog) this.clock.cancel(this.watchdog);
    this.watchdog = null;
    this.serial.close();
    this.decoder.close();
    this.decoder = null;
  }
}
