// The MQTT publisher: the gateway's readings to a broker, as the Open Meter
// Data Platform's pub/sub path (docs/mqtt.md) and for Home Assistant.
//
// The reading log in flash is the queue. The publisher keeps a cursor of its
// own (key `mqttCursor`, independent of the day-after uplink's), sends the
// readings after it in log order at QoS 1, at most WINDOW unacknowledged at
// a time, and moves the cursor only over readings whose PUBACK has come,
// every one before them acknowledged too. A broker away for hours loses
// nothing: on reconnect the backlog goes out oldest first, each with the
// reading time it was logged with. A restart resends at most what was
// acknowledged since the cursor was last saved (QoS 1 is at least once; the
// backend stores a reading once per meter, kind and time).
//
// Connections are one at a time; a connection that fails or drops is tried
// again after a back-off of 5 s doubling to 5 min, at once when the Wi-Fi
// comes back. The broker learns of an unexpected end by the connection's
// will: the availability topic turns "offline" (retained).

import type { ClockPort, Timer } from '../ports/clock';
import type { KeyValuePort } from '../ports/kv';
import type { MqttConnectOptions, MqttEvent, MqttPort } from '../ports/mqtt';
import type { NetworkPort } from '../ports/network';
import type { TlsOptions } from '../ports/http';
import type { ReadingLog } from '../store/reading-log';
import type { ReadingEntry } from '../formats/entries';
import type { LiveRing, LiveValue } from '../taf/live';
import type { Timekeeper } from '../time/timekeeper';
import { utf8Encode } from '../codec/utf8';
import { livePayload, meterReadingPayload, meterTopic, LIVE_TOPIC, READINGS_TOPIC } from './omdp';
import { AVAILABLE, NOT_AVAILABLE, discoveryConfigs, energyState, gatewayTopics, liveState, type GatewayTopics } from './home-assistant';
import type { MqttSettings } from './settings';

const CURSOR_KEY = 'mqttCursor';

/** The sequence number of the last reading the broker acknowledged, as last saved (0: none yet). */
export function mqttCursor(kv: KeyValuePort): number {
  return Number(kv.get(CURSOR_KEY) ?? 0);
}
/** Unacknowledged readings on the wire at most: bounds RAM and what a dropped connection sends again. */
const WINDOW = 8;
const KEEPALIVE_S = 60;
const FIRST_BACKOFF_MS = 5000;
const MAX_BACKOFF_MS = 300000;
/** The cursor is saved (NVS) after this many acknowledged readings, and whenever the backlog is done. */
const SAVE_EVERY = 32;

export interface MqttStats {
  state: 'off' | 'waiting' | 'connecting' | 'connected';
  connects: number;
  drops: number;
  published: number;
  acked: number;
  live: number;
  discovery: number;
  /** Log sequence number up to which every reading is acknowledged. */
  cursor: number;
  lastError: string | null;
}

export interface PublisherIdentity {
  clientId: string;
  /** The enrolled device id (the payloads' adapterId). */
  adapterId: string;
  protocol: string;
  /** The meter's id as the newest reading gave it; null before the first. */
  meterId(): string | null;
}

export class MqttPublisher {
  readonly stats: MqttStats = { state: 'off', connects: 0, drops: 0, published: 0, acked: 0, live: 0, discovery: 0, cursor: 0, lastError: null };
  readonly settings: MqttSettings;
  readonly topics: GatewayTopics;
  private readonly clock: ClockPort;
  private readonly network: NetworkPort;
  private readonly mqtt: MqttPort;
  private readonly kv: KeyValuePort;
  private readonly log: ReadingLog;
  private readonly time: Timekeeper;
  private readonly ring: LiveRing;
  private readonly zone: string;
  private readonly identity: PublisherIdentity;
  private readonly tls: TlsOptions | null;
  private readonly password: string | null;
  private readonly say: (line: string) => void;
  /** Readings on the wire: packet id -> sequence number, in the order sent. */
  private readonly inFlight: { id: number; seq: number; acked: boolean }[] = [];
  /** The highest sequence number sent on this connection (readings after it are still to go). */
  private sent = 0;
  private unsaved = 0;
  private timer: Timer | null = null;
  private backoff = 0;
  /** Each connection's events carry its number: a late event of an earlier one is ignored. */
  private generation = 0;
  private liveSentAt = -Infinity;
  /** The newest TAF 7 reading (for Home Assistant's energy state and the registers it announces). */
  private newestEnergy: ReadingEntry | null = null;
  private announced = '';
  private running = false;

  constructor(
    ports: { clock: ClockPort; network: NetworkPort; mqtt: MqttPort; kv: KeyValuePort },
    log: ReadingLog,
    time: Timekeeper,
    ring: LiveRing,
    settings: MqttSettings,
    secrets: { tls: TlsOptions | null; password: string | null },
    zone: string,
    identity: PublisherIdentity,
    say: (line: string) => void,
  ) {
    this.clock = ports.clock;
    this.network = ports.network;
    this.mqtt = ports.mqtt;
    this.kv = ports.kv;
    this.log = log;
    this.time = time;
    this.ring = ring;
    this.settings = settings;
    this.tls = secrets.tls;
    this.password = secrets.password;
    this.zone = zone;
    this.identity = identity;
    this.say = say;
    this.topics = gatewayTopics(settings.topic, identity.clientId);
    const saved = mqttCursor(ports.kv);
    this.stats.cursor = Number.isInteger(saved) && saved > 0 ? Math.min(saved, log.next - 1) : 0;
  }

