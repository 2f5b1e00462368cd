// Starting the backend: the database (created and migrated), the PKI (created
// on first start), the admin credential, the HTTPS server.

import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { systemClock, wholeMs } from './clock';
import { Pki, writeSecret } from './pki';
import { buildServer } from './server';
import { newToken, Store } from './store';
import { startMqttIngest, type MqttIngest } from './mqtt-ingest';

export interface BackendConfig {
  /** sqlite:FILE or postgres://... */
  db: string;
  port: number;
  host: string;
  /** Where the PKI and the first admin token are kept. */
  data: string;
  /** The admin token to accept (otherwise one is created on first start, in DATA/admin-token). */
  adminToken?: string;
  /** Address devices reach the backend at; default https://HOST:PORT. */
  publicUrl?: string;
  /** false: plain HTTP behind a TLS-terminating proxy. */
  tls: boolean;
  /** Names in the development server certificate. */
  hostnames: string[];
  logger: boolean;
  /** The clock readings are checked against (the simulator's). */
  now?: () => number;
  /**
   * MQTT ingress (docs/mqtt.md): an embedded broker on `port` (0: any free
   * one), or a subscription to the broker at `url`; absent: none.
   */
  mqtt?: { port?: number; host?: string; url?: string; ca?: string };
}

export interface RunningBackend {
  url: string;
  app: FastifyInstance;
  store: Store;
  pki: Pki;
  /** Where the admin token created on first start was written, if one was. */
  adminTokenFile: string | null;
  /** The MQTT ingress, when one was asked for. */
  mqtt: MqttIngest | null;
  close(): Promise<void>;
}

/** The data directory when none is given: beside an SQLite file, else ./smgw-backend. */
export function defaultDataDir(db: string): string {
  if (db.startsWith('sqlite:') && !db.includes(':memory:')) return join(dirname(resolve(db.slice('sqlite:'.length))), 'pki');
  return resolve('smgw-backend');
}

/** Opens the store and the PKI and makes sure an admin credential exists (shared by every worker). */
export async function prepareBackend(c: BackendConfig): Promise<{ store: Store; pki: Pki; adminTokenFile: string | null }> {
  // The store stamps what it records with the backend's clock (the simulator's, when it runs one).
  const store = await Store.open(c.db, wholeMs(c.now ?? systemClock));
  const pki = await Pki.open(c.data, c.hostnames);
  let adminTokenFile: string | null = null;
  if (c.adminToken) {
    if (!(await store.credential(c.adminToken))) await store.addCredential(c.adminToken, { kind: 'admin', subject: null, name: 'admin' });
  } else if (!(await store.hasAdmin())) {
    const token = newToken();
    await store.addCredential(token, { kind: 'admin', subject: null, name: 'admin' });
    adminTokenFile = join(c.data, 'admin-token');
    writeSecret(adminTokenFile, token + '\n');
  } else if (existsSync(join(c.data, 'admin-token'))) {
    adminTokenFile = join(c.data, 'admin-token');
  }
  return { store, pki, adminTokenFile };
}

export async function startBackend(c: BackendConfig): Promise<RunningBackend> {
  const { store, pki, adminTokenFile } = await prepareBackend(c);
  const scheme = c.tls ? 'https' : 'http';
  let publicUrl = c.publicUrl ?? '';
  const app = await buildServer({ store, pki, publicUrl: () => publicUrl, tls: c.tls, logger: c.logger, now: c.now });
  const address = await app.listen({ port: c.port, host: c.host });
  const port = Number(new URL(address).port);
  publicUrl ||= `${scheme}://${c.host === '0.0.0.0' ? '127.0.0.1' : c.host}:${port}`;
  const mqtt = c.mqtt ? await startMqttIngest(pki, { store, host: c.mqtt.host ?? c.host, port: c.mqtt.port, url: c.mqtt.url, ca: c.mqtt.ca, data: c.data }) : null;
  return {
    url: publicUrl,
    app,
    store,
    pki,
    adminTokenFile,
    mqtt,
    close: async () => {
      await mqtt?.close();
      await app.close();
      await store.close();
    },
  };
}
