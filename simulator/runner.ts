// `smgw sim`: a virtual meter, a simulated gateway running the firmware, the
// house's network, and faults, on one virtual clock. Runs as fast as the CPU
// allows (deterministic for a seed) or in real time; keeps the device's
// flash and NVS in a state directory, so that the next run continues as a
// device does after a power cycle.

import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Scheduler } from './world/scheduler';
import { derive } from './world/random';
import { HouseholdModel, type Site } from './household';
import { createMeter, meterKey, protocolOf, type MeterKind } from './meters/index';
import type { MeterSample, MeterState, VirtualMeter } from './meters/meter';
import { AmisMbusMeter } from './meters/mbus-meters';
import type { MbusLinkStats } from './meters/mbus-master';
import { parseFault, type Fault } from './faults';
import { SimDevice, nodeEngine, type DeviceWorld, type BootRecord } from './device';
import type { DeviceStatus, Engine } from '../hosts/sim/engine';
import { SerialLine } from './world/serial-line';
import { NorFlash } from './world/flash';
import { SimOtaFlash } from './world/ota-flash';
import { FIRMWARE_VERSION } from '../src/app';
import type { ReleaseKey } from '../src/ota/release-keys';
import { FileKeyValue } from '../hosts/sim/kv';
import { NetworkWorld, SIM_WIFI } from './world/network';
import { InProcessServers } from '../hosts/sim/http';
import { DiskAssets } from '../hosts/sim/assets';
import { DEFAULT_SETTINGS, loadSettings, saveKeys, saveSettings, saveWifiPassword, settingsStored } from '../src/config/settings';
import { PROTOCOL_DEFAULTS } from '../src/meter/settings';
import { validTaf, type TafSettings } from '../src/taf/settings';
import { isoUtc } from '../src/time/zone';
import { ReadingLog, type LogStats } from '../src/store/reading-log';
import { applyBundle } from '../src/uplink/enrolment';
import { DEFAULT_LIVE_PUSH } from '../src/uplink/settings';
import { DEFAULT_MQTT, loadMqtt, saveMqtt } from '../src/mqtt/settings';
import { mqttCursor } from '../src/mqtt/publisher';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { ensureHousehold, startEmbeddedBackend, type EmbeddedBackend } from './embedded-backend';
import { encodeEventPayload, type GapReason, type SeriesKind } from '../src/formats/entries';
import { ChainVerifier, type ChainStatus } from '../src/formats/event-chain';
import { nodeCrypto } from '../hosts/node/crypto';
import { installNodeText } from '../hosts/sim/text';
import { saveAdminPassword } from '../src/portal/auth';
import { markSetupDone } from '../src/portal/config';
import type { LineSettings } from '../src/ports/serial';

// The Node host decodes text natively (hosts/sim/text.ts).
installNodeText();

export const FLASH_SIZE = 64 * 1024;
/** The portal's admin password of a provisioned device (tests log in with it). */
export const SIM_ADMIN_PASSWORD = 'simulated-admin';
const DAY = 86400000;

