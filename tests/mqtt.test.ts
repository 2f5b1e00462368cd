// MQTT (docs/mqtt.md): the firmware's publisher in the simulator against the
// backend's embedded broker and against a real Mosquitto, a day with the
// broker down for five hours; Home Assistant's discovery checked against its
// documented schema; what the backend's broker refuses and drops.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import mqtt, { type MqttClient } from 'mqtt';
import { Simulation, FLASH_SIZE } from '../simulator/runner';
import { NorFlash } from '../simulator/world/flash';
import { ReadingLog } from '../src/store/reading-log';
import type { ReadingEntry } from '../src/formats/entries';
import { Pki, toPem } from '../backend/pki';
import { Store } from '../backend/store';
import type { IngestEvent } from '../backend/mqtt-ingest';
import { startMosquitto, type Mosquitto } from './support/mosquitto';
import { JUNE, HOUR, DAY } from './support/sim';
import { FIRMWARE_VERSION } from '../src/app';
import { startBackend, type RunningBackend } from '../backend/main';
import { meterReadingPayload } from '../src/mqtt/omdp';

const MIN = 60000;
const OUTAGE = { from: JUNE + 6 * HOUR, to: JUNE + 11 * HOUR };

/** Resolves when `done()` holds, checked after every event `on` reports; fails after 60 s of real time with `what`. */
function whenTrue(subscribe: (listener: () => void) => () => void, done: () => boolean, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting until ${what}`));
    }, 60000);
    const unsubscribe = subscribe(() => {
      if (!done()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

interface Arrival {
  event: IngestEvent;
  /** Virtual time it arrived at. */
  at: number;
}

interface DayRun {
  sim: Simulation;
  state: string;
  readings: (ReadingEntry & { seq: number })[];
  arrivals: Arrival[];
  /** Messages the observer saw (Mosquitto only): topic -> payloads, and the retained ones at the end. */
  seen: Map<string, string[]>;
  retained: Map<string, string>;
  report: Awaited<ReturnType<Simulation['run']>>;
}

function connect(url: string, options: mqtt.IClientOptions): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 10000, ...options });
    let why = 'the connection closed before CONNACK';
    c.once('connect', () => resolve(c));
    c.once('error', (e) => {
      why = e.message;
      reject(e);
    });
    // A TLS handshake the server refused ends in "close" alone.
    c.once('close', () => reject(new Error(why)));
  });
}

/** Everything retained under `filter` on the broker, read by a fresh subscription. */
async function retainedOn(url: string, options: mqtt.IClientOptions, filter: string): Promise<Map<string, string>> {
  const c = await connect(url, { ...options, clientId: 'observer-retained', clean: true });
  const out = new Map<string, string>();
  c.on('message', (topic, payload, packet) => {
    if (packet.retain) out.set(topic, payload.toString());
  });
  await c.subscribeAsync(filter, { qos: 1 });
  // Retained messages come before the answer to a PINGREQ-like round trip: a publish to ourselves is the marker.
  await new Promise<void>((resolve) => {
    c.on('message', (topic) => topic === 'smgw/observer/marker' && resolve());
    void c.subscribeAsync('smgw/observer/marker').then(() => c.publish('smgw/observer/marker', 'x', { qos: 1 }));
  });
  await c.endAsync();
  return out;
}

async function dayWithOutage(broker: 'embedded' | 'mosquitto'): Promise<DayRun> {
  const state = mkdtempSync(join(tmpdir(), `smgw-mqtt-${broker}-`));
  onTestFinished(() => rmSync(state, { recursive: true, force: true }));
  let mosquitto: Mosquitto | null = null;
  let observer: MqttClient | null = null;
  const seen = new Map<string, string[]>();
  let observerOptions: mqtt.IClientOptions = {};
  if (broker === 'mosquitto') {
    // The backend of the run takes this PKI: Mosquitto trusts the backend's CA and presents its server certificate.
    const pki = await Pki.open(join(state, 'pki'));
    mosquitto = await startMosquitto({
      dir: join(state, 'mosquitto'),
      ca: pki.ca.certificate,
      cert: pki.server.certificate,
      key: pki.server.key,
      acl: [
        // Devices (the certificate's CN is the user): their gateway topics and the meter topics. Which meter is a
        // device's the backend checks (docs/mqtt.md: per-meter lines for an external broker).
        'pattern write smgw/%u/#',
        'pattern write homeassistant/sensor/smgw_%u/#',
        'pattern write smartMeterMessage/+/+',
        'user smgw-backend',
        'topic read smartMeterMessage/#',
        'topic read concentrator/#',
        'user observer',
        'topic read #',
        'topic readwrite smgw/observer/#',
        '',
      ].join('\n'),
    });
    onTestFinished(() => mosquitto!.stop());
    const credential = await pki.issueDevice('observer');
    observerOptions = { ca: pki.ca.certificate, cert: toPem('CERTIFICATE', credential.certificate), key: toPem('PRIVATE KEY', credential.key), rejectUnauthorized: true };
    observer = await connect(mosquitto.url, { ...observerOptions, clientId: 'observer', clean: true, reconnectPeriod: 500 });
    onTestFinished(() => void observer?.end(true));
    observer.on('message', (topic, payload) => {
      const list = seen.get(topic) ?? [];
      list.push(payload.toString());
      seen.set(topic, list);
    });
    await observer.subscribeAsync(['homeassistant/#', 'smgw/#', 'smartMeterMessage/+/live'], { qos: 0 });
  }
  const arrivals: Arrival[] = [];
  const listeners = new Set<() => void>();
  const sim = new Simulation({
    meter: 'sml',
    seed: 11,
    from: JUNE,
    until: JUNE + DAY,
    speed: 'max',
    faults: [],
    state,
    backend: 'embedded',
    mqtt: mosquitto ? mosquitto.url : 'embedded',
    taf: { live: 10 },
    onStart: () => {
      sim.backend!.mqtt!.on('ingest', (event: IngestEvent) => {
        arrivals.push({ event, at: sim.scheduler.now });
        for (const l of listeners) l();
      });
    },
  });
  sim.scheduler.at(OUTAGE.from, () => void sim.scheduler.track(mosquitto ? mosquitto.stop() : sim.backend!.mqtt!.suspend()));
  sim.scheduler.at(OUTAGE.to, () => void sim.scheduler.track(mosquitto ? mosquitto.start() : sim.backend!.mqtt!.resume()));
  // Before the run ends (and the backend with it): everything the broker acknowledged has reached the backend.
  sim.scheduler.at(JUNE + DAY - MIN, () => {
    void sim.scheduler.track(
      (async () => {
        const acked = (await sim.device.firmware!.status()).mqtt!.acked;
        const ingested = () => arrivals.filter((a) => a.event.outcome === 'stored' || a.event.outcome === 'duplicate').length;
        await whenTrue((l) => (listeners.add(l), () => listeners.delete(l)), () => ingested() >= acked, `the backend ingested the ${acked} readings the broker acknowledged`);
      })(),
    );
  });
  const report = await sim.run();
  const log = new ReadingLog(new NorFlash(FLASH_SIZE, join(state, 'flash.bin')));
  const readings = log.read(0, Number.MAX_SAFE_INTEGER).filter((e): e is ReadingEntry & { seq: number } => e.type === 'reading');
  const retained = mosquitto ? await retainedOn(mosquitto.url, observerOptions, '#') : new Map<string, string>();
  return { sim, state, readings, arrivals, seen, retained, report };
}

const key = (e: { kind: string; time: number }) => `${e.kind}|${e.time}`;

async function expectEveryReadingOnce(run: DayRun): Promise<void> {
  const { readings, arrivals, report } = run;
  // A day of quarter-hours and the daily reading, logged by the device.
  expect(readings.filter((r) => r.kind === 'taf7')).toHaveLength(96);
  expect(readings.filter((r) => r.kind === 'daily')).toHaveLength(1);
  // The broker went away and came back: one connection dropped, at least one more made.
  expect(report.mqtt!.drops).toBe(1);
  expect(report.mqtt!.connects).toBeGreaterThanOrEqual(2);
  expect(report.mqtt!.pending).toBe(0);
  expect(report.crashes).toBe(0);
  // Over MQTT alone, every reading reached the backend's ingest, with the time it was logged with.
  const overMqtt = arrivals.filter((a) => a.event.outcome === 'stored' || a.event.outcome === 'duplicate');
  expect(arrivals.filter((a) => a.event.outcome === 'refused' || a.event.outcome === 'dropped')).toEqual([]);
  const meterId = readings[0].meterId!;
  expect(new Set(overMqtt.map((a) => a.event.meterId))).toEqual(new Set([meterId]));
  expect(new Set(overMqtt.map((a) => `${a.event.kind}|${a.event.time}`))).toEqual(new Set(readings.map(key)));
  // Stored once: no reading was new to the database twice (QoS 1 and the day-after upload only ever duplicate).
  const stored = overMqtt.filter((a) => a.event.outcome === 'stored').map((a) => `${a.event.kind}|${a.event.time}`);
  expect(new Set(stored).size).toBe(stored.length);
  // The backlog: what was logged while the broker was down arrived after it came back, oldest first.
  const during = readings.filter((r) => r.time >= OUTAGE.from && r.time < OUTAGE.to);
  expect(during.length).toBeGreaterThanOrEqual(19);
  const late = overMqtt.filter((a) => a.event.time! >= OUTAGE.from && a.event.time! < OUTAGE.to);
  expect(late.every((a) => a.at >= OUTAGE.to)).toBe(true);
  const firstTimes = [...new Map(late.map((a) => [a.event.time!, a.at])).keys()];
  expect(firstTimes).toHaveLength(during.length);
  expect(firstTimes).toEqual([...firstTimes].sort((a, b) => a - b));
  // The database holds each reading once, exactly as the device logged it.
  const store = await Store.open(`sqlite:${join(run.state, 'backend.db')}`);
  onTestFinished(() => store.close());
  const rows = await store.readings(meterId, JUNE - DAY, JUNE + 2 * DAY, ['taf7', 'daily', 'demand']);
  expect(rows).toHaveLength(readings.length);
  const byKey = new Map(rows.map((r) => [key(r), r]));
  for (const r of readings) {
    const row = byKey.get(key(r))!;
    expect(row, key(r)).toBeDefined();
    expect({ offset: row.offset, source: row.source, values: row.values }).toEqual({ offset: r.offset, source: r.source, values: r.values });
  }
}

describe('a simulated day with the broker down for five hours', () => {
  it('embedded broker: every reading reaches the backend once, with its original time, the backlog in order after the outage', async () => {
    const run = await dayWithOutage('embedded');
    await expectEveryReadingOnce(run);
  }, 240000);

  it('Mosquitto with a TLS listener that requires client certificates: the same, the backend subscribed with a persistent session; Home Assistant discovery, state and availability on the broker', async () => {
    const run = await dayWithOutage('mosquitto');
    await expectEveryReadingOnce(run);
    const deviceId = JSON.parse(run.sim.world.kv.get('settings')!).uplink.deviceId as string;
    checkHomeAssistant(run, deviceId);
  }, 240000);
});

// ---- Home Assistant ----

/**
 * The MQTT sensor's configuration variables as Home Assistant documents them
 * (https://www.home-assistant.io/integrations/sensor.mqtt/, "Configuration
 * Variables"), with their types; discovery payloads may use these and no others.
 */
const SENSOR_SCHEMA: { [key: string]: 'string' | 'number' | 'boolean' | 'object' | 'list' } = {
  availability: 'list',
  availability_mode: 'string',
  availability_template: 'string',
  availability_topic: 'string',
  default_entity_id: 'string',
  device: 'object',
  device_class: 'string',
  enabled_by_default: 'boolean',
  encoding: 'string',
  entity_category: 'string',
  entity_picture: 'string',
  expire_after: 'number',
  force_update: 'boolean',
  icon: 'string',
  json_attributes_template: 'string',
  json_attributes_topic: 'string',
  last_reset_value_template: 'string',
  name: 'string',
  object_id: 'string',
  options: 'list',
  payload_available: 'string',
  payload_not_available: 'string',
  platform: 'string',
  qos: 'number',
  state_class: 'string',
  state_topic: 'string',
  suggested_display_precision: 'number',
  unique_id: 'string',
  unit_of_measurement: 'string',
  value_template: 'string',
};
/** The device block's documented keys. */
const DEVICE_SCHEMA: { [key: string]: 'string' | 'list' | 'object' } = {
  configuration_url: 'string',
  connections: 'list',
  hw_version: 'string',
  identifiers: 'list',
  manufacturer: 'string',
  model: 'string',
  model_id: 'string',
  name: 'string',
  serial_number: 'string',
  suggested_area: 'string',
  sw_version: 'string',
  via_device: 'string',
};
/** State classes, and the units each device class used here accepts (https://www.home-assistant.io/integrations/sensor/#device-class). */
const STATE_CLASSES = ['measurement', 'measurement_angle', 'total', 'total_increasing'];
const UNITS: { [deviceClass: string]: string[] } = {
  energy: ['J', 'kJ', 'MJ', 'GJ', 'mWh', 'Wh', 'kWh', 'MWh', 'GWh', 'TWh', 'cal', 'kcal', 'Mcal', 'Gcal'],
  power: ['mW', 'W', 'kW', 'MW', 'GW', 'TW', 'BTU/h'],
  voltage: ['µV', 'mV', 'V', 'kV', 'MV'],
  current: ['A', 'mA'],
};

function typeOf(v: unknown): string {
  return Array.isArray(v) ? 'list' : typeof v;
}

function checkHomeAssistant(run: DayRun, deviceId: string): void {
  const node = `smgw_${deviceId.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const configs = [...run.retained].filter(([t]) => t.startsWith('homeassistant/'));
  // Energy import and export (the SML meter's 1.8.0 and 2.8.0) and the live power, per phase, voltages and currents it sends.
  expect(configs.length).toBeGreaterThanOrEqual(3);
  const uniqueIds = new Set<string>();
  const latest = run.readings.filter((r) => r.kind === 'taf7').at(-1)!;
  const state = JSON.parse(run.retained.get(`smgw/${deviceId}/state`)!) as { [key: string]: number };
  let energySensors = 0;
  for (const [topic, payload] of configs) {
    // <discovery_prefix>/<component>/[<node_id>/]<object_id>/config, ids of [a-zA-Z0-9_-].
    const m = /^homeassistant\/sensor\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_-]+)\/config$/.exec(topic);
    expect(m, topic).not.toBeNull();
    expect(m![1]).toBe(node);
    const c = JSON.parse(payload) as { [key: string]: unknown };
    for (const [k, v] of Object.entries(c)) {
      expect(SENSOR_SCHEMA[k], `${topic}: ${k} is a documented MQTT sensor option`).toBeDefined();
      expect(typeOf(v), `${topic}: ${k}`).toBe(SENSOR_SCHEMA[k]);
    }
    expect(typeof c.state_topic).toBe('string');
    expect(c.unique_id).toBe(`${node}_${m![2]}`);
    expect(uniqueIds.has(c.unique_id as string)).toBe(false);
    uniqueIds.add(c.unique_id as string);
    expect(STATE_CLASSES).toContain(c.state_class);
    expect(UNITS[c.device_class as string], `${topic}: device_class ${c.device_class}`).toBeDefined();
    expect(UNITS[c.device_class as string]).toContain(c.unit_of_measurement);
    expect(c.availability_topic).toBe(`smgw/${deviceId}/availability`);
    expect([c.payload_available, c.payload_not_available]).toEqual(['online', 'offline']);
    const device = c.device as { [key: string]: unknown };
    for (const [k, v] of Object.entries(device)) {
      expect(DEVICE_SCHEMA[k], `device.${k} is documented`).toBeDefined();
      expect(typeOf(v), `device.${k}`).toBe(DEVICE_SCHEMA[k]);
    }
    expect(device.identifiers).toEqual([node]);
    expect(device.sw_version).toBe(FIRMWARE_VERSION);
    expect(device.serial_number).toBe(latest.meterId);
    const field = /^\{\{ value_json\['([A-Za-z0-9_]+)'\] \}\}$/.exec(c.value_template as string);
    expect(field, `${topic}: value_template`).not.toBeNull();
    if (c.device_class === 'energy') {
      // The Energy dashboard's requirement: energy, total_increasing, kWh; the state is the register in kWh.
      energySensors++;
      expect([c.state_class, c.unit_of_measurement, c.state_topic]).toEqual(['total_increasing', 'kWh', `smgw/${deviceId}/state`]);
      const obis = `1-0:${field![1].replace(/_/g, '.')}`;
      expect(state[field![1]]).toBe(Math.round(latest.values[obis].value) / 1000);
    } else {
      expect(c.state_class).toBe('measurement');
      expect(c.state_topic).toBe(`smgw/${deviceId}/live`);
      const live = run.seen.get(`smgw/${deviceId}/live`) ?? [];
      expect(live.length, 'live states seen').toBeGreaterThan(1000);
      expect(typeof JSON.parse(live.at(-1)!)[field![1]]).toBe('number');
    }
  }
  expect(energySensors).toBe(2);
  // Availability: "online" on each connection (before and after the outage), and when the simulation ends the
  // device loses power without DISCONNECT: the broker publishes its will, "offline", and keeps it.
  const availability = run.seen.get(`smgw/${deviceId}/availability`) ?? [];
  expect(availability.filter((p) => p === 'online').length).toBeGreaterThanOrEqual(2);
  expect(availability.at(-1)).toBe('offline');
  expect(run.retained.get(`smgw/${deviceId}/availability`)).toBe('offline');
  // OMDP live values: MeterReadings of kind taf14, every 10 s while connected.
  const live = (run.seen.get(`smartMeterMessage/${latest.meterId}/live`) ?? []).map((p) => JSON.parse(p));
  expect(live.length).toBeGreaterThan(4000);
  expect(live[0]).toMatchObject({ meterId: latest.meterId, kind: 'taf14', adapterId: deviceId });
  expect(live[0].propertyValues.find((p: { propertyId: string }) => p.propertyId === 'OBIS_16.7.0').unit).toBe('W');
}

