// smgw backend: the server devices deliver to and people query.

import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import { defaultDataDir, prepareBackend, startBackend, type BackendConfig } from '../backend/main';
import { readFileSync } from 'node:fs';
import { fail } from './usage';

export const BACKEND_USAGE = `usage: smgw backend [--db sqlite:FILE|postgres://...] [--port P] [--host H] [--admin-token TOKEN]
                    [--data DIR] [--public-url URL] [--hostname NAME]... [--behind-proxy] [--workers N] [--log]
                    [--mqtt embedded|none|mqtts://HOST:PORT] [--mqtt-port P] [--mqtt-ca FILE]
  --mqtt        where readings arrive over MQTT (docs/mqtt.md): an embedded broker (the default with one
                worker; TLS with the backend's CA, client certificates required) on --mqtt-port (default
                8883; any free one with --port 0), a subscription to an external broker (--mqtt-ca: its CA,
                default the backend's; with --workers, the first worker subscribes), or none (the default
                with --workers)`;

export function backendConfig(argv: string[]): { config: BackendConfig; workers: number } {
  const { values } = parseArgs({
    args: argv,
    options: {
      db: { type: 'string', default: 'sqlite:smgw-backend/readings.db' },
      port: { type: 'string', default: '8443' },
      host: { type: 'string', default: '127.0.0.1' },
      'admin-token': { type: 'string' },
      data: { type: 'string' },
      'public-url': { type: 'string' },
      hostname: { type: 'string', multiple: true, default: [] },
      'behind-proxy': { type: 'boolean', default: false },
      workers: { type: 'string', default: '1' },
      log: { type: 'boolean', default: false },
      mqtt: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'mqtt-ca': { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a TCP port');
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) fail('--workers must be 1..64');
  const token = values['admin-token'] ?? process.env.SMGW_ADMIN_TOKEN;
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,200}$/.test(token)) fail('--admin-token: 16 to 200 URL-safe characters');
  const db = values.db!;
  if (!db.startsWith('sqlite:') && !/^postgres(ql)?:\/\//.test(db)) fail('--db must be sqlite:FILE or postgres://...');
  // The broker's port follows --port 0 (any free one, as tests ask) and is 8883, MQTT over TLS's, otherwise.
  const mqttPort = values['mqtt-port'] === undefined ? (port === 0 ? 0 : 8883) : Number(values['mqtt-port']);
  if (!Number.isInteger(mqttPort) || mqttPort < 0 || mqttPort > 65535) fail('--mqtt-port must be a TCP port');
  // Workers share the database, not an embedded broker's sessions: with more than one, no broker unless an external one is named.
  const where = values.mqtt ?? (workers > 1 ? 'none' : 'embedded');
  if (where !== 'embedded' && where !== 'none' && !/^mqtts?:\/\/[^\s/]+\/?$/.test(where)) fail('--mqtt: embedded, none, or mqtt(s)://HOST:PORT');
  // One broker per backend: workers share the database, not an embedded broker's sessions.
  if (where === 'embedded' && workers > 1) fail('--workers needs --mqtt mqtts://... (an external broker, subscribed by the first worker) or --mqtt none');
  let mqtt: BackendConfig['mqtt'];
  if (where === 'embedded') mqtt = { port: mqttPort };
  else if (where !== 'none' && (!cluster.isWorker || cluster.worker?.id === 1)) {
    mqtt = { url: where, ca: values['mqtt-ca'] ? readFileSync(values['mqtt-ca'], 'utf8') : undefined };
  }
  return {
    workers,
    config: {
      db,
      port,
      host: values.host!,
      data: values.data ?? defaultDataDir(db),
      adminToken: token,
      publicUrl: values['public-url'],
      tls: !values['behind-proxy'],
      hostnames: ['localhost', '127.0.0.1', ...values.hostname!],
      logger: values.log!,
      mqtt,
    },
  };
}

export async function backendCommand(argv: string[]): Promise<number> {
  const { config, workers } = backendConfig(argv);
  if (config.db.startsWith('sqlite:') && !config.db.includes(':memory:')) {
    const { mkdirSync } = await import('node:fs');
    const { dirname } = await import('node:path');
    mkdirSync(dirname(config.db.slice('sqlite:'.length)), { recursive: true });
  }
  if (workers > 1 && cluster.isPrimary) {
    if (config.db.startsWith('sqlite:')) fail('--workers needs PostgreSQL (SQLite is one writer)');
    // Create the PKI, the schema and the admin credential once, then the stateless workers share the port.
    const prepared = await prepareBackend(config);
    await prepared.store.close();
    announce(config, prepared.adminTokenFile, `${workers} workers`);
    for (let i = 0; i < workers; i++) cluster.fork();
    await new Promise<void>((resolve) => {
      let alive = workers;
      cluster.on('exit', () => {
        if (--alive === 0) resolve();
      });
      // Signal the workers' processes directly: each closes its server and its pool itself.
      // (worker.kill() would first wait for a cluster disconnect that open connections can stall.)
      const stop = () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  }
  const running = await startBackend(config);
  if (!cluster.isWorker) announce(config, running.adminTokenFile, `listening on ${running.url}` + (running.mqtt ? `; MQTT ${config.mqtt?.url ? 'from ' + running.mqtt.url : 'broker on ' + running.mqtt.url}` : ''));
  running.mqtt?.on('ingest', (e: { outcome: string; topic: string; reason?: string }) => {
    if (e.outcome === 'refused' || e.outcome === 'dropped') process.stderr.write(`smgw backend: MQTT ${e.outcome} ${e.topic || '(connection)'}: ${e.reason}\n`);
  });
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await running.close();
  // A worker's IPC channel to the primary would keep it alive after its server closed.
  cluster.worker?.disconnect();
  return 0;
}

function announce(config: BackendConfig, adminTokenFile: string | null, what: string): void {
  const db = config.db.replace(/\/\/([^:@/]+):([^@/]+)@/, '//$1:***@');
  process.stdout.write(`smgw backend: ${what}; database ${db}; certificates in ${config.data}\n`);
  if (adminTokenFile) process.stdout.write(`smgw backend: the admin token is in ${adminTokenFile}\n`);
  process.stdout.write(`smgw backend: API description at /openapi.json; devices pin ${config.data}/ca.pem\n`);
}