  start(): void {
    if (this.settings.tls && !this.tls) {
      this.stats.lastError = 'MQTT over TLS needs a CA to pin: enrol the device or upload the broker\'s CA';
      this.say('mqtt: ' + this.stats.lastError);
      return;
    }
    this.running = true;
    this.findNewestEnergy();
    this.network.onEvent((event) => {
      if (!this.running) return;
      if (event === 'up' && this.stats.state === 'waiting') {
        this.backoff = 0;
        this.connect();
      } else if (event === 'down' && this.stats.state !== 'waiting') {
        this.mqtt.close();
      }
    });
    this.stats.state = 'waiting';
    if (this.network.address() !== null) this.connect();
  }

  stop(): void {
    this.running = false;
    if (this.timer) this.clock.cancel(this.timer);
    this.timer = null;
    this.saveCursor();
    if (this.stats.state === 'connected' || this.stats.state === 'connecting') this.mqtt.close();
    this.stats.state = 'off';
  }

  /** After every reading the meter sent: new log entries go out, and a TAF 14 value when one is due. */
  onReading(): void {
    if (this.stats.state !== 'connected') return;
    this.pump();
    this.publishLive();
  }

  private connect(): void {
    if (!this.running) return;
    if (this.timer) this.clock.cancel(this.timer);
    this.timer = null;
    if (this.network.address() === null) {
      this.stats.state = 'waiting';
      return;
    }
    const generation = ++this.generation;
    const s = this.settings;
    const options: MqttConnectOptions = {
      host: s.host,
      port: s.port,
      clientId: this.identity.clientId,
      keepAlive: KEEPALIVE_S,
      will: { topic: this.topics.availability, payload: NOT_AVAILABLE, qos: 1, retain: true },
    };
    if (s.user) options.username = s.user;
    if (this.password) options.password = this.password;
    if (s.tls && this.tls) options.tls = this.tls;
    this.stats.state = 'connecting';
    this.mqtt.open(options, (event) => {
      if (generation === this.generation) this.onEvent(event);
    });
  }

  private onEvent(event: MqttEvent): void {
    if (event.type === 'connected') {
      this.stats.state = 'connected';
      this.stats.connects++;
      this.stats.lastError = null;
      this.backoff = 0;
      this.sent = this.stats.cursor;
      this.inFlight.length = 0;
      this.say(`mqtt: connected to ${this.settings.host}:${this.settings.port} as ${this.identity.clientId}` + (this.settings.omdp ? `, readings from entry ${this.stats.cursor + 1} on` : ''));
      this.send(this.topics.availability, AVAILABLE, 1, true);
      this.announce(true);
      this.publishEnergyState();
      this.pump();
    } else if (event.type === 'acked') {
      this.acked(event.id);
    } else {
      const was = this.stats.state;
      this.generation++;
      this.inFlight.length = 0;
      this.saveCursor();
      if (was === 'connected') this.stats.drops++;
      this.stats.lastError = event.reason;
      if (!this.running) return;
      this.backoff = this.backoff ? Math.min(MAX_BACKOFF_MS, this.backoff * 2) : FIRST_BACKOFF_MS;
      // Said once per outage: a broker away for a night must not fill the console.
      if (was === 'connected' || this.backoff === FIRST_BACKOFF_MS) this.say(`mqtt: ${event.reason}; retrying (back-off from 5 s to 5 min)`);
      this.stats.state = 'waiting';
      if (this.network.address() === null) return; // the Wi-Fi's "up" reconnects
      this.timer = this.clock.after(this.backoff, () => {
        this.timer = null;
        this.connect();
      });
    }
  }

  /**
   * Publishes on the open connection. A host that cannot take the message (the
   * socket is not keeping up, the connection just ended) ends the connection:
   * the reconnect sends everything after the cursor again. Returns 0 then.
   */
  private send(topic: string, payload: string, qos: 0 | 1, retain: boolean): number {
    if (this.stats.state !== 'connected') return 0;
    try {
      return this.mqtt.publish(topic, utf8Encode(payload), qos, retain);
    } catch (e) {
      this.stats.lastError = e instanceof Error ? e.message : String(e);
      this.mqtt.close();
      return 0;
    }
  }