// ---- what the backend's embedded broker refuses and drops ----


describe("the backend's embedded broker", () => {
  interface Enrolled {
    deviceId: string;
    options: mqtt.IClientOptions;
  }

  async function backendWithTwoHouseholds(): Promise<{ backend: RunningBackend; a: Enrolled; b: Enrolled; events: IngestEvent[]; ca: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'smgw-mqtt-refuses-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const adminToken = 'admin-token-for-the-mqtt-tests';
    const backend = await startBackend({ db: 'sqlite::memory:', port: 0, host: '127.0.0.1', data: join(dir, 'pki'), adminToken, tls: true, hostnames: ['localhost', '127.0.0.1'], logger: false, mqtt: { port: 0 } });
    onTestFinished(() => backend.close());
    const events: IngestEvent[] = [];
    backend.mqtt!.on('ingest', (e: IngestEvent) => events.push(e));
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const enrolled: Enrolled[] = [];
    for (const name of ['Haus A', 'Haus B']) {
      const h = await backend.app.inject({ method: 'POST', url: '/api/v1/admin/households', headers, payload: { name, zone: 'Europe/Berlin' } });
      const d = await backend.app.inject({ method: 'POST', url: '/api/v1/admin/devices', headers, payload: { householdId: h.json().household.id } });
      const bundle = d.json() as { deviceId: string; certificate: string; key: string };
      enrolled.push({
        deviceId: bundle.deviceId,
        options: {
          clientId: bundle.deviceId,
          ca: backend.pki.ca.certificate,
          cert: toPem('CERTIFICATE', Buffer.from(bundle.certificate, 'base64')),
          key: toPem('PRIVATE KEY', Buffer.from(bundle.key, 'base64')),
          rejectUnauthorized: true,
        },
      });
    }
    return { backend, a: enrolled[0], b: enrolled[1], events, ca: backend.pki.ca.certificate };
  }

  const reading = (meterId: string, time: number, deviceId: string): string =>
    meterReadingPayload({ type: 'reading', kind: 'taf7', time, offset: 1, source: 'sntp', meterId, values: { '1-0:1.8.0': { value: 1234567.8, unit: 'Wh' }, '1-0:2.8.0': { value: 42, unit: 'Wh' } } }, meterId, 'Europe/Berlin', deviceId);

  /** Resolves with why the broker ended the connection (or null if it stayed open until `after` settled). */
  function ended(c: MqttClient): Promise<string> {
    return new Promise((resolve) => c.once('close', () => resolve('closed')));
  }

  it("stores a device's reading once, however often it comes; refuses another household's meter, a wrong certificate, an enrolled-nowhere one; drops a malformed payload; keeps running", async () => {
    const { backend, a, b, events } = await backendWithTwoHouseholds();
    const url = backend.mqtt!.url;
    const t = Date.UTC(2025, 5, 2, 10, 15);
    const ca = await connect(url, a.options);
    await ca.publishAsync('smartMeterMessage/METER-A/readings', reading('METER-A', t, a.deviceId), { qos: 1 });
    await ca.publishAsync('smartMeterMessage/METER-A/readings', reading('METER-A', t, a.deviceId), { qos: 1 });
    expect(events.map((e) => e.outcome)).toEqual(['stored', 'duplicate']);
    const rows = await backend.store.readings('METER-A', t - HOUR, t + HOUR, ['taf7']);
    expect(rows).toEqual([{ meterId: 'METER-A', kind: 'taf7', time: t, offset: 1, source: 'sntp', values: { '1-0:1.8.0': { value: 1234567.8, unit: 'Wh' }, '1-0:2.8.0': { value: 42, unit: 'Wh' } } }]);

    // Malformed: not JSON, a meter id that is not the topic's, a register without a unit. PUBACK (nothing to resend), nothing stored.
    events.length = 0;
    await ca.publishAsync('smartMeterMessage/METER-A/readings', '{"meterId": "METER-A", "readingTime": ', { qos: 1 });
    await ca.publishAsync('smartMeterMessage/METER-A/readings', reading('METER-X', t + 15 * MIN, a.deviceId), { qos: 1 });
    await ca.publishAsync('smartMeterMessage/METER-A/readings', reading('METER-A', t + 15 * MIN, a.deviceId).replace('"unit":"Wh"', '"unit":"kg"'), { qos: 1 });
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([
      ['dropped', 'the payload is not JSON'],
      ['dropped', "the payload's meterId METER-X is not the topic's"],
      ['dropped', 'OBIS_1.8.0: unit Wh, varh or VAh'],
    ]);
    expect(await backend.store.readings('METER-A', t, t + HOUR, ['taf7'])).toHaveLength(1);

    // Household B's device under household A's meter: refused, the connection ended, nothing stored.
    events.length = 0;
    const cb = await connect(url, b.options);
    const closed = ended(cb);
    cb.publish('smartMeterMessage/METER-A/readings', reading('METER-A', t + 30 * MIN, b.deviceId), { qos: 1 });
    expect(await closed).toBe('closed');
    expect(events).toEqual([expect.objectContaining({ outcome: 'refused', deviceId: b.deviceId, meterId: 'METER-A', reason: "another household's meter" })]);
    // ... and another device's gateway topics.
    const cb2 = await connect(url, b.options);
    const closed2 = ended(cb2);
    cb2.publish(`smgw/${a.deviceId}/availability`, 'offline', { qos: 1, retain: true });
    expect(await closed2).toBe('closed');
    expect(events.at(-1)).toMatchObject({ outcome: 'refused', topic: `smgw/${a.deviceId}/availability`, reason: 'not a topic of this device' });
    expect(await backend.store.readings('METER-A', t, t + HOUR, ['taf7'])).toHaveLength(1);

    // A certificate of another CA: the TLS handshake fails. One of the backend's CA that no device is enrolled with: not authorised.
    const other = await Pki.open(mkdtempSync(join(tmpdir(), 'smgw-other-ca-')));
    const stranger = await other.issueDevice('smgw-stranger');
    await expect(connect(url, { ...a.options, clientId: 'stranger', cert: toPem('CERTIFICATE', stranger.certificate), key: toPem('PRIVATE KEY', stranger.key) })).rejects.toThrow();
    const orphan = await backend.pki.issueDevice('smgw-orphan');
    await expect(connect(url, { ...a.options, clientId: 'orphan', cert: toPem('CERTIFICATE', orphan.certificate), key: toPem('PRIVATE KEY', orphan.key) })).rejects.toThrow(/Not authorized/i);
    const reasons = events.filter((e) => e.outcome === 'refused').map((e) => e.reason!);
    expect(reasons).toContain('no device is enrolled with this certificate');
    expect(reasons.some((r) => r.startsWith('TLS: '))).toBe(true);
    // Without a certificate: no TLS session at all.
    await expect(connect(url, { clientId: 'anonymous', ca: a.options.ca, rejectUnauthorized: true })).rejects.toThrow();

    // Still running: household A's next reading is stored; B stores its own meter.
    await ca.publishAsync('smartMeterMessage/METER-A/readings', reading('METER-A', t + 45 * MIN, a.deviceId), { qos: 1 });
    const cb3 = await connect(url, b.options);
    await cb3.publishAsync('smartMeterMessage/METER-B/readings', reading('METER-B', t, b.deviceId), { qos: 1 });
    expect(await backend.store.readings('METER-A', t, t + HOUR, ['taf7'])).toHaveLength(2);
    expect(await backend.store.readings('METER-B', t, t + HOUR, ['taf7'])).toHaveLength(1);
    await Promise.all([ca.endAsync(), cb3.endAsync()]);
  }, 60000);

  it('refuses a device revoked while its session is open: the next reading ends the connection and is not stored', async () => {
    const { backend, a, events } = await backendWithTwoHouseholds();
    const t = Date.UTC(2025, 5, 2, 10, 15);
    const c = await connect(backend.mqtt!.url, a.options);
    await c.publishAsync('smartMeterMessage/METER-A/readings', reading('METER-A', t, a.deviceId), { qos: 1 });
    const revoked = await backend.app.inject({ method: 'POST', url: `/api/v1/admin/devices/${a.deviceId}/revoke`, headers: { authorization: 'Bearer admin-token-for-the-mqtt-tests' } });
    expect(revoked.statusCode).toBe(200);
    const closed = ended(c);
    c.publish('smartMeterMessage/METER-A/readings', reading('METER-A', t + 15 * MIN, a.deviceId), { qos: 1 });
    expect(await closed).toBe('closed');
    expect(events.at(-1)).toMatchObject({ outcome: 'refused', deviceId: a.deviceId, reason: `device ${a.deviceId} is revoked` });
    expect(await backend.store.readings('METER-A', t - HOUR, t + HOUR, ['taf7'])).toHaveLength(1);
    // And it cannot come back.
    await expect(connect(backend.mqtt!.url, a.options)).rejects.toThrow(/Not authorized/i);
    c.end(true);
  }, 60000);
});

