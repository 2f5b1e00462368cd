// How the meter is read: its protocol, where it is wired and the line's
// format. The reader takes these; the device's settings (config/settings.ts)
// keep them with the rest, so they live here, below both.

import type { Protocol } from './reading';
import type { DlmsTransport } from './dlms/framer';
import type { Connector, LineSettings } from '../ports/serial';

export interface MeterSettings {
  protocol: Protocol;
  connector: Connector;
  line: LineSettings;
  /** DLMS only. */
  transport: DlmsTransport;
}

const line = (baud: number, dataBits: 7 | 8, parity: 'none' | 'even' | 'odd', inverted = false): LineSettings => ({ baud, dataBits, parity, stopBits: 1, inverted });

/** The usual interface of each protocol: where it is wired and its line format. */
export const PROTOCOL_DEFAULTS: Record<Protocol, MeterSettings> = {
  sml: { protocol: 'sml', connector: 'optical', line: line(9600, 8, 'none'), transport: 'auto' },
  d0: { protocol: 'd0', connector: 'optical', line: line(9600, 7, 'even'), transport: 'auto' },
  dsmr: { protocol: 'dsmr', connector: 'optical', line: line(115200, 8, 'none', true), transport: 'auto' },
  dlms: { protocol: 'dlms', connector: 'mbus', line: line(2400, 8, 'even'), transport: 'auto' },
};