export interface SimOptions {
  meter: MeterKind;
  /** Where the meter sits: the grid connection (default) or the PV inverter (a generation meter; sml only). */
  site?: Site;
  /** The meter's AES key (DLMS); the device is set up with it. */
  key?: Uint8Array | null;
  seed: number;
  /** Keeps the device's flash and NVS, and the meter, between runs. */
  state?: string;
  from?: number;
  until?: number;
  days?: number;
  speed: number | 'max';
  portalPort?: number;
  /**
   * How a fresh device (an empty state) is set up: 'provisioned', as if its
   * owner had gone through the portal (the meter, the home Wi-Fi, the admin
   * password SIM_ADMIN_PASSWORD, enrolled with an embedded backend); or
   * 'portal', left unconfigured for a person or a browser test to set up in
   * the portal (no enrolment either). Default: 'portal' with a portal port.
   */
  setup?: 'provisioned' | 'portal';
  /** Faults, or their specifications as `--fault` takes them (times relative to the run's start). */
  faults: (Fault | string)[];
  /** A file for the meter log (JSON lines), or a function to receive each sample. */
  meterLog?: string | ((sample: MeterSample) => void);
  report?: string;
  engine?: Engine;
  engineName?: 'node' | 'xs';
  /** Other UART timings than the meter's own: a baud rate for meter and device, a FIFO threshold. */
  serial?: { baud?: number; fifo?: number };
  /** The release keys the simulated firmware is built with (the committed src/ota/release-keys.ts when absent). */
  releaseKeys?: readonly ReleaseKey[];
  /** Console output of the firmware. */
  log?: (line: string) => void;
  /** TAF settings of a device set up by this run (defaults: 15 min, 30 s, 1 s). */
  taf?: Partial<TafSettings>;
  /**
   * Where the device delivers: 'none'; 'embedded', a backend started for the
   * run (SQLite in the state directory, or `backendDb`), the device enrolled
   * with it; or a backend's URL, the device enrolled with `bundle`.
   */
  backend?: string;
  backendDb?: string;
  /** How the device authenticates to the embedded backend: its client certificate (default) or a device token. */
  backendAuth?: 'certificate' | 'token';
  /** An enrolment bundle (JSON) for a backend given by URL. */
  bundle?: string;
  /**
   * Seconds between the device's live pushes while the meter's Live view is
   * open (0: none). Default: the firmware's (10 s) in real time; 0 as fast as
   * possible, where a push a minute would be half a million TLS requests a year.
   */
  live?: number;
  /**
   * MQTT (docs/mqtt.md): 'embedded', the embedded backend's broker, which it
   * ingests from; or a broker's URL ("mqtts://host:port"), which the device
   * publishes to and the embedded backend subscribes to. The device is set up
   * for it as the portal's MQTT step does (TLS with its enrolment certificate).
   */
  mqtt?: string;
  /** The embedded backend's port (default: any free one). */
  backendPort?: number;
  /** Told when the run has started: the embedded backend's address, where its files are, and the household it keeps for this device. */
  onStart?: (info: StartInfo) => void;
}

export interface StartInfo {
  backend: string | null;
  backendDir: string | null;
  /** The embedded backend's household of this state (created once; its token in `backendDir/pki/household-token`). */
  householdId: string | null;
}

export interface SimReport {
  meter: MeterKind;
  site: Site;
  engine: string;
  seed: number;
  from: string;
  until: string;
  simulatedSeconds: number;
  wallSeconds: number;
  speedup: number;
  telegrams: {
    sent: number;
    seen: number;
    decoded: number;
    rejected: { [reason: string]: number };
    lost: number;
  };
  readings: number;
  line: { bytesSent: number; bytesReceived: number; bitErrors: number; flaggedChunks: number; bytesWritten: number };
  /** A meter that sends as M-Bus master (mbus-amis): its searches, the E5 it got, the frames it repeated or gave up. */
  mbusLink?: MbusLinkStats;
  boots: { at: string; cause: string }[];
  crashes: number;
  silences: { from: string; to: string | null }[];
  faults: Fault[];
  flash: { erasesPerSector: number[] };
  /** The reading log as the flash holds it at the end of the run. */
  log: LogSummary;
  computrons?: { total: number; perTelegram: number; byEvent: { [kind: string]: { events: number; computrons: number } } };
  /** MQTT, over every boot. */
  mqtt?: { broker: string; connects: number; drops: number; published: number; acked: number; live: number; discovery: number; pending: number };
  /** Delivery to the backend, over every boot. */
  uplink?: {
    backend: string;
    attempts: number;
    batches: number;
    entries: number;
    bytes: number;
    failures: number;
    uploads: { at: string; reason: string; batches: number; entries: number; bytes: number; first: number; last: number; error: string | null }[];
    /** What the device's log still holds unacknowledged at the end. */
    pending: number;
  };
}

