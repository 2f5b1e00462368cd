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
import type { HttpRequest, HttpResponse, HttpServer } from './ports/http';
import { ReadingLog } from './store/reading-log';
import { TafRecorder, type DemandCallback } from './taf/recorder';
import { LiveRing } from './taf/live';
import { Timekeeper } from './time/timekeeper';
import { isoUtc } from './time/zone';
import { EventLog, type EventKind } from './events';
import { RejectionDigest } from './rejections';
import { entryJson } from './store/json';
import type { LogEntry } from './store/entries';
import { Uplink } from './uplink/uplink';
import { loadUplinkSecrets } from './uplink/enrolment';

export const FIRMWARE_VERSION = '0.2.0';

/** How often the DLMS frame counters are saved (replay protection across restarts). */
const SAVE_COUNTERS_MS = 15 * 60000;

/** How often decode errors and rejected frames are summed up into one event of each kind. */
const REJECTION_PERIOD_MS = 3600000;

/** Key-value flags: why the next boot happens (set before a requested restart), and the firmware that ran last. */
const RESTART_KEY = 'restartReason';
const FIRMWARE_KEY = 'firmware';

/** Most log entries one request returns (the device's HTTP server builds the body in RAM). */
const MAX_ENTRIES_PER_REQUEST = 100;

/** Protocols whose meters keep a clock the grid operator sets: trusted until SNTP answers. */
const METER_CLOCKS: { [protocol: string]: true } = { dlms: true, dsmr: true };

export class Gateway {
  readonly ports: Ports;
  readonly reader: MeterReader;
  readonly time: Timekeeper;
  readonly live: LiveRing;
  readonly events: EventLog;
  settings: Settings;
  /** The newest reading, for the status page. */
  latest: Reading | null = null;
  /** Open after start(). */
  log: ReadingLog | null = null;
  recorder: TafRecorder | null = null;
  /** Delivery to the backend, when the device is enrolled. */
  uplink: Uplink | null = null;
  private readonly guard: ReplayGuard;
  private readonly rejections = new RejectionDigest();
  /** Replays recorded one by one in this period (the first is; the rest are summed up). */
  private replaysNoted = 0;
  private server: HttpServer | null = null;
  /** The last reading on demand asked for over HTTP. */
  private demand: { state: 'pending' } | { state: 'done'; entry: LogEntry } | { state: 'failed'; error: string } | null = null;

  constructor(ports: Ports) {
    this.ports = ports;
    this.events = new EventLog((data) => ports.crypto.sha256(data), ports.kv);
    this.settings = loadSettings(ports.kv);
    this.guard = new ReplayGuard(ports.kv);
    this.reader = new MeterReader(ports.serial, ports.clock, ports.crypto, this.guard);
    this.time = new Timekeeper(ports.clock, ports.network, this.settings.sntp, (line) => this.event('time', line));
    this.live = new LiveRing(this.settings.taf.live);
    this.reader.onSecurityEvent((message) => {
      if (this.replaysNoted++ === 0) this.event('security', 'security: ' + message);
    });
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
    if (kv.get(FIRMWARE_KEY) !== FIRMWARE_VERSION) kv.set(FIRMWARE_KEY, FIRMWARE_VERSION);
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
    const keys = loadKeys(kv);
    this.reader.start(this.settings.meter, this.settings.zone, keys.key, keys.authKey);
    keys.key?.fill(0);
    keys.authKey?.fill(0);
    this.time.start();
    const u = this.settings.uplink;
    if (u.url && u.deviceId) {
      this.uplink = new Uplink(this.ports, this.log, this.time, u, loadUplinkSecrets(kv), this.settings.zone, (line) => this.ports.log(line), (line) => this.event('upload', line));
      this.uplink.start();
    }
    clock.every(SAVE_COUNTERS_MS, () => this.guard.save());
    clock.every(REJECTION_PERIOD_MS, () => this.sumUpRejections());
    if (this.settings.wifi.ssid) this.ports.network.connect(this.settings.wifi.ssid, loadWifiPassword(kv) ?? '');
    this.server = this.ports.http.serve(80, (request) => this.handle(request));
    this.ports.log(`smgw-lite ${FIRMWARE_VERSION}: reading ${this.settings.meter.protocol} on the ${this.settings.meter.connector} port`);
  }

  stop(): void {
    this.reader.stop();
    this.time.stop();
    this.recorder?.stop();
    this.uplink?.stop();
    this.guard.save();
    this.server?.close();
    this.server = null;
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
    if (before !== FIRMWARE_VERSION) {
      this.event('firmware', !before ? `firmware ${FIRMWARE_VERSION} (first boot with an event log)` : `firmware changed from ${before} to ${FIRMWARE_VERSION}`);
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

  private handle(request: HttpRequest): HttpResponse {
    const q = request.path.indexOf('?');
    const path = q < 0 ? request.path : request.path.slice(0, q);
    const query = q < 0 ? '' : request.path.slice(q + 1);
    const get = request.method === 'GET';
    if (get && path === '/api/status') return json(200, this.status());
    if (get && path === '/api/live') return json(200, this.liveValues(numberParam(query, 'max', this.live.capacity)));
    if (get && path === '/api/readings') {
      const from = numberParam(query, 'from', 0);
      const limit = Math.min(numberParam(query, 'limit', MAX_ENTRIES_PER_REQUEST), MAX_ENTRIES_PER_REQUEST);
      if (!this.log) return json(503, { error: 'the reading log is not open' });
      return json(200, { cursor: this.log.cursor, next: this.log.next, entries: this.log.read(from, limit).map(entryJson) });
    }
    if (path === '/api/uplink/now' && request.method === 'POST') {
      return this.uploadNow() ? json(202, { state: 'uploading' }) : json(409, { error: 'the device is not enrolled with a backend' });
    }
    if (path === '/api/readings/demand') {
      if (request.method === 'POST') {
        if (this.demand?.state === 'pending') return json(409, { error: 'a reading on demand is already being taken' });
        this.demand = { state: 'pending' };
        this.readNow((error, entry) => {
          this.demand = error || !entry ? { state: 'failed', error: error ? error.message : 'no reading' } : { state: 'done', entry };
        });
        // Refused at once (no time yet) or, rarely, answered at once; usually taken from the next telegram.
        const state = this.demandJson().state;
        return json(state === 'pending' ? 202 : state === 'done' ? 201 : 503, this.demandJson());
      }
      if (get) return this.demand ? json(200, this.demandJson()) : json(404, { error: 'no reading on demand was asked for' });
    }
    return { status: 404, headers: { 'content-type': 'text/plain' }, body: 'not found\n' };
  }

  private demandJson(): { state: string; entry?: object; error?: string } {
    const d = this.demand!;
    return d.state === 'done' ? { state: d.state, entry: entryJson(d.entry) } : d;
  }
}

function json(status: number, body: unknown): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', 'cache-control': 'no-store' }, body: JSON.stringify(body) };
}

/** A non-negative integer query parameter, or the fallback. */
function numberParam(query: string, name: string, fallback: number): number {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq) === name) {
      const n = Number(part.slice(eq + 1));
      return Number.isInteger(n) && n >= 0 ? n : fallback;
    }
  }
  return fallback;
}
