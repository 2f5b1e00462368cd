// The firmware's composition: settings, the meter reader, the clock, the
// reading log and the tariff use cases that fill it. The same code runs on
// the ESP32 (hosts/esp32/main.ts), in the desktop simulator on Node and
// inside the XS engine (hosts/sim); only the ports differ.

import { loadKeys, loadSettings, loadWifiPassword, type Settings } from './config/settings';
import { MeterReader } from './meter/reader';
import { ReplayGuard } from './meter/replay';
import { readingJson } from './meter/format';
import type { Reading } from './meter/reading';
import type { Ports } from './ports/index';
import { ReadingLog } from './store/reading-log';
import { TafRecorder, type DemandCallback } from './taf/recorder';
import { LiveRing } from './taf/live';
import { Timekeeper } from './time/timekeeper';
import { isoUtc } from './time/zone';
import { EventLog, type EventKind } from './events';
import { Uplink } from './uplink/uplink';
import { loadUplinkSecrets } from './uplink/enrolment';
import { Portal } from './portal/portal';

export const FIRMWARE_VERSION = '0.2.0';

/** How often the DLMS frame counters are saved (replay protection across restarts). */
const SAVE_COUNTERS_MS = 15 * 60000;

/** Protocols whose meters keep a clock the grid operator sets: trusted until SNTP answers. */
const METER_CLOCKS: { [protocol: string]: true } = { dlms: true, dsmr: true };

export class Gateway {
  readonly ports: Ports;
  readonly reader: MeterReader;
  readonly time: Timekeeper;
  readonly live: LiveRing;
  readonly events = new EventLog();
  readonly firmware = FIRMWARE_VERSION;
  /** The HTTP server on port 80: pages, API, captive-portal probes, the setup access point. */
  readonly portal: Portal;
  settings: Settings;
  /** The newest reading, for the status page. */
  latest: Reading | null = null;
  /** Open after start(). */
  log: ReadingLog | null = null;
  recorder: TafRecorder | null = null;
  /** Delivery to the backend, when the device is enrolled. */
  uplink: Uplink | null = null;
  private readonly guard: ReplayGuard;

  constructor(ports: Ports) {
    this.ports = ports;
    this.settings = loadSettings(ports.kv);
    this.guard = new ReplayGuard(ports.kv);
    this.reader = new MeterReader(ports.serial, ports.clock, ports.crypto, this.guard);
    this.time = new Timekeeper(ports.clock, ports.network, this.settings.sntp, (line) => this.event('time', line));
    this.live = new LiveRing(this.settings.taf.live);
    this.reader.onSecurityEvent((message) => this.event('security', 'security: ' + message));
    this.portal = new Portal(this);
  }

  start(): void {
    const { clock, kv } = this.ports;
    this.log = new ReadingLog(this.ports.flash, (line) => this.event('store', line));
    const recorder = new TafRecorder(this.log, this.time, clock, this.settings.taf, this.settings.zone, (line) => this.ports.log(line));
    this.recorder = recorder;
    const meterClock = METER_CLOCKS[this.settings.meter.protocol] === true;
    // A meter stamps a telegram as it starts sending it; it has arrived whole this much later.
    const line = this.settings.meter.line;
    const msPerByte = ((1 + line.dataBits + (line.parity === 'none' ? 0 : 1) + line.stopBits) * 1000) / line.baud;
    this.reader.onReading((r, telegram) => {
      const uptime = clock.uptime();
      this.latest = r;
      if (meterClock && r.time !== null) this.time.meterClock(r.time + telegram.length * msPerByte, uptime);
      recorder.offer(r, uptime);
      this.live.offer(r, uptime);
    });
    this.startReader();
    this.time.start();
    const u = this.settings.uplink;
    if (u.url && u.deviceId) {
      this.uplink = new Uplink(this.ports, this.log, this.time, u, loadUplinkSecrets(kv), this.settings.zone, (line) => this.ports.log(line));
      this.uplink.start();
    }
    clock.every(SAVE_COUNTERS_MS, () => this.guard.save());
    if (this.settings.wifi.ssid) this.ports.network.connect(this.settings.wifi.ssid, loadWifiPassword(kv) ?? '');
    this.portal.start();
    this.ports.log(`smgw-lite ${FIRMWARE_VERSION}: reading ${this.settings.meter.protocol} on the ${this.settings.meter.connector} port`);
  }

  stop(): void {
    this.reader.stop();
    this.time.stop();
    this.recorder?.stop();
    this.uplink?.stop();
    this.guard.save();
    this.portal.stop();
  }

  /** Opens the meter line with the stored settings and keys (at start, and after the portal's auto-detect borrowed it). */
  startReader(): void {
    const keys = loadKeys(this.ports.kv);
    this.reader.start(this.settings.meter, this.settings.zone, keys.key, keys.authKey);
    keys.key?.fill(0);
    keys.authKey?.fill(0);
  }

  /** TAF 6: a reading now, from the next telegram, into the log. */
  readNow(callback: DemandCallback): void {
    if (!this.recorder) callback(new Error('the gateway is not running'), null);
    else this.recorder.readNow(callback);
  }

  /** Sends everything the log holds to the backend now (the portal's "upload now"). */
  uploadNow(): boolean {
    if (!this.uplink) return false;
    this.uplink.uploadNow();
    return true;
  }

  /** For the console: every reading, as `smgw decode` prints it. */
  logReadings(): void {
    this.reader.onReading((r) => this.ports.log(readingJson(r)));
  }

  /** Records an event (the event log, and the console). Never give it a secret. */
  event(kind: EventKind, message: string): void {
    const uptime = this.ports.clock.uptime();
    this.events.add({ uptime, time: this.time.synced ? this.time.wall(uptime) : null, kind, message });
    this.ports.log(message);
  }

  /** What the device reports about itself: the line, the time, the log, the last reading. No secret is in here. */
  status(): object {
    const s = this.reader.stats;
    return {
      firmware: FIRMWARE_VERSION,
      uptime: this.ports.clock.uptime(),
      time: { source: this.time.source, now: this.time.synced ? isoUtc(Math.floor(this.time.now() / 1000) * 1000) : null },
      meter: { protocol: this.settings.meter.protocol, connector: this.settings.meter.connector },
      line: { ...s, rejected: { ...s.rejected } },
      silences: this.reader.silences.slice(),
      log: this.log?.stats() ?? null,
      taf: this.recorder ? { settings: this.recorder.settings, ...this.recorder.stats } : null,
      uplink: this.uplink?.describe() ?? null,
      events: this.events.list(),
      latest: this.latest ? JSON.parse(readingJson(this.latest)) : null,
    };
  }

  /** TAF 14: the newest live values, oldest first, with their wall time when it is known. */
  liveValues(max?: number): { time: string | null; values: object }[] {
    return this.live.recent(max).map((v) => ({ time: this.time.synced ? isoUtc(Math.round(this.time.wall(v.at))) : null, values: v.values }));
  }
}
