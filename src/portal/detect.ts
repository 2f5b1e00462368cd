// Meter auto-detection for the setup wizard: listens on the connectors with
// the usual protocol and line settings in turn, and keeps the first that
// yields a whole telegram. A telegram that frames but cannot be decrypted
// still identifies the line (DLMS without its key): the page then asks for
// the key. While it runs, the gateway's own reader is stopped.
//
// It goes by what the line shows, not only by the list: a connector that has
// stayed silent longer than any meter's push interval has nothing wired (its
// other settings are skipped); one whose bytes arrive mostly flagged by the
// UART has a meter at another baud rate, polarity or format (the setting is
// dropped at once, and that connector's other settings come first); bytes that
// arrive clean but frame nothing say the baud rate is right (settings with that
// baud rate come first).

import type { MeterSettings } from '../meter/settings';
import type { Ports } from '../ports/index';
import type { Timer } from '../ports/clock';
import type { Connector, LineSettings, Parity, SerialPort } from '../ports/serial';
import { describeLine } from '../ports/serial';
import type { Protocol } from '../meter/reading';
import { MeterReader } from '../meter/reader';

const line = (baud: number, dataBits: 7 | 8, parity: Parity, inverted = false): LineSettings => ({ baud, dataBits, parity, stopBits: 1, inverted });

interface Candidate {
  meter: MeterSettings;
  /** How long to listen: a little more than the slowest usual cadence of such meters. */
  dwell: number;
}

const candidate = (protocol: Protocol, connector: 'optical' | 'mbus', l: LineSettings, dwell: number): Candidate => ({ meter: { protocol, connector, line: l, transport: 'auto' }, dwell });

/**
 * Where the walk starts: each connector's likeliest first (SML on the IR head,
 * the German case; DLMS on M-Bus, the Austrian), then each protocol's usual
 * interface, then the variants met in the field.
 */
const CANDIDATES: Candidate[] = [
  candidate('sml', 'optical', line(9600, 8, 'none'), 4000),
  candidate('dlms', 'mbus', line(2400, 8, 'even'), 12000),
  candidate('d0', 'optical', line(9600, 7, 'even'), 4000),
  candidate('dsmr', 'optical', line(115200, 8, 'none', true), 11000),
  candidate('dsmr', 'optical', line(9600, 7, 'even', true), 11000),
  candidate('dlms', 'optical', line(9600, 8, 'none'), 12000),
  candidate('dlms', 'mbus', line(9600, 8, 'even'), 12000),
  candidate('dlms', 'mbus', line(2400, 8, 'none'), 12000),
  candidate('d0', 'optical', line(300, 7, 'even'), 4000),
];

/** No byte for this long (over every setting tried on it) and a connector has nothing wired: longer than the slowest push (DSMR 4, some DLMS meters: 10 s). */
const SILENT_MS = 12000;
/** Chunks before the share of flagged ones says anything, and the share that means another line format. */
const FLAGGED_CHUNKS = 4;
const FLAGGED_SHARE = 0.75;

/** What one connector has shown so far. */
interface Heard {
  listened: number;
  bytes: number;
  /** Baud rate and polarity of settings whose bytes came unflagged (the rate is right, the protocol or format not). */
  clean: string[];
}

const rate = (l: LineSettings) => l.baud + (l.inverted ? 'i' : '');

const PROTOCOL_NAMES: { [p in Protocol]: string } = {
  sml: 'SML (IR)',
  d0: 'IEC 62056-21 (IR)',
  dsmr: 'DSMR P1',
  dlms: 'DLMS/COSEM',
};

export function describeMeter(m: MeterSettings): string {
  return `${PROTOCOL_NAMES[m.protocol]} on the ${m.connector === 'mbus' ? 'M-Bus' : 'IR/P1'} connector, ${describeLine(m.line)}`;
}

/** Whether two meter settings read the same line the same way (the transport is found in the frames). */
export function sameLine(a: MeterSettings, b: MeterSettings): boolean {
  const x = a.line;
  const y = b.line;
  return a.protocol === b.protocol && a.connector === b.connector && x.baud === y.baud && x.dataBits === y.dataBits && x.parity === y.parity && x.stopBits === y.stopBits && x.inverted === y.inverted;
}

export type DetectState =
  | { state: 'idle' }
  | { state: 'running'; step: number; of: number; trying: string }
  | { state: 'found'; meter: MeterSettings; description: string; telegrams: number; readings: number; encrypted: boolean; meterId: string | null; message: string }
  | { state: 'none'; message: string };

export class Detector {
  state: DetectState = { state: 'idle' };
  private readonly ports: Ports;
  private readonly zone: string;
  private timer: Timer | null = null;
  private reader: MeterReader | null = null;

  constructor(ports: Ports, zone: string) {
    this.ports = ports;
    this.zone = zone;
  }

  get running(): boolean {
    return this.state.state === 'running';
  }

