// The backend's MQTT ingress (docs/mqtt.md): the Open Meter Data Platform's
// cloud side is a subscription to `smartMeterMessage/+/+` and, behind
// concentrators, `concentrator/+/smartMeterMessage/+/+`.
//
// Embedded (the default): a broker in this process (aedes) on TLS with the
// backend's own CA; a device connects with the client certificate of its
// enrolment and may publish only under its own meter's topics and its own
// gateway topics (`{base}/{deviceId}/...`, Home Assistant's
// `homeassistant/sensor/smgw_{deviceId}/...`). A reading is stored before
// the broker acknowledges it (PUBACK), so the device's cursor never moves
// past a reading the database does not hold.
//
// External (`--mqtt mqtts://...`): a persistent session (clean: false, QoS 1)
// on Mosquitto, EMQX, AWS IoT Core ...; the broker's ACL says who may publish
// where, and a message is acknowledged to the broker only once it is stored.
// A reading is assigned to the device that the backend knows its meter by,
// or, for a new meter, to the enrolled device that its adapterId names.
//
// Readings are stored once per (meter, kind, time) whichever way they come:
// over MQTT, again over MQTT (QoS 1 is at least once), or in the day-after
// upload.

import { EventEmitter } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { meterTopicId, parseMeterReading, type ParsedReading } from '../src/mqtt/omdp';
import { objectIdOf } from '../src/mqtt/home-assistant';
import { MeterConflict, type Device, type ReadingStore, type RegistryStore } from './store';

/** What the MQTT ingress needs of the store: who devices and meters are, and a place for readings. */
type IngressStore = Pick<RegistryStore, 'deviceByFingerprint' | 'device' | 'meter'> & Pick<ReadingStore, 'storeReadings'>;
import type { ReadingEntry } from '../src/formats/entries';
import { toPem, writeSecret, type Pki } from './pki';

const INGEST_TOPICS = ['smartMeterMessage/+/+', 'concentrator/+/smartMeterMessage/+/+'];
const OMDP_TOPIC = /^(?:concentrator\/([^/]+)\/)?smartMeterMessage\/([^/]+)\/([^/]+)$/;
const MAX_PAYLOAD = 4096;
/** Readings committed in one transaction at most. */
const MAX_GROUP_COMMIT = 500;

/** What happened to a message: for tests, the console, the bench. Never a payload or a secret. */
export interface IngestEvent {
  outcome: 'stored' | 'duplicate' | 'ignored' | 'dropped' | 'refused';
  topic: string;
  meterId?: string;
  deviceId?: string;
  /** The reading's kind and time (ms) when one was read. */
  kind?: string;
  time?: number;
  reason?: string;
}

export interface MqttIngestOptions {
  store: IngressStore;
  /** Embedded broker: its port (0: any free one) and address. */
  port?: number;
  host?: string;
  /** An external broker instead ("mqtts://host:8883", "mqtt://..."). */
  url?: string;
  /** For an external broker: its CA (PEM; default the backend's own) and the backend's client certificate dir. */
  ca?: string;
  data?: string;
  clientId?: string;
}

type DeviceClient = Client & { device?: Device };

export class MqttIngest extends EventEmitter {
  readonly store: IngressStore;
  /** "mqtts://127.0.0.1:PORT" of the embedded broker, or the external broker's URL. */
  url = '';
  readonly counts = { stored: 0, duplicate: 0, ignored: 0, dropped: 0, refused: 0 };
  private broker: Aedes | null = null;
  private server: TlsServer | null = null;
  private client: MqttClient | null = null;
  private readonly pending: { device: Device; meterId: string; entry: ReadingEntry; resolve: (r: boolean | MeterConflict) => void; reject: (e: Error) => void }[] = [];
  private flushing = false;

  private constructor(store: IngressStore) {
    super();
    this.store = store;
  }

  private note(e: IngestEvent): void {
    this.counts[e.outcome]++;
    this.emit('ingest', e);
  }

