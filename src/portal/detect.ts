// Meter auto-detection for the setup wizard: listens on each connector with
// the usual protocol and line settings in turn, and keeps the first that
// yields whole telegrams. A telegram that frames but cannot be decrypted
// still identifies the line (DLMS without its key): the page then asks for
// the key. While it runs, the gateway's own reader is stopped.

import type { MeterSettings } from '../config/settings';
import type { Ports } from '../ports/index';
import type { Timer } from '../ports/clock';
import type { LineSettings, Parity } from '../ports/serial';
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

/** Each protocol's usual interface first, then the variants met in the field. */
export const CANDIDATES: Candidate[] = [
  candidate('sml', 'optical', line(9600, 8, 'none'), 4000),
  candidate('d0', 'optical', line(9600, 7, 'even'), 4000),
  candidate('dsmr', 'optical', line(115200, 8, 'none', true), 11000),
  candidate('dlms', 'mbus', line(2400, 8, 'even'), 12000),
  candidate('dsmr', 'optical', line(9600, 7, 'even', true), 11000),
  candidate('dlms', 'optical', line(9600, 8, 'none'), 12000),
  candidate('dlms', 'mbus', line(9600, 8, 'even'), 12000),
  candidate('dlms', 'mbus', line(2400, 8, 'none'), 12000),
  candidate('d0', 'optical', line(300, 7, 'even'), 4000),
];

export const PROTOCOL_NAMES: { [p in Protocol]: string } = {
  sml: 'SML (IR)',
  d0: 'IEC 62056-21 (IR)',
  dsmr: 'DSMR P1',
  dlms: 'DLMS/COSEM',
};

export function describeMeter(m: MeterSettings): string {
  return `${PROTOCOL_NAMES[m.protocol]} on the ${m.connector === 'mbus' ? 'M-Bus' : 'IR/P1'} connector, ${describeLine(m.line)}`;
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

  /** Tries every candidate until one works; `done` gives the line back to the gateway. */
  start(key: Uint8Array | null, done: () => void): void {
    const { clock } = this.ports;
    let index = -1;
    let started = 0;
    let meterId: string | null = null;
    const next = () => {
      this.reader?.stop();
      index++;
      if (index >= CANDIDATES.length) return finish({ state: 'none', message: 'no meter recognised on either connector: check the read head sits on the IR window (or the M-Bus wires), that the meter\'s customer interface is enabled, then try again or enter the settings by hand' });
      const c = CANDIDATES[index];
      this.state = { state: 'running', step: index + 1, of: CANDIDATES.length, trying: describeMeter(c.meter) };
      meterId = null;
      this.reader = new MeterReader(this.ports.serial, clock, this.ports.crypto, null);
      this.reader.onReading((r) => {
        if (r.meterId) meterId = r.meterId;
      });
      this.reader.start(c.meter, this.zone, c.meter.protocol === 'dlms' || c.meter.protocol === 'dsmr' ? key : null, null);
      started = clock.uptime();
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
      if (clock.uptime() - started >= c.dwell) next();
    };
    this.stop();
    next();
    this.timer = clock.every(250, check);
  }

  stop(): void {
    if (this.timer) this.ports.clock.cancel(this.timer);
    this.timer = null;
    this.reader?.stop();
    this.reader = null;
  }
}