export interface LogSummary extends LogStats {
  readings: { [kind in SeriesKind]: number };
  /** Gap entries, the boundaries they cover, and those by reason. */
  gaps: { entries: number; boundaries: number; byReason: { [reason in GapReason]?: number } };
  /** Event-log entries (events of the tamper-evident log, held in the same flash) and their record bytes. */
  events: number;
  eventBytes: number;
  /** The event chain as the flash holds it (the device's own check). */
  chain: ChainStatus;
  /** Bytes of flash per TAF 7 reading, all overheads included. */
  bytesPerReading: number;
}

/** Reads the whole log on a flash image and sums it up. */
export function summariseLog(flash: NorFlash): LogSummary {
  flash.revive();
  const log = new ReadingLog(flash);
  const stats = log.stats();
  const readings = { taf7: 0, daily: 0, demand: 0 };
  const gaps: LogSummary['gaps'] = { entries: 0, boundaries: 0, byReason: {} };
  let events = 0;
  let eventBytes = 0;
  const scratch = new Uint8Array(256);
  const chain = new ChainVerifier(nodeCrypto.sha256);
  for (const e of log.read(0, Number.MAX_SAFE_INTEGER)) {
    if (e.type === 'reading') readings[e.kind]++;
    else if (e.type === 'event') {
      events++;
      chain.add(e);
      eventBytes += encodeEventPayload(e, scratch, 0) + 4;
    }
    else {
      gaps.entries++;
      gaps.boundaries += e.count;
      gaps.byReason[e.reason] = (gaps.byReason[e.reason] ?? 0) + e.count;
    }
  }
  const all = readings.taf7 + readings.daily + readings.demand;
  const seriesBytes = stats.bytesUsed - eventBytes;
  return {
    ...stats, readings, gaps, events, eventBytes, chain: chain.status(),
    bytesPerReading: all ? Math.round((seriesBytes / (all + gaps.entries)) * 10) / 10 : 0,
  };
}

interface SavedState {
  meter: MeterKind;
  /** Absent in states written before meters could sit at the PV inverter: the grid. */
  site?: Site;
  seed: number;
  until: number;
  meterState: MeterState;
}

export class Simulation {
  readonly options: SimOptions;
  readonly scheduler: Scheduler;
  readonly meter: VirtualMeter;
  readonly device: SimDevice;
  readonly world: DeviceWorld;
  readonly from: number;
  readonly until: number;
  readonly faults: Fault[];
  /** The line between meter and device. */
  readonly lineSettings: LineSettings;
  private readonly silent: { from: number; to: number }[] = [];
  private sent = 0;
  /** The telegram before the last one, for a replay fault to send again. */
  private earlierTelegram: Uint8Array | null = null;
  private lastTelegram: Uint8Array | null = null;
  private readonly readingListeners: ((json: string) => void)[] = [];
  private readonly sampleListeners: ((s: MeterSample) => void)[] = [];