  /** The embedded broker: TLS with the backend's CA, client certificates required. */
  static async embedded(pki: Pki, o: MqttIngestOptions): Promise<MqttIngest> {
    const ingest = new MqttIngest(o.store);
    const broker = await Aedes.createBroker({
      authenticate: (client: DeviceClient, _user, _password, done) => {
        void ingest.authenticate(client).then(
          (device) => {
            client.device = device;
            done(null, true);
          },
          (e: Error) => {
            ingest.note({ outcome: 'refused', topic: '', reason: e.message });
            done(Object.assign(e, { returnCode: 5 }), false);
          },
        );
      },
      authorizePublish: (client: DeviceClient | null, packet, done) => {
        void ingest.authorizeAndStore(client?.device ?? null, packet).then(() => done(null), (e: Error) => done(e));
      },
      // Devices subscribe to nothing: what one publishes is no other device's business.
      authorizeSubscribe: (client: DeviceClient, sub, done) => done(client.device ? new Error('devices may not subscribe') : null, sub),
    });
    ingest.broker = broker;
    const server = createTlsServer({
      key: pki.server.key,
      cert: pki.serverChain(),
      ca: [pki.ca.certificate],
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    server.on('secureConnection', (socket) => broker.handle(socket));
    server.on('tlsClientError', (e) => ingest.note({ outcome: 'refused', topic: '', reason: `TLS: ${e.message}` }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 8883, o.host ?? '127.0.0.1', () => resolve());
    });
    ingest.server = server;
    const address = server.address() as AddressInfo;
    ingest.url = `mqtts://${o.host === '0.0.0.0' || !o.host ? '127.0.0.1' : o.host}:${address.port}`;
    return ingest;
  }

  /** A subscription on an external broker (persistent session, QoS 1, acknowledged once stored). */
  static async external(pki: Pki, o: MqttIngestOptions & { url: string }): Promise<MqttIngest> {
    const ingest = new MqttIngest(o.store);
    ingest.url = o.url;
    const secure = o.url.startsWith('mqtts:');
    const credential = secure && o.data ? await backendClientCertificate(pki, o.data) : null;
    const client = mqtt.connect(o.url, {
      protocolVersion: 4,
      clientId: o.clientId ?? 'smgw-backend-ingest',
      clean: false,
      keepalive: 60,
      reconnectPeriod: 1000,
      ...(secure ? { ca: o.ca ?? pki.ca.certificate, cert: credential?.certificate, key: credential?.key, rejectUnauthorized: true } : {}),
    });
    ingest.client = client;
    // The broker hears PUBACK only after this returns: a message is acknowledged once it is stored.
    client.handleMessage = (packet, callback) => {
      void ingest.ingest(packet.topic, packet.payload as Buffer, null).then(
        () => callback(),
        (e: Error) => callback(e),
      );
    };
    await new Promise<void>((resolve, reject) => {
      client.once('connect', (connack) => {
        if (connack.sessionPresent) return resolve();
        client.subscribe(INGEST_TOPICS.map((t) => t), { qos: 1 }, (e) => (e ? reject(e) : resolve()));
      });
      client.once('error', reject);
    });
    client.on('error', (e) => ingest.emit('error-line', `mqtt ingest: ${e.message}`));
    return ingest;
  }

  private async authenticate(client: Client): Promise<Device> {
    const socket = client.conn as TLSSocket;
    const peer = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : null;
    if (!peer || !Object.keys(peer).length) throw new Error('a client certificate is required');
    const fingerprint = (peer.fingerprint256 ?? '').replace(/:/g, '').toLowerCase();
    const device = await this.store.deviceByFingerprint(fingerprint);
    if (!device) throw new Error('no device is enrolled with this certificate');
    if (device.revokedAt !== null) throw new Error(`device ${device.id} is revoked`);
    return device;
  }

  /** The embedded broker's check: a device's own topics only; OMDP readings stored before the PUBACK. */
  private async authorizeAndStore(device: Device | null, packet: PublishPacket): Promise<void> {
    const topic = packet.topic;
    if (!device) return; // the broker's own messages (retained clean-up, wills of nobody)
    // Revocation holds for a session already open: the device is looked up again for every message.
    const now = await this.store.device(device.id);
    if (!now || now.revokedAt !== null) {
      this.note({ outcome: 'refused', topic, deviceId: device.id, reason: `device ${device.id} is revoked` });
      throw new Error(`device ${device.id} is revoked`);
    }
    const own = objectIdOf(device.id);
    const m = OMDP_TOPIC.exec(topic);
    if (!m) {
      const parts = topic.split('/');
      const gateway = parts.length === 3 && parts[1] === own;
      const discovery = parts[0] === 'homeassistant' && parts[2] === `smgw_${own}`;
      if (gateway || discovery) return;
      this.note({ outcome: 'refused', topic, deviceId: device.id, reason: 'not a topic of this device' });
      throw new Error(`device ${device.id} may not publish to ${topic}`);
    }
    const meter = await this.meterOfTopic(m[2]);
    if (meter && meter.householdId !== device.householdId) {
      this.note({ outcome: 'refused', topic, deviceId: device.id, meterId: meter.id, reason: "another household's meter" });
      throw new Error(`device ${device.id} may not publish for meter ${meter.id}`);
    }
    await this.ingest(topic, packet.payload as Buffer, device);
  }

  private async meterOfTopic(level: string): Promise<{ id: string; householdId: string } | null> {
    const direct = await this.store.meter(level);
    if (direct) return direct;
    // A meter id with characters a topic level cannot hold (device:ID for a meter that sends none).
    if (level.startsWith('device_')) return this.store.meter(`device:${level.slice('device_'.length)}`);
    return null;
  }

  /**
   * Stores a MeterReading from `topic`. `device` is who published it (the
   * embedded broker knows); null for an external broker. A malformed message
   * is dropped with an event; only a failure of the database throws (the
   * broker then sends it again).
   */
  async ingest(topic: string, payload: Buffer | Uint8Array, device: Device | null): Promise<void> {
    const m = OMDP_TOPIC.exec(topic);
    if (!m) return this.note({ outcome: 'ignored', topic, reason: 'not an OMDP topic' });
    if (m[3] !== 'readings') return this.note({ outcome: 'ignored', topic, reason: `${m[3]} is not stored` });
    let parsed: ParsedReading;
    try {
      if (payload.length > MAX_PAYLOAD) throw new Error(`larger than ${MAX_PAYLOAD} bytes`);
      parsed = parseMeterReading(Buffer.from(payload).toString('utf8'));
    } catch (e) {
      return this.note({ outcome: 'dropped', topic, deviceId: device?.id, reason: (e as Error).message });
    }
    if (meterTopicId(parsed.meterId) !== m[2]) return this.note({ outcome: 'dropped', topic, deviceId: device?.id, reason: `the payload's meterId ${parsed.meterId} is not the topic's` });
    const owner = device ?? (await this.deviceOf(parsed));
    if (!owner) return this.note({ outcome: 'dropped', topic, meterId: parsed.meterId, reason: 'no enrolled device reads this meter' });
    const result = await this.write(owner, parsed.meterId, parsed.entry);
    if (result instanceof MeterConflict) return this.note({ outcome: 'refused', topic, deviceId: owner.id, meterId: parsed.meterId, reason: result.message });
    this.note({ outcome: result ? 'stored' : 'duplicate', topic, deviceId: owner.id, meterId: parsed.meterId, kind: parsed.entry.kind, time: parsed.entry.time });
  }

  /**
   * Group commit: the readings that arrive while a transaction is under way
   * go into the next one together (one message per reading would otherwise
   * be one transaction, one fsync, per reading). Each caller hears its own
   * reading's outcome once it is committed.
   */
  private write(device: Device, meterId: string, entry: ReadingEntry): Promise<boolean | MeterConflict> {
    return new Promise((resolve, reject) => {
      this.pending.push({ device, meterId, entry, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length) {
        const batch = this.pending.splice(0, MAX_GROUP_COMMIT);
        try {
          const results = await this.store.storeReadings(batch.map((w) => ({ device: w.device, meterId: w.meterId, entries: [w.entry] })));
          batch.forEach((w, i) => {
            const r = results[i];
            w.resolve(r instanceof MeterConflict ? r : r[0]);
          });
        } catch (e) {
          for (const w of batch) w.reject(e as Error);
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  /** The device a reading from an external broker belongs to: its meter's, else the enrolled one its adapterId names. */
  private async deviceOf(p: ParsedReading): Promise<Device | null> {
    const meter = await this.store.meter(p.meterId);
    const device = meter ? await this.store.device(meter.deviceId) : p.adapterId ? await this.store.device(p.adapterId) : null;
    if (!device || device.revokedAt !== null) return null;
    if (meter && p.adapterId && p.adapterId !== device.id) {
      // Another device of the same household took the meter over: the adapter that says so is enrolled there too.
      const other = await this.store.device(p.adapterId);
      if (other && other.revokedAt === null && other.householdId === meter.householdId) return other;
    }
    return device;
  }

  /**
   * The embedded broker stops listening and drops every connection (what a
   * broker outage looks like to the devices); `resume` listens again on the
   * same port. For tests of outages and for maintenance.
   */
  async suspend(): Promise<void> {
    const server = this.server;
    const broker = this.broker;
    if (!server || !broker) throw new Error('suspend: only the embedded broker can be suspended');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const c of Object.values((broker as unknown as { clients: { [id: string]: Client } }).clients)) c.conn.destroy();
    await closed;
  }

  async resume(): Promise<void> {
    const server = this.server;
    if (!server) throw new Error('resume: only the embedded broker can be resumed');
    const port = Number(new URL(this.url.replace(/^mqtts/, 'https')).port);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, new URL(this.url.replace(/^mqtts/, 'https')).hostname, () => resolve());
    });
  }

  async close(): Promise<void> {
    if (this.client) await this.client.endAsync(true).catch(() => undefined);
    if (this.broker) await new Promise<void>((resolve) => this.broker!.close(() => resolve()));
    if (this.server?.listening) await new Promise<void>((resolve) => this.server!.close(() => resolve()));
    this.client = null;
    this.broker = null;
    this.server = null;
  }
}

/** The backend's own client certificate for an external broker (issued by its CA once, kept in the data dir). */
async function backendClientCertificate(pki: Pki, data: string): Promise<{ certificate: string; key: string }> {
  const cert = join(data, 'mqtt-client.pem');
  const key = join(data, 'mqtt-client-key.pem');
  if (existsSync(cert) && existsSync(key)) return { certificate: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  const c = await pki.issueDevice('smgw-backend');
  const pair = { certificate: toPem('CERTIFICATE', c.certificate), key: toPem('PRIVATE KEY', c.key) };
  writeFileSync(cert, pair.certificate);
  writeSecret(key, pair.key);
  return pair;
}

/** Starts the ingress a backend was asked for: the embedded broker, or a subscription to `url`. */
export function startMqttIngest(pki: Pki, o: MqttIngestOptions): Promise<MqttIngest> {
  return o.url ? MqttIngest.external(pki, { ...o, url: o.url }) : MqttIngest.embedded(pki, o);
}