describe('the publisher inside the XS engine', () => {
  it('publishes every reading of three hours to the embedded broker, acknowledged, with live values and discovery', async () => {
    const { xsEngine } = await import('../hosts/sim/xs-engine');
    const arrivals: IngestEvent[] = [];
    const sim = new Simulation({
      meter: 'dlms-mbus', seed: 4, from: JUNE, until: JUNE + 3 * HOUR, speed: 'max', faults: [], backend: 'embedded', mqtt: 'embedded', taf: { live: 10 },
      engine: xsEngine(), engineName: 'xs',
      onStart: () => sim.backend!.mqtt!.on('ingest', (e: IngestEvent) => arrivals.push(e)),
    });
    const report = await sim.run();
    expect(report.crashes).toBe(0);
    const taf7 = report.log.readings.taf7;
    expect(taf7).toBe(12);
    expect(report.mqtt).toMatchObject({ connects: 1, drops: 0, published: taf7, acked: taf7, pending: 0 });
    expect(report.mqtt!.live).toBeGreaterThan(1000);
    expect(report.mqtt!.discovery).toBeGreaterThan(2);
    expect(arrivals.filter((a) => a.outcome === 'stored').map((a) => a.time)).toEqual(Array.from({ length: 12 }, (_, i) => JUNE + i * 15 * MIN));
  }, 240000);
});