  constructor(options: SimOptions) {
    this.options = options;
    const state = options.state;
    // Owner only, when this run creates it: it holds the device's keys and passwords (nvs.json) and the backend's.
    if (state) mkdirSync(state, { recursive: true, mode: 0o700 });
    const saved = state && existsSync(join(state, 'sim.json')) ? (JSON.parse(readFileSync(join(state, 'sim.json'), 'utf8')) as SavedState) : null;
    if (saved && saved.meter !== options.meter) throw new Error(`the state in ${state} belongs to a ${saved.meter} meter`);
    if (saved && (saved.site ?? 'grid') !== this.site) throw new Error(`the state in ${state} belongs to a meter at the ${saved.site ?? 'grid'} site`);
    // Real time starts now; a run as fast as possible starts at midnight (a whole day), unless told otherwise.
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    this.from = options.from ?? saved?.until ?? (options.speed === 'max' ? today : Math.floor(Date.now() / 1000) * 1000);
    this.until = options.until ?? this.from + (options.days ?? 1) * DAY;
    if (!(this.until > this.from)) throw new Error('the run must end after it starts');
    this.scheduler = new Scheduler(this.from, options.speed);
    const household = new HouseholdModel(options.seed);
    const key = meterKey(options.meter, options.key ?? null);
    this.meter = createMeter(options.meter, household, saved?.meterState ?? null, this.from, key, this.site);
    this.lineSettings = options.serial?.baud ? { ...this.meter.line, baud: options.serial.baud } : this.meter.line;
    const line = new SerialLine(this.scheduler, this.meter.connector, this.lineSettings, derive(options.seed, 'line'), options.serial?.fifo);
    this.meter.connect(line, this.scheduler);
    const network = new NetworkWorld(this.scheduler);
    const realPorts = new Map<number, number>();
    if (options.portalPort !== undefined) realPorts.set(80, options.portalPort);
    this.world = {
      scheduler: this.scheduler,
      flash: new NorFlash(FLASH_SIZE, state ? join(state, 'flash.bin') : undefined),
      ota: new SimOtaFlash(new NorFlash(SimOtaFlash.size(), state ? join(state, 'ota.bin') : undefined), { version: FIRMWARE_VERSION }),
      releaseKeys: options.releaseKeys,
      kv: new FileKeyValue(state ? join(state, 'nvs.json') : undefined),
      lines: [line],
      network,
      servers: new InProcessServers(),
      realPorts,
      assets: new DiskAssets(),
      log: options.log ?? (() => undefined),
    };
    this.device = new SimDevice(this.world, options.engine ?? nodeEngine);
    if (this.setup === 'provisioned') this.provision(key);
    this.faults = options.faults.map((f) => (typeof f === 'string' ? parseFault(f, this.from) : f));
    for (const f of this.faults) this.applyFault(f, line, network);
    if (typeof options.meterLog === 'function') this.sampleListeners.push(options.meterLog);
  }

  get site(): Site {
    return this.options.site ?? 'grid';
  }

  private get livePush(): number {
    return this.options.live ?? (this.options.speed === 'max' ? 0 : DEFAULT_LIVE_PUSH);
  }

  get setup(): 'provisioned' | 'portal' {
    return this.options.setup ?? (this.options.portalPort !== undefined ? 'portal' : 'provisioned');
  }

  /** Where the virtual meter's kind is at home: the device's and its household's time zone. */
  private get meterZone(): string {
    const m = this.options.meter;
    return m === 'dsmr' ? 'Europe/Amsterdam' : m.startsWith('dlms') || m === 'mbus-amis' ? 'Europe/Vienna' : 'Europe/Berlin';
  }

  /** A device fresh out of the box is set up for the meter and the home network, as its owner would do in the portal. */
  private provision(key: Uint8Array | null): void {
    const kv = this.world.kv;
    if (settingsStored(kv)) return;
    saveAdminPassword(kv, nodeCrypto, SIM_ADMIN_PASSWORD);
    markSetupDone(kv);
    const defaults = PROTOCOL_DEFAULTS[protocolOf(this.options.meter)];
    saveSettings(kv, {
      ...DEFAULT_SETTINGS,
      meter: { ...defaults, connector: this.meter.connector, line: this.lineSettings },
      zone: this.meterZone,
      wifi: { ssid: SIM_WIFI.ssid },
      taf: validTaf(this.options.taf),
      uplink: { ...DEFAULT_SETTINGS.uplink, live: this.livePush },
    });
    saveWifiPassword(kv, SIM_WIFI.password);
    if (key) saveKeys(kv, { key });
  }

