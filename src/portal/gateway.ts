// What the portal shows of the gateway and what it asks it to do, and no
// more: the portal takes this, src/app.ts's Gateway implements it. The
// portal's pages need the device's ports (the key-value store, the clock, the
// access point's network ...), the settings it changes, the reader it borrows
// for auto-detect, the log and the event log it shows, and the actions of its
// buttons.

import type { Ports } from '../ports/index';
import type { Settings } from '../config/settings';
import type { MeterSettings } from '../meter/settings';
import type { MeterReader } from '../meter/reader';
import type { ReadingLog } from '../store/reading-log';
import type { EventLog } from '../events';
import type { EventKind } from '../formats/entries';
import type { DemandCallback } from '../taf/recorder';
import type { Updater } from '../ota/updater';

export interface PortalGateway {
  readonly ports: Ports;
  /** The version the device runs. */
  readonly firmware: string;
  /** What the portal's setup steps store; they apply at the next start. */
  settings: Settings;
  /** The meter line as the reader reads it now, and whether it has framed telegrams since it started. */
  readonly readerMeter: MeterSettings | null;
  readonly readerHeardTelegrams: boolean;
  /** The reader: its counters for the diagnosis, its telegrams for the status page; auto-detect stops it and starts it again. */
  readonly reader: Pick<MeterReader, 'stats' | 'onReading' | 'onRejected' | 'stop'>;
  startReader(): void;
  /** The reading log, once the gateway has started. */
  readonly log: Pick<ReadingLog, 'cursor' | 'next' | 'read'> | null;
  readonly events: Pick<EventLog, 'read' | 'verify'>;
  /** Firmware updates, once the gateway has started. */
  readonly updater: Updater | null;
  /** TAF 14 values for the Live view: how many the ring keeps, and the newest of them. */
  readonly live: { readonly capacity: number };
  liveValues(max?: number): { time: string | null; values: object }[];
  /** What the status page shows. */
  status(): object;
  /** Notes an event in the event log. */
  event(kind: EventKind, message: string): void;
  /** The portal's "read now" (TAF 6): a reading of the meter on demand. */
  readNow(callback: DemandCallback): void;
  /** The portal's "upload now"; false when the device is not enrolled. */
  uploadNow(): boolean;
  /** Before a restart the portal asks for: the next boot's event says why. */
  prepareRestart(reason: string): void;
  stop(): void;
}