describe('smgw concentrator', () => {
  it("forwards a meter adapter's message unmodified to concentrator/{id}/smartMeterMessage/... upstream, where the backend stores it", async () => {
    const { createServer } = await import('node:net');
    const { Aedes } = await import('aedes');
    const { startConcentrator } = await import('../cli/concentrator');
    // The house's own broker, which the meter adapters publish to.
    const local = await Aedes.createBroker();
    const server = createServer(local.handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    onTestFinished(() => new Promise<void>((resolve) => local.close(() => server.close(() => resolve()))));
    const localUrl = `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`;
    // Upstream: the backend's embedded broker; the concentrator is enrolled as a device of the household.
    const dir = mkdtempSync(join(tmpdir(), 'smgw-concentrator-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const adminToken = 'admin-token-for-the-concentrator';
    const backend = await startBackend({ db: 'sqlite::memory:', port: 0, host: '127.0.0.1', data: join(dir, 'pki'), adminToken, tls: true, hostnames: ['localhost', '127.0.0.1'], logger: false, mqtt: { port: 0 } });
    onTestFinished(() => backend.close());
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const h = await backend.app.inject({ method: 'POST', url: '/api/v1/admin/households', headers, payload: { name: 'Haus C', zone: 'Europe/Berlin' } });
    const bundle = (await backend.app.inject({ method: 'POST', url: '/api/v1/admin/devices', headers, payload: { householdId: h.json().household.id } })).json() as { deviceId: string; certificate: string; key: string };
    const forwarded: { topic: string; payload: Buffer }[] = [];
    let heard = () => undefined as void;
    const reached = new Promise<void>((resolve) => (heard = resolve));
    const broker = (backend.mqtt as unknown as { broker: { subscribe(t: string, f: (p: { topic: string; payload: Buffer }, cb: () => void) => void, done: () => void): void } }).broker;
    broker.subscribe('concentrator/#', (p, cb) => (forwarded.push({ topic: p.topic, payload: Buffer.from(p.payload) }), heard(), cb()), () => undefined);
    const events: IngestEvent[] = [];
    backend.mqtt!.on('ingest', (e: IngestEvent) => events.push(e));
    const concentrator = await startConcentrator({
      id: 'haus-c',
      from: localUrl,
      to: backend.mqtt!.url,
      toOptions: { clientId: bundle.deviceId, ca: backend.pki.ca.certificate, cert: toPem('CERTIFICATE', Buffer.from(bundle.certificate, 'base64')), key: toPem('PRIVATE KEY', Buffer.from(bundle.key, 'base64')), rejectUnauthorized: true },
    });
    onTestFinished(() => concentrator.close());
    const t = Date.UTC(2025, 5, 2, 8);
    const payload = meterReadingPayload({ type: 'reading', kind: 'taf7', time: t, offset: 0, source: 'sntp', meterId: 'METER-C', values: { '1-0:1.8.0': { value: 777, unit: 'Wh' } } }, 'METER-C', 'Europe/Berlin', 'adapter-7');
    const adapter = await connect(localUrl, { clientId: 'adapter-7' });
    onTestFinished(() => adapter.endAsync());
    const stored = new Promise<void>((resolve) => backend.mqtt!.on('ingest', (e: IngestEvent) => e.outcome === 'stored' && resolve()));
    await adapter.publishAsync('smartMeterMessage/METER-C/readings', payload, { qos: 1 });
    await stored;
    await reached;
    expect(forwarded.map((f) => [f.topic, f.payload.toString()])).toEqual([['concentrator/haus-c/smartMeterMessage/METER-C/readings', payload]]);
    expect(events).toEqual([expect.objectContaining({ outcome: 'stored', topic: 'concentrator/haus-c/smartMeterMessage/METER-C/readings', meterId: 'METER-C', deviceId: bundle.deviceId, time: t })]);
    expect(await backend.store.readings('METER-C', t, t + 1, ['taf7'])).toEqual([{ meterId: 'METER-C', kind: 'taf7', time: t, offset: 0, source: 'sntp', values: { '1-0:1.8.0': { value: 777, unit: 'Wh' } } }]);
  }, 60000);
});