  private applyFault(f: Fault, line: SerialLine, network: NetworkWorld): void {
    const s = this.scheduler;
    switch (f.kind) {
      case 'noise':
        line.setNoise(f.rate);
        break;
      case 'meter-silent':
        this.silent.push({ from: f.from, to: f.to });
        break;
      case 'outage':
        network.addOutage(f.from, f.to);
        break;
      case 'clock-jump':
        s.at(f.at, () => this.device.boot?.clock.jump(f.by));
        break;
      case 'sntp-skew':
        network.addSntpSkew(f.by, f.from, f.to);
        break;
      case 'replay':
        s.at(f.at, () => {
          if (this.earlierTelegram) line.transmit(this.earlierTelegram, s.now);
        });
        break;
      case 'power-cut': {
        const random = derive(this.options.seed, 'power-cut');
        for (let start = this.from; start < this.until; start += f.every) {
          const at = start + Math.floor(random() * f.every);
          // Most appends are a dozen bytes: this cuts the next one or two part way.
          const steps = Math.floor(random() * 24);
          s.at(at, () => {
            if (!f.midWrite) return this.device.powerCut();
            // Fail in the middle of the next flash program or erase (or within 20 minutes, whichever comes first).
            this.world.flash.cutAfter(steps);
            const boots = this.device.boots.length;
            s.after(20 * 60000, () => {
              this.world.flash.cutAfter(-1);
              if (this.device.boots.length === boots) return this.device.powerCut();
            });
          });
        }
        break;
      }
    }
  }

  /** Every reading the firmware produces, as `smgw decode` prints it. */
  onReading(listener: (json: string) => void): void {
    this.readingListeners.push(listener);
  }

  onSample(listener: (s: MeterSample) => void): void {
    this.sampleListeners.push(listener);
  }

  private isSilent(t: number): boolean {
    return this.silent.some((w) => t >= w.from && t < w.to);
  }

  private scheduleMeter(): void {
    const cadence = this.meter.cadence;
    const first = Math.ceil(this.from / cadence) * cadence;
    const logFile = typeof this.options.meterLog === 'string' ? this.options.meterLog : null;
    let buffered: string[] = [];
    const flush = () => {
      if (logFile && buffered.length) appendFileSync(logFile, buffered.join(''));
      buffered = [];
    };
    if (logFile) writeFileSync(logFile, '');
    const tick = (t: number) => {
      if (!this.isSilent(t)) {
        const telegram = this.meter.send(t, this.world.lines[0]);
        if (telegram) {
          this.earlierTelegram = this.lastTelegram;
          this.lastTelegram = telegram.bytes;
          this.sent++;
          for (const l of this.sampleListeners) l(telegram.truth);
          if (logFile) {
            buffered.push(JSON.stringify({ time: isoUtc(t), values: telegram.truth.values }) + '\n');
            if (buffered.length >= 1000) flush();
          }
        }
      }
      const next = t + cadence;
      if (next < this.until) this.scheduler.at(next, () => tick(next));
      else flush();
    };
    this.scheduler.at(first, () => tick(first));
    this.flushMeterLog = flush;
  }

  private flushMeterLog: () => void = () => undefined;
  /** The embedded backend, while the run lasts. */
  backend: EmbeddedBackend | null = null;
  /** Where the embedded backend keeps its database and certificates. */
  backendDir: string | null = null;

  /** Starts the embedded backend, or takes the bundle for a remote one, and enrols the device (once per state). */
  private async attachBackend(): Promise<void> {
    const kind = this.options.backend ?? 'none';
    if (kind === 'none') return;
    const kv = this.world.kv;
    let settings = loadSettings(kv);
    // A run that says how often to push live values says it for a device that continues, too.
    if (this.options.live !== undefined && settings.uplink.live !== this.options.live) {
      settings = { ...settings, uplink: { ...settings.uplink, live: this.options.live } };
      saveSettings(kv, settings);
    }
    if (kind !== 'embedded') {
      if (!settings.uplink.url) {
        if (!this.options.bundle) throw new Error('--backend URL needs --bundle FILE (an enrolment bundle from the backend\'s admin)');
        settings = { ...settings, uplink: applyBundle(kv, this.options.bundle, settings.uplink) };
        saveSettings(kv, settings);
      }
      return;
    }
    const dir = this.options.state ?? mkdtempSync(join(tmpdir(), 'smgw-backend-'));
    this.backendDir = dir;
    const { backend, admin } = await startEmbeddedBackend(dir, {
      db: this.options.backendDb,
      port: this.options.backendPort,
      now: () => this.scheduler.now,
      mqtt: this.options.mqtt,
    });
    this.backend = backend;
    // The device's household, once per state: its token is how a person opens the dashboard, set up or not.
    this.householdId = await ensureHousehold(backend, join(dir, 'pki'), admin, settings.uplink.url ? settings.zone : this.meterZone, settings.uplink.deviceId);
    if (!settings.uplink.url && this.setup === 'portal') {
      // The owner enrols the device in the portal, with a bundle from this backend's admin for that household.
      return;
    }
    if (!settings.uplink.url) {
      const device = await this.backend.app.inject({ method: 'POST', url: '/api/v1/admin/devices', headers: admin, payload: { householdId: this.householdId, auth: this.options.backendAuth ?? 'certificate' } });
      if (device.statusCode !== 201) throw new Error('embedded backend: ' + device.body);
      settings = { ...settings, uplink: applyBundle(kv, device.body, settings.uplink) };
    } else {
      // The embedded backend listens on a new port every run: the device's backend moved.
      settings = { ...settings, uplink: { ...settings.uplink, url: this.backend.url } };
    }
    saveSettings(kv, settings);
    if (this.options.mqtt) this.setUpMqtt(this.options.mqtt === 'embedded' ? this.backend.mqtt!.url : this.options.mqtt);
  }

