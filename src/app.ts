// The firmware's composition: settings, the meter reader, the clock, the
// reading log and the tariff use cases that fill it. The same code runs on
// the ESP32 (hosts/esp32/main.ts), in the desktop simulator on Node and
// inside the XS engine (hosts/sim); only the ports differ.

import { loadKeys, loadSettings, loadWifiPassword, type Settings } from './config/settings';
import type { MeterSettings } from './meter/settings';
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
import { EventLog } from './events';
import type { EventKind } from './formats/entries';
import { RejectionDigest } from './rejections';
import { Uplink } from './uplink/uplink';
import { loadUplinkSecrets } from './uplink/enrolment';
import { BackendClient } from './uplink/client';
import { LivePush } from './uplink/live-push';
import { Portal } from './portal/portal';
import type { PortalGateway } from './portal/gateway';
import { Updater } from './ota/updater';
import { RELEASE_KEYS, type ReleaseKey } from './ota/release-keys';
import { MqttPublisher } from './mqtt/publisher';
import { loadMqtt, loadMqttTls, MQTT_PASSWORD_KEY } from './mqtt/settings';

import { FIRMWARE_VERSION } from './version';

export { FIRMWARE_VERSION };

/**
 * What the build puts into the firmware: its version and the release keys it
 * takes updates from. The device has them compiled in; the simulator boots
 * the version its slot holds (simulator/world/ota-flash.ts) and tests their own keys.
 */
export interface Build {
  firmware: string;
  releaseKeys: readonly ReleaseKey[];
}

/** How often the DLMS frame counters are saved (replay protection across restarts). */
const SAVE_COUNTERS_MS = 15 * 60000;

/** How often decode errors and rejected frames are summed up into one event of each kind. */
const REJECTION_PERIOD_MS = 3600000;

/** Key-value flags: why the next boot happens (set before a requested restart), and the firmware that ran last. */
const RESTART_KEY = 'restartReason';
const FIRMWARE_KEY = 'firmware';

/** Protocols whose meters keep a clock the grid operator sets: trusted until SNTP answers. */
const METER_CLOCKS: { [protocol: string]: true } = { dlms: true, dsmr: true };

export class Gateway implements PortalGateway {
  readonly ports: Ports;
  readonly reader: MeterReader;
  readonly time: Timekeeper;
  readonly live: LiveRing;
  readonly events: EventLog;
  readonly firmware: string;
  private readonly releaseKeys: readonly ReleaseKey[];
  /** Firmware updates, from the backend and from the portal; after start(). */
  updater: Updater | null = null;
  /** The HTTP server on port 80: pages, API, captive-portal probes, the setup access point. */
  readonly portal: Portal;
  settings: Settings;
  /** The meter settings the reader reads the line with (settings changed since apply at the next start). */
  readerMeter: MeterSettings | null = null;
  /** The reader's telegram count when it last started (its counts run on over restarts of the line). */
  private readerTelegramsBefore = 0;
  /** The newest reading, for the status page. */
  latest: Reading | null = null;
  /** Open after start(). */
  log: ReadingLog | null = null;
  recorder: TafRecorder | null = null;
  /** Delivery to the backend, when the device is enrolled. */
  uplink: Uplink | null = null;
  /** TAF 14 values to the backend's Live view, when the device is enrolled and `uplink.live` is not 0. */
  livePush: LivePush | null = null;
  /** Readings, live values and Home Assistant discovery to an MQTT broker, when the portal's MQTT step set one. */
  mqtt: MqttPublisher | null = null;
  private readonly guard: ReplayGuard;
  private readonly rejections = new RejectionDigest();
  /** Replays recorded one by one in this period (the first is; the rest are summed up). */
  private replaysNoted = 0;

  constructor(ports: Ports, build: Build = { firmware: FIRMWARE_VERSION, releaseKeys: RELEASE_KEYS }) {
    this.ports = ports;
    this.firmware = build.firmware;
    this.releaseKeys = build.releaseKeys;
    this.events = new EventLog((data) => ports.crypto.sha256(data), ports.kv);
    this.settings = loadSettings(ports.kv);
    this.guard = new ReplayGuard(ports.kv);
    this.reader = new MeterReader(ports.serial, ports.clock, ports.crypto, this.guard);
    this.time = new Timekeeper(ports.clock, ports.network, this.settings.sntp, (line) => this.event('time', line));
    this.live = new LiveRing(this.settings.taf.live);
    this.reader.onSecurityEvent((message) => {
      if (this.replaysNoted++ === 0) this.event('security', 'security: ' + message);
    });
    this.portal = new Portal(this);
  }

