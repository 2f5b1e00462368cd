// smgw backend: the server devices deliver to and people query.

import cluster from 'node:cluster';
import { defaultDataDir, prepareBackend, startBackend, type BackendConfig } from '../backend/main';
import { readFileSync } from 'node:fs';
import { fail } from './usage';
import { command, parse } from './options';

export const BACKEND = command({
  name: 'smgw backend',
  summary: 'the server devices deliver to: ingest over mutual TLS and MQTT, the query API, the registry, the household dashboard (docs/backend.md)',
  options: {
    db: { type: 'string', value: 'sqlite:FILE|postgres://...', default: 'sqlite:smgw-backend/readings.db', description: 'the database: one SQLite file, or PostgreSQL (needed for --workers)' },
    port: { type: 'string', value: 'P', default: '8443', description: 'the HTTPS port (0: any free one)' },
    host: { type: 'string', value: 'H', default: '127.0.0.1', description: 'the address to listen on' },
    'admin-token': { type: 'string', value: 'TOKEN', description: 'an admin token to accept, for automation: 16 to 200 URL-safe characters (default $SMGW_ADMIN_TOKEN; the first start writes one to DATA/admin-token)' },
    data: { type: 'string', value: 'DIR', description: 'the CA, the certificates and the admin token (default: pki/ beside an SQLite database, else ./smgw-backend)' },
    'public-url': { type: 'string', value: 'URL', description: 'the address devices and people reach it at, where it differs from the one it listens on (behind a proxy)' },
    hostname: { type: 'string', value: 'NAME', multiple: true, description: 'a name for the HTTPS certificate, besides localhost and 127.0.0.1' },
    'behind-proxy': { type: 'boolean', description: 'plain HTTP behind a TLS-terminating proxy' },
    workers: { type: 'string', value: 'N', default: '1', description: 'processes sharing the port, 1..64 (more than one: PostgreSQL, and --mqtt none or an external broker)' },
    log: { type: 'boolean', description: 'logs every request (the Authorization header redacted)' },
    mqtt: {
      type: 'string',
      value: 'embedded|none|mqtt(s)://HOST:PORT',
      description:
        'where readings arrive over MQTT (docs/mqtt.md): an embedded broker (the default with one worker; TLS with the CA, client certificates required), a subscription to an external broker (with --workers, the first worker subscribes), or none (the default with --workers)',
    },
    'mqtt-port': { type: 'string', value: 'P', description: "the embedded broker's port (default 8883; any free one with --port 0)" },
    'mqtt-ca': { type: 'string', value: 'FILE', description: "the external broker's CA (default: the backend's)" },
  },
  examples: [
    'smgw backend --db sqlite:data/readings.db --port 8443   # embedded: one SQLite file',
    'smgw backend --db postgres://user@db/smgw --workers 4 --mqtt none   # at scale: processes sharing PostgreSQL',
  ],
});

function backendConfig(args: NonNullable<ReturnType<typeof parse<typeof BACKEND.options>>>): { config: BackendConfig; workers: number } {
  const { values } = args;
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) fail('--port must be a TCP port');
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) fail('--workers must be 1..64');
  const token = values['admin-token'] ?? process.env.SMGW_ADMIN_TOKEN;
  if (token !== undefined && !/^[A-Za-z0-9._~+/=-]{16,200}$/.test(token)) fail('--admin-token: 16 to 200 URL-safe characters');
  const db = values.db;
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
      host: values.host,
      data: values.data ?? defaultDataDir(db),
      adminToken: token,
      publicUrl: values['public-url'],
      tls: !values['behind-proxy'],
      hostnames: ['localhost', '127.0.0.1', ...values.hostname],
      logger: values.log,
      mqtt,
    },
  };
}

export async function backendCommand(argv: string[]): Promise<number> {
  const args = parse(BACKEND, argv);
  if (!args) return 0;
  const { config, workers } = backendConfig(args);
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