  /** The portal's MQTT step, for the broker at `url` (the embedded backend's moves with its port every run). */
  private setUpMqtt(url: string): void {
    const m = /^(mqtts?):\/\/([^:/]+):(\d+)\/?$/.exec(url);
    if (!m) throw new Error(`--mqtt ${url}: mqtt(s)://HOST:PORT`);
    const kv = this.world.kv;
    saveMqtt(kv, { ...(loadMqtt(kv) ?? DEFAULT_MQTT), host: m[2], port: Number(m[3]), tls: m[1] === 'mqtts' });
  }
  /** The embedded backend's household for this state's device (null without an embedded backend). */
  householdId: string | null = null;

  /** When the run ended: `until`, or earlier when stopped. */
  private ended = 0;

  async run(): Promise<SimReport> {
    const wallStart = Date.now();
    this.device.onBoot = (firmware) => {
      if (this.readingListeners.length) {
        firmware.onReading((json) => {
          for (const l of this.readingListeners) l(json);
        });
      }
    };
    await this.attachBackend();
    this.options.onStart?.({ backend: this.backend?.url ?? null, backendDir: this.backendDir, householdId: this.householdId });
    if (this.options.backend && this.options.backend !== 'none') {
      // Like a user pressing "upload now" just before the end: the backend then holds what the device recorded.
      for (const before of [5 * 60000, 2 * 60000]) this.scheduler.at(this.until - before, () => this.device.firmware?.uploadNow());
    }
    this.scheduleMeter();
    await this.device.powerOn('power-on');
    await this.scheduler.run(this.until);
    this.flushMeterLog();
    // Stopped early (Ctrl-C in real time): the run ends now.
    this.ended = Math.min(this.until, this.scheduler.now);
    const statuses = await this.device.totals();
    await this.device.shutDown();
    const report = this.report(statuses, (Date.now() - wallStart) / 1000, summariseLog(this.world.flash));
    await this.backend?.close();
    this.world.flash.close();
    this.world.ota.flash.close();
    if (this.options.state) {
      const saved: SavedState = { meter: this.options.meter, site: this.site, seed: this.options.seed, until: this.ended, meterState: this.meter.state };
      writeFileSync(join(this.options.state, 'sim.json'), JSON.stringify(saved, null, 1));
    }
    if (this.options.report) writeFileSync(this.options.report, JSON.stringify(report, null, 2) + '\n');
    return report;
  }