  /** The readings after the last one sent, until WINDOW are on the wire. */
  private pump(): void {
    if (!this.settings.omdp && !this.settings.homeAssistant) return;
    if (this.inFlight.length >= WINDOW || this.sent >= this.log.next - 1) return;
    const batch: ReadingEntry[] = [];
    const seqs: number[] = [];
    let last = this.sent;
    this.log.forEach(this.sent + 1, (e) => {
      last = e.seq;
      if (e.type === 'reading') {
        batch.push(e);
        seqs.push(e.seq);
      }
      return this.inFlight.length + batch.length < WINDOW;
    });
    const omdp = this.settings.omdp;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i];
      if (e.kind === 'taf7' && (!this.newestEnergy || e.time >= this.newestEnergy.time)) {
        this.newestEnergy = e;
        this.announce(false);
        this.publishEnergyState();
      }
      if (!omdp) continue;
      const meterId = e.meterId ?? `device:${this.identity.adapterId}`;
      const id = this.send(meterTopic(meterId, READINGS_TOPIC), meterReadingPayload(e, meterId, this.zone, this.identity.adapterId), 1, false);
      if (!id) return; // the connection ended: the reconnect starts again from the cursor
      this.inFlight.push({ id, seq: seqs[i], acked: false });
      this.stats.published++;
    }
    this.sent = last;
    // Nothing but gaps and events up to here: they need no acknowledgement.
    if (!this.inFlight.length && last > this.stats.cursor) this.advance(last);
    if (!omdp) this.advance(last);
  }

  private acked(id: number): void {
    let i = 0;
    while (i < this.inFlight.length && this.inFlight[i].id !== id) i++;
    if (i === this.inFlight.length) return;
    this.inFlight[i].acked = true;
    this.stats.acked++;
    // The cursor moves over acknowledged readings only while every one before them is acknowledged.
    let upTo = 0;
    while (this.inFlight.length && this.inFlight[0].acked) upTo = this.inFlight.shift()!.seq;
    if (upTo) this.advance(this.inFlight.length ? upTo : Math.max(upTo, this.sent));
    this.pump();
  }

  private advance(seq: number): void {
    if (seq <= this.stats.cursor) return;
    this.unsaved += 1;
    this.stats.cursor = seq;
    if (this.unsaved >= SAVE_EVERY || (!this.inFlight.length && this.sent >= this.log.next - 1)) this.saveCursor();
  }

  private saveCursor(): void {
    if (!this.unsaved) return;
    this.unsaved = 0;
    this.kv.set(CURSOR_KEY, String(this.stats.cursor));
  }

  /** The newest TAF 7 reading in the log's last entries, for the first energy state after a boot. */
  private findNewestEnergy(): void {
    this.log.forEach(Math.max(0, this.log.next - 200), (e) => {
      if (e.type === 'reading' && e.kind === 'taf7') this.newestEnergy = e;
      return true;
    });
  }

  /** Home Assistant's configs for the registers and channels known now; again only when they change (or on a new connection). */
  private announce(always: boolean): void {
    if (!this.settings.homeAssistant || this.stats.state !== 'connected') return;
    const registers: { [obis: string]: string } = {};
    const values = this.newestEnergy?.values ?? {};
    for (const obis in values) registers[obis] = values[obis].unit;
    const channels: string[] = [];
    if (this.settings.live) {
      const v = this.ring.recent(1)[0];
      if (v) for (const c in v.values) channels.push(c);
    }
    const key = Object.keys(registers).join(',') + '|' + channels.join(',') + '|' + (this.identity.meterId() ?? '');
    if (!always && key === this.announced) return;
    this.announced = key;
    const device = { clientId: this.identity.clientId, meterId: this.identity.meterId(), protocol: this.identity.protocol };
    for (const d of discoveryConfigs(this.settings.discoveryPrefix, this.topics, device, registers, channels)) {
      this.send(d.topic, d.payload, 1, true);
      this.stats.discovery++;
    }
  }

  private publishEnergyState(): void {
    if (!this.settings.homeAssistant || !this.newestEnergy || this.stats.state !== 'connected') return;
    this.send(this.topics.state, energyState(this.newestEnergy.values), 0, true);
  }

  /** TAF 14: the newest value, once per interval, when the time is known. */
  private publishLive(): void {
    if (!this.settings.live || !this.time.synced) return;
    const v: LiveValue | undefined = this.ring.recent(1)[0];
    if (!v || v.at <= this.liveSentAt) return;
    this.liveSentAt = v.at;
    if (this.settings.homeAssistant) {
      if (this.announced.indexOf('|' + Object.keys(v.values).join(',') + '|') < 0) this.announce(false);
      this.send(this.topics.live, liveState(v.values as { [c: string]: number }), 0, false);
    }
    const meterId = this.identity.meterId() ?? `device:${this.identity.adapterId}`;
    if (this.settings.omdp) this.send(meterTopic(meterId, LIVE_TOPIC), livePayload(v, Math.round(this.time.wall(v.at)), meterId, this.zone, this.identity.adapterId), 0, false);
    this.stats.live++;
  }

  /** For the status page. */
  describe(): object {
    return { broker: `${this.settings.host}:${this.settings.port}`, tls: this.settings.tls, clientId: this.identity.clientId, ...this.stats, pending: Math.max(0, this.log.next - 1 - this.stats.cursor) };
  }
}
