// MQTT ingest: devices publishing MeterReadings at QoS 1 to the backend's
// embedded broker over mutual TLS (what the firmware's publisher sends), each
// stored before its PUBACK. Printed beside the backend's HTTPS ingest rows
// (batches of a day's 97 readings per request): readings/s here are one
// message per reading.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { startBackend } from '../../backend/main';
import { toPem } from '../../backend/pki';
import { meterReadingPayload } from '../../src/mqtt/omdp';
import { QUARTER, T0 } from '../../simulator/log-workload';
import { pgReachable } from '../../tests/support/pg';
import { PG_ADMIN_URL, pgDatabases, sqliteDatabases, type Databases } from './backend';
import type { Row } from './report';

const SECTION = 'backend';

async function measure(db: 'SQLite' | 'PostgreSQL', databases: Databases, dir: string, devices: number, perDevice: number): Promise<Row> {
  const adminToken = 'bench-admin-token-mqtt-ingest';
  const backend = await startBackend({ db: await databases.fresh('mqtt'), port: 0, host: '127.0.0.1', data: join(dir, 'pki'), adminToken, tls: true, hostnames: ['localhost', '127.0.0.1'], logger: false, mqtt: { port: 0 } });
  const clients: MqttClient[] = [];
  try {
    const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
    const h = await backend.app.inject({ method: 'POST', url: '/api/v1/admin/households', headers, payload: { name: 'bench', zone: 'Europe/Berlin' } });
    const work: { client: MqttClient; topic: string; payloads: string[] }[] = [];
    for (let d = 0; d < devices; d++) {
      const b = (await backend.app.inject({ method: 'POST', url: '/api/v1/admin/devices', headers, payload: { householdId: h.json().household.id } })).json() as { deviceId: string; certificate: string; key: string };
      const client = await mqtt.connectAsync(backend.mqtt!.url, {
        protocolVersion: 4, clientId: b.deviceId, reconnectPeriod: 0,
        ca: backend.pki.ca.certificate, cert: toPem('CERTIFICATE', Buffer.from(b.certificate, 'base64')), key: toPem('PRIVATE KEY', Buffer.from(b.key, 'base64')),
      });
      clients.push(client);
      const meterId = `BENCH-${d}`;
      const payloads = Array.from({ length: perDevice }, (_, i) =>
        meterReadingPayload({ type: 'reading', kind: 'taf7', time: T0 + i * QUARTER, offset: 0, source: 'sntp', meterId, values: { '1-0:1.8.0': { value: 1e6 + i * 123.4, unit: 'Wh' }, '1-0:2.8.0': { value: 5e5 + i, unit: 'Wh' } } }, meterId, 'Europe/Berlin', b.deviceId),
      );
      work.push({ client, topic: `smartMeterMessage/${meterId}/readings`, payloads });
    }
    const started = performance.now();
    await Promise.all(work.map((w) => Promise.all(w.payloads.map((p) => w.client.publishAsync(w.topic, p, { qos: 1 })))));
    const seconds = (performance.now() - started) / 1000;
    const stored = Number((await backend.store.db.all<{ n: unknown }>('SELECT COUNT(*) AS n FROM readings'))[0].n);
    const total = devices * perDevice;
    return {
      section: SECTION,
      name: `${db}: MQTT ingest (embedded broker, mutual TLS, QoS 1)`,
      value: Math.round(total / seconds),
      unit: 'readings/s',
      note: `${devices} devices × ${perDevice} MeterReadings, one message each, stored before PUBACK; ${stored} of ${total} in the database`,
    };
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await backend.close();
  }
}

export async function benchMqtt(options: { quick: boolean }): Promise<Row[]> {
  const devices = options.quick ? 10 : 50;
  const perDevice = options.quick ? 97 * 2 : 97 * 5;
  const dir = mkdtempSync(join(tmpdir(), 'smgw-bench-mqtt-'));
  const postgres = (await pgReachable(PG_ADMIN_URL)) ? pgDatabases() : null;
  const rows: Row[] = [];
  try {
    rows.push(await measure('SQLite', sqliteDatabases(dir), dir, devices, perDevice));
    if (postgres) rows.push(await measure('PostgreSQL', postgres, dir, devices, perDevice));
    else rows.push({ section: SECTION, name: 'PostgreSQL: MQTT ingest (embedded broker, mutual TLS, QoS 1)', value: NaN, unit: 'readings/s', note: 'PostgreSQL not reachable' });
  } catch (e) {
    rows.push({ section: SECTION, name: 'MQTT ingest', value: NaN, unit: 'readings/s', note: `failed: ${(e as Error).message}`.slice(0, 300) });
  } finally {
    await postgres?.dropAll().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