  private uplinkReport(statuses: DeviceStatus[], log: LogSummary): NonNullable<SimReport['uplink']> {
    const out: NonNullable<SimReport['uplink']> = { backend: this.backend?.url ?? this.options.backend ?? '', attempts: 0, batches: 0, entries: 0, bytes: 0, failures: 0, uploads: [], pending: log.unacknowledged };
    for (const st of statuses) {
      const u = st.uplink;
      if (!u) continue;
      out.attempts += u.attempts;
      out.batches += u.batches;
      out.entries += u.entries;
      out.bytes += u.bytes;
      out.failures += u.failures;
      for (const r of u.uploads) out.uploads.push({ ...r, at: isoUtc(Math.floor(r.at / 1000) * 1000) });
    }
    return out;
  }

  private mqttReport(statuses: DeviceStatus[]): NonNullable<SimReport['mqtt']> {
    const out = { broker: this.backend?.mqtt?.url ?? this.options.mqtt ?? '', connects: 0, drops: 0, published: 0, acked: 0, live: 0, discovery: 0, pending: 0 };
    for (const st of statuses) {
      const q = st.mqtt;
      if (!q) continue;
      out.connects += q.connects;
      out.drops += q.drops;
      out.published += q.published;
      out.acked += q.acked;
      out.live += q.live;
      out.discovery += q.discovery;
    }
    const flash = this.world.flash;
    flash.revive();
    const log = new ReadingLog(flash);
    const cursor = mqttCursor(this.world.kv);
    let pending = 0;
    log.forEach(cursor + 1, (e) => {
      if (e.type === 'reading') pending++;
      return true;
    });
    out.pending = pending;
    return out;
  }

  /** Virtual time of a device uptime in boot `boot`. */
  private virtualTime(boot: BootRecord, uptime: number): number {
    return boot.at + uptime;
  }

  private report(statuses: DeviceStatus[], wallSeconds: number, log: LogSummary): SimReport {
    const rejected: { [reason: string]: number } = {};
    let seen = 0;
    let readings = 0;
    let bytesReceived = 0;
    let flagged = 0;
    const silences: { from: string; to: string | null }[] = [];
    statuses.forEach((st, i) => {
      seen += st.line.telegrams;
      readings += st.line.readings;
      bytesReceived += st.line.bytes;
      flagged += st.line.lineErrors;
      for (const [k, v] of Object.entries(st.line.rejected)) rejected[k] = (rejected[k] ?? 0) + (v ?? 0);
      const boot = this.device.boots[i];
      for (const s of st.silences) {
        silences.push({ from: isoUtc(this.virtualTime(boot, s.from)), to: s.to === null ? null : isoUtc(this.virtualTime(boot, s.to)) });
      }
    });
    const line = this.world.lines[0];
    const simulatedSeconds = (this.ended - this.from) / 1000;
    return {
      meter: this.options.meter,
      site: this.site,
      engine: this.options.engineName ?? 'node',
      seed: this.options.seed,
      from: isoUtc(this.from),
      until: isoUtc(this.ended),
      simulatedSeconds,
      wallSeconds,
      speedup: simulatedSeconds / Math.max(wallSeconds, 1e-3),
      telegrams: { sent: this.sent, seen, decoded: readings, rejected, lost: Math.max(0, this.sent - seen) },
      readings,
      line: { bytesSent: line.bytesSent, bytesReceived, bitErrors: line.bitErrors, flaggedChunks: flagged, bytesWritten: line.bytesWritten },
      ...(this.meter instanceof AmisMbusMeter && this.meter.link ? { mbusLink: { ...this.meter.link.stats } } : {}),
      boots: this.device.boots.map((b) => ({ at: isoUtc(b.at), cause: b.cause })),
      crashes: this.device.crashes.length,
      silences,
      faults: this.faults,
      flash: { erasesPerSector: this.world.flash.erases.slice() },
      log,
      ...(this.options.backend && this.options.backend !== 'none' ? { uplink: this.uplinkReport(statuses, log) } : {}),
      ...(this.options.mqtt ? { mqtt: this.mqttReport(statuses) } : {}),
      ...(this.device.computrons
        ? { computrons: { total: this.device.computrons, perTelegram: readings ? this.device.computrons / Math.max(1, seen) : 0, byEvent: this.device.byEvent } }
        : {}),
    };
  }
}