  start(): void {
    const { clock, kv } = this.ports;
    this.recordBoot();
    // The boot recovery's summary is for the console; what the log says later (evictions, bad sectors) is an event.
    let opening = true;
    this.log = new ReadingLog(this.ports.flash, (line) => (opening ? this.ports.log(line) : this.event('store', line)));
    opening = false;
    this.events.attach(this.log);
    // Only once the firmware event is in flash: a power cut before it must not lose the change.
    if (kv.get(FIRMWARE_KEY) !== this.firmware) kv.set(FIRMWARE_KEY, this.firmware);
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
      this.mqtt?.onReading();
    });
    this.startReader();
    this.time.start();
    const u = this.settings.uplink;
    const log = this.log;
    const report = () => ({ firmware: this.firmware, backlog: log.next - 1 - log.cursor });
    const client = u.url && u.deviceId ? new BackendClient(this.ports.http, u, loadUplinkSecrets(kv)) : null;
    this.startUpdater(client, report);
    if (client) {
      this.uplink = new Uplink(this.ports, client, log, this.time, u, this.settings.zone, this.firmware, (line) => this.ports.log(line), (line) => this.event('upload', line), (answer) => this.updater?.offered(answer.update));
      this.uplink.start();
      this.livePush = new LivePush(this.ports, client, this.live, this.time, u, {
        meterId: () => this.latest?.meterId ?? null,
        report,
      }, (line) => this.ports.log(line));
      this.livePush.start();
    }
    this.startMqtt();
    clock.every(SAVE_COUNTERS_MS, () => this.guard.save());
    clock.every(REJECTION_PERIOD_MS, () => this.sumUpRejections());
    if (this.settings.wifi.ssid) this.ports.network.connect(this.settings.wifi.ssid, loadWifiPassword(kv) ?? '');
    this.portal.start();
    const m = this.settings.meter;
    const where = `${m.protocol} on the ${m.connector} port`;
    // Before setup the meter settings are the defaults nobody chose: say so rather than claim a meter.
    this.ports.log(`smgw-lite ${this.firmware}: ` + (this.portal.configured ? `reading ${where}` : `the meter is not set up yet: the portal's setup wizard asks for it (until then the line is read as ${where})`));
  }

  /** Firmware updates: a new image's self-test at its first boot, a download to go on with, offers from the backend. */
  private startUpdater(client: BackendClient | null, report: () => { firmware: string; backlog: number }): void {
    const ports = this.ports;
    const readingsBefore = this.reader.stats.readings;
    this.updater = new Updater({
      ota: ports.ota,
      crypto: ports.crypto,
      kv: ports.kv,
      clock: ports.clock,
      system: ports.system,
      keys: this.releaseKeys,
      firmware: this.firmware,
      client,
      clientFree: () => client !== null && !client.busy && !(this.uplink?.delivering ?? false),
      report,
      record: (line) => this.event('update', line),
      prepareRestart: (reason) => this.prepareRestart(reason),
      meterDecoded: () => this.reader.stats.readings > readingsBefore,
      logProblem: () => {
        const chain = this.events.verify();
        if (!chain.ok) return chain.break?.detail ?? 'the chain is broken';
        return this.events.read({ limit: 1 }).events.length ? null : 'no event could be read back';
      },
    });
    this.updater.start();
  }

  stop(): void {
    this.updater?.stop();
    this.reader.stop();
    this.time.stop();
    this.recorder?.stop();
    this.uplink?.stop();
    this.livePush?.stop();
    this.mqtt?.stop();
    this.guard.save();
    this.portal.stop();
  }

  private startMqtt(): void {
    const kv = this.ports.kv;
    const m = loadMqtt(kv);
    if (!m || !this.log) return;
    const u = this.settings.uplink;
    const clientId = m.clientId || u.deviceId || 'smgw-lite';
    const secrets = { tls: m.tls ? loadMqttTls(kv) : null, password: kv.get(MQTT_PASSWORD_KEY) ?? null };
    this.mqtt = new MqttPublisher(this.ports, this.log, this.time, this.live, m, secrets, this.settings.zone, {
      clientId,
      adapterId: u.deviceId || clientId,
      protocol: this.settings.meter.protocol,
      meterId: () => this.latest?.meterId ?? null,
    }, (line) => this.ports.log(line));
    this.mqtt.start();
  }

  /** Opens the meter line with the stored settings and keys (at start, and after the portal's auto-detect borrowed it). */
  startReader(): void {
    this.readerMeter = this.settings.meter;
    this.readerTelegramsBefore = this.reader.stats.telegrams;
    const keys = loadKeys(this.ports.kv);
    this.reader.start(this.settings.meter, this.settings.zone, keys.key, keys.authKey);
    keys.key?.fill(0);
    keys.authKey?.fill(0);
  }

  /** Whether the reader has framed a telegram (decoded or refused) since it last started. */
  get readerHeardTelegrams(): boolean {
    return this.reader.stats.telegrams > this.readerTelegramsBefore;
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

  /**
   * Records an event in the tamper-evident event log (and on the console). The
   * portal records configuration changes here. Never put a secret in `message`:
   * it is stored, shown and uploaded.
   */
  event(kind: EventKind, message: string): void {
    const uptime = this.ports.clock.uptime();
    this.events.add({ uptime, time: this.time.synced ? this.time.wall(uptime) : null, kind, message });
    this.ports.log(message);
  }

  /** Before a restart the firmware asks for (the portal's button, after a configuration change): the next boot says why. */
  prepareRestart(reason: string): void {
    this.ports.kv.set(RESTART_KEY, reason || 'requested');
  }

  /** The boot's event (and its cause), and a firmware change since the last boot. */
  private recordBoot(): void {
    const kv = this.ports.kv;
    // (A host may answer null rather than undefined for a missing key: test for a value.)
    const requested = kv.get(RESTART_KEY);
    if (requested) kv.delete(RESTART_KEY);
    // The ports report no reset reason: a boot nobody asked for is a power-on, a power cut, a crash or the reset button.
    this.event('boot', requested ? `boot: restart requested (${requested})` : 'boot: power-on or reset (no restart was requested)');
    const before = kv.get(FIRMWARE_KEY);
    if (before !== this.firmware) {
      this.event('firmware', !before ? `firmware ${this.firmware} (first boot with an event log)` : `firmware changed from ${before} to ${this.firmware}`);
    }
  }

  /** One event per kind for the period's decode errors and rejected frames (when there were any). */
  private sumUpRejections(): void {
    const s = this.reader.stats;
    const summary = this.rejections.take(s.rejected, s.lineErrors, 'hour');
    if (summary.decode) this.event('decode', summary.decode);
    if (summary.security) this.event('security', summary.security);
    this.replaysNoted = 0;
  }

  /** What the device reports about itself: the line, the time, the log, the last reading. No secret is in here. */
  status(): object {
    const s = this.reader.stats;
    return {
      firmware: this.firmware,
      update: this.updater?.status() ?? null,
      uptime: this.ports.clock.uptime(),
      time: { source: this.time.source, now: this.time.synced ? isoUtc(Math.floor(this.time.now() / 1000) * 1000) : null },
      meter: { protocol: this.settings.meter.protocol, connector: this.settings.meter.connector },
      line: { ...s, rejected: { ...s.rejected } },
      silences: this.reader.silences.slice(),
      log: this.log?.stats() ?? null,
      taf: this.recorder ? { settings: this.recorder.settings, ...this.recorder.stats } : null,
      uplink: this.uplink?.describe() ?? null,
      live: this.livePush ? { ...this.livePush.stats } : null,
      mqtt: this.mqtt?.describe() ?? null,
      events: this.events.list(),
      latest: this.latest ? JSON.parse(readingJson(this.latest)) : null,
    };
  }

  /** TAF 14: the newest live values, oldest first, with their wall time when it is known. */
  liveValues(max?: number): { time: string | null; values: object }[] {
    return this.live.recent(max).map((v) => ({ time: this.time.synced ? isoUtc(Math.round(this.time.wall(v.at))) : null, values: v.values }));
  }
}