  /** Tries the candidates until one works, likeliest first by what the line shows; `done` gives the line back to the gateway. */
  start(key: Uint8Array | null, done: () => void): void {
    const { clock } = this.ports;
    const heard: { [c in Connector]: Heard } = { optical: { listened: 0, bytes: 0, clean: [] }, mbus: { listened: 0, bytes: 0, clean: [] } };
    const tried: boolean[] = CANDIDATES.map(() => false);
    let index = -1;
    let step = 0;
    let started = 0;
    let meterId: string | null = null;
    // This setting's chunks, counted on their way from the UART to its reader.
    let chunks = 0;
    let flagged = 0;
    const serial = this.ports.serial;
    const counting: SerialPort = {
      open: (connector, settings, onBytes) =>
        serial.open(connector, settings, (chunk, lineError) => {
          chunks++;
          if (lineError) flagged++;
          heard[connector].bytes += chunk.length;
          onBytes(chunk, lineError);
        }),
      write: (bytes) => serial.write(bytes),
      close: () => serial.close(),
    };
    const silent = (c: Connector) => heard[c].bytes === 0 && heard[c].listened >= SILENT_MS;
    /** 0: a connector and baud rate that delivered clean bytes; 1: a connector with bytes; 2: one not heard yet. */
    const rank = (c: Candidate) => {
      const h = heard[c.meter.connector];
      return h.bytes === 0 ? 2 : h.clean.indexOf(rate(c.meter.line)) >= 0 ? 0 : 1;
    };
    /** Ends the current setting's turn: what it showed goes into its connector's evidence. */
    const close = () => {
      if (index < 0) return;
      const c = CANDIDATES[index];
      const h = heard[c.meter.connector];
      h.listened += clock.uptime() - started;
      if (chunks > 0 && flagged === 0 && h.clean.indexOf(rate(c.meter.line)) < 0) h.clean.push(rate(c.meter.line));
    };
    const next = () => {
      close();
      this.reader?.stop();
      index = -1;
      for (let i = 0; i < CANDIDATES.length; i++) {
        if (tried[i] || silent(CANDIDATES[i].meter.connector)) continue;
        if (index < 0 || rank(CANDIDATES[i]) < rank(CANDIDATES[index])) index = i;
      }
      if (index < 0) return finish({ state: 'none', message: 'no meter recognised on either connector: check the read head sits on the IR window (or the M-Bus wires), that the meter\'s customer interface is enabled, then try again or enter the settings by hand' });
      tried[index] = true;
      step++;
      const c = CANDIDATES[index];
      const left = CANDIDATES.filter((x, i) => !tried[i] && !silent(x.meter.connector)).length;
      this.state = { state: 'running', step, of: step + left, trying: describeMeter(c.meter) };
      meterId = null;
      chunks = 0;
      flagged = 0;
      this.reader = new MeterReader(counting, clock, this.ports.crypto, null);
      this.reader.onReading((r) => {
        if (r.meterId) meterId = r.meterId;
      });
      started = clock.uptime();
      this.reader.start(c.meter, this.zone, c.meter.protocol === 'dlms' || c.meter.protocol === 'dsmr' ? key : null, null);
    };
    const finish = (state: DetectState) => {
      if (this.timer) clock.cancel(this.timer);
      this.timer = null;
      this.reader?.stop();
      this.reader = null;
      this.state = state;
      done();
    };
    const check = () => {
      const c = CANDIDATES[index];
      const s = this.reader!.stats;
      const r = s.rejected;
      const locked = (r['key-missing'] ?? 0) + (r['wrong-key'] ?? 0) + (r.auth ?? 0);
      if (s.readings > 0 || locked > 0) {
        const encrypted = locked > 0 && s.readings === 0;
        const description = describeMeter(c.meter);
        const message = encrypted
          ? `found ${description}: encrypted telegrams, enter the key from your grid operator`
          : `found ${description}: ${s.readings} telegram(s) decoded` + (meterId ? `, meter ${meterId}` : '');
        return finish({ state: 'found', meter: c.meter, description, telegrams: s.telegrams, readings: s.readings, encrypted, meterId, message });
      }
      const h = heard[c.meter.connector];
      const elapsed = clock.uptime() - started;
      // Nothing at all on this connector, over this setting and those before it: nothing is wired to it.
      if (h.bytes === 0 && h.listened + elapsed >= SILENT_MS) return next();
      // Mostly flagged: a meter is there, at another baud rate, polarity or format.
      if (chunks >= FLAGGED_CHUNKS && flagged >= FLAGGED_SHARE * chunks) return next();
      if (elapsed >= c.dwell) next();
    };
    this.stop();
    next();
    if (this.running) this.timer = clock.every(250, check);
  }

  /** The settings auto-detect found telegrams with, when its last run found some. */
  get found(): MeterSettings | null {
    return this.state.state === 'found' ? this.state.meter : null;
  }

  stop(): void {
    if (this.timer) this.ports.clock.cancel(this.timer);
    this.timer = null;
    this.reader?.stop();
    this.reader = null;
  }
}
